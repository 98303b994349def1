import { expect, it } from 'vitest';
import type * as Root from '../../src/index.js';
import type * as Kit from '../../src/testing/root.js';

// The build replaces src/testing/root.ts by the root entry: every name it exports must be a root
// export of the same type (checked by tsc), and the very same value (checked below).
type NotFromRoot = { [K in keyof typeof Kit]: K extends keyof typeof Root ? ((typeof Root)[K] extends (typeof Kit)[K] ? never : K) : K }[keyof typeof Kit];
const allFromRoot: [NotFromRoot] extends [never] ? true : NotFromRoot = true;

it('takes from the root entry only names the root entry exports, unchanged', async () => {
  expect(allFromRoot).toBe(true);
  const [root, kit] = await Promise.all([import('../../src/index.js'), import('../../src/testing/root.js')]);
  for (const [name, value] of Object.entries(kit)) expect((root as Record<string, unknown>)[name], name).toBe(value);
});

it('stays out of the root entry: only src/testing imports vitest, and nothing outside it imports src/testing', async () => {
  const { readdir, readFile } = await import('node:fs/promises');
  const src = new URL('../../src/', import.meta.url);
  const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts') && !f.startsWith('testing/'));
  for (const file of files) {
    const source = await readFile(new URL(file, src), 'utf8');
    expect(source, file).not.toMatch(/from '(vitest|[./]+testing\/[^']*)'/);
  }
});
