/**
 * One line for a Node file-system error: the file it concerns and what to do, instead of Node's
 * `ENOSPC: no space left on device, write` (which names no file). Null for anything else.
 */
const ADVICE: Record<string, string> = {
  ENOSPC: 'no space left on device; free some space and run the command again',
  EDQUOT: 'disk quota exceeded; free some space and run the command again',
  EROFS: 'read-only file system; choose a writable folder',
  EACCES: 'permission denied; check its permissions or choose another folder',
  EPERM: 'operation not permitted; check its permissions or choose another folder',
  ENOTDIR: 'a file is in the way of a folder; pass a folder',
  EEXIST: 'already exists where a folder is needed; pass a folder',
  EISDIR: 'is a folder where a file is needed',
  EIO: 'input/output error; the disk may be failing',
  EMFILE: 'too many open files; raise the limit (ulimit -n)',
};

export function describeFsError(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const e = error as NodeJS.ErrnoException;
  if (typeof e.code !== 'string' || typeof e.syscall !== 'string') return null;
  const advice = ADVICE[e.code];
  if (advice === undefined) return null;
  return `${e.path ?? `(${e.syscall})`}: ${advice} (${e.code})`;
}
