import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdtempSync } from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed command (bin/squeeze), so every CLI test also runs through its stderr filter. */
export const SQUEEZE_BIN = fileURLToPath(new URL('../bin/squeeze', import.meta.url));
/**
 * The longest one CLI run of the tests may take: a short training run compiles its pipelines
 * (tens of seconds on llvmpipe) and may share two cores with other work, where it has taken
 * minutes. A CLI that does not exit by itself still fails its test instead of hanging it.
 * Test timeouts are multiples of it, by the number of runs a test makes.
 */
export const CLI_RUN_MS = 300_000;

/** A line of a stack trace: a user-facing error must never print one. */
export const STACK_LINE = /^ {4}at /m;

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
  const result = spawnSync(SQUEEZE_BIN, args, {
    encoding: 'utf8',
    timeout: CLI_RUN_MS,
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

/** A `squeeze` child process whose output can be waited on line by line. */
export class Running {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child;
  private readonly waiters: Array<() => void> = [];

  constructor(args: string[]) {
    this.child = spawn(SQUEEZE_BIN, args, { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (s: string) => { this.stdout += s; this.wake(); });
    this.child.stderr.setEncoding('utf8').on('data', (s: string) => { this.stderr += s; this.wake(); });
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => { resolve({ code, signal }); this.wake(); }));
  }

  get pid(): number { return this.child.pid!; }

  signal(name: NodeJS.Signals): void { this.child.kill(name); }

  /** Resolves true once `test` holds for the output so far, false if the process exits first. */
  async until(test: (r: Running) => boolean, timeoutMs = CLI_RUN_MS): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void this.exited.then(() => { done = true; });
    while (!test(this)) {
      if (done) return test(this);
      if (Date.now() > deadline) throw new Error(`timed out waiting on squeeze; output so far:\n${this.stdout}\n${this.stderr}`);
      await new Promise<void>((resolve) => { this.waiters.push(resolve); setTimeout(resolve, 200); });
    }
    return true;
  }

  trainSteps(): number[] {
    return [...this.stdout.matchAll(/^Train Step (\d+) /gm)].map((m) => Number(m[1]));
  }

  private wake(): void { for (const w of this.waiters.splice(0)) w(); }
}

export function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: '/tmp' };
  delete env['SQUEEZE_DEBUG'];
  delete env['SQUEEZE_ADAPTER'];
  return env;
}

/** `squeeze` run to completion without blocking this process (so timers and watchers keep running). */
export async function squeezeAsync(...args: string[]): Promise<CliResult> {
  const run = new Running(args);
  const { code } = await run.exited;
  const errorLines = run.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('Warning: '));
  return { status: code, stdout: run.stdout, stderr: run.stderr, errorLines };
}

/** A digest of every file (path, size, bytes) under the folders: proves a failed command changed nothing. */
export function hashTree(...dirs: string[]): string {
  const hash = createHash('sha256');
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) { hash.update(`${dir}: absent\n`); continue; }
    for (const entry of (fs.readdirSync(dir, { recursive: true }) as string[]).sort()) {
      const full = path.join(dir, entry);
      const stat = fs.statSync(full);
      hash.update(`${entry}:${stat.isDirectory() ? 'dir' : stat.size}\n`);
      if (stat.isFile()) hash.update(fs.readFileSync(full));
    }
  }
  return hash.digest('hex');
}

