import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Atomic file replacement: readers of `path` see either the old contents or
 * the complete new contents, never a partial write, even across a crash or
 * power loss. The recipe is the classic one:
 *   1. write everything to a temporary file in the *same directory* (rename is
 *      only atomic within one filesystem),
 *   2. fsync the temporary file (so its data is durable before it gets a name),
 *   3. rename it over `path` (atomic on POSIX),
 *   4. fsync the directory (so the rename itself is durable).
 * On any failure the temporary file is removed and `path` is left untouched.
 */

function tempPathFor(target: string): string {
  return `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/**
 * Errors that mean "this platform/filesystem cannot fsync a directory"; the
 * rename has still happened, so they are not failures of the write.
 */
function isUnsupportedDirSync(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EACCES';
}

/** writeSync's errors (ENOSPC, EIO) name no file: name the file being replaced. */
function namingTarget(err: unknown, target: string): unknown {
  const e = err as NodeJS.ErrnoException | null;
  if (e instanceof Error && typeof e.code === 'string' && (e.path === undefined || e.path.includes('.tmp-'))) e.path = target;
  return err;
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    if (!isUnsupportedDirSync(err)) throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!isUnsupportedDirSync(err)) throw err;
  } finally {
    await handle?.close();
  }
}

/** Synchronous atomic write; see the module comment for the guarantees. */
export function writeFileAtomicSync(target: string, data: Uint8Array | string): void {
  const bytes = toBytes(data);
  const tmp = tempPathFor(target);
  let fd: number | undefined;
  try {
    // 'wx' refuses to reuse an existing file, so a colliding temp name can
    // never clobber another writer's temp file.
    fd = fs.openSync(tmp, 'wx');
    let off = 0;
    while (off < bytes.byteLength) {
      off += fs.writeSync(fd, bytes, off, bytes.byteLength - off);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* already failing; keep the original error */ }
    }
    try { fs.unlinkSync(tmp); } catch { /* may not exist */ }
    throw namingTarget(err, target);
  }
  fsyncDirSync(path.dirname(path.resolve(target)));
}

/** Asynchronous atomic write; see the module comment for the guarantees. */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  const bytes = toBytes(data);
  const tmp = tempPathFor(target);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx');
    let off = 0;
    while (off < bytes.byteLength) {
      const { bytesWritten } = await handle.write(bytes, off, bytes.byteLength - off);
      off += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (err) {
    if (handle !== undefined) {
      try { await handle.close(); } catch { /* keep the original error */ }
    }
    try { await fsp.unlink(tmp); } catch { /* may not exist */ }
    throw namingTarget(err, target);
  }
  await fsyncDir(path.dirname(path.resolve(target)));
}
