import { closeSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { DataError } from './errors.js';

let tempCounter = 0;

/** A sibling name for `path` that no other writer in this or another process will pick. */
export function tempNameFor(path: string): string {
  tempCounter += 1;
  return `${path}.tmp-${process.pid}-${tempCounter}`;
}

/**
 * Writes `parts` one after another to a temporary name, then renames it over `path`, so
 * readers never see a half-written file even if the process dies midway. Parts are written
 * separately so that large buffers need not be concatenated in memory first.
 */
export function writeFileAtomic(path: string, ...parts: (Uint8Array | string)[]): void {
  const temp = tempNameFor(path);
  try {
    const fd = openSync(temp, 'w');
    try {
      for (const part of parts) {
        const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
        let written = 0;
        while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    // writeSync's errors (ENOSPC) name no file.
    const e = error as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && (e.path === undefined || e.path === temp)) e.path = path;
    throw error;
  }
}

/** True when `error` is a Node system error with the given code (e.g. 'ENOENT'). */
export function hasErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/**
 * The size of `path`, refusing anything but a regular file (a FIFO would block the read forever, a
 * device such as /dev/zero never ends) and files over `maxBytes`, before it is opened.
 */
export function regularFileSize(path: string, maxBytes: number, what: string): number {
  const st = statSync(path); // ENOENT and the like are the caller's to word
  if (!st.isFile()) throw new DataError(`${path}: not a regular file (${st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isDirectory() ? 'a folder' : 'a special file'}); pass --from ${what}.`);
  if (st.size > maxBytes) throw new DataError(`${path}: ${st.size} bytes is more than ${what} can be (${maxBytes} bytes); pass --from ${what}.`);
  return st.size;
}

