// What an e-mail becomes, whichever file it came in (.eml, .msg): its From, To, Cc, Date and
// Subject lines, a blank line, then the text body, or the HTML body read as HTML when the
// message has no text part. The header lines make "the mail from Anna about the audit" findable.
import { htmlToText } from './html.js';

export interface MailFields {
  readonly from?: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  /** As the file gives it; written in one form (RFC 1123, UTC) when it parses as a date. */
  readonly date?: string;
  readonly subject?: string;
  readonly text?: string;
  readonly html?: string;
}

/** "Name <address>", or whichever of the two there is. */
export function mailbox(name: string | undefined, address: string | undefined): string {
  const display = name?.trim() ?? '';
  const at = address?.trim() ?? '';
  if (display === '' || display === at) return at;
  return at === '' ? display : `${display} <${at}>`;
}

function dateLine(date: string): string {
  const parsed = Date.parse(date);
  return Number.isNaN(parsed) ? date : new Date(parsed).toUTCString();
}

export function mailText(mail: MailFields): string {
  const headers: string[] = [];
  const line = (name: string, value: string | undefined) => {
    const clean = value?.replace(/\s+/g, ' ').trim();
    if (clean) headers.push(`${name}: ${clean}`);
  };
  line('From', mail.from);
  line('To', mail.to.join(', '));
  line('Cc', mail.cc.join(', '));
  line('Date', mail.date === undefined ? undefined : dateLine(mail.date));
  line('Subject', mail.subject);
  const text = mail.text?.trim() ? mail.text.trim() : undefined;
  const body = text ?? (mail.html === undefined ? '' : htmlToText(mail.html));
  return body === '' ? headers.join('\n') : `${headers.join('\n')}\n\n${body}`;
}
