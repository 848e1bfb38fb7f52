import * as fs from 'node:fs';
import { Writable } from 'node:stream';
import * as tty from 'node:tty';

/**
 * The `squeeze` launcher (bin/squeeze) routes fd 2 through a filter for Dawn's native warnings and
 * hands this process the real stderr as another descriptor (SQUEEZE_STDERR_FD). Pointing
 * process.stderr there keeps the CLI's own output unfiltered: a terminal is still a TTY (the
 * progress line), and a line written just before exit is not left behind in the filter.
 * Imported first by main.ts, before anything binds process.stderr (console binds it lazily).
 */
function stderrFromLauncher(): NodeJS.WriteStream | undefined {
  const fd = Number(process.env['SQUEEZE_STDERR_FD']);
  // The descriptor is this process's alone: a child (a nested squeeze, python) must not take it.
  delete process.env['SQUEEZE_STDERR_FD'];
  if (!Number.isInteger(fd) || fd < 3) return undefined;
  try {
    fs.fstatSync(fd);
  } catch {
    return undefined;
  }
  if (tty.isatty(fd)) return new tty.WriteStream(fd);
  // Files and pipes: synchronous writes, as Node's own stderr makes them on Linux.
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      try {
        for (let off = 0; off < chunk.length;) off += writeRetrying(fd, chunk, off);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
  return Object.assign(stream, { fd, isTTY: false }) as unknown as NodeJS.WriteStream;
}

function writeRetrying(fd: number, chunk: Buffer, off: number): number {
  for (;;) {
    try {
      return fs.writeSync(fd, chunk, off);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

const stream = stderrFromLauncher();
if (stream) Object.defineProperty(process, 'stderr', { configurable: true, enumerable: true, get: () => stream });
