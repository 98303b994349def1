/**
 * The dependency direction of the source tree: stores ← models ← stages ← pipeline ← cli/http.
 * A module may import from its own layer and the layers to its left, never from one to its right
 * (the models know nothing of the stages that feed them, the stages nothing of the hosts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/data.js';

const SRC = path.join(REPO_ROOT, 'src');

/** Folders of src that each layer must not import from. */
const FORBIDDEN: Record<string, readonly string[]> = {
  stores: ['models', 'stages', 'pipeline', 'cli', 'http'],
  models: ['stages', 'pipeline', 'cli', 'http'],
  stages: ['pipeline', 'cli', 'http'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|cts)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

// Static imports and re-exports (`... from '…'`, side-effect `import '…'`) and dynamic `import('…')`.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** Relative import specifiers of a file, resolved to paths relative to src (`stages/evaluate/metrics.js`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const spec = match[1] as string;
    if (spec.startsWith('.')) out.push(path.relative(SRC, path.resolve(path.dirname(file), spec)));
  }
  return out;
}

describe('layering of src', () => {
  it('finds the imports it checks (the scan itself works)', () => {
    const imports = importsOf(path.join(SRC, 'models', 'registry.ts'));
    expect(imports).toContain(path.join('stores', 'types.js'));
    expect(importsOf(path.join(SRC, 'stages', 'train', 'stage.ts')).some((p) => p.startsWith(`models${path.sep}`))).toBe(true);
  });

  for (const [layer, forbidden] of Object.entries(FORBIDDEN)) {
    it(`src/${layer} imports nothing from ${forbidden.map((f) => `src/${f}`).join(', ')}`, () => {
      const violations = sourceFiles(path.join(SRC, layer)).flatMap((file) =>
        importsOf(file)
          .filter((target) => forbidden.includes(target.split(path.sep)[0] as string))
          .map((target) => `${path.relative(REPO_ROOT, file)} imports src/${target}`),
      );
      expect(violations).toEqual([]);
    });
  }
});
