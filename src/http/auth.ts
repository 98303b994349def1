import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyRequest } from 'fastify';

/** Environment variable holding API keys, separated by commas or whitespace. */
export const API_KEYS_ENV = 'RAKUTEN_API_KEYS';
/** Environment variable naming a file of API keys, one per line (`#` starts a comment). */
export const API_KEYS_FILE_ENV = 'RAKUTEN_API_KEYS_FILE';

/** Shortest key accepted: shorter ones are guessable. */
export const MIN_API_KEY_LENGTH = 16;

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * A set of API keys checked in constant time: keys are compared as SHA-256 digests with
 * `timingSafeEqual`, against every key without stopping at a match, so neither the length nor
 * the content of a key leaks through timing. Keys are never logged or returned.
 */
export class ApiKeys {
  private readonly digests: Buffer[];

  /** Creates the set; throws when a key is shorter than {@link MIN_API_KEY_LENGTH}. */
  constructor(keys: readonly string[]) {
    for (const [i, key] of keys.entries()) {
      if (key.length < MIN_API_KEY_LENGTH) throw new Error(`API key #${i + 1} is ${key.length} characters long; at least ${MIN_API_KEY_LENGTH} are required`);
    }
    this.digests = keys.map(digest);
  }

  /** Number of keys. */
  get size(): number {
    return this.digests.length;
  }

  /** Whether `candidate` is one of the keys. */
  matches(candidate: string): boolean {
    const d = digest(candidate);
    let found = false;
    for (const key of this.digests) found = timingSafeEqual(d, key) || found;
    return found;
  }
}

/** Splits a list of keys: commas, whitespace and newlines separate; `#` starts a comment. */
export function parseApiKeys(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter(Boolean);
}

/**
 * API keys from the environment: `RAKUTEN_API_KEYS` and the file named by
 * `RAKUTEN_API_KEYS_FILE` (or `file`), merged. An unreadable file is an error, not "no keys".
 */
export function apiKeysFromEnv(env: NodeJS.ProcessEnv = process.env, file = env[API_KEYS_FILE_ENV]): ApiKeys {
  const keys = parseApiKeys(env[API_KEYS_ENV] ?? '');
  if (file) {
    try {
      keys.push(...parseApiKeys(readFileSync(file, 'utf8')));
    } catch (e) {
      throw new Error(`cannot read the API keys file ${file}: ${(e as Error).message}`, { cause: e });
    }
  }
  return new ApiKeys(keys);
}

/** The key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (m) return m[1];
  }
  const key = request.headers['x-api-key'];
  return typeof key === 'string' && key ? key : undefined;
}
