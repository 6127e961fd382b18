// E-mail files (RFC 822 / MIME, .eml). postal-mime reads them: maintained, no dependencies, it
// takes bytes (no streams or Node buffers, so it runs as is in a converter thread), and it caps
// what a hostile message can make it do (MIME nesting, header size, part count), which mailparser
// (nodemailer) leaves to the caller while pulling in eight packages.
import PostalMime, { type Address, type Attachment } from 'postal-mime';
import { convertParts, type RawPart } from '../parts.js';
import type { ConvertContext } from '../registry.js';
import { ConversionError, type Extracted } from '../types.js';
import { mailbox, mailText } from './mail.js';

/** MIME nesting a real message never comes near; deeper is a hostile file. */
const MAX_MIME_DEPTH = 32;
/** MIME parts in a message, attachments included: well above MAX_PARTS, below a part bomb. */
const MAX_MIME_PARTS = 2000;

function addresses(list: readonly Address[] | undefined): string[] {
  return (list ?? []).flatMap((address) =>
    address.group === undefined ? [mailbox(address.name, address.address)] : [`${address.name}: ${address.group.map((member) => mailbox(member.name, member.address)).join(', ')}`],
  );
}

function bytesOf(content: Attachment['content']): Uint8Array {
  return typeof content === 'string' ? new TextEncoder().encode(content) : content instanceof Uint8Array ? content : new Uint8Array(content);
}

/** Attachments, less the images an HTML body shows inline (they are the body's, not documents). */
function rawParts(attachments: readonly Attachment[]): RawPart[] {
  return attachments
    .filter((attachment) => attachment.related !== true)
    .map((attachment) => {
      const forwarded = attachment.mimeType === 'message/rfc822' && !/\.eml$/i.test(attachment.filename ?? '');
      return {
        name: attachment.filename ?? undefined,
        contentType: forwarded ? 'message/rfc822' : attachment.mimeType,
        bytes: () => bytesOf(attachment.content),
        // A forwarded message named anything ("Re: audit") is still an e-mail.
        ...(forwarded && { detectAs: `${attachment.filename ?? 'message'}.eml` }),
      };
    });
}

export async function convert(bytes: Uint8Array, context: ConvertContext): Promise<Extracted> {
  let email;
  try {
    email = await PostalMime.parse(bytes, { attachmentEncoding: 'arraybuffer', maxNestingDepth: MAX_MIME_DEPTH, maxPartCount: MAX_MIME_PARTS });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('EMAX')) throw new ConversionError('too_large', `the message is past what this reader allows: ${(error as Error).message}`);
    throw error;
  }
  const from = email.from;
  const text = mailText({
    ...(from !== undefined && { from: addresses([from]).join(', ') }),
    to: addresses(email.to),
    cc: addresses(email.cc),
    ...(email.date !== undefined && { date: email.date }),
    ...(email.subject !== undefined && { subject: email.subject }),
    ...(email.text !== undefined && { text: email.text }),
    ...(email.html !== undefined && { html: email.html }),
  });
  const { parts, skippedParts } = await convertParts(rawParts(email.attachments), context, text.length);
  return { text, ...(parts.length > 0 && { parts }), ...(skippedParts.length > 0 && { skippedParts }) };
}
