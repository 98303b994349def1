import path from 'node:path';
import type { JsonValue } from '../stores/types.js';

/** Query parameters whose value is never logged: anything named like a key, token or secret. */
export const SECRET_PARAM = /key|token|secret|passw|auth|sig|session|credential/i;

/**
 * `url` with the values of secret-looking query parameters replaced by `[REDACTED]`
 * (`/health?api_key=K&x=1` → `/health?api_key=[REDACTED]&x=1`). The API never reads keys from
 * the query string, but clients send them there anyway, and request logs keep URLs.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // A malformed escape: judged as written.
      }
      return SECRET_PARAM.test(decoded) && eq >= 0 ? `${name}=[REDACTED]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

/** The request fields Fastify's default `req` log serializer reads. */
export interface LoggedRequest {
  /** HTTP method. */
  method: string;
  /** URL with its query string. */
  url: string;
  /** Host header. */
  host?: string;
  /** Client address. */
  ip?: string;
  /** Headers. */
  headers?: Record<string, string | string[] | undefined>;
  /** Socket, for the client port. */
  socket?: {
    /** Client port. */
    remotePort?: number;
  };
}

/**
 * A `req` serializer for Fastify's logger: the default fields, with {@link redactUrl} applied.
 * `createServer` installs it; hosts mounting `rakutenApi` in a server of their own should too
 * (`Fastify({ logger: { serializers: { req: requestSerializer } } })`).
 */
export function requestSerializer(req: LoggedRequest): Record<string, string | number | undefined> {
  const version = req.headers?.['accept-version'];
  return {
    method: req.method,
    url: redactUrl(req.url),
    version: Array.isArray(version) ? version.join(',') : version,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** A server location shown to anonymous callers under a placeholder. */
export interface RedactedRoot {
  /** Absolute path or URI, as it appears in documents. */
  value: string;
  /** What is shown instead (`<store>`). */
  label: string;
}

// An absolute POSIX path of two or more segments, not part of a URL, a relative path or a label's.
const ABSOLUTE_PATH = /(?<![\w.:/~>-])\/(?:[^\s/"'`<>]+\/)+[^\s/"'`<>]*/g;

/**
 * A function hiding server locations in JSON documents: each root (store path or URI, data
 * folders) becomes its label, a path below a root `label/relative`, and any other absolute path
 * `<path>/basename`. Open read routes answer anonymous callers through it.
 */
export function pathRedactor(roots: readonly RedactedRoot[]): (value: JsonValue) => JsonValue {
  const sorted = roots.filter((r) => r.value.length > 1).sort((a, b) => b.value.length - a.value.length);
  const text = (s: string): string => {
    let out = s;
    for (const r of sorted) out = out.split(r.value).join(r.label);
    return out.replace(ABSOLUTE_PATH, (p) => `<path>/${path.posix.basename(p)}`);
  };
  const walk = (v: JsonValue): JsonValue => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk;
}
