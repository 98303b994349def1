// `scheme://user:password@`: the password runs to the last `@` before the query, so that one
// typed without percent-encoding (`p@ss`, `pa/ss`, which the driver then refuses) is still
// hidden whole in the message saying so; the user name may be empty or hold a raw `@` too.
const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/[^:/?#]*):([^?#]*)@/i;

/** The URI with the password of its user info hidden (`scheme://user:***@host`), for messages and records. */
export function redactUri(uri: string): string {
  return uri.replace(USER_INFO, '$1:***@');
}

/**
 * `text` with every occurrence of `uri`'s password (as written and URL-decoded) replaced by `***`:
 * for errors raised by code that saw the connection string (a driver's, a worker's).
 */
export function scrubSecrets(text: string, uri: string): string {
  const raw = USER_INFO.exec(uri)?.[2];
  if (!raw) return text;
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // A malformed escape: the raw form is the only one to hide.
  }
  let out = text.split(uri).join(redactUri(uri));
  for (const secret of new Set([raw, decoded])) if (secret.length > 0) out = out.split(secret).join('***');
  return out;
}
