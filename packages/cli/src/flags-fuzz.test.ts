import assert from 'node:assert/strict';
import { Random } from '@squeeze/core';
import { COMMANDS } from './commands/index.js';
import { parseFlags, UsageError, type FlagSpec } from './flags.js';

/** Seeded so that a failing command line can be replayed (SQUEEZE_FUZZ_SEED). */
const SEED = Number(process.env['SQUEEZE_FUZZ_SEED'] ?? 0x5eed);

describe('reliability: the flag parser under random command lines', () => {
  it('fuzz: random command lines only ever give a UsageError, and accepted values respect their flags', () => {
    const rng = new Random(SEED);
    const random = (): number => rng.next();
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const values = ['0', '1', '-1', '+5', ' 7 ', '1.5', '1e3', '0x10', 'NaN', 'Infinity', '-0', '', ' ', '9007199254740993', 'nchw', 'NHWC',
      'true', 'no', 'cifar10', 'fashion-mnist', 'both', '--', '-', '-h', 'caf\u00e9', '\0', '../x', '=', '1=2'];
    // Not flags of any command: a command line using one of them as a flag must be rejected.
    const junkNames = ['', '-', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'batch size', 'BATCH_SIZE'];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const command = pick(COMMANDS);
      const names = [...Object.keys(command.flags), ...Object.keys(command.flags).map((n) => n.replace(/_/g, '-')), ...junkNames];
      const argv: string[] = [];
      let unknownFlag = false;
      for (let n = Math.floor(random() * 5); n > 0; n--) {
        const name = pick(names);
        const r = random();
        if (r < 0.85) unknownFlag ||= junkNames.includes(name);
        if (r < 0.4) argv.push(`--${name}`, pick(values));
        else if (r < 0.7) argv.push(`--${name}=${pick(values)}`);
        else if (r < 0.85) argv.push(`--${name}`);
        else argv.push(pick(values));
      }
      try {
        const parsed = parseFlags(command.flags, argv);
        accepted++;
        if (parsed.help) continue;
        assert.ok(!unknownFlag, `case ${i} (seed ${SEED}): squeeze ${command.name} ${JSON.stringify(argv)} was accepted with an unknown flag`);
        for (const [name, spec] of Object.entries(command.flags)) assertValueFits(name, spec as FlagSpec, (parsed.values as Record<string, unknown>)[name]);
        assert.deepEqual(Object.keys(parsed.values).sort(), Object.keys(command.flags).sort());
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error;
        if (!(error instanceof UsageError)) {
          throw new Error(`case ${i} (seed ${SEED}): squeeze ${command.name} ${JSON.stringify(argv)} threw ${(error as Error).stack}`);
        }
        assert.doesNotMatch(error.message, /\n/, 'usage errors are one line');
      }
    }
    assert.ok(accepted > 1000, `${accepted} accepted`);
  });
});

function assertValueFits(name: string, spec: FlagSpec, value: unknown): void {
  if (value === undefined) {
    assert.ok(spec.type !== 'bool' && !spec.required && spec.default === undefined, `--${name} missing`);
    return;
  }
  switch (spec.type) {
    case 'int':
      assert.ok(Number.isSafeInteger(value), `--${name}=${String(value)}`);
      assert.ok((spec.min === undefined || (value as number) >= spec.min) && (spec.max === undefined || (value as number) <= spec.max), `--${name}=${String(value)} out of range`);
      break;
    case 'float':
      assert.ok(Number.isFinite(value), `--${name}=${String(value)}`);
      if (spec.min !== undefined) assert.ok(spec.exclusiveMin ? (value as number) > spec.min : (value as number) >= spec.min, `--${name}=${String(value)} out of range`);
      break;
    case 'enum':
      assert.ok(spec.choices.includes(value as string), `--${name}=${String(value)}`);
      break;
    case 'bool':
      assert.equal(typeof value, 'boolean');
      break;
    case 'string':
      assert.ok(typeof value === 'string' && value !== '', `--${name}`);
  }
}
