import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getRuntime } from '@squeeze/core';
import { decodeImageFile, EventWriter, makeCifarFixture } from '@squeeze/squeezenet';
import { COMMANDS } from './commands/index.js';
import { CLI_RUN_MS, makeTempDir, squeeze, squeezeWithEnv } from './test-helpers.js';

/** A usage error: exit code 2 and exactly one line naming the problem and pointing at the help. */
function assertUsageError(command: string, args: string[], mention: RegExp): void {
  const result = squeeze(command, ...args);
  assert.equal(result.status, 2, `squeeze ${command} ${args.join(' ')}: exit code\n${result.stderr}`);
  assert.equal(result.errorLines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(result.errorLines[0]!, new RegExp(`^squeeze ${command}: .*; see 'squeeze ${command} --help'$`));
  assert.match(result.errorLines[0]!, mention);
}

describe('squeeze CLI', function () {
  // A test makes up to a few CLI runs, each allowed CLI_RUN_MS.
  this.timeout(4 * CLI_RUN_MS);
  describe('help and usage errors', () => {
    it('lists the commands and prints the version', () => {
      const help = squeeze('--help');
      assert.equal(help.status, 0);
      const lines = help.stdout.split('\n');
      for (const command of COMMANDS) {
        assert.ok(lines.some((l) => l.startsWith(`  ${command.name} `) && l.endsWith(command.summary)), `${command.name} in\n${help.stdout}`);
      }
      const version = squeeze('--version');
      assert.equal(version.status, 0);
      assert.match(version.stdout, /^squeeze \d+\.\d+\.\d+\n$/);
    });

    it('--help of every command lists all its flags with their defaults', () => {
      for (const command of COMMANDS) {
        const result = squeeze(command.name, '--help');
        assert.equal(result.status, 0, `${command.name} --help`);
        for (const [name, spec] of Object.entries(command.flags)) {
          const line = result.stdout.split('\n').find((l) => l.startsWith(`  --${name} `) || l === `  --${name}`);
          assert.ok(line, `${command.name} --help lists --${name}`);
          const expected =
            spec.defaultHelp !== undefined ? `(default: ${spec.defaultHelp})` :
            spec.default !== undefined ? `(default: ${spec.default})` :
            spec.type === 'bool' ? '(default: false)' :
            spec.required ? '(required)' : '(optional)';
          assert.ok(result.stdout.includes(expected), `${command.name} --${name}: '${expected}' in\n${result.stdout}`);
        }
      }
    });

    it('shows the TensorFlow sample defaults for train', () => {
      const { stdout } = squeeze('train', '-h');
      for (const [flag, value] of [
        ['batch_size', '32'], ['data_format', 'NCHW'], ['max_train_steps', '1801'], ['learning_rate', '0.001'],
        ['summary_interval', '1'], ['checkpoint_interval', '100'], ['validation_interval', '100'],
        ['keep_last_n_checkpoints', '3'], ['seed', '1337'], ['model_dir', 'data'], ['data_dir', 'data'],
      ] as const) {
        assert.match(stdout, new RegExp(`--${flag} .*\\(default: ${value}\\)`), flag);
      }
      assert.match(stdout, /full permutation per epoch/);
    });

    it('rejects unknown flags and bad values with exit code 2, naming the flag', () => {
      assertUsageError('train', ['--bogus', '1'], /unknown flag --bogus/);
      assertUsageError('train', ['--batch_size', '0'], /--batch_size must be at least 1/);
      assertUsageError('train', ['--batch-size=many'], /--batch_size must be an integer/);
      assertUsageError('train', ['--data_format', 'NCWH'], /--data_format must be one of NCHW\|NHWC/);
      assertUsageError('train', ['--checkpoint_interval', '0'], /--checkpoint_interval must be at least 1/);
      assertUsageError('train', ['--learning_rate'], /--learning_rate needs a value/);
      assertUsageError('predict', [], /--image is required/);
      assertUsageError('bench', ['--layout', 'NWHC'], /--layout must be one of both\|NCHW\|NHWC/);
      assertUsageError('setup', ['--dataset', 'mnist'], /--dataset must be one of cifar10\|fashion-mnist/);
    });

    it('rejects an unknown command', () => {
      const result = squeeze('trian');
      assert.equal(result.status, 2);
      assert.deepEqual(result.errorLines, ["squeeze: unknown command 'trian'; see 'squeeze --help'"]);
    });
  });

  describe('doctor', () => {
    it('describes the adapter and passes its compute check', () => {
      const result = squeeze('doctor');
      assert.equal(result.status, 0, result.stderr);
      // The adapter this test process opened (llvmpipe here; the same tests run on a hardware GPU).
      const d = getRuntime().description;
      assert.ok(result.stdout.includes(`Adapter:      ${d.description || d.device}\n`), result.stdout);
      assert.match(result.stdout, d.software ? /^ {2}backend \w+, software \(runs on the CPU\)$/m : /^ {2}backend \w+, hardware$/m);
      assert.match(result.stdout, /^webgpu: +\d+\.\d+\.\d+/m);
      const subgroups = d.subgroupSize > 0 ? `${d.subgroupSize} lanes (fixed size)` : d.features.includes('subgroups') ? 'size varies' : 'none';
      assert.ok(result.stdout.includes(`Subgroups:    ${subgroups}`), result.stdout);
      assert.match(result.stdout, /^OK +compute shaders run and agree with the CPU/m);
    });

    it('--default_limits opens the device with WebGPU\'s default limits and passes its compute check there', () => {
      const result = squeeze('doctor', '--default_limits');
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^ {2}maxStorageBuffersPerShaderStage +8 {2}\(8\)$/m);
      assert.match(result.stdout, /^OK +compute shaders run and agree with the CPU/m);
    });

    it('fails with one line naming an adapter that does not exist', () => {
      const result = squeeze('doctor', '--adapter', 'nonexistent');
      assert.notEqual(result.status, 0);
      assert.equal(result.errorLines.length, 1, result.stderr);
      const d = getRuntime().description;
      assert.match(result.errorLines[0]!, /^squeeze doctor: No WebGPU adapter matches 'nonexistent' \(from --adapter\); available: '.+'\.$/);
      assert.ok(result.errorLines[0]!.includes(`'${d.description || d.device || d.vendor}'`), result.errorLines[0]);
    });
  });

  describe('setup and clean', () => {
    let root: string;
    before(() => { root = makeTempDir('setup'); });
    after(() => rmSync(root, { recursive: true, force: true }));

    it('prepares the dataset from an archive, then clean removes model files only', async () => {
      const archive = await makeCifarFixture(join(root, 'source'), { trainPerClass: 5, testPerClass: 2 });
      const dataDir = join(root, 'data');
      const setup = squeeze('setup', '--data-dir', dataDir, '--from', archive, '--no_download');
      assert.equal(setup.status, 0, setup.stderr);
      assert.match(setup.stdout, /prepared in .*: 50 training and 20 test images/);
      const datasetEntries = readdirSync(dataDir).sort();
      assert.deepEqual(datasetEntries, ['cifar10', 'cifar10_images', 'labels.txt']);

      const again = squeeze('setup', `--data_dir=${dataDir}`, '--from', archive);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /already prepared/);

      // What training, tracing, plotting and exporting leave next to the dataset.
      const modelFiles = [
        'checkpoints/ckpt-100.safetensors', 'checkpoints/ckpt-200.safetensors', 'events.out.tfevents.1700000000.host',
        'eval/events.out.tfevents.1700000001.host', 'cifar_trace_20240101.json', 'models/squeezenet.onnx', 'plots/loss.png',
      ];
      for (const file of modelFiles) {
        mkdirSync(join(dataDir, file, '..'), { recursive: true });
        writeFileSync(join(dataDir, file), 'model output');
      }
      writeFileSync(join(dataDir, 'cifar-10-binary.tar.gz'), 'a downloaded archive');
      writeFileSync(join(dataDir, 'notes.txt'), 'the user’s own file');

      const clean = squeeze('clean', '--model-dir', dataDir);
      assert.equal(clean.status, 0, clean.stderr);
      const removed = clean.stdout.trim().split('\n').map((line) => line.replace(/^removed /, '').slice(dataDir.length + 1)).sort();
      assert.deepEqual(removed, [
        'checkpoints/', 'cifar_trace_20240101.json', 'eval/', 'eval/events.out.tfevents.1700000001.host',
        'events.out.tfevents.1700000000.host', 'models/', 'plots/',
      ]);
      assert.deepEqual(readdirSync(dataDir).sort(), ['cifar-10-binary.tar.gz', 'cifar10', 'cifar10_images', 'labels.txt', 'notes.txt']);
      assert.ok(existsSync(join(dataDir, 'cifar10', 'meta.json')));
      assert.ok(existsSync(join(dataDir, 'cifar10_images', 'train')));

      const nothing = squeeze('clean', '--model_dir', dataDir);
      assert.equal(nothing.status, 0);
      assert.match(nothing.stdout, /^Nothing to clean in /);
    });

    it('reports a missing source in one line with exit code 1', () => {
      const result = squeeze('setup', '--data_dir', join(root, 'other'), '--from', join(root, 'missing.tar.gz'));
      assert.equal(result.status, 1);
      assert.equal(result.errorLines.length, 1, result.stderr);
      assert.match(result.errorLines[0]!, /^squeeze setup: .*missing\.tar\.gz: does not exist/);
    });
  });

  describe('plot', () => {
    let root: string;
    before(() => { root = makeTempDir('plot'); });
    after(() => rmSync(root, { recursive: true, force: true }));

    it('draws accuracy and loss charts from event files', () => {
      const modelDir = join(root, 'run');
      const train = new EventWriter(modelDir);
      const evaluation = new EventWriter(join(modelDir, 'eval'));
      for (let step = 1; step <= 40; step++) {
        train.addScalar('loss', 2.3 / Math.sqrt(step), step);
        train.addScalar('accuracy', Math.min(0.9, step / 40), step);
        if (step % 10 === 0) evaluation.addScalar('accuracy', step / 50, step);
      }
      train.close();
      evaluation.close();

      const result = squeeze('plot', '--model_dir', modelDir);
      assert.equal(result.status, 0, result.stderr);
      const plots = join(modelDir, 'plots');
      assert.deepEqual(readdirSync(plots).sort(), ['accuracy.png', 'accuracy.svg', 'loss.png', 'loss.svg']);
      for (const chart of ['accuracy.png', 'loss.png']) {
        const image = decodeImageFile(join(plots, chart));
        assert.deepEqual([image.sourceWidth, image.sourceHeight], [800, 500], chart);
      }
      assert.match(result.stdout, /wrote .*accuracy\.png/);
    });

    it('draws bench results into --out', () => {
      const bench = join(root, 'bench.json');
      writeFileSync(bench, JSON.stringify({
        steps: [
          { layout: 'NCHW', batchSize: 8, medianMs: 100 }, { layout: 'NCHW', batchSize: 32, medianMs: 350 },
          { layout: 'NHWC', batchSize: 8, medianMs: 120 }, { layout: 'NHWC', batchSize: 32, medianMs: 400 },
        ],
      }));
      const out = join(root, 'charts');
      const result = squeeze('plot', '--bench', bench, '--out', out);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(readdirSync(out).sort(), ['bench_step_time.png', 'bench_step_time.svg', 'bench_throughput.png', 'bench_throughput.svg']);
      const image = decodeImageFile(join(out, 'bench_step_time.png'));
      assert.deepEqual([image.sourceWidth, image.sourceHeight], [800, 500]);
    });

    it('says so in one line when there are no event files', () => {
      const empty = join(root, 'empty');
      mkdirSync(empty);
      const result = squeeze('plot', '--model_dir', empty);
      assert.equal(result.status, 1);
      assert.equal(result.errorLines.length, 1, result.stderr);
      assert.match(result.errorLines[0]!, /^squeeze plot: .*empty: no TensorBoard event files .*squeeze train/);

      const debug = squeezeWithEnv({ SQUEEZE_DEBUG: '1' }, 'plot', '--model_dir', empty);
      assert.equal(debug.status, 1);
      assert.match(debug.stderr, /^squeeze plot: PlotError: .*\n +at /m, 'SQUEEZE_DEBUG=1 shows the stack trace');
    });
  });
});
