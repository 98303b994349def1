/**
 * Starts the in-memory MongoDB emulator (test/support/mongo_emulator.py:
 * mockupdb wire protocol + mongomock engine) for tests that need a server the
 * official `mongodb` driver can talk to. No mongod or Docker required, only
 * Debian's `python3-mongomock` and `python3-mockupdb` packages.
 *
 * With `user` and `password` it requires SCRAM authentication as a mongod with
 * `--auth` does (the user is accepted whatever the authSource, and may do anything).
 *
 * Differences from MongoDB (see the .py docstring): in-memory only, no
 * transactions, one user without roles, no text search / collations / arrayFilters.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface MongoEmulator {
  /** `mongodb://127.0.0.1:<port>/?directConnection=true` (no db name, no credentials). */
  uri: string;
  /**
   * With `user`/`password`: `mongodb://<user>:<password>@127.0.0.1:<port>/?directConnection=true`
   * (percent-encoded; no db name, so the driver authenticates against `admin`). Else undefined.
   */
  uriWithCredentials?: string;
  port: number;
  /** Process id of the emulator (to SIGSTOP it in liveness tests). */
  pid: number;
  /** Sends SIGTERM and resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
}

export interface StartMongoEmulatorOptions {
  /** TCP port to listen on; 0 / undefined picks a free port. */
  port?: number;
  /** Log every command to stderr (forwarded to this process's stderr). */
  verbose?: boolean;
  /** How long to wait for the READY line. Default 15 s. */
  startupTimeoutMs?: number;
  /** Require authentication as this user (give `password` too). */
  user?: string;
  /** Password of `user`: printable ASCII (the emulator has no SASLprep). */
  password?: string;
}

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./mongo_emulator.py', import.meta.url));
const INSTALL_HINT = 'apt-get install python3-mongomock python3-mockupdb';
const READY_RE = /^MONGO_EMULATOR_READY port=(\d+)\s*$/m;
const MAX_STDERR = 64 * 1024;

function unrefStream(stream: unknown): void {
  if (stream instanceof Socket) stream.unref();
}

export async function startMongoEmulator(
  opts: StartMongoEmulatorOptions = {},
): Promise<MongoEmulator> {
  if (!existsSync(PYTHON)) {
    throw new Error(
      `Mongo emulator needs ${PYTHON} (Debian python3) with mongomock and mockupdb: ${INSTALL_HINT}`,
    );
  }
  if (!existsSync(SCRIPT)) {
    throw new Error(`Mongo emulator script not found: ${SCRIPT}`);
  }
  const { user, password } = opts;
  if ((user === undefined) !== (password === undefined)) {
    throw new Error('startMongoEmulator: give both user and password, or neither');
  }

  const args = [SCRIPT, '--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--exit-on-stdin-eof'];
  if (opts.verbose === true) args.push('--verbose');
  if (user !== undefined && password !== undefined) args.push('--user', user, '--password', password);
  // stdin stays open: the emulator exits by itself if this process dies.
  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });

  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (opts.verbose === true) process.stderr.write(chunk);
    stderr = (stderr + chunk).slice(-MAX_STDERR);
  });
  // EPIPE on stdin if the child dies early is expected; ignore it.
  child.stdin.on('error', () => undefined);

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  const timeoutMs = opts.startupTimeoutMs ?? 15_000;
  const port = await new Promise<number>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, value?: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.off('data', onStdout);
      child.off('error', onError);
      child.off('exit', onExit);
      if (err !== null) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        reject(err);
      } else {
        resolve(value ?? 0);
      }
    };
    const onStdout = (chunk: string): void => {
      stdout += chunk;
      const match = READY_RE.exec(stdout);
      if (match?.[1] !== undefined) finish(null, Number(match[1]));
    };
    const onError = (err: Error): void => {
      finish(new Error(`Failed to start Mongo emulator (${PYTHON} ${SCRIPT}): ${err.message}. ${INSTALL_HINT}`));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      const missingModules = code === 3 || /No module named|ImportError|missing Python module/.test(stderr);
      const hint = missingModules ? `\nThe mongomock/mockupdb Python modules are missing: ${INSTALL_HINT}` : '';
      finish(
        new Error(
          `Mongo emulator exited before becoming ready (code ${String(code)}, signal ${String(signal)}).${hint}\n--- stderr ---\n${stderr}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      finish(new Error(`Mongo emulator did not become ready within ${timeoutMs} ms.\n--- stderr ---\n${stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onStdout);
    child.once('error', onError);
    child.once('exit', onExit);
  });

  // Keep draining stdout, but never let the emulator keep the event loop alive.
  child.stdout.resume();
  child.unref();
  unrefStream(child.stdin);
  unrefStream(child.stdout);
  unrefStream(child.stderr);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killTimer);
      }
      child.stdin.destroy();
    })();
    return stopping;
  };

  const uri = `mongodb://127.0.0.1:${port}/?directConnection=true`;
  const uriWithCredentials =
    user !== undefined && password !== undefined
      ? `mongodb://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/?directConnection=true`
      : undefined;
  return { uri, uriWithCredentials, port, pid: child.pid ?? 0, stop };
}

/**
 * Why the emulator cannot run here (`undefined` when it can): starts and stops one. Suites that
 * start emulators of their own skip with this message (printed once) when it is set.
 */
export async function emulatorUnavailable(suite: string): Promise<string | undefined> {
  try {
    await (await startMongoEmulator()).stop();
    return undefined;
  } catch (e) {
    const reason = `${suite} SKIPPED: ${(e as Error).message}`;
    console.warn(reason);
    return reason;
  }
}
