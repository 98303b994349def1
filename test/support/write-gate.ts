/**
 * Write gates: hold a child process at its next write to a store, from the outside, so that a
 * fault test can SIGKILL it at a chosen point (or line two writers up at the same point) without
 * any hook in the code under test.
 *
 *  - Embedded store: the test's own SQLite connection takes the write lock (BEGIN IMMEDIATE); the
 *    child's next write transaction waits in SQLite's busy handler (busy_timeout 10 s), which shows
 *    in /proc as the clock_nanosleep system call.
 *  - MongoDB: a wire-protocol proxy between the child and the server forwards everything but
 *    holds write commands (insert, update, delete, findAndModify, createIndexes, ...) while closed.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';

/** A gate on one store. */
export interface WriteGate {
  /** URI the child must use to go through the gate (the store URI itself for the embedded store). */
  readonly uri: string;
  /**
   * Makes the next writes wait (resolves once the gate is shut). MongoDB only: `which` picks the
   * writes to hold (command, collection, the writes seen before it); the others pass.
   */
  close(which?: (cmd: string, coll: string, before: readonly string[]) => boolean): Promise<void>;
  /** Lets waiting and future writes through. */
  open(): Promise<void>;
  /** Whether process `pid` is waiting at the closed gate (MongoDB: whether any write through this gate is). */
  isHeld(pid: number): boolean;
  /** Write commands seen (MongoDB only: `cmd coll`), for diagnostics. */
  readonly log: string[];
  /** Releases everything. */
  dispose(): Promise<void>;
}

/** x86_64 / arm64 system call numbers of nanosleep and clock_nanosleep (SQLite's busy handler sleeps). */
const SLEEP_SYSCALLS = new Set(process.arch === 'arm64' ? ['101', '115'] : ['35', '230']);

/** Whether `pid`'s main thread is sleeping in nanosleep (SQLite busy wait). */
export function sleepingInNanosleep(pid: number): boolean {
  try {
    const syscall = readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0] ?? '';
    return SLEEP_SYSCALLS.has(syscall.trim());
  } catch {
    return false;
  }
}

/** The SQLite write-lock gate of an embedded store folder. */
export function sqliteGate(dir: string): WriteGate {
  const db = new Database(path.join(dir, 'store.sqlite'));
  db.pragma('busy_timeout = 10000');
  let closed = false;
  return {
    uri: dir,
    log: [],
    async close() {
      if (closed) return;
      db.prepare('BEGIN IMMEDIATE').run();
      closed = true;
    },
    async open() {
      if (!closed) return;
      db.prepare('ROLLBACK').run();
      closed = false;
    },
    isHeld(pid) {
      return closed && sleepingInNanosleep(pid);
    },
    async dispose() {
      if (closed) db.prepare('ROLLBACK').run();
      closed = false;
      db.close();
    },
  };
}

const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findandmodify', 'createindexes', 'create', 'drop', 'dropindexes', 'renamecollection']);
const OP_MSG = 2013;

/** Command name and collection of an OP_MSG whose first section is the command body. */
export function opMsgCommand(msg: Buffer): { cmd: string; coll: string } | undefined {
  if (msg.length < 26 || msg.readInt32LE(12) !== OP_MSG || msg[20] !== 0) return undefined;
  let at = 25; // header 16, flags 4, section kind 1, document length 4
  const type = msg[at++];
  const end = msg.indexOf(0, at);
  if (end < 0) return undefined;
  const cmd = msg.toString('utf8', at, end);
  let coll = '';
  if (type === 0x02) {
    const len = msg.readInt32LE(end + 1);
    coll = msg.toString('utf8', end + 5, end + 5 + len - 1);
  }
  return { cmd, coll };
}

interface Held {
  send: () => void;
}

/**
 * A proxy in front of the MongoDB server of `dbUri` (the store URI a child would use directly)
 * that holds write commands while closed. One gate per child: `isHeld` ignores its pid argument
 * and tells whether any write through this gate is waiting.
 */
export async function mongoGate(dbUri: string): Promise<WriteGate> {
  const target = new URL(dbUri);
  const held: Held[] = [];
  const sockets = new Set<net.Socket>();
  const log: string[] = [];
  let closed = false;
  let which: ((cmd: string, coll: string, before: readonly string[]) => boolean) | undefined;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    let buffer = Buffer.alloc(0);
    const queue: Buffer[] = []; // messages behind a held one, kept in order
    let holding = false;
    const flush = () => {
      holding = false;
      while (queue.length > 0 && !holding) dispatch(queue.shift() as Buffer);
    };
    const dispatch = (msg: Buffer) => {
      const c = opMsgCommand(msg);
      if (c && WRITE_COMMANDS.has(c.cmd.toLowerCase())) {
        const hold = closed && (which?.(c.cmd, c.coll, log) ?? true);
        log.push(`${c.cmd} ${c.coll}`);
        if (hold) {
          holding = true;
          held.push({
            send: () => {
              if (!upstream.destroyed) upstream.write(msg);
              flush();
            },
          });
          return;
        }
      }
      upstream.write(msg);
    };
    client.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 4 && buffer.length >= buffer.readInt32LE(0)) {
        const len = buffer.readInt32LE(0);
        const msg = buffer.subarray(0, len);
        buffer = buffer.subarray(len);
        if (holding) queue.push(msg);
        else dispatch(msg);
      }
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxied = new URL(dbUri);
  proxied.host = `127.0.0.1:${port}`;
  return {
    uri: proxied.toString(),
    log,
    async close(predicate) {
      which = predicate;
      closed = true;
    },
    async open() {
      closed = false;
      for (const h of held.splice(0)) h.send();
    },
    isHeld() {
      return held.length > 0;
    },
    async dispose() {
      closed = false;
      held.splice(0);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
