import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECKPOINT_DIR, makeCifarFixture } from '@squeeze/squeezenet';
import { CLI_RUN_MS, cliEnv, makeTempDir, SQUEEZE_BIN, squeezeAsync, squeezeWithEnv } from './test-helpers.js';

/**
 * The `squeeze` launcher (bin/squeeze): Dawn's native "artificially reduced" warnings are filtered
 * from stderr unless asked for, the CLI's own stderr is untouched, and the launcher adds no process
 * of its own in the signal path (a terminal's Ctrl-C and kill -9 reach the CLI itself).
 */
const DAWN_WARNING = /artificially reduced from .* to fit dynamic offset allocation limit/;

describe('squeeze launcher: quiet by default', function () {
  this.timeout(4 * CLI_RUN_MS);
  let root: string;
  const traceArgs = (): string[] => ['trace', '--steps', '1', '--batch_size', '2', '--data_dir', path.join(root, 'none'), '--out', makeTempDir('launcher-trace')];

  before(() => { root = makeTempDir('launcher'); });

  it('drops Dawn\'s limit warnings from a command that opens the device; SQUEEZE_DAWN_WARNINGS=1 and doctor show them', function () {
    const loud = squeezeWithEnv({ SQUEEZE_DAWN_WARNINGS: '1' }, ...traceArgs());
    assert.equal(loud.status, 0, loud.stderr);
    // Only adapters whose Vulkan limits Dawn reduces (lavapipe, some drivers) print them at all.
    if (!DAWN_WARNING.test(loud.stderr)) this.skip();
    const quiet = squeezeWithEnv({}, ...traceArgs());
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, DAWN_WARNING);
    assert.equal(quiet.stderr, '', 'nothing else on stderr either');
    assert.match(quiet.stdout, /cifar_trace_0\.json duration/);
    const doctor = squeezeWithEnv({}, 'doctor');
    assert.equal(doctor.status, 0, doctor.stderr);
    assert.match(doctor.stderr, DAWN_WARNING);
  });

  it('passes the CLI\'s own stderr through whole and in order, with its exit code', () => {
    const r = squeezeWithEnv({}, 'train', '--batch_size', 'many');
    assert.equal(r.status, 2);
    assert.deepEqual(r.stderr.split('\n').filter((l) => l !== ''), [r.errorLines[0]]);
    assert.match(r.stderr, /^squeeze train: .*--batch_size.*; see 'squeeze train --help'\n$/);
  });

  it('a terminal\'s Ctrl-C (SIGINT to the process group) stops train after its step with a checkpoint; the PID is the CLI\'s', async () => {
    const dataDir = path.join(root, 'data');
    const setup = await squeezeAsync('setup', '--from', await makeCifarFixture(path.join(root, 'source'), { trainPerClass: 4, testPerClass: 1 }), '--data_dir', dataDir);
    assert.equal(setup.status, 0, setup.stderr);
    const modelDir = path.join(root, 'model');
    // detached: its own process group, as a shell gives a foreground job; the terminal signals the group.
    const child = spawn(SQUEEZE_BIN, ['train', '--data_dir', dataDir, '--model_dir', modelDir, '--batch_size', '4', '--checkpoint_interval', '1000',
      '--validation_interval', '1000', '--max_train_steps', '100000'], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + CLI_RUN_MS;
    while (!/^Train Step 2 /m.test(stdout)) {
      assert.ok(Date.now() < deadline, `no training step in time:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // exec: the launcher's PID is node running the CLI, not a shell in front of it.
    const cmdline = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.some((a) => a.endsWith(path.join('dist', 'main.js'))), cmdline.join(' '));
    process.kill(-child.pid!, 'SIGINT');
    const { code } = await closed;
    assert.equal(code, 130, stderr);
    const stopped = /Stopped at step (\d+); checkpoint written to (\S+)\. Run the same command to resume\.\n$/.exec(stderr);
    assert.ok(stopped, stderr);
    assert.match(stderr, /Interrupted: finishing this step and writing a checkpoint/);
    assert.ok(fs.readdirSync(path.join(modelDir, CHECKPOINT_DIR)).length > 0);
    assert.ok(!fs.existsSync(path.join(modelDir, '.squeeze-model.lock')), 'the lock was released');
  });
});
