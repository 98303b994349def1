import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { workerExecutor } from '../../src/http/jobs/executor.js';
import { createServer } from '../../src/http/server.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { loadPlugin } from '../../src/pipeline/plugins.js';
import { Preprocessor } from '../../src/stages/preprocess/preprocessor.js';
import { redactUri, scrubSecrets } from '../../src/stores/uri.js';
import { cli } from '../support/cli.js';
import { REPO_ROOT, tempDir } from '../support/data.js';
import { generateDemoCatalogue } from '../../src/demo/generate-catalogue.js';

// Defects found in review of the composition root, plugins, job workers and schema-derived
// options: each test failed before its fix.

const dirs: string[] = [];
afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Writes a plugin module (plain JavaScript) in a fresh folder; returns its path. */
async function pluginFile(name: string, source: string): Promise<string> {
  const dir = await tempDir('rp-review-plugin-');
  dirs.push(dir);
  const file = path.join(dir, `${name}.mjs`);
  await writeFile(file, source);
  return file;
}

/** A store driver `counted://<name>` over the memory store that counts opens and closes on globalThis. */
const COUNTED_DRIVER = `
import { openMemoryStore } from ${JSON.stringify(path.resolve('src/stores/memory/index.ts'))};
const counts = (globalThis.__rpReviewCounts ??= { opened: 0, closed: 0 });
export const countedDriver = {
  name: 'counted', specificationVersion: 'v1',
  accepts: (uri) => uri.startsWith('counted://'),
  async open(uri, options) {
    const inner = openMemoryStore('memory://' + uri.slice('counted://'.length), options);
    counts.opened++;
    return { uri, driver: 'counted', documents: inner.documents, images: inner.images, close: async () => { counts.closed++; await inner.close(); } };
  },
};
`;
const counts = () => (globalThis as unknown as { __rpReviewCounts: { opened: number; closed: number } }).__rpReviewCounts;

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

  it('redactUri and scrubSecrets hide secrets of the query string too (TLS key password, AWS session token)', async () => {
    const uri = 'mongodb://u:pw@127.0.0.1:1/db?tls=true&tlsCertificateKeyFilePassword=TLS%2FKEYPW&authMechanismProperties=AWS_SESSION_TOKEN:SESSIONTOK&serverSelectionTimeoutMS=200';
    const shown = 'mongodb://u:***@127.0.0.1:1/db?tls=true&tlsCertificateKeyFilePassword=***&authMechanismProperties=AWS_SESSION_TOKEN:***&serverSelectionTimeoutMS=200';
    expect(redactUri(uri)).toBe(shown);
    expect(scrubSecrets('key TLS/KEYPW, token SESSIONTOK', uri)).toBe('key ***, token ***');
    // The store's URI (run records, /data-status) and the error of a store that cannot be reached.
    const error = await createPipeline({ store: uri }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(error).toContain(shown);
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

describe('createPipeline', () => {
  it('refuses a plugin model factory without specificationVersion, naming the plugin, and leaves no store open', async () => {
    const file = await pluginFile(
      'nospec-model',
      `${COUNTED_DRIVER}\nexport default { name: 'nospec-model', storeDrivers: [countedDriver], models: [{ kind: 'nospec-v1', train() {}, load() {} }] };`,
    );
    await expect(createPipeline({ store: 'counted://nospec', plugins: [file] })).rejects.toThrow(
      /model factory "nospec-v1" of plugin nospec-model declares no specificationVersion/,
    );
    // An open MongoDB client would keep the CLI or `serve` from ever exiting.
    expect(counts().closed).toBe(counts().opened);
  });
});

describe('file: URIs', () => {
  it('refuse a file URL with a host (file://my-store is not a relative path): it opened the filesystem root', async () => {
    for (const uri of ['file://my-store', 'file://./my-store']) {
      await expect(createPipeline({ store: uri, create: false }), uri).rejects.toThrow(/file URL .* absolute path \(file:\/\/\/path\/to\/store\) or a folder path/);
    }
    const dir = await tempDir('rp-review-file-');
    dirs.push(dir);
    const pipeline = await createPipeline({ store: pathToFileURL(path.join(dir, 'store')).href });
    expect(pipeline.store.uri).toBe(path.join(dir, 'store'));
    await pipeline.close();
  });
});

describe('blueprint', () => {
  it('names the store by absolute path when it was given relative to the working folder', async () => {
    const dir = await tempDir('rp-review-rel-');
    dirs.push(dir);
    const relative = path.relative(process.cwd(), path.join(dir, 'store'));
    expect(path.isAbsolute(relative)).toBe(false);
    const pipeline = await createPipeline({ store: relative });
    try {
      // A worker (or another process) in another folder must reopen this store, not another.
      expect(pipeline.blueprint().storeUri).toBe(path.join(dir, 'store'));
    } finally {
      await pipeline.close();
    }
  });

  it('names a plugin object\'s relative module by its file URL', async () => {
    const fixture = (await import('../fixtures/plugin.js')).default;
    const dir = await tempDir('rp-review-module-');
    dirs.push(dir);
    const pipeline = await createPipeline({ store: path.join(dir, 'store'), plugins: [{ ...fixture, module: './test/fixtures/plugin.ts' }] });
    try {
      expect(pipeline.blueprint().plugins).toEqual([pathToFileURL(path.resolve('test/fixtures/plugin.ts')).href]);
    } finally {
      await pipeline.close();
    }
  });
});

describe('an in-memory store and job workers', () => {
  it('is refused for worker jobs, saying to run them inline: a worker thread has a memory store of its own', async () => {
    const pipeline = await createPipeline({ store: 'memory://review-workers' });
    try {
      expect(() => pipeline.blueprint()).toThrow(/memory:\/\/review-workers is in this thread's memory: job workers cannot reach it/);
    } finally {
      await pipeline.close();
    }
    await expect(createServer({ storeUri: 'memory://review-workers', logger: false })).rejects.toThrow(/jobs: "worker" cannot run this pipeline in worker threads: .*run jobs inline/);
    const app = await createServer({ storeUri: 'memory://review-workers', logger: false, jobs: 'inline' });
    await app.close();
  });
});

describe('malformed plugins', () => {
  it('are refused naming the plugin and the field, not with "object is not iterable"', async () => {
    const dir = await tempDir('rp-review-shape-');
    dirs.push(dir);
    const store = path.join(dir, 'store');
    const cases: [string, RegExp][] = [
      [`{ name: 'bad', models: { kind: 'x-v1' } }`, /^plugin bad: models must be an array of model factories/],
      [`{ name: 'bad', storeDrivers: 'nope' }`, /^plugin bad: storeDrivers must be an array of store drivers/],
      [`{ name: 'bad', storeDrivers: [{ name: 'half', specificationVersion: 'v1' }] }`, /^plugin bad: store driver "half" has no accepts\(uri\) or open\(uri\) function/],
      [`{ name: 'bad', models: [{ specificationVersion: 'v1' }] }`, /^plugin bad: a model factory has no kind/],
      [`{ name: 'bad', textSteps: ['lowerCase'] }`, /^plugin bad: textSteps must be an object of text steps by name/],
    ];
    for (const [i, [plugin, message]] of cases.entries()) {
      const file = await pluginFile(`bad-${i}`, `export default ${plugin};`);
      await expect(createPipeline({ store, plugins: [file] }), plugin).rejects.toThrow(message);
    }
  });
});

describe('plugin model kinds', () => {
  const model = (kind: string) => `{ kind: ${JSON.stringify(kind)}, specificationVersion: 'v1', train() { throw new Error('fake'); }, load() { throw new Error('fake'); } }`;

  it('refuses a plugin model whose kind is taken by a built-in or another plugin, instead of silently dropping it', async () => {
    const dir = await tempDir('rp-review-kinds-');
    dirs.push(dir);
    const store = path.join(dir, 'store');
    const builtIn = await pluginFile('shadow', `export default { name: 'shadow', models: [${model('naive-bayes-v1')}] };`);
    await expect(createPipeline({ store, plugins: [builtIn] })).rejects.toThrow(/model kind "naive-bayes-v1" of plugin shadow is already a built-in model kind/);
    const first = await pluginFile('first', `export default { name: 'first', models: [${model('shared-v1')}] };`);
    const second = await pluginFile('second', `export default { name: 'second', models: [${model('shared-v1')}] };`);
    await expect(createPipeline({ store, plugins: [first, second] })).rejects.toThrow(/model kind "shared-v1" of plugin second is already a model kind of plugin first/);
    // The same plugin named twice is one plugin.
    const twice = await createPipeline({ store, plugins: ['./test/fixtures/plugin.ts', './test/fixtures/plugin.ts'] });
    expect(twice.models.map((m) => m.kind)).toEqual(['text-image-v1', 'naive-bayes-v1', 'mock-v1']);
    await twice.close();
  });
});

describe('library calls check the prediction options as the CLI and HTTP do', () => {
  it('refuses a bad model reference or topK with a RangeError naming the entry point and the field', async () => {
    const dir = await tempDir('rp-review-predict-');
    dirs.push(dir);
    const pipeline = await createPipeline({ store: path.join(dir, 'store') });
    try {
      const ref = 'must be one of an integer from 1, "champion", "latest"';
      await expect(pipeline.predict({ model: 0 })).rejects.toThrow(new RangeError(`Predictor.predictStoredTest: options.model ${ref}, got 0`));
      await expect(pipeline.predict({ model: 'best' as never })).rejects.toThrow(new RangeError(`Predictor.predictStoredTest: options.model ${ref}, got "best"`));
      await expect(pipeline.predictProduct({ designation: 'Lampe' }, { topK: 0 })).rejects.toThrow(
        new RangeError('Predictor.predictProduct: options.topK must be an integer from 1 to 27, got 0'),
      );
      await expect(pipeline.predictProduct({ designation: 'Lampe' }, { topK: -1 })).rejects.toThrow(RangeError);
      await expect(pipeline.predictProduct({ designation: 'Lampe' }, { model: 1.5 })).rejects.toThrow(new RangeError(`Predictor.predictProduct: options.model ${ref}, got 1.5`));
      await expect(pipeline.predictCsv({ input: path.join(dir, 'x.csv'), output: path.join(dir, 'y.csv'), model: -1 })).rejects.toThrow(
        new RangeError(`Predictor.predictCsv: options.model ${ref}, got -1`),
      );
    } finally {
      await pipeline.close();
    }
  });
});

describe('HTTP bodies', () => {
  it('name what a union field (model reference, promotion policy) may be, once, as the CLI and library do', async () => {
    const dir = await tempDir('rp-review-http-');
    dirs.push(dir);
    const key = 'review-key-0123456789';
    const app = await createServer({ storeUri: path.join(dir, 'store'), logger: false, auth: { keys: [key] }, jobs: 'inline' });
    try {
      const post = async (url: string, body: unknown) => {
        const r = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, payload: body as object });
        return { status: r.statusCode, message: (r.json() as { message: string }).message };
      };
      const ref = 'must be one of an integer from 1, "champion", "latest"';
      expect(await post('/train-model', { promote: 'bogus' })).toEqual({ status: 400, message: 'body/promote must be one of "auto", "always", "never"' });
      expect(await post('/predict', { model: 0 })).toEqual({ status: 400, message: `body/model ${ref}` });
      expect(await post('/predict', { model: 'v1' })).toEqual({ status: 400, message: `body/model ${ref}` });
      expect(await post('/evaluate-model', { model: 1.5 })).toEqual({ status: 400, message: `body/model ${ref}` });
      // Other fields keep their messages.
      expect(await post('/train-model', { epochs: 0 })).toEqual({ status: 400, message: 'body/epochs must be >= 1' });
    } finally {
      await app.close();
    }
  });

  it('take multipart numbers in decimal notation only, as the command line does', async () => {
    const dir = await tempDir('rp-review-multipart-');
    dirs.push(dir);
    const app = await createServer({ storeUri: path.join(dir, 'store'), logger: false, auth: false, jobs: 'inline' });
    try {
      const multipart = async (fields: Record<string, string>) => {
        const boundary = 'review-boundary';
        const payload = Object.entries(fields)
          .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
          .join('') + `--${boundary}--\r\n`;
        const r = await app.inject({ method: 'POST', url: '/predict/product', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload });
        return { status: r.statusCode, message: (r.json() as { message: string }).message };
      };
      for (const topK of ['0x10', '0b11', '0o7', 'Infinity']) {
        expect(await multipart({ designation: 'Lampe', topK }), topK).toEqual({ status: 400, message: 'body/topK must be integer' });
      }
      // Decimal text still converts (no champion yet: past validation).
      expect((await multipart({ designation: 'Lampe', topK: '1e1' })).status).toBe(503);
    } finally {
      await app.close();
    }
  });
});

describe('job workers', () => {
  it('hide the password in the error of a worker that died of an uncaught exception', async () => {
    // A driver whose connection fails outside any awaited call (an unhandled 'error' event, say).
    const file = await pluginFile(
      'leaky',
      `export default { name: 'leaky', storeDrivers: [{ name: 'leaky', specificationVersion: 'v1', accepts: (u) => u.startsWith('leaky://'),
        open: (uri) => new Promise(() => { setTimeout(() => { throw new Error('connection to ' + uri + ' lost'); }, 10); }) }] };`,
    );
    const plan = { storeUri: 'leaky://user:s3cretpw@db.example/x', plugins: [pathToFileURL(file).href], modelKinds: null, preprocessing: new Preprocessor().spec };
    const error = await workerExecutor(plan).execute('prepare', {}, {}).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(error).toMatch(/connection to leaky:\/\/user:\*\*\*@db\.example\/x lost/);
    expect(error).not.toContain('s3cretpw');
  });
});

describe('TypeScript plugin modules', () => {
  it('are imported once per thread, as JavaScript ones: a second pipeline with a plugin shipping text steps is not refused', async () => {
    const dir = await tempDir('rp-review-ts-');
    dirs.push(dir);
    const file = path.join(dir, 'steps-plugin.ts');
    await writeFile(file, `const shout = (s: string): string => s.toUpperCase();\nexport default { name: 'steps', textSteps: { 'review.shout': shout } };\n`);
    const store = path.join(dir, 'store');
    for (let i = 0; i < 2; i++) {
      const pipeline = await createPipeline({ store, plugins: [file], preprocessing: { text: { steps: ['review.shout'] } } });
      await pipeline.close();
    }
    expect((await loadPlugin(file)).textSteps).toBe((await loadPlugin(file)).textSteps);
  });
});

// CommonJS code loading the package (an ES module build: Node >= 20.19 require()s it), when it is
// built from the current sources.
const DIST_CJS = path.join(REPO_ROOT, 'dist/index.js');
const distFresh = (() => {
  if (!existsSync(DIST_CJS)) return false;
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs)));
  return statSync(DIST_CJS).mtimeMs >= Math.max(newest(path.join(REPO_ROOT, 'src')), statSync(path.join(REPO_ROOT, 'tsup.config.ts')).mtimeMs);
})();

describe.skipIf(!distFresh)('CommonJS code requiring the package', () => {
  it('loads and prepares (the CommonJS bundle failed: an ESM-only dependency imported by default was not a function)', async () => {
    const dir = await tempDir('rp-review-cjs-');
    dirs.push(dir);
    await generateDemoCatalogue({ outDir: path.join(dir, 'data'), rows: 60, testRows: 5, imageFraction: 0 });
    const script = `
      const { createPipeline } = require(${JSON.stringify(DIST_CJS)});
      (async () => {
        const p = await createPipeline({ store: 'memory://cjs' });
        await p.load({ dataDir: ${JSON.stringify(path.join(dir, 'data'))} });
        const run = await p.prepare({ seed: 1 });
        await p.close();
        console.log(run.status);
      })().catch((e) => { console.error(e.message); process.exit(1); });`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: dir });
    expect(stdout.trim()).toBe('completed');
  });
});

