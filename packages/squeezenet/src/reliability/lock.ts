import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';

/**
 * Exclusive folder locks for the commands that write a model or data folder: a lock file made
 * with link(2) (atomic, and it fails when the name exists, so the file is always complete),
 * holding the writer's PID, host and start time. A lock whose process is gone (same host, PID not
 * alive: a SIGKILLed writer) is stale and taken over; locks are released on return, on exit and on
 * SIGINT/SIGTERM. proper-lockfile and its kind judge staleness by age alone and record no PID, so
 * a second writer could not be told who holds the folder.
 */

export class LockError extends Error { override name = 'LockError'; }

interface Holder { pid: number; hostname: string; started: string; command: string }

interface Held { file: string; count: number }
const held = new Map<string, Held>();

function lockFile(dir: string, kind: string): string {
  return path.join(dir, `.squeeze-${kind}.lock`);
}

function parseHolder(text: string): Holder | null {
  try {
    const h = JSON.parse(text) as Holder;
    return Number.isSafeInteger(h.pid) && typeof h.hostname === 'string' ? h : null;
  } catch {
    return null;
  }
}

function readHolder(file: string): Holder | null {
  try { return parseHolder(fs.readFileSync(file, 'utf8')); } catch { return null; }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock is stale when its holder ran on this host and is no longer running (or it is unreadable). */
function isStale(h: Holder | null): boolean {
  return h === null || (h.hostname === hostname() && !isAlive(h.pid));
}

/** Creates `file` holding `text`, failing with EEXIST when it exists: write a temp file, then link it. */
function createExclusive(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, text, { flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Takes over a stale lock; a second lock serialises takeovers, so a fresh lock is never removed. */
function takeOver(file: string, stale: string): boolean {
  const guard = `${file}.takeover`;
  try {
    createExclusive(guard, JSON.stringify({ pid: process.pid, hostname: hostname() }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (isStale(readHolder(guard))) fs.rmSync(guard, { force: true });
    return false;
  }
  try {
    let current: string | null = null;
    try { current = fs.readFileSync(file, 'utf8'); } catch { /* released meanwhile */ }
    if (current === stale) fs.rmSync(file, { force: true });
    return true;
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

/** Temp files of lock writes (`<lock>.tmp-<pid>-…`) left by a process killed while it wrote one. */
function removeDebrisOfDeadWriters(dir: string, lockName: string): void {
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(`${lockName}.tmp-`)) continue;
    const pid = Number(f.slice(lockName.length + 5).split('-')[0]);
    if (Number.isSafeInteger(pid) && !isAlive(pid)) fs.rmSync(path.join(dir, f), { force: true });
  }
}

function describeHolder(h: Holder): string {
  return `PID ${h.pid}${h.hostname !== hostname() ? ` on ${h.hostname}` : ''}${h.command ? ` (${h.command})` : ''}, since ${h.started}`;
}

/**
 * Locks `dir` for writing (`kind` names what is locked: 'model' or 'data'), creating the folder.
 * Re-entrant within a process. Throws LockError naming the folder and the holder's PID when
 * another live process holds it; `role` (e.g. '--model_dir') names the folder in messages.
 */
export function acquireLock(dir: string, kind: string, opts: { role: string; info?: (line: string) => void }): () => void {
  prepareFolder(dir, opts.role);
  const file = lockFile(dir, kind);
  const key = path.resolve(file);
  const mine = held.get(key);
  if (mine) {
    mine.count++;
    return once(() => release(key));
  }
  removeDebrisOfDeadWriters(dir, path.basename(file));
  const me: Holder = { pid: process.pid, hostname: hostname(), started: new Date().toISOString(), command: process.argv.slice(2, 3).join(' ') };
  const text = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      createExclusive(file, text);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw withPath(e, dir);
    }
    let current: string;
    try { current = fs.readFileSync(file, 'utf8'); } catch { continue; }
    const holder = parseHolder(current);
    if (!isStale(holder) || attempt > 20) {
      throw new LockError(`${dir}: in use by another squeeze (${holder ? describeHolder(holder) : 'unknown process'}); wait for it to finish, or use another ${opts.role}`);
    }
    if (takeOver(file, current)) {
      opts.info?.(`${dir}: taking over the lock of ${holder ? `PID ${holder.pid}` : 'a process'}, which is no longer running`);
    }
  }
  held.set(key, { file, count: 1 });
  installHandlers();
  return once(() => release(key));
}

/** Runs `fn` holding the lock on `dir`. */
export async function withLock<T>(dir: string, kind: string, opts: { role: string; info?: (line: string) => void }, fn: () => T | Promise<T>): Promise<T> {
  const release = acquireLock(dir, kind, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Synchronous withLock. */
export function withLockSync<T>(dir: string, kind: string, opts: { role: string; info?: (line: string) => void }, fn: () => T): T {
  const release = acquireLock(dir, kind, opts);
  try {
    return fn();
  } finally {
    release();
  }
}

/**
 * Creates `dir` (and its parents) as a writer needs it, with one-line errors naming it and its
 * role instead of Node's `EEXIST … mkdir` (a file in the way) or `ENOENT … mkdir` (read-only).
 */
export function prepareFolder(dir: string, role: string): void {
  let st: fs.Stats | undefined;
  try { st = fs.statSync(dir); } catch { /* created below */ }
  if (st && !st.isDirectory()) throw new LockError(`${dir}: is a file, not a folder; pass a folder as ${role}`);
  if (!st) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw folderError(e, dir, role);
    }
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw folderError(e, dir, role);
  }
}

function folderError(e: unknown, dir: string, role: string): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EEXIST' || code === 'ENOTDIR') return new LockError(`${dir}: a file is in the way of this folder; pass a folder as ${role}`);
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'ENOENT') {
    return new LockError(`${dir}: cannot be written (${code === 'EROFS' || code === 'ENOENT' ? 'read-only file system' : 'permission denied'}, ${code}); pass a writable folder as ${role}`);
  }
  return withPath(e, dir) as Error;
}

/** Adds `path` to a Node file-system error that lacks one (writeSync's ENOSPC names no file). */
export function withPath(e: unknown, file: string): unknown {
  if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).path === undefined) {
    (e as NodeJS.ErrnoException).path = file;
  }
  return e;
}

function once(fn: () => void): () => void {
  let done = false;
  return () => { if (!done) { done = true; fn(); } };
}

function release(key: string): void {
  const h = held.get(key);
  if (!h) return;
  if (--h.count > 0) return;
  held.delete(key);
  removeIfMine(h.file);
}

function removeIfMine(file: string): void {
  const holder = readHolder(file);
  if (holder && holder.pid === process.pid && holder.hostname === hostname()) fs.rmSync(file, { force: true });
}

function releaseAll(): void {
  for (const [key, h] of held) { held.delete(key); removeIfMine(h.file); }
}

let handlersInstalled = false;
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', releaseAll);
  // A signal's default action skips 'exit' handlers: release, then die of the same signal. A
  // SIGINT that a command handles itself (train's finish-the-step Ctrl-C) is left to it.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      releaseAll();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
