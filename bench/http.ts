/**
 * HTTP benchmark: `npm run bench:http` (needs the build: `npm run build`).
 *
 * Trains a champion with the library into a temp embedded store (the real folder
 * ../shared/data/rakuten, or $RAKUTEN_DATA, when present; else a generated catalogue), starts
 * `node dist/cli.js serve` on it as a separate process, then loads `POST /predict/product` with
 * autocannon from this process, 10 connections for 10 s each ($BENCH_HTTP_SECONDS,
 * $BENCH_HTTP_CONNECTIONS): text-only JSON, JSON with a ~30 KB JPEG in base64, multipart with the
 * same JPEG; and, as the reference in the same run, `GET /health` (the HTTP floor: routing,
 * hooks, serialisation, no model). Prints p50/p99 latency, requests/s, errors and non-2xx, the
 * server's CPU use and its peak RSS (VmHWM from /proc/<pid>/status, Linux only).
 */
import { createPipeline } from '../src/pipeline/pipeline.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { generateDemoCatalogue } from '../src/demo/generate-catalogue.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../dist/cli.js');
const realDir = process.env['RAKUTEN_DATA'] ?? path.resolve(here, '../../shared/data/rakuten');
const SECONDS = Number(process.env['BENCH_HTTP_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_HTTP_CONNECTIONS'] ?? 10);
const TARGET_IMAGE_BYTES = 30 * 1024;
const API_KEY = 'bench-http-key-0123456789abcdef';

/** A champion in a fresh embedded store, trained on the real folder (or a generated one). */
async function trainChampion(storeDir: string): Promise<{ dataDir: string; synthetic: boolean; summary: string }> {
  let dataDir = realDir;
  const synthetic = !existsSync(path.join(realDir, 'X_train_update.csv'));
  if (synthetic) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'rp-bench-http-demo-'));
    await generateDemoCatalogue({ outDir: dataDir, rows: 2000 });
  }
  const pipeline = await createPipeline({ store: storeDir });
  try {
    const load = await pipeline.load({ dataDir });
    await pipeline.prepare();
    const t0 = performance.now();
    const trained = await pipeline.train({ promote: 'always' });
    const m = trained.model;
    return {
      dataDir,
      synthetic,
      summary:
        `${load.labelledTrainRows} labelled rows; champion v${m.version} (${m.kind}, ${m.backend}) trained in ${((performance.now() - t0) / 1000).toFixed(0)} s, ` +
        `validation weighted F1 ${m.validation.weightedF1.toFixed(4)}`,
    };
  } finally {
    await pipeline.close();
  }
}

/** A test product whose JPEG is closest to 30 KB, with its text; a generated JPEG when the folder has none. */
async function benchProduct(dataDir: string): Promise<{ designation: string; description: string; image: Buffer; source: string }> {
  const imageDir = path.join(dataDir, 'image_test');
  const files = existsSync(imageDir) ? (await readdir(imageDir)).filter((f) => f.endsWith('.jpg')) : [];
  let best: { file: string; size: number } | undefined;
  for (const file of files) {
    const { size } = await stat(path.join(imageDir, file));
    if (!best || Math.abs(size - TARGET_IMAGE_BYTES) < Math.abs(best.size - TARGET_IMAGE_BYTES)) best = { file, size };
  }
  if (best) {
    const [, imageid, productid] = /^image_(\d+)_product_(\d+)\.jpg$/.exec(best.file) ?? [];
    const rows = parse(await readFile(path.join(dataDir, 'X_test_update.csv')), { bom: true, from_line: 2 }) as string[][];
    const row = rows.find((r) => r[3] === productid && r[4] === imageid);
    return { designation: row?.[1] ?? 'Produit', description: row?.[2] ?? '', image: await readFile(path.join(imageDir, best.file)), source: best.file };
  }
  // No image folder: noise compresses badly, so a 500x500 JPEG of it lands near 30 KB at some quality.
  const noise = Buffer.alloc(500 * 500 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  let image: Buffer = Buffer.alloc(0);
  for (let quality = 90; quality >= 10; quality -= 5) {
    image = await sharp(noise, { raw: { width: 500, height: 500, channels: 3 } }).blur(2).jpeg({ quality }).toBuffer();
    if (image.length <= TARGET_IMAGE_BYTES * 1.1) break;
  }
  return { designation: 'Figurine de collection Star Wars', description: 'Figurine en vinyle, 10 cm.', image, source: 'generated with sharp' };
}

/** Starts `serve` and resolves with its base URL once it listens. */
async function startServer(storeDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--store', storeDir, '--port', '0', '--quiet'], {
    env: { ...process.env, RAKUTEN_API_KEYS: API_KEY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const m = /^listening on (http:\/\/\S+)/.exec(line);
      if (m?.[1]) resolve(m[1]);
    });
  });
  return { child, url };
}

/** Linux `/proc/<pid>` readings: resident set now and at its peak (MiB), CPU seconds used. */
function procStats(pid: number): { rss: number; hwm: number; cpu: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    // Fields 14 and 15 of /proc/<pid>/stat: user and system time in clock ticks (100 per second on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024, cpu: ticks / 100 };
  } catch {
    return null;
  }
}

interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

async function measure(url: string, pid: number, s: Scenario) {
  const before = procStats(pid);
  let peakRss = before?.rss ?? NaN;
  const sampler = setInterval(() => {
    const now = procStats(pid);
    if (now) peakRss = Math.max(peakRss, now.rss);
  }, 100);
  const result = await autocannon({
    url: `${url}${s.path}`,
    method: s.method,
    connections: CONNECTIONS,
    duration: SECONDS,
    ...(s.headers ? { headers: s.headers } : {}),
    ...(s.body !== undefined ? { body: s.body } : {}),
  });
  clearInterval(sampler);
  const after = procStats(pid);
  const cpu = before && after ? (after.cpu - before.cpu) / result.duration : NaN;
  return { s, result, peakRss, hwm: after?.hwm ?? NaN, cpu };
}

async function main(): Promise<void> {
  if (!existsSync(cli)) {
    console.log(`${cli} not found: run \`npm run build\` first`);
    process.exitCode = 1;
    return;
  }
  const storeDir = await mkdtemp(path.join(os.tmpdir(), 'rp-bench-http-'));
  let server: ChildProcess | undefined;
  try {
    console.log(`HTTP benchmark on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), Node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const trained = await trainChampion(storeDir);
    console.log(`data: ${trained.synthetic ? `generated catalogue (real folder not found at ${realDir})` : trained.dataDir}; ${trained.summary}`);
    const product = await benchProduct(trained.dataDir);
    console.log(`image: ${product.source}, ${(product.image.length / 1024).toFixed(1)} KB; text: "${product.designation.slice(0, 60)}" (${product.description.length} characters of description)`);

    const started = await startServer(storeDir);
    server = started.child;
    const { url } = started;
    const pid = server.pid as number;
    console.log(`server: node dist/cli.js serve (pid ${pid}) at ${url}; autocannon ${CONNECTIONS} connections x ${SECONDS} s per scenario, from this process\n`);

    const json = { 'content-type': 'application/json' };
    const text = { designation: product.designation, description: product.description };
    const form = new FormData();
    form.append('designation', product.designation);
    form.append('description', product.description);
    form.append('image', new Blob([product.image], { type: 'image/jpeg' }), 'image.jpg');
    // Serialise the form once, the way fetch would send it, boundary and all.
    const request = new Request(url, { method: 'POST', body: form });
    const multipartBody = Buffer.from(await request.arrayBuffer());
    const scenarios: Scenario[] = [
      { name: 'reference: GET /health', method: 'GET', path: '/health' },
      { name: 'predict, JSON text only', method: 'POST', path: '/predict/product', headers: json, body: JSON.stringify(text) },
      { name: 'predict, JSON + base64 image', method: 'POST', path: '/predict/product', headers: json, body: JSON.stringify({ ...text, image: product.image.toString('base64') }) },
      { name: 'predict, multipart + image', method: 'POST', path: '/predict/product', headers: { 'content-type': request.headers.get('content-type') as string }, body: multipartBody },
    ];

    // Each scenario once by hand first: it must answer 200 (and use the image when there is one).
    for (const s of scenarios) {
      const response = await fetch(`${url}${s.path}`, { method: s.method, ...(s.headers ? { headers: s.headers } : {}), ...(s.body !== undefined ? { body: s.body } : {}) });
      const answer = (await response.json()) as { usedImage?: boolean; prdtypecode?: number; message?: string };
      if (!response.ok) throw new Error(`${s.name}: HTTP ${response.status} ${answer.message ?? ''}`);
      if (s.name.includes('image') && answer.usedImage !== true) throw new Error(`${s.name}: the image was not used`);
      if (s.path === '/predict/product') console.log(`  check ${s.name}: ${response.status}, prdtypecode ${answer.prdtypecode}, usedImage ${answer.usedImage}, ${s.body?.length ?? 0} bytes sent`);
    }
    // Warm-up, not measured.
    await autocannon({ url: `${url}/predict/product`, method: 'POST', connections: CONNECTIONS, amount: 200, headers: json, body: scenarios[2]?.body as string });

    const rows: string[][] = [];
    for (const s of scenarios) {
      const { result: r, peakRss, hwm, cpu } = await measure(url, pid, s);
      rows.push([
        s.name,
        r.latency.mean.toFixed(2),
        String(r.latency.p50),
        String(r.latency.p99),
        r.requests.average.toFixed(0),
        String(r.requests.total),
        String(r.errors + r.timeouts),
        String(r.non2xx),
        `${(cpu * 100).toFixed(0)}%`,
        peakRss.toFixed(0),
        hwm.toFixed(0),
      ]);
    }
    const head = ['scenario', 'mean ms', 'p50 ms', 'p99 ms', 'req/s', 'requests', 'errors', 'non-2xx', 'server CPU', 'RSS peak MiB', 'VmHWM MiB'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
    console.log(`\n${line(head)}\n${rows.map(line).join('\n')}`);
    console.log(
      `\nlatency: autocannon's, client side; its percentiles are whole milliseconds. server CPU: share of one core over the run (200% = both cores). RSS peak: sampled every 100 ms during the scenario; ` +
        `VmHWM: the server's peak resident set since it started.\n` +
        `caveat: ${os.cpus().length} cores shared by the server, the autocannon client and anything else running on the machine ` +
        `(load average now ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}); compare scenarios within one run, not across machines or runs.`,
    );
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await rm(storeDir, { recursive: true, force: true });
  }
}

await main();
