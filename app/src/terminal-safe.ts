// What reaches a terminal or a log from values the CLI does not control: a URL without the
// credentials someone put in it (`http://elastic:pw@es:9200`; settings whose whole value is secret
// are kept out of messages by config.ts), and names and text with their control characters
// escaped (a file name with a newline forges a progress line, an escape sequence in a search hit
// acts on the terminal).

/** `url` with its user and password (anything before an `@` in the authority) replaced by `***`. */
export function redactUrl(url: string): string {
  // Also without a scheme: a value refused for lacking one (`elastic:pw@es:9200`) is echoed too.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@/?#\s]*@/i, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

/** `text` with C0 and C1 control characters (newline and tab included) escaped as `\uXXXX`. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this matches
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
