// `scheme://user:password@`: the password runs to the last `@` before the query, so that one
// typed without percent-encoding (`p@ss`, `pa/ss`, which the driver then refuses) is still
// hidden whole in the message saying so; the user name may be empty or hold a raw `@` too.
const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/[^:/?#]*):([^?#]*)@/i;

// Secrets of the query string: parameters named like a password, secret or token (MongoDB's
// `tlsCertificateKeyFilePassword`), and an AWS session token in `authMechanismProperties`.
const SECRET_QUERY = [/([?&][^=&#]*(?:passw|secret|token)[^=&#]*=)([^&#]*)/gi, /(AWS_SESSION_TOKEN(?::|%3A))([^,&#]*)/gi];

const query = (uri: string): string => {
  const at = uri.indexOf('?');
  return at < 0 ? '' : uri.slice(at);
};

/** The URI with its secrets hidden (`scheme://user:***@host/db?tlsCertificateKeyFilePassword=***`), for messages and records. */
export function redactUri(uri: string): string {
  const out = uri.replace(USER_INFO, '$1:***@');
  const q = query(out);
  return q ? out.slice(0, out.length - q.length) + SECRET_QUERY.reduce((s, re) => s.replace(re, '$1***'), q) : out;
}

/**
 * `text` with every occurrence of `uri`'s password and other secrets (as written and URL-decoded)
 * replaced by `***`: for errors raised by code that saw the connection string (a driver's, a worker's).
 */
export function scrubSecrets(text: string, uri: string): string {
  const raw = [USER_INFO.exec(uri)?.[2], ...SECRET_QUERY.flatMap((re) => [...query(uri).matchAll(re)].map((m) => m[2]))].filter((s): s is string => !!s);
  if (raw.length === 0) return text;
  const secrets = new Set<string>();
  for (const s of raw) {
    secrets.add(s);
    try {
      secrets.add(decodeURIComponent(s));
    } catch {
      // A malformed escape: the raw form is the only one to hide.
    }
  }
  let out = text.split(uri).join(redactUri(uri));
  // Longest first, so that a secret containing another is hidden whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) if (secret.length > 0) out = out.split(secret).join('***');
  return out;
}
