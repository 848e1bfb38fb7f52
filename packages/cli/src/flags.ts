/**
 * The flag layer: every command declares its flags once (name, type, default, help, limits) and
 * gets parsing, validation and `--help` text from that one declaration.
 *
 * Names are snake_case as in TensorFlow's SqueezeNet sample (`--batch_size`); the kebab-case
 * spelling (`--batch-size`) is accepted too. Values come as `--flag value` or `--flag=value`;
 * a boolean flag is set by `--flag` alone or `--flag=true|false`.
 */

interface FlagCommon {
  help: string;
  /** Shown as the default in help when the default is worked out at run time (e.g. '<model_dir>/plots'). */
  defaultHelp?: string;
  /** Parsing fails when a flag without a default is required and not given. */
  required?: boolean;
}

export interface IntFlag extends FlagCommon { type: 'int'; default?: number; min?: number; max?: number }
export interface FloatFlag extends FlagCommon {
  type: 'float';
  default?: number;
  min?: number;
  /** true: the value must be strictly greater than `min` (a learning rate of 0 is no use). */
  exclusiveMin?: boolean;
}
export interface StringFlag extends FlagCommon { type: 'string'; default?: string; /** Placeholder in help, e.g. PATH. */ metavar?: string }
export interface EnumFlag<C extends string = string> extends FlagCommon { type: 'enum'; choices: readonly C[]; default?: C }
export interface BoolFlag extends Omit<FlagCommon, 'required'> { type: 'bool'; default?: boolean }

export type FlagSpec = IntFlag | FloatFlag | StringFlag | EnumFlag | BoolFlag;
export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<F extends FlagSpec> =
  F extends BoolFlag ? boolean :
  F extends EnumFlag<infer C> ? C :
  F extends IntFlag | FloatFlag ? number :
  string;

type Known<F extends FlagSpec> = F extends BoolFlag ? true : F extends { default: unknown } | { required: true } ? true : false;

/** Parsed values, keyed by the declared snake_case names; flags with neither default nor `required` may be undefined. */
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: Known<S[K]> extends true ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

/** A command: what `squeeze <name>` does. `run` may return an exit code (default 0). */
export interface Command<S extends FlagSpecs = FlagSpecs> {
  name: string;
  /** One line, shown in `squeeze --help`. */
  summary: string;
  /** Further paragraphs for `squeeze <name> --help`. */
  description?: string;
  flags: S;
  run(flags: FlagValues<S>): Promise<number | void> | number | void;
}

/** Declares a command with its flag types inferred (enum choices stay literal unions). */
export function defineCommand<const S extends FlagSpecs>(command: Command<S>): Command<S> {
  return command;
}

/** A problem with the command line; the CLI prints `squeeze <cmd>: <message>; see 'squeeze <cmd> --help'` and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type ParseResult<S extends FlagSpecs> = { help: true } | { help: false; values: FlagValues<S> };

const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];

function parseValue(name: string, spec: FlagSpec, text: string): string | number | boolean {
  const flag = `--${name}`;
  switch (spec.type) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
        throw new UsageError(`${flag} must be an integer, got '${text}'`);
      }
      const value = Number(text);
      if (spec.min !== undefined && value < spec.min) throw new UsageError(`${flag} must be at least ${spec.min}, got ${value}`);
      if (spec.max !== undefined && value > spec.max) throw new UsageError(`${flag} must be at most ${spec.max}, got ${value}`);
      return value;
    }
    case 'float': {
      const value = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(value)) throw new UsageError(`${flag} must be a number, got '${text}'`);
      if (spec.min !== undefined && (spec.exclusiveMin ? value <= spec.min : value < spec.min)) {
        throw new UsageError(`${flag} must be ${spec.exclusiveMin ? 'greater than' : 'at least'} ${spec.min}, got ${value}`);
      }
      return value;
    }
    case 'enum': {
      // Case-insensitive (nhwc = NHWC); the declared spelling is what the command receives.
      const choice = spec.choices.find((c) => c.toLowerCase() === text.toLowerCase());
      if (choice === undefined) throw new UsageError(`${flag} must be one of ${spec.choices.join('|')}, got '${text}'`);
      return choice;
    }
    case 'bool': {
      if (TRUE_WORDS.includes(text.toLowerCase())) return true;
      if (FALSE_WORDS.includes(text.toLowerCase())) return false;
      throw new UsageError(`${flag} must be true or false, got '${text}'`);
    }
    case 'string':
      if (text === '') throw new UsageError(`${flag} needs a non-empty value`);
      return text;
  }
}

/** `--batch-size` and `--batch_size` both name the flag `batch_size`. */
function canonicalName(raw: string): string {
  return raw.replace(/-/g, '_');
}

/** A following argument is taken as the value unless it looks like another flag (negative numbers are values). */
function looksLikeFlag(arg: string): boolean {
  return arg.startsWith('-') && !/^-\d|^-\.\d/.test(arg);
}

/**
 * Parses `argv` (the arguments after the command name) against `specs`. Throws UsageError for an
 * unknown flag, a missing or bad value, a missing required flag or a stray argument.
 */
export function parseFlags<S extends FlagSpecs>(specs: S, argv: readonly string[]): ParseResult<S> {
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  const given = new Map<string, string | number | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') throw new UsageError(`unexpected argument '${arg}' (flags start with --)`);
    const eq = arg.indexOf('=');
    const name = canonicalName(arg.slice(2, eq < 0 ? undefined : eq));
    // Own properties only: `--constructor` or `--__proto__` must not find Object.prototype's members.
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (spec === undefined) throw new UsageError(`unknown flag ${eq < 0 ? arg : arg.slice(0, eq)}`);
    let text: string;
    if (eq >= 0) {
      text = arg.slice(eq + 1);
    } else if (spec.type === 'bool') {
      text = 'true';
    } else {
      const next = argv[i + 1];
      if (next === undefined || looksLikeFlag(next)) throw new UsageError(`--${name} needs a value`);
      text = next;
      i++;
    }
    given.set(name, parseValue(name, spec, text));
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = given.has(name) ? given.get(name) : spec.type === 'bool' ? (spec.default ?? false) : spec.default;
    if (value === undefined && spec.type !== 'bool' && spec.required) throw new UsageError(`--${name} is required`);
    values[name] = value;
  }
  return { help: false, values: values as FlagValues<S> };
}

function metavar(spec: FlagSpec): string {
  switch (spec.type) {
    case 'int': return 'INT';
    case 'float': return 'FLOAT';
    case 'enum': return spec.choices.join('|');
    case 'string': return spec.metavar ?? 'STRING';
    case 'bool': return '';
  }
}

function defaultText(spec: FlagSpec): string {
  if (spec.type !== 'bool' && spec.required) return 'required';
  if (spec.defaultHelp !== undefined) return `default: ${spec.defaultHelp}`;
  if (spec.default === undefined) return spec.type === 'bool' ? 'default: false' : 'optional';
  return `default: ${String(spec.default)}`;
}

/** The `squeeze <cmd> --help` text: usage, description and every flag with its default. */
export function helpText(command: Command<FlagSpecs>): string {
  const rows = Object.entries(command.flags).map(([name, spec]) => {
    const mv = metavar(spec);
    return { left: `--${name}${mv ? ` ${mv}` : ''}`, spec };
  });
  const width = Math.min(40, Math.max(...rows.map((r) => r.left.length), 0) + 2);
  const lines = [`Usage: squeeze ${command.name} [flags]`, '', command.summary];
  if (command.description) lines.push('', command.description);
  lines.push('', 'Flags:');
  for (const { left, spec } of rows) {
    const pad = left.length + 2 > width ? `\n  ${' '.repeat(width)}` : ' '.repeat(width - left.length);
    lines.push(`  ${left}${pad}${spec.help} (${defaultText(spec)})`);
  }
  lines.push(`  ${'-h, --help'.padEnd(width)}Show this help`);
  lines.push('', "Flags are snake_case (--batch_size) or kebab-case (--batch-size); values as '--flag value' or '--flag=value'.");
  return `${lines.join('\n')}\n`;
}
