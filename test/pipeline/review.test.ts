import { describe, expect, it } from 'vitest';
import { redactUri, scrubSecrets } from '../../src/stores/uri.js';
import { cli } from '../support/cli.js';

// Defects found in review of the composition root, plugins, job workers and schema-derived
// options: each test failed before its fix.

describe('credentials in connection strings', () => {
  // Passwords typed without percent-encoding: the driver refuses them, and the message saying so
  // must not show them.
  const raw = [
    ['mongodb://u:pa/ss@127.0.0.1:1/db', 'pa/ss', 'mongodb://u:***@127.0.0.1:1/db'],
    ['mongodb://u:p@ss@127.0.0.1:1/db', 'p@ss', 'mongodb://u:***@127.0.0.1:1/db'],
    ['mongodb://u:p@s/s@127.0.0.1:1/db', 'p@s/s', 'mongodb://u:***@127.0.0.1:1/db'],
    ['mongodb://:secretpw@127.0.0.1:1/db', 'secretpw', 'mongodb://:***@127.0.0.1:1/db'],
    ['mongodb://us@r:secretpw@127.0.0.1:1/db', 'secretpw', 'mongodb://us@r:***@127.0.0.1:1/db'],
    ['mongodb+srv://u:a@b:c/d@cluster.example.net/db', 'a@b:c/d', 'mongodb+srv://u:***@cluster.example.net/db'],
  ] as const;

  it('redactUri hides a password with raw @, / or :, after an empty user name or one with a raw @', () => {
    for (const [uri, password, shown] of raw) {
      expect(redactUri(uri)).toBe(shown);
      expect(scrubSecrets(`cannot use ${uri} (${password})`, uri), uri).not.toContain(password);
    }
    // Well-formed URIs are shown as before.
    expect(redactUri('mongodb://u:p%40ss@h:27017/db?authSource=admin')).toBe('mongodb://u:***@h:27017/db?authSource=admin');
    expect(redactUri('mongodb://h:27017/db?directConnection=true')).toBe('mongodb://h:27017/db?directConnection=true');
    expect(redactUri('mongodb://u@h/db')).toBe('mongodb://u@h/db');
    expect(redactUri('mongodb://u@h:27017/db?appName=a@b')).toBe('mongodb://u@h:27017/db?appName=a@b');
    expect(redactUri('/srv/store')).toBe('/srv/store');
  });

  it('the CLI does not print a raw password the driver refused', async () => {
    for (const [uri, password] of raw.slice(0, 2)) {
      const r = await cli('status', '--store', uri);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/unescaped|Invalid connection string/);
      expect(r.stderr).not.toContain(password);
    }
  });
});
