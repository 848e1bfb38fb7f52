import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';

describe('formats/atomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squeeze-atomic-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const leftovers = (): string[] => fs.readdirSync(dir).filter((n) => n.includes('.tmp-'));

  it('writes bytes and strings (sync and async), replacing existing files, leaving no temp files', async () => {
    const p = path.join(dir, 'out.bin');
    writeFileAtomicSync(p, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...fs.readFileSync(p)], [1, 2, 3]);
    writeFileAtomicSync(p, 'héllo');
    assert.equal(fs.readFileSync(p, 'utf8'), 'héllo');
    await writeFileAtomic(p, new Uint8Array(100_000).fill(7));
    const back = fs.readFileSync(p);
    assert.equal(back.length, 100_000);
    assert.ok(back.every((b) => b === 7));
    await writeFileAtomic(p, '');
    assert.equal(fs.readFileSync(p).length, 0);
    assert.deepEqual(leftovers(), []);
  });

  it('honours the byteOffset of a Uint8Array view', () => {
    const p = path.join(dir, 'view.bin');
    const base = new Uint8Array([9, 9, 1, 2, 3, 9]);
    writeFileAtomicSync(p, base.subarray(2, 5));
    assert.deepEqual([...fs.readFileSync(p)], [1, 2, 3]);
  });

  it('leaves the target untouched and removes the temp file when the rename fails', async () => {
    // A non-empty directory at the target path makes rename() fail after the data was written.
    const target = path.join(dir, 'target');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), 'x');
    assert.throws(() => writeFileAtomicSync(target, 'data'));
    await assert.rejects(writeFileAtomic(target, 'data'));
    assert.ok(fs.statSync(target).isDirectory());
    assert.equal(fs.readFileSync(path.join(target, 'keep'), 'utf8'), 'x');
    assert.deepEqual(leftovers(), []);
  });

  it('fails cleanly when the directory does not exist', async () => {
    const p = path.join(dir, 'missing', 'f');
    assert.throws(() => writeFileAtomicSync(p, 'x'), { code: 'ENOENT' });
    await assert.rejects(writeFileAtomic(p, 'x'), { code: 'ENOENT' });
  });

  it('concurrent writers: the result is exactly one complete payload', async () => {
    const p = path.join(dir, 'race.bin');
    const payloads = Array.from({ length: 8 }, (_, i) => new Uint8Array(200_000).fill(i + 1));
    await Promise.all(payloads.map((d) => writeFileAtomic(p, d)));
    const back = fs.readFileSync(p);
    assert.equal(back.length, 200_000);
    assert.ok(back.every((b) => b === back[0]), 'file mixes bytes from several writers');
    assert.deepEqual(leftovers(), []);
  });
});
