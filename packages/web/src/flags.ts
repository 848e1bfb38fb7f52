import type { DataFormat } from '@squeeze/core';

/**
 * The training flags of `squeeze train` that mean something in a page, with the same names,
 * defaults and limits: they are the form's fields and the URL's query parameters
 * (`?max_train_steps=20&batch_size=8`). Paths and the adapter are the server's and the browser's.
 */
export interface TrainFlags {
  dataset: string;
  max_train_steps: number;
  batch_size: number;
  learning_rate: number;
  validation_interval: number;
  summary_interval: number;
  checkpoint_interval: number;
  data_format: DataFormat;
  seed: number;
}

type Spec =
  | { type: 'int'; default: number; min: number }
  | { type: 'float'; default: number; greaterThan: number }
  | { type: 'enum'; choices: readonly string[] | null; default: string | null };

export const FLAG_SPECS: Record<keyof TrainFlags, Spec> = {
  dataset: { type: 'enum', choices: null, default: null },
  max_train_steps: { type: 'int', default: 1801, min: 1 },
  batch_size: { type: 'int', default: 32, min: 1 },
  learning_rate: { type: 'float', default: 0.001, greaterThan: 0 },
  validation_interval: { type: 'int', default: 100, min: 1 },
  summary_interval: { type: 'int', default: 1, min: 1 },
  checkpoint_interval: { type: 'int', default: 100, min: 1 },
  data_format: { type: 'enum', choices: ['NCHW', 'NHWC'], default: 'NCHW' },
  seed: { type: 'int', default: 1337, min: 0 },
};

export const FLAG_NAMES = Object.keys(FLAG_SPECS) as (keyof TrainFlags)[];

/** A value that cannot be used; the message is one line naming the flag, as the CLI's. */
export class FlagError extends Error { override name = 'FlagError'; }

function parseOne(name: string, spec: Spec, text: string, datasets: readonly string[]): number | string {
  switch (spec.type) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) throw new FlagError(`${name} must be an integer, got '${text}'`);
      const v = Number(text);
      if (v < spec.min) throw new FlagError(`${name} must be at least ${spec.min}, got ${v}`);
      return v;
    }
    case 'float': {
      const v = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(v)) throw new FlagError(`${name} must be a number, got '${text}'`);
      if (v <= spec.greaterThan) throw new FlagError(`${name} must be greater than ${spec.greaterThan}, got ${v}`);
      return v;
    }
    case 'enum': {
      const choices = spec.choices ?? datasets;
      const choice = choices.find((c) => c.toLowerCase() === text.toLowerCase());
      if (choice === undefined) throw new FlagError(`${name} must be one of ${choices.join('|')}, got '${text}'`);
      return choice;
    }
  }
}

/**
 * Reads the flags from query parameters or form fields; what is missing takes its default.
 * `datasets` are the ones the server has prepared (the first is the default, as for `squeeze train`).
 * Throws FlagError for an unknown name or a bad value.
 */
export function parseFlags(values: Iterable<[string, string]>, datasets: readonly string[]): TrainFlags {
  const given = new Map<string, string>();
  for (const [key, value] of values) {
    const name = key.replace(/-/g, '_');
    if (!Object.hasOwn(FLAG_SPECS, name)) throw new FlagError(`unknown flag '${key}'; the page's flags are ${FLAG_NAMES.join(', ')}`);
    given.set(name, value);
  }
  const out: Record<string, number | string> = {};
  for (const name of FLAG_NAMES) {
    const spec = FLAG_SPECS[name];
    const text = given.get(name);
    if (text !== undefined && text !== '') { out[name] = parseOne(name, spec, text, datasets); continue; }
    const fallback = name === 'dataset' ? datasets[0] : spec.default;
    if (fallback === undefined || fallback === null) throw new FlagError('the server has no prepared dataset; run `squeeze setup` and restart `squeeze web`');
    out[name] = fallback;
  }
  return out as unknown as TrainFlags;
}

/** The flags as a query string that reproduces them (only those that differ from the defaults). */
export function flagsQuery(f: TrainFlags, datasets: readonly string[]): string {
  const q = new URLSearchParams();
  for (const name of FLAG_NAMES) {
    const fallback = name === 'dataset' ? datasets[0] : FLAG_SPECS[name].default;
    if (f[name] !== fallback) q.set(name, String(f[name]));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
