import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import {
  CHECKPOINT_DIR, EXPORT_DIR, EXPORT_LABELS, EXPORT_WEIGHTS, encodeSafetensors, makeCifarFixture, readCheckpoint, readExport, readSafetensors,
} from '@squeeze/squeezenet';
import { cleanModelDir } from './clean.js';
import { CLI_RUN_MS, hashTree, makeTempDir, Running, squeezeAsync, STACK_LINE, type CliResult } from './test-helpers.js';

/**
 * The second round of docs/reliability.md's guarantees on the real CLI: one writer per folder,
 * poisoned values never spread, predict prints only labels it computed, and the errors of a full
 * or read-only disk, a file in place of a folder and a hand-edited checkpoint are one line.
 */

const LOCK_JS = path.join(path.dirname(createRequire(import.meta.url).resolve('@squeeze/squeezenet')), 'reliability', 'lock.js');

/** The one `squeeze <command>:` line of a failed command, with no stack trace. */
function failureLine(r: CliResult, command: string): string {
  const lines = r.errorLines.filter((l) => l.startsWith(`squeeze ${command}: `));
  assert.equal(lines.length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, STACK_LINE, r.stderr);
  assert.notEqual(r.status, 0, r.stderr);
  return lines[0]!;
}

/** Mounts a small tmpfs at `dir` (read-only with `ro`); false where mounting is not allowed (not root). */
function mountTmpfs(dir: string, options: string): boolean {
  fs.mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('reliability: one writer per folder, poisoned values, misleading errors (squeeze CLI)', function () {
  // Timeouts by what a test does: its CLI runs, each allowed CLI_RUN_MS.
  this.timeout(8 * CLI_RUN_MS);
  let root: string;
  let dataDir: string;
  let trained: string;
  const trainFlags = (modelDir: string, more: string[], data = dataDir): string[] => [
    'train', '--data_dir', data, '--model_dir', modelDir, '--batch_size', '4', '--validation_interval', '1000', '--seed', '7', ...more,
  ];

  before(async () => {
    root = makeTempDir('guards');
    dataDir = path.join(root, 'data');
    const archive = await makeCifarFixture(path.join(root, 'source'), { trainPerClass: 4, testPerClass: 1 });
    const setup = await squeezeAsync('setup', '--from', archive, '--data_dir', dataDir);
    assert.equal(setup.status, 0, setup.stderr);
    trained = path.join(root, 'trained');
    const t = await squeezeAsync(...trainFlags(trained, ['--checkpoint_interval', '1', '--keep_last_n_checkpoints', '2', '--max_train_steps', '2']));
    assert.equal(t.status, 0, t.stderr);
    const s = await squeezeAsync('save', '--model_dir', trained);
    assert.equal(s.status, 0, s.stderr);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const copyOf = (name: string): string => {
    const dir = path.join(root, name);
    fs.cpSync(trained, dir, { recursive: true });
    return dir;
  };
  const ckpt = (modelDir: string, step: number): string => path.join(modelDir, CHECKPOINT_DIR, `model.ckpt-${String(step).padStart(6, '0')}.safetensors`);

  it('a second train, save or clean on a --model_dir being trained stops with one line naming the folder and the PID; the first run goes on', async () => {
    const modelDir = path.join(root, 'busy');
    const first = new Running(trainFlags(modelDir, ['--checkpoint_interval', '2', '--max_train_steps', '1000']));
    try {
      await first.until((r) => r.trainSteps().length >= 3);
      for (const args of [trainFlags(modelDir, ['--max_train_steps', '1000']), ['save', '--model_dir', modelDir], ['clean', '--model_dir', modelDir]]) {
        const r = await squeezeAsync(...args);
        assert.match(failureLine(r, args[0]!), new RegExp(`^squeeze ${args[0]}: ${modelDir}: in use by another squeeze \\(PID ${first.pid}\\b.*; wait for it to finish, or use another --model_dir$`));
      }
      const steps = first.trainSteps().length;
      await first.until((r) => r.trainSteps().length >= steps + 3);
      assert.ok(fs.existsSync(path.join(modelDir, CHECKPOINT_DIR)), 'clean removed nothing');
    } finally {
      first.signal('SIGTERM');
    }
    const { signal } = await first.exited;
    assert.equal(signal, 'SIGTERM');
    assert.ok(!fs.existsSync(path.join(modelDir, '.squeeze-model.lock')), 'SIGTERM released the lock');
    const resumed = await squeezeAsync(...trainFlags(modelDir, ['--checkpoint_interval', '2', '--max_train_steps', '1']));
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /Training already complete/);
  });

  it('the lock of a SIGKILLed train is taken over with one line', async () => {
    const modelDir = path.join(root, 'killed');
    const first = new Running(trainFlags(modelDir, ['--checkpoint_interval', '1', '--max_train_steps', '1000']));
    await first.until((r) => r.trainSteps().length >= 2);
    first.signal('SIGKILL');
    await first.exited;
    assert.ok(fs.existsSync(path.join(modelDir, '.squeeze-model.lock')));
    const next = await squeezeAsync(...trainFlags(modelDir, ['--checkpoint_interval', '1', '--max_train_steps', '4']));
    assert.equal(next.status, 0, next.stderr);
    assert.ok(next.errorLines.includes(`${modelDir}: taking over the lock of PID ${first.pid}, which is no longer running`), next.stderr);
    assert.ok(!fs.existsSync(path.join(modelDir, '.squeeze-model.lock')));
  });

  it('a setup on a --data_dir another setup holds stops with one line, touching nothing', async () => {
    const holder = spawn(process.execPath, ['--input-type=module', '-e',
      `const { acquireLock } = await import(${JSON.stringify(LOCK_JS)}); acquireLock(${JSON.stringify(dataDir)}, 'data', { role: '--data_dir' }); console.log('locked'); setInterval(() => {}, 1000);`,
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout.on('data', (s: Buffer) => { if (s.toString().includes('locked')) resolve(); }));
      const before = hashTree(dataDir);
      const r = await squeezeAsync('setup', '--from', path.join(root, 'source', 'cifar-10-binary.tar.gz'), '--data_dir', dataDir, '--limit', '4');
      assert.match(failureLine(r, 'setup'), new RegExp(`^squeeze setup: ${dataDir}: in use by another squeeze \\(PID ${holder.pid}\\b.*use another --data_dir$`));
      assert.equal(hashTree(dataDir), before);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a NaN-poisoned newest checkpoint is skipped with one warning: train and save fall back to the finite one', async () => {
    const modelDir = copyOf('poisoned');
    const st = readSafetensors(ckpt(modelDir, 2));
    (st.tensors['conv1.weight']!.data as Float32Array)[0] = NaN;
    fs.writeFileSync(ckpt(modelDir, 2), encodeSafetensors(st.tensors, st.metadata));
    const save = await squeezeAsync('save', '--model_dir', modelDir);
    assert.equal(save.status, 0, save.stderr);
    assert.match(save.stderr, /^skipping .*model\.ckpt-000002\.safetensors: tensor 'conv1\.weight' holds NaN at index 0 \(poisoned\)/m);
    assert.equal(readExport(modelDir).meta.step, 1);
    const r = await squeezeAsync(...trainFlags(modelDir, ['--checkpoint_interval', '1', '--keep_last_n_checkpoints', '2', '--max_train_steps', '3']));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.errorLines.filter((l) => l.startsWith('skipping ')).length, 1, r.stderr);
    assert.match(r.stderr, /Resuming from .*model\.ckpt-000001\.safetensors at step 1\./);
    for (const step of [2, 3]) assert.equal(readCheckpoint(ckpt(modelDir, step)).meta.globalStep, step, 'rewritten with finite values');
  });

  it('predict prints no label it did not compute: non-finite scores and a labels.txt of the wrong length are one error line', async () => {
    const image = path.join(dataDir, 'cifar10_images', 'test', 'cat', '0001.png');
    const huge = copyOf('huge-weights');
    const weights = path.join(huge, EXPORT_DIR, EXPORT_WEIGHTS);
    const st = readSafetensors(weights);
    for (const name of ['conv10.weight', 'conv10.bias']) (st.tensors[name]!.data as Float32Array).fill(3e38);
    fs.writeFileSync(weights, encodeSafetensors(st.tensors, st.metadata));
    for (const json of [[], ['--json']]) {
      const r = await squeezeAsync('predict', '--model_dir', huge, '--image', image, ...json);
      assert.match(failureLine(r, 'predict'), /0001\.png: the model in .*huge-weights\/models computed non-finite scores \((NaN|-?Infinity)\); rerun 'squeeze save' from a good checkpoint$/);
      assert.equal(r.stdout, '', 'no prediction printed');
    }
    const fiveLabels = copyOf('five-labels');
    fs.writeFileSync(path.join(fiveLabels, EXPORT_DIR, EXPORT_LABELS), '0:a\n1:b\n2:c\n3:d\n4:e\n');
    const r = await squeezeAsync('predict', '--model_dir', fiveLabels, '--image', image);
    assert.match(failureLine(r, 'predict'), /models\/labels\.txt: 5 labels for a model of 10 classes; rerun 'squeeze save'$/);
    assert.equal(r.stdout, '');
  });

  it('a hand-edited checkpoint (step 1e9, a missing tensor, a wrong shape) is one line from train and save, not "already complete" or a stack', async () => {
    const edits: Array<[string, (t: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>, meta: Record<string, unknown>) => void, RegExp, RegExp]> = [
      ['step', (_t, meta) => { meta['globalStep'] = 1e9; }, /checkpoint metadata is corrupt \(step 1000000000, optimizer step 2\)/, /checkpoint metadata is corrupt/],
      ['missing', (t) => { delete t['fire3.squeeze.weight']; }, /tensor 'fire3\.squeeze\.weight' is missing/, /cannot be exported: tensor 'fire3\.squeeze\.weight' is missing/],
      ['shape', (t) => { t['conv10.bias'] = { dtype: 'F32', shape: [11], data: new Float32Array(11) }; }, /tensor 'conv10\.bias' has shape \[11\], the model needs \[10\]/, /cannot be exported: tensor 'conv10\.bias' has shape \[11\]/],
    ];
    for (const [name, edit, trainMention, saveMention] of edits) {
      const modelDir = copyOf(`edited-${name}`);
      fs.rmSync(ckpt(modelDir, 1));
      const st = readSafetensors(ckpt(modelDir, 2));
      const meta = JSON.parse(st.metadata['squeeze']!) as Record<string, unknown>;
      const tensors = st.tensors as Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>;
      edit(tensors, meta);
      fs.writeFileSync(ckpt(modelDir, 2), encodeSafetensors(tensors, { squeeze: JSON.stringify(meta) }));
      const before = hashTree(modelDir);
      assert.match(failureLine(await squeezeAsync(...trainFlags(modelDir, ['--max_train_steps', '5'])), 'train'), trainMention);
      assert.match(failureLine(await squeezeAsync('save', '--model_dir', modelDir), 'save'), saveMention);
      assert.equal(hashTree(modelDir), before, name);
    }
  });

  it('--model_dir that is a file, a read-only file system, a full disk: one line naming the path', async () => {
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, 'x');
    for (const args of [trainFlags(file, ['--max_train_steps', '1']), ['clean', '--model_dir', file]]) {
      assert.match(failureLine(await squeezeAsync(...args), args[0]!), /a-file: is a file, not a folder; pass a folder as --model_dir$/);
    }
    assert.match(failureLine(await squeezeAsync('setup', '--data_dir', file, '--no_download'), 'setup'), /a-file: is a file, not a folder; pass a folder as --data_dir$/);
    const ro = path.join(root, 'ro');
    if (!mountTmpfs(ro, 'ro,size=1m')) return; // mounting needs root; the cases above still ran
    try {
      assert.match(failureLine(await squeezeAsync(...trainFlags(path.join(ro, 'model'), ['--max_train_steps', '1'])), 'train'), /ro\/model: cannot be written \(read-only file system, E(ROFS|NOENT)\); pass a writable folder as --model_dir$/);
    } finally {
      execFileSync('umount', [ro]);
    }
    const full = path.join(root, 'full');
    assert.ok(mountTmpfs(full, 'size=1m'));
    try {
      const r = await squeezeAsync(...trainFlags(full, ['--checkpoint_interval', '1', '--max_train_steps', '2']));
      assert.match(failureLine(r, 'train'), /full\/checkpoints\/model\.ckpt-000001\.safetensors: no space left on device; free some space and run the command again \(ENOSPC\)$/);
      assert.deepEqual(fs.readdirSync(path.join(full, CHECKPOINT_DIR)), [], 'no partial checkpoint is left');
    } finally {
      execFileSync('umount', [full]);
    }
  });

  it('a failed setup keeps the prepared set: setup --dataset fashion-mnist --from <bad labels>, then train still trains', async () => {
    const data = path.join(root, 'fashion-data');
    const ok = await squeezeAsync('setup', '--dataset', 'fashion-mnist', '--data_dir', data, '--limit', '40');
    assert.equal(ok.status, 0, ok.stderr);
    const bad = path.join(root, 'bad-fashion');
    fs.cpSync('/usr/share/datasets/fashion-mnist', bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'train-labels-idx1-ubyte.gz'), 'not gzip at all');
    const before = hashTree(data);
    const r = await squeezeAsync('setup', '--dataset', 'fashion-mnist', '--data_dir', data, '--from', bad, '--limit', '20');
    assert.match(failureLine(r, 'setup'), /bad-fashion\/train-labels-idx1-ubyte\.gz: (cannot be read or decompressed|not an idx1 file)/);
    assert.equal(hashTree(data), before);
    const fashionModel = path.join(root, 'fashion-model');
    const t = await squeezeAsync(...trainFlags(fashionModel, ['--max_train_steps', '1'], data));
    assert.equal(t.status, 0, t.stderr);
    // The Fashion-MNIST checkpoint does not resume on CIFAR-10 data.
    const other = await squeezeAsync(...trainFlags(fashionModel, ['--max_train_steps', '5']));
    assert.match(failureLine(other, 'train'), /model\.ckpt-000001\.safetensors: trained on fashion-mnist \(40 training images, fingerprint [0-9a-f]{16}\), but .* holds cifar10 \(40 training images, fingerprint [0-9a-f]{16}\); pass --allow_dataset_change/);
  });

  it('clean never follows a symbolic link out of --model_dir', () => {
    const modelDir = copyOf('linked');
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'events.out.tfevents.1.keep'), 'not the model\'s');
    fs.mkdirSync(path.join(outside, 'models'));
    fs.renameSync(path.join(modelDir, 'eval'), path.join(root, 'eval-moved'));
    fs.symlinkSync(outside, path.join(modelDir, 'eval'));
    fs.rmSync(path.join(modelDir, 'models'), { recursive: true });
    fs.symlinkSync(path.join(outside, 'models'), path.join(modelDir, 'models'));
    const before = hashTree(outside);
    const { removed, keptLinks } = cleanModelDir(modelDir);
    assert.equal(hashTree(outside), before, 'nothing outside was touched');
    assert.deepEqual(keptLinks.sort(), [path.join(modelDir, 'eval'), path.join(modelDir, 'models')]);
    assert.ok(removed.includes(`${path.join(modelDir, CHECKPOINT_DIR)}/`));
    assert.ok(!fs.existsSync(path.join(modelDir, CHECKPOINT_DIR)));
  });
});
