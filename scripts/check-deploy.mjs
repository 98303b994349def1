#!/usr/bin/env node
/**
 * Checks the deployment files without a Docker engine (`npm run check:deploy`, after `npm run build`):
 *
 * - deploy/compose.yaml parses; every service has an image or a build; no credential is written
 *   in it (environment values named like a password, secret, token or key are required `${VAR:?}`
 *   interpolations or `/run/secrets/` paths for `*_FILE`, passwords inside URIs and after flags such
 *   as `--requirepass` too); only the API publishes a port on every interface; every variable it
 *   interpolates is in deploy/.env.example, whose secret values are empty; secret files are
 *   ignored by git;
 * - every command a service runs on our image (and the Dockerfile's CMD) is a command of the built
 *   CLI (`node dist/cli.js <command> --help`) with those flags; a `RAKUTEN_STORE`/`RAKUTEN_QUEUE`
 *   set in a service's environment stands for `--store`/`--queue`, so the command must have that
 *   flag and its help must name the variable; `serve` listens on 0.0.0.0 and on the port of the
 *   image's health check;
 * - deploy/Dockerfile: RUN steps only run what CI runs (allow-list below), the runtime stage runs
 *   as a user other than root, has a HEALTHCHECK, the CLI as ENTRYPOINT and copies only the
 *   package (package.json, production node_modules, dist, weights, licence); the build stage
 *   copies files that exist and that .dockerignore lets through; both stages on one Debian release;
 * - examples/airflow/*.py byte-compile (`python3 -m py_compile`).
 *
 * What it cannot do here is printed at the end: no image is built and no container runs.
 * Exits 1 when a check failed (all checks run and are reported).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEPLOY = path.join(ROOT, 'deploy');
const COMPOSE = path.join(DEPLOY, 'compose.yaml');
const DOCKERFILE = path.join(DEPLOY, 'Dockerfile');
const ENV_EXAMPLE = path.join(DEPLOY, '.env.example');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const rel = (p) => path.relative(ROOT, p);

/** RUN steps the Dockerfile may use: what CI (.ci/run) already runs, and plain folder set-up. */
const RUN_ALLOWED = [
  { words: ['npm', 'ci'], exact: true, why: 'CI: npm ci' },
  { words: ['npm', 'run', 'build'], exact: true, why: 'CI: npm run build' },
  { words: ['npm', 'prune'], exact: true, flags: ['--omit=dev'], why: "npm ci's tree less the devDependencies" },
  { words: ['mkdir'], why: 'folders the app user writes' },
  { words: ['chown'], why: 'folders the app user writes' },
];
/** What the runtime stage may copy: the published package's contents. */
const RUNTIME_FROM_BUILD = new Set(['package.json', 'node_modules', 'dist', 'weights']);
const RUNTIME_FROM_CONTEXT = new Set(['LICENSE', 'README.md', 'CHANGELOG.md']);
/** Services that may publish a port on every interface; the others only on 127.0.0.1. */
const PUBLIC_SERVICES = new Set(['api']);
/** Environment variables that stand for a CLI flag (the CLI's fallbacks). */
const ENV_FLAGS = { RAKUTEN_STORE: '--store', RAKUTEN_QUEUE: '--queue', RAKUTEN_API_KEYS_FILE: '--api-keys-file' };
/** Names of environment keys and variables holding secrets. */
const SECRET_NAME = /PASSW(OR)?D|SECRET|TOKEN|(^|_)(API_)?KEYS?(_|$)|(^|_)AUTH$/i;
/** Command-line flags whose value is a secret (`--requirepass X`), unless they name a file. */
const SECRET_FLAG = /^--?[\w-]*(pass|secret|token|key)[\w-]*$/i;

let passed = 0;
const failures = [];
const section = (title) => console.log(`\n== ${title}`);
const ok = (message) => {
  passed += 1;
  console.log(`  ok    ${message}`);
};
const fail = (message) => {
  failures.push(message);
  console.log(`  FAIL  ${message}`);
};
const check = (condition, message, failure) => (condition ? ok(message) : fail(failure ?? message));

// ---------------------------------------------------------------------------------------------
// Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR:?message}, $VAR; $$ is a literal $.
const INTERPOLATION = /\$\{([A-Za-z_]\w*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_]\w*)/g;
const REQUIRED = /^\$\{[A-Za-z_]\w*:?\?[^}]*\}$/;

/** Variables a string interpolates, with whether each is required (`:?`). */
function interpolations(text) {
  return [...text.replaceAll('$$', '').matchAll(INTERPOLATION)].map((m) => ({ name: m[1] ?? m[4], required: (m[2] ?? '').endsWith('?') }));
}

/** The password parts of `scheme://user:password@host` URIs in a string that are not a required interpolation. */
function literalUriPasswords(text) {
  const parts = [];
  // Interpolations first replaced by placeholders: they may hold ':', spaces or '@'.
  const masked = text.replaceAll('$$', '').replace(INTERPOLATION, (m) => `\u0001${parts.push(m) - 1}\u0002`);
  const found = [];
  for (const [, userinfo] of masked.matchAll(/[a-z][a-z0-9+.-]*:\/\/([^\s/@]*)@/gi)) {
    const colon = userinfo.indexOf(':');
    if (colon < 0) continue;
    const password = userinfo.slice(colon + 1);
    const placeholder = /^\u0001(\d+)\u0002$/.exec(password);
    if (!placeholder || !REQUIRED.test(parts[Number(placeholder[1])])) found.push(password.replace(/\u0001(\d+)\u0002/g, (_, i) => parts[Number(i)]));
  }
  return found;
}

/** A command as a list of words (compose accepts a list or a string). */
function words(command) {
  if (Array.isArray(command)) return command.map(String);
  if (typeof command !== 'string') return [];
  return [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** `KEY: value` pairs of a service's environment (mapping or `KEY=value` list). */
function environment(service) {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return env.map((e) => String(e).split(/=(.*)/s)).map(([k, v]) => [k, v ?? null]);
  return Object.entries(env).map(([k, v]) => [k, v === null ? null : String(v)]);
}

/** Every string value under a node (keys excluded). */
function* strings(node) {
  if (typeof node === 'string') yield node;
  else if (Array.isArray(node)) for (const item of node) yield* strings(item);
  else if (node && typeof node === 'object') for (const value of Object.values(node)) yield* strings(value);
}

function checkCompose() {
  section(`compose file (${rel(COMPOSE)})`);
  if (!existsSync(COMPOSE)) return void fail(`${rel(COMPOSE)} is missing`);
  const doc = parseDocument(readFileSync(COMPOSE, 'utf8'), { merge: true, prettyErrors: true });
  if (doc.errors.length > 0) return void fail(`${rel(COMPOSE)} does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
  const compose = doc.toJS({ maxAliasCount: -1 });
  const services = Object.entries(compose?.services ?? {});
  check(services.length > 0, `parses: services ${services.map(([name]) => name).join(', ')}`, `${rel(COMPOSE)} has no services`);

  const missingImage = services.filter(([, s]) => !s.image && !s.build).map(([name]) => name);
  check(missingImage.length === 0, 'every service has an image or a build', `services without image or build: ${missingImage.join(', ')}`);

  // Credentials: environment values, URIs anywhere in a service, secret flags on command lines.
  const literal = [];
  for (const [name, service] of services) {
    for (const [key, value] of environment(service)) {
      if (!SECRET_NAME.test(key) || value === null) continue;
      const fine = key.endsWith('_FILE') ? value.startsWith('/run/secrets/') || REQUIRED.test(value) : REQUIRED.test(value);
      if (!fine) literal.push(`${name}: environment ${key} must be ${key.endsWith('_FILE') ? 'a /run/secrets/ path' : 'a required interpolation ${VAR:?...}'}, not ${JSON.stringify(value)}`);
    }
    for (const text of strings(service)) {
      for (const password of literalUriPasswords(text)) literal.push(`${name}: a URI holds the password ${JSON.stringify(password)} (use \${VAR:?...})`);
    }
    for (const command of [service.command, service.entrypoint, service.healthcheck?.test]) {
      const argv = words(command);
      argv.forEach((word, i) => {
        const [flag, inline] = word.split(/=(.*)/s);
        if (!SECRET_FLAG.test(flag) || /-file$/i.test(flag)) return;
        const value = inline ?? argv[i + 1] ?? '';
        if (!REQUIRED.test(value)) literal.push(`${name}: ${flag} is followed by ${JSON.stringify(value)}, not a required interpolation \${VAR:?...}`);
      });
    }
  }
  check(literal.length === 0, 'no literal password, secret or key (environment, URIs, command flags)', literal.join('\n        '));

  // Published ports: the API only on every interface.
  const exposed = [];
  for (const [name, service] of services) {
    if (PUBLIC_SERVICES.has(name)) continue;
    for (const port of service.ports ?? []) {
      const hostIp = typeof port === 'object' ? port.host_ip : String(port).split(':').length === 3 ? String(port).split(':')[0] : undefined;
      if (hostIp !== '127.0.0.1') exposed.push(`${name}: ${JSON.stringify(port)}`);
    }
  }
  check(exposed.length === 0, `ports beyond 127.0.0.1 published by ${[...PUBLIC_SERVICES].join(', ')} only`, `ports published on every interface (only ${[...PUBLIC_SERVICES].join(', ')} may): ${exposed.join(', ')}`);

  // Secrets: declared, file sources kept out of git.
  const declared = compose.secrets ?? {};
  const undeclared = services.flatMap(([name, s]) => (s.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source)).filter((x) => !(x in declared)).map((x) => `${name}: ${x}`));
  check(undeclared.length === 0, 'every secret a service uses is declared', `secrets used but not declared: ${undeclared.join(', ')}`);
  for (const [name, secret] of Object.entries(declared)) {
    if (!secret.file) continue;
    const file = rel(path.resolve(DEPLOY, secret.file));
    const ignored = spawnSync('git', ['check-ignore', '-q', '--no-index', file], { cwd: ROOT }).status === 0;
    const tracked = spawnSync('git', ['ls-files', '--error-unmatch', file], { cwd: ROOT, stdio: 'ignore' }).status === 0;
    check(ignored && !tracked, `secret ${name}: ${file} is ignored by git`, `secret ${name}: ${file} must be ignored by git and not committed (.gitignore)`);
  }

  // Every interpolated variable documented in .env.example, secrets there left empty.
  if (!existsSync(ENV_EXAMPLE)) return void fail(`${rel(ENV_EXAMPLE)} is missing`);
  const example = new Map(
    readFileSync(ENV_EXAMPLE, 'utf8')
      .split('\n')
      .map((line) => /^\s*([A-Za-z_]\w*)=(.*)$/.exec(line))
      .filter(Boolean)
      .map((m) => [m[1], m[2].trim()]),
  );
  const used = new Set([...strings(compose)].flatMap((text) => interpolations(text).map((v) => v.name)));
  for (const secret of Object.values(declared)) if (secret.environment) used.add(secret.environment);
  const undocumented = [...used].filter((name) => !example.has(name));
  check(undocumented.length === 0, `every variable it uses is in ${rel(ENV_EXAMPLE)} (${used.size})`, `variables missing from ${rel(ENV_EXAMPLE)}: ${undocumented.join(', ')}`);
  const filled = [...example].filter(([name, value]) => SECRET_NAME.test(name) && value !== '').map(([name]) => name);
  check(filled.length === 0, `${rel(ENV_EXAMPLE)} leaves every secret empty`, `${rel(ENV_EXAMPLE)} must leave these empty (placeholders, not values): ${filled.join(', ')}`);
  return compose;
}

// ---------------------------------------------------------------------------------------------
/** Instructions of a Dockerfile: continuation lines joined, comments dropped, grouped by stage. */
function parseDockerfile(text) {
  const stages = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) return;
    if (pending === '') startLine = i + 1;
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) return;
    const [, instruction, args] = /^(\S+)\s*(.*)$/s.exec(pending);
    pending = '';
    const entry = { instruction: instruction.toUpperCase(), args, line: startLine };
    if (entry.instruction === 'FROM') {
      const [, image, name] = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(args);
      stages.push({ image, name: name ?? String(stages.length), instructions: [] });
    } else stages.at(-1)?.instructions.push(entry);
  });
  return stages;
}

/** Exec form (`["a", "b"]`) or shell form of an instruction's arguments, as words. */
function instructionWords(args) {
  if (args.trim().startsWith('[')) {
    try {
      return JSON.parse(args);
    } catch {
      /* shell form after all */
    }
  }
  return words(args);
}

/** Sources of a COPY/ADD (its last argument is the destination), and its --from. */
function copySources(args) {
  const argv = words(args);
  const from = argv.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const operands = argv.filter((w) => !w.startsWith('--'));
  return { from, sources: operands.slice(0, -1).map((s) => s.replace(/^\.\//, '').replace(/\/$/, '')) };
}

function checkDockerfile() {
  section(`Dockerfile (${rel(DOCKERFILE)})`);
  if (!existsSync(DOCKERFILE)) return void fail(`${rel(DOCKERFILE)} is missing`);
  const stages = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
  if (stages.length < 2) fail(`${rel(DOCKERFILE)}: a build stage and a runtime stage expected, found ${stages.length}`);
  const runtime = stages.at(-1);

  // RUN steps: each command of each step on the allow-list.
  const refused = [];
  let steps = 0;
  for (const stage of stages) {
    for (const { instruction, args, line } of stage.instructions) {
      if (instruction !== 'RUN') continue;
      steps += 1;
      const shell = args.trim().startsWith('[') ? instructionWords(args).join(' ') : args.replace(/^(\s*--\S+)+\s*/, '');
      for (const command of shell.split(/&&|\|\||;|\|/).map((c) => c.trim()).filter(Boolean)) {
        const argv = words(command);
        const positional = argv.filter((w) => !w.startsWith('-'));
        const allowed = RUN_ALLOWED.find(
          (a) =>
            a.words.every((w, i) => positional[i] === w) &&
            (!a.exact || positional.length === a.words.length) &&
            (a.flags ?? []).every((f) => argv.includes(f)),
        );
        if (!allowed) refused.push(`line ${line}: \`${command}\``);
      }
    }
  }
  check(
    refused.length === 0,
    `${steps} RUN steps use only: ${RUN_ALLOWED.map((a) => [...a.words, ...(a.flags ?? [])].join(' ')).join(', ')}`,
    `RUN commands outside the allow-list of scripts/check-deploy.mjs (what CI runs): ${refused.join(', ')}`,
  );

  // The runtime stage.
  const last = (name) => runtime.instructions.filter((i) => i.instruction === name).at(-1);
  const user = last('USER')?.args.trim().split(':')[0];
  check(user !== undefined && user !== 'root' && user !== '0', `runtime stage runs as ${user}`, `runtime stage (${runtime.name}) needs a USER other than root (found ${user ?? 'none'})`);
  const healthcheck = last('HEALTHCHECK');
  check(healthcheck !== undefined && !/^NONE\b/i.test(healthcheck.args.trim()), 'runtime stage has a HEALTHCHECK', `runtime stage (${runtime.name}) needs a HEALTHCHECK`);
  const entrypoint = last('ENTRYPOINT');
  check(
    JSON.stringify(entrypoint && instructionWords(entrypoint.args)) === JSON.stringify(['node', 'dist/cli.js']),
    'ENTRYPOINT ["node", "dist/cli.js"]',
    `runtime stage ENTRYPOINT must be ["node", "dist/cli.js"], found ${entrypoint?.args ?? 'none'}`,
  );
  // Sources from another stage are paths in it: taken relative to that stage's WORKDIR.
  const workdir = (name) => stages.find((s) => s.name === name)?.instructions.filter((i) => i.instruction === 'WORKDIR').at(-1)?.args.trim() ?? '/';
  const copied = runtime.instructions
    .filter((i) => i.instruction === 'COPY' || i.instruction === 'ADD')
    .map((i) => copySources(i.args))
    .map(({ from, sources }) => ({ from, sources: from ? sources.map((s) => path.posix.relative(workdir(from), path.posix.resolve(workdir(from), s))) : sources }));
  const extra = copied.flatMap(({ from, sources }) => sources.filter((s) => !(from ? RUNTIME_FROM_BUILD : RUNTIME_FROM_CONTEXT).has(s)).map((s) => (from ? `--from=${from} ${s}` : s)));
  check(
    extra.length === 0,
    `runtime stage copies only ${copied.flatMap((c) => c.sources).join(', ')}`,
    `runtime stage copies more than the package (${[...RUNTIME_FROM_BUILD].join(', ')}; ${[...RUNTIME_FROM_CONTEXT].join(', ')}): ${extra.join(', ')}`,
  );

  // Build context: the sources exist and .dockerignore lets them through.
  const ignorePath = path.join(ROOT, '.dockerignore');
  const ignored = existsSync(ignorePath)
    ? readFileSync(ignorePath, 'utf8').split('\n').map((l) => l.trim().replace(/^\/|\/$/g, '')).filter((l) => l && !l.startsWith('#'))
    : [];
  check(ignored.includes('node_modules') && ignored.includes('.git'), '.dockerignore keeps node_modules and .git out of the context', '.dockerignore must exclude node_modules and .git');
  const contextSources = stages.flatMap((s) => s.instructions.filter((i) => i.instruction === 'COPY' || i.instruction === 'ADD').map((i) => copySources(i.args)).filter((c) => !c.from).flatMap((c) => c.sources));
  const unusable = contextSources.filter((s) => !existsSync(path.join(ROOT, s)) || ignored.some((p) => s === p || s.startsWith(`${p}/`)));
  check(unusable.length === 0, `context files exist and are not in .dockerignore: ${contextSources.join(', ')}`, `COPY sources missing or excluded by .dockerignore: ${unusable.join(', ')}`);

  // Native modules built in one stage run in the other: same Node major and Debian release.
  const release = (image) => /^node:(\d+)[.\d]*-([a-z]+)/.exec(image)?.slice(1, 3).join(' ');
  const releases = [...new Set(stages.map((s) => release(s.image)))];
  check(releases.length === 1 && releases[0] !== undefined, `stages on one Node and Debian release (${stages.map((s) => s.image).join(', ')})`, `stages on different or unknown Node/Debian releases: ${stages.map((s) => s.image).join(', ')}`);

  const cmd = last('CMD');
  const healthPort = /127\.0\.0\.1:(\d+)\/health/.exec(healthcheck?.args ?? '')?.[1];
  // ENV of the runtime stage (`ENV A=1 B=2` or `ENV A 1`): the environment of the default CMD.
  const env = runtime.instructions
    .filter((i) => i.instruction === 'ENV')
    .flatMap((i) => (/^\w+=/.test(i.args.trim()) ? words(i.args).map((w) => w.split(/=(.*)/s)) : [i.args.trim().split(/\s+(.*)/s)]))
    .map(([k, v]) => [k, v ?? '']);
  return { cmd: cmd ? instructionWords(cmd.args) : undefined, env, healthPort, exposed: last('EXPOSE')?.args.trim().split(/[\s/]/)[0] };
}

// ---------------------------------------------------------------------------------------------
const helps = new Map();
/** `rakuten-pipeline <command> --help` of the build, or undefined when it is no command. */
function help(command) {
  if (!helps.has(command)) {
    const args = command ? [CLI, command, '--help'] : [CLI, '--help'];
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } });
    const text = `${r.stdout}${r.stderr}`;
    // Commander answers `<unknown> --help` with the program's own help.
    const usage = new RegExp(`^Usage: rakuten-pipeline ${command ? `${command.replace(/[^\w-]/g, '\\$&')}\\b` : '\\['}`, 'm');
    helps.set(command, r.status === 0 && usage.test(text) ? text : undefined);
  }
  return helps.get(command);
}
const hasFlag = (text, flag) => new RegExp(`(^|[\\s,])${flag.replace(/[^\w-]/g, '\\$&')}(?=[\\s=,<\\[]|$)`, 'm').test(text);

/** Checks one command line run on our image; `env` is the service's environment. */
function checkCommand(where, argv, env, image) {
  const [command, ...rest] = argv;
  const text = help(command);
  if (!text) {
    const commands = [...(help('') ?? '').matchAll(/^ {2}([a-z][\w-]*) /gm)].map((m) => m[1]).filter((c) => c !== 'help');
    return void fail(`${where}: \`${command}\` is not a rakuten-pipeline command (the build has: ${commands.join(', ')})`);
  }
  const global = help('') ?? '';
  const flags = rest.filter((w) => w.startsWith('--')).map((w) => w.split('=')[0]);
  const unknown = flags.filter((f) => !hasFlag(text, f) && !hasFlag(global, f));
  check(unknown.length === 0, `${where}: ${command} ${flags.join(' ')}`, `${where}: \`${command}\` has no flag ${unknown.join(', ')} (node dist/cli.js ${command} --help)`);
  const flat = text.replace(/\s+/g, ' ');
  for (const [variable, flag] of Object.entries(ENV_FLAGS)) {
    if (!env.some(([k]) => k === variable)) continue;
    check(
      hasFlag(text, flag) && flat.includes(variable),
      `${where}: ${variable} from the environment stands for ${command} ${flag}`,
      `${where}: sets ${variable} for ${flag}, but \`${command} --help\` ${hasFlag(text, flag) ? `does not name ${variable} as its fallback` : `has no ${flag}`}`,
    );
  }
  if (command === 'serve') {
    const value = (flag) => rest[rest.indexOf(flag) + 1];
    check(value('--host') === '0.0.0.0', `${where}: serve listens on 0.0.0.0`, `${where}: serve needs --host 0.0.0.0 (its default 127.0.0.1 is unreachable from outside the container)`);
    if (image.healthPort) {
      const port = rest.includes('--port') ? value('--port') : '8000';
      check(port === image.healthPort, `${where}: serve on port ${port}, the one the image's health check calls`, `${where}: serve on port ${port}, but the image's HEALTHCHECK calls port ${image.healthPort}`);
    }
  }
}

function checkCommands(compose, image) {
  section('commands against the built CLI (node dist/cli.js <command> --help)');
  if (!existsSync(CLI)) return void fail(`${rel(CLI)} is missing: run \`npm run build\` first`);
  if (image.cmd) checkCommand('Dockerfile CMD', image.cmd, image.env ?? [], image);
  if (image.healthPort) check(image.exposed === image.healthPort, `Dockerfile EXPOSE ${image.exposed} is the health check's port`, `Dockerfile EXPOSE ${image.exposed} but the HEALTHCHECK calls port ${image.healthPort}`);
  const ours = new Set();
  for (const [name, service] of Object.entries(compose?.services ?? {})) {
    const build = typeof service.build === 'string' ? { context: service.build } : service.build;
    if (build && path.resolve(DEPLOY, build.context ?? '.', build.dockerfile ?? 'Dockerfile') === DOCKERFILE) ours.add(service.image ?? name);
  }
  for (const [name, service] of Object.entries(compose?.services ?? {})) {
    const build = typeof service.build === 'string' ? { context: service.build } : service.build;
    const built = build && path.resolve(DEPLOY, build.context ?? '.', build.dockerfile ?? 'Dockerfile') === DOCKERFILE;
    if (!built && !ours.has(service.image)) continue;
    if (service.entrypoint) {
      fail(`service ${name}: overrides the image's ENTRYPOINT; this check only knows \`node dist/cli.js\``);
      continue;
    }
    checkCommand(`service ${name}`, service.command ? words(service.command) : image.cmd ?? [], environment(service), image);
  }
}

// ---------------------------------------------------------------------------------------------
function checkPython() {
  section('Airflow example (python3 -m py_compile)');
  const dir = path.join(ROOT, 'examples', 'airflow');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.py')).map((f) => path.join(dir, f)) : [];
  if (files.length === 0) return void fail(`no Python file in ${rel(dir)}`);
  // Byte code goes to a temporary folder, not into __pycache__ beside the example.
  const cache = mkdtempSync(path.join(os.tmpdir(), 'check-deploy-'));
  try {
    const r = spawnSync('python3', ['-m', 'py_compile', ...files], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PYTHONPYCACHEPREFIX: cache } });
    if (r.error) return void fail(`python3 not found (${r.error.message})`);
    check(r.status === 0, `byte-compiles: ${files.map(rel).join(', ')}`, `py_compile failed:\n${r.stderr.trim()}`);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
const compose = checkCompose();
const image = checkDockerfile() ?? {};
checkCommands(compose, image);
checkPython();

section('not checked here');
console.log('  - no image built (`docker build -f deploy/Dockerfile .`): the Dockerfile is checked as text;');
console.log('  - no container started: health checks, secrets, volumes and the services talking to each other;');
console.log('  - no `docker compose config` (Compose\'s own validation and interpolation).');
console.log(`\ndeploy checks: ${passed} ok, ${failures.length} failing`);
if (failures.length > 0) {
  console.log(failures.map((f) => `  - ${f}`).join('\n'));
  process.exitCode = 1;
}
