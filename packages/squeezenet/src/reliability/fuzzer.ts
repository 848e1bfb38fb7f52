import { hash32, mulberry32 } from '../data/prng.js';

/**
 * Seeded fuzzing for the parsers. Every case draws from its own generator, seeded from the run's
 * seed and the case number, so one failing case can be replayed on its own. The run's seed is
 * fixed per target (reproducible CI); set SQUEEZE_FUZZ_SEED to explore other inputs.
 */

export class Fuzzer {
  private readonly random: () => number;

  constructor(readonly seed: number) {
    this.random = mulberry32(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.random();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(length: number): Uint8Array {
    return Uint8Array.from({ length }, () => this.int(256));
  }

  /** Boundary values that break careless arithmetic and type checks, as JSON-able values. */
  weirdValue(): unknown {
    return this.pick<unknown>([
      -1, 0, 1, 2.5, -0.5, 1e300, -1e300, 2 ** 32, 2 ** 53, 'NCHW', 'x', '', null, true, false, [], {}, [1, 2], ['a'], { a: 1 },
      new Array(40).fill(7),
    ]);
  }

  /**
   * A few random edits of `input`: bit flips, byte overwrites with boundary values, truncation,
   * extension, a deleted or duplicated slice. Never returns `input` itself.
   */
  mutate(input: Uint8Array, edits = 1 + this.int(4)): Uint8Array {
    let out: Uint8Array = Uint8Array.from(input);
    for (let e = 0; e < edits; e++) {
      const at = this.int(Math.max(1, out.length));
      switch (this.int(6)) {
        case 0:
          if (out.length > 0) out[at] = out[at]! ^ (1 << this.int(8));
          break;
        case 1:
          if (out.length > 0) out[at] = this.pick([0, 1, 0x7f, 0x80, 0xff]);
          break;
        case 2:
          out = out.slice(0, this.int(out.length + 1));
          break;
        case 3:
          out = concat(out, this.bytes(1 + this.int(64)));
          break;
        case 4:
          out = concat(out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + this.int(32))));
          break;
        default:
          out = concat(out.subarray(0, at), out.subarray(at, at + 1 + this.int(32)), out.subarray(at));
      }
    }
    return out;
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * The run's seed: SQUEEZE_FUZZ_SEED when set, else `fallback` (one fixed seed per target).
 * SQUEEZE_FUZZ_CASE=<n> runs case n alone (its tally checks then fail, as one case proves little).
 */
export function fuzzSeed(fallback: number): number {
  const text = process.env['SQUEEZE_FUZZ_SEED'];
  if (text === undefined || text === '') return fallback;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`SQUEEZE_FUZZ_SEED must be an integer, got '${text}'`);
  return seed;
}

type ErrorClass = abstract new (...args: never[]) => Error;

export interface FuzzOptions {
  seed: number;
  iterations: number;
  /** The documented error classes; anything else thrown fails the run. */
  allowed: readonly ErrorClass[];
  /** One case taking longer than this counts as a hang. */
  caseTimeoutMs: number;
}

export interface FuzzTally {
  accepted: number;
  rejected: number;
}

/**
 * Runs `iterations` cases. A case may return normally (input accepted) or throw an allowed error
 * (input rejected); anything else, a promise that does not settle within `caseTimeoutMs`, or a
 * synchronous case that takes that long, fails with the seed and case number needed to replay it.
 */
export async function fuzz(
  target: string,
  options: FuzzOptions,
  runCase: (f: Fuzzer, iteration: number) => void | Promise<void>,
): Promise<FuzzTally> {
  const tally: FuzzTally = { accepted: 0, rejected: 0 };
  const only = process.env['SQUEEZE_FUZZ_CASE'];
  for (let i = 0; i < options.iterations; i++) {
    if (only !== undefined && only !== '' && Number(only) !== i) continue;
    const replay = `${target}: case ${i} of seed ${options.seed} (replay with SQUEEZE_FUZZ_SEED=${options.seed} SQUEEZE_FUZZ_CASE=${i})`;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = runCase(new Fuzzer(hash32(options.seed, i)), i);
      if (outcome instanceof Promise) {
        const hang = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new HangError(`did not settle within ${options.caseTimeoutMs} ms`)), options.caseTimeoutMs);
        });
        await Promise.race([outcome, hang]);
      }
      tally.accepted++;
    } catch (error) {
      if (error instanceof HangError || !options.allowed.some((c) => error instanceof c)) {
        throw new Error(`${replay} threw ${error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error)}`);
      }
      tally.rejected++;
    } finally {
      clearTimeout(timer);
    }
    const elapsed = performance.now() - started;
    if (elapsed > options.caseTimeoutMs) throw new Error(`${replay} took ${elapsed.toFixed(0)} ms (limit ${options.caseTimeoutMs} ms)`);
  }
  return tally;
}

class HangError extends Error {
  override name = 'HangError';
}
