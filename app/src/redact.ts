// What a URL shows in messages and logs: never the credentials someone put in it
// (`http://elastic:pw@es:9200`). Settings whose whole value is secret are kept out of messages
// by config.ts; this covers the URL settings, which are worth showing once their user info is gone.

/** `url` with its user and password (anything before an `@` in the authority) replaced by `***`. */
export function redactUrl(url: string): string {
  // Also without a scheme: a value refused for lacking one (`elastic:pw@es:9200`) is echoed too.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@/?#\s]*@/i, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
}
