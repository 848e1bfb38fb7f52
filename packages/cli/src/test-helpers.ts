import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
/** Generous for llvmpipe on two shared cores; a CLI that does not exit by itself fails the test instead of hanging it. */
const CLI_TIMEOUT_MS = 90_000;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stderr without Dawn's own 'Warning: …' lines, which it prints when it opens a device. */
  errorLines: string[];
}

/** Runs the built `squeeze` CLI in a child process, as a user would. */
export function squeeze(...args: string[]): CliResult {
  return squeezeWithEnv({}, ...args);
}

/** squeeze() with extra environment variables. */
export function squeezeWithEnv(extraEnv: Record<string, string>, ...args: string[]): CliResult {
  // The user's own settings must not change what the tests see.
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: '/tmp' };
  delete env['SQUEEZE_DEBUG'];
  delete env['SQUEEZE_ADAPTER'];
  Object.assign(env, extraEnv);
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    timeout: CLI_TIMEOUT_MS,
    env,
  });
  if (result.error) throw result.error;
  if (result.signal) throw new Error(`squeeze ${args.join(' ')} did not exit by itself (killed by ${result.signal})\n${result.stderr}`);
  const errorLines = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('Warning: '));
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, errorLines };
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `squeeze-cli-${prefix}-`));
}
