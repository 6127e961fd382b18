// Outlook items (.msg, an OLE compound file). @kenjiuno/msgreader reads them: maintained, pure
// JavaScript, it takes an ArrayBuffer and reads attachments, attached Outlook items included.
// The text is what an .eml gives (formats/mail.ts). A body kept only as compressed RTF is not
// read yet: such an item gives its header lines and attachments.
import msgreader, { type FieldsData } from '@kenjiuno/msgreader';
import { convertParts, type RawPart } from '../parts.js';
import type { ConvertContext } from '../registry.js';
import { decodeText } from '../text.js';
import { ConversionError, type Extracted } from '../types.js';
import { mailbox, mailText } from './mail.js';

// A CommonJS module that sets __esModule: Node's ESM import gives module.exports, whose `default` is the class.
const MsgReader = msgreader.default;
type MsgReader = InstanceType<typeof MsgReader>;

function recipients(data: FieldsData, type: 'to' | 'cc'): string[] {
  return (data.recipients ?? []).filter((recipient) => recipient.recipType === type).map((recipient) => mailbox(recipient.name, recipient.smtpAddress ?? recipient.email));
}

function rawParts(reader: MsgReader, attachments: readonly FieldsData[]): RawPart[] {
  return attachments
    .filter((attachment) => attachment.attachmentHidden !== true)
    .map((attachment) => {
      const name = attachment.fileName ?? attachment.fileNameShort ?? attachment.name;
      // An attached Outlook item comes out as a .msg of its own, whatever it is called.
      const item = attachment.innerMsgContent === true && !/\.msg$/i.test(name ?? '');
      return {
        name,
        ...(attachment.attachMimeTag !== undefined && { contentType: attachment.attachMimeTag.toLowerCase() }),
        bytes: () => reader.getAttachment(attachment).content,
        ...(item && { detectAs: `${name ?? 'item'}.msg` }),
      };
    });
}

export async function convert(bytes: Uint8Array, context: ConvertContext): Promise<Extracted> {
  // A copy: the reader wants an ArrayBuffer, and the bytes may be a view into a larger one.
  const reader = new MsgReader(bytes.slice().buffer);
  const data = reader.getFileData();
  if (data.error !== undefined) throw new ConversionError('corrupt', `not a readable Outlook item: ${data.error}`);
  const html = data.bodyHtml ?? (data.html === undefined ? undefined : decodeText(data.html, { html: true }));
  const text = mailText({
    from: mailbox(data.senderName, data.senderSmtpAddress ?? data.senderEmail),
    to: recipients(data, 'to'),
    cc: recipients(data, 'cc'),
    ...((data.messageDeliveryTime ?? data.clientSubmitTime) !== undefined && { date: data.messageDeliveryTime ?? data.clientSubmitTime }),
    ...(data.subject !== undefined && { subject: data.subject }),
    ...(data.body !== undefined && { text: data.body }),
    ...(html !== undefined && { html }),
  });
  const { parts, skippedParts } = await convertParts(rawParts(reader, data.attachments ?? []), context, text.length);
  return { text, ...(parts.length > 0 && { parts }), ...(skippedParts.length > 0 && { skippedParts }) };
}
