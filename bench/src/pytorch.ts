import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Timing } from './measure.js';

/** PyTorch's SqueezeNet-for-CIFAR step (bench/pytorch/squeezenet_step.py): the baseline the bench times beside its own steps. */
export const PYTORCH_SCRIPT = fileURLToPath(new URL('../pytorch/squeezenet_step.py', import.meta.url));

/** The Pythons tried, in order: the one on PATH, then Debian's (where its python3-torch lives). */
export const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3'] as const;

/** CPU threads PyTorch may use: the cores of the machine the bench's reference figures came from. */
export const PYTORCH_THREADS = 2;

/**
 * OpenMP's wait policy for PyTorch's threads: PASSIVE unless set. With libgomp's spinning default,
 * PyTorch's steps slow several-fold whenever other processes share the cores (bench/README.md),
 * which would flatter our ratio.
 */
export function ompWaitPolicy(): string {
  return process.env['OMP_WAIT_POLICY'] || 'PASSIVE';
}

/** PyTorch's timed steps, or why there are none. */
export type PyTorchRow =
  | (Timing & {
    available: true;
    python: string;
    torchVersion: string;
    threads: number;
    /** OMP_WAIT_POLICY it ran under. */
    ompWaitPolicy: string;
    /** trainable scalars of PyTorch's model. */
    parameters: number;
    /** trainable scalars of ours (equal when both build the same network). */
    ourParameters: number;
    /** our best layout's median step ÷ PyTorch's median step. */
    ratio: number;
    /** the layout of that median. */
    bestLayout: string;
  })
  | { available: false; reason: string };

/** The first Python of PYTHON_CANDIDATES that imports torch, or why none does. */
export function findTorchPython(): { python: string } | { reason: string } {
  const tried: string[] = [];
  for (const python of PYTHON_CANDIDATES) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) return { python };
    const why = r.error ? r.error.message : (r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`);
    tried.push(`${python}: ${why}`);
  }
  return { reason: `no Python with torch (${tried.join('; ')})` };
}

/**
 * A running PyTorch training loop that times one step per request, so the bench can take turns
 * between its own steps and PyTorch's in one run.
 */
export class PyTorchStep {
  private readonly lines: AsyncIterator<string>;
  private constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly reader: Interface, readonly python: string, readonly torchVersion: string) {
    this.lines = reader[Symbol.asyncIterator]();
  }

  /** Starts the script under `python` at `batchSize`; throws with its stderr if it does not come up. */
  static async start(python: string, batchSize: number): Promise<PyTorchStep> {
    const child = spawn(python, [PYTORCH_SCRIPT, '--batch_size', String(batchSize), '--threads', String(PYTORCH_THREADS)], {
      env: { ...process.env, OMP_WAIT_POLICY: ompWaitPolicy() },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const reader = createInterface({ input: child.stdout });
    const first = await reader[Symbol.asyncIterator]().next();
    if (first.done || !String(first.value).startsWith('ready')) {
      child.kill();
      throw new Error(`${PYTORCH_SCRIPT} did not start: ${stderr.trim().split('\n').at(-1) ?? 'no output'}`);
    }
    return new PyTorchStep(child, reader, python, String(first.value).slice('ready '.length).trim());
  }

  private async ask(request: string): Promise<number> {
    this.child.stdin.write(`${request}\n`);
    const r = await this.lines.next();
    const value = r.done ? NaN : Number(r.value);
    if (!Number.isFinite(value)) throw new Error(`${PYTORCH_SCRIPT}: no answer to '${request}' (${r.done ? 'exited' : r.value})`);
    return value;
  }

  /** One training step (forward, loss, backward, Adam); its wall-clock ms as PyTorch measured it. */
  step(): Promise<number> { return this.ask('step'); }

  /** Trainable scalars of PyTorch's model. */
  parameters(): Promise<number> { return this.ask('params'); }

  close(): void {
    this.child.stdin.end('quit\n');
    this.reader.close();
  }
}
