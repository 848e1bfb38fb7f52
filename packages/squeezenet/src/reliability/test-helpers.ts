import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';

/** Helpers of the reliability tests (guards.test.ts, setup-bounds.test.ts). */

const LOCK_JS = fileURLToPath(new URL('./lock.js', import.meta.url));

/** Asserts an error of class `kind` whose one-line message matches. */
export function isError(kind: new (...args: never[]) => Error, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${(e as Error)?.stack}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  };
}

/** Every file (path and bytes) under `dir`, to prove nothing changed. */
export function snapshot(dir: string): string {
  if (!fs.existsSync(dir)) return 'absent';
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort().map((f) => {
    const full = path.join(dir, f);
    return `${f}:${fs.statSync(full).isFile() ? fs.readFileSync(full).toString('base64') : 'dir'}`;
  }).join('\n');
}

/** A node process that takes the lock on `dir` and waits (resolves once it holds it). */
export async function lockHolder(dir: string, kind = 'model', role = '--model_dir'): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `const { acquireLock } = await import(${JSON.stringify(LOCK_JS)}); acquireLock(${JSON.stringify(dir)}, '${kind}', { role: '${role}' }); console.log('locked'); setInterval(() => {}, 1000);`,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (s: Buffer) => { if (s.toString().includes('locked')) resolve(); });
    child.on('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

/** A .tar.gz of `entries` filled with zeros, streamed (never on disk unpacked): a decompression bomb. */
export async function zeroTarGz(file: string, entries: Array<{ name: string; size: number }>): Promise<void> {
  const gzip = createGzip({ level: 1 });
  const done = pipeline(gzip, fs.createWriteStream(file));
  const write = (b: Buffer): Promise<void> => new Promise((resolve) => { if (gzip.write(b)) resolve(); else gzip.once('drain', resolve); });
  const chunk = Buffer.alloc(1 << 20);
  for (const { name, size } of entries) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'utf8');
    h.write('0000644\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116);
    h.write(`${size.toString(8).padStart(11, '0')}\0`, 124); h.write('00000000000\0', 136);
    h.write('        ', 148); h.write('0', 156); h.write('ustar\0' + '00', 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    await write(h);
    for (let left = size; left > 0; left -= chunk.length) await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
    if (size % 512) await write(Buffer.alloc(512 - (size % 512)));
  }
  await write(Buffer.alloc(1024));
  gzip.end();
  await done;
}

