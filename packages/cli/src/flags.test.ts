import assert from 'node:assert/strict';
import { helpText, parseFlags, UsageError, type FlagSpecs } from './flags.js';

const SPECS = {
  batch_size: { type: 'int', default: 32, min: 1, help: 'Images per batch' },
  learning_rate: { type: 'float', default: 0.001, min: 0, exclusiveMin: true, help: 'Learning rate' },
  offset: { type: 'float', default: 0, help: 'Any number' },
  data_format: { type: 'enum', choices: ['NCHW', 'NHWC'], default: 'NCHW', help: 'Layout' },
  model_dir: { type: 'string', default: 'data', help: 'Where' },
  image: { type: 'string', help: 'Optional image' },
  json: { type: 'bool', help: 'JSON output' },
} as const satisfies FlagSpecs;

function usageError(pattern: RegExp) {
  return (error: unknown) => error instanceof UsageError && pattern.test(error.message);
}

describe('cli flags', () => {
  it('fills defaults when nothing is given', () => {
    const parsed = parseFlags(SPECS, []);
    assert.deepEqual(parsed, {
      help: false,
      values: { batch_size: 32, learning_rate: 0.001, offset: 0, data_format: 'NCHW', model_dir: 'data', image: undefined, json: false },
    });
  });

  it('takes --flag value, --flag=value and kebab-case spellings', () => {
    const parsed = parseFlags(SPECS, ['--batch-size', '64', '--learning_rate=0.5', '--model-dir=/tmp/m', '--data_format', 'nhwc', '--json']);
    assert.ok(!parsed.help);
    assert.equal(parsed.values.batch_size, 64);
    assert.equal(parsed.values.learning_rate, 0.5);
    assert.equal(parsed.values.model_dir, '/tmp/m');
    assert.equal(parsed.values.data_format, 'NHWC', 'enum values are matched case-insensitively and given in the declared spelling');
    assert.equal(parsed.values.json, true);
  });

  it('reads a negative number as a value, and --bool=false', () => {
    const parsed = parseFlags(SPECS, ['--offset', '-2.5', '--json=false']);
    assert.ok(!parsed.help);
    assert.equal(parsed.values.offset, -2.5);
    assert.equal(parsed.values.json, false);
  });

  it('reports --help and -h anywhere', () => {
    assert.deepEqual(parseFlags(SPECS, ['--batch_size', '3', '--help']), { help: true });
    assert.deepEqual(parseFlags(SPECS, ['-h']), { help: true });
  });

  it('rejects bad command lines, naming the flag', () => {
    assert.throws(() => parseFlags(SPECS, ['--batch_sise', '3']), usageError(/^unknown flag --batch_sise$/));
    assert.throws(() => parseFlags(SPECS, ['--batch_size']), usageError(/--batch_size needs a value/));
    assert.throws(() => parseFlags(SPECS, ['--batch_size', '--json']), usageError(/--batch_size needs a value/));
    assert.throws(() => parseFlags(SPECS, ['--batch_size', '0']), usageError(/--batch_size must be at least 1, got 0/));
    assert.throws(() => parseFlags(SPECS, ['--batch_size=2.5']), usageError(/--batch_size must be an integer, got '2.5'/));
    assert.throws(() => parseFlags(SPECS, ['--learning_rate', '0']), usageError(/--learning_rate must be greater than 0/));
    assert.throws(() => parseFlags(SPECS, ['--learning_rate', 'fast']), usageError(/--learning_rate must be a number/));
    assert.throws(() => parseFlags(SPECS, ['--data_format', 'NCWH']), usageError(/--data_format must be one of NCHW\|NHWC, got 'NCWH'/));
    assert.throws(() => parseFlags(SPECS, ['--json=maybe']), usageError(/--json must be true or false/));
    assert.throws(() => parseFlags(SPECS, ['--model_dir=']), usageError(/--model_dir needs a non-empty value/));
    assert.throws(() => parseFlags(SPECS, ['stray']), usageError(/unexpected argument 'stray'/));
  });

  it('requires required flags', () => {
    const specs = { image: { type: 'string', required: true, help: 'Image' } } as const satisfies FlagSpecs;
    assert.throws(() => parseFlags(specs, []), usageError(/--image is required/));
    assert.deepEqual(parseFlags(specs, ['--image', 'a.png']), { help: false, values: { image: 'a.png' } });
  });

  it('lists every flag with its default in the help text', () => {
    const text = helpText({ name: 'demo', summary: 'A demo.', flags: SPECS, run: () => {} });
    assert.match(text, /^Usage: squeeze demo \[flags\]/);
    assert.match(text, /--batch_size INT +Images per batch \(default: 32\)/);
    assert.match(text, /--learning_rate FLOAT +Learning rate \(default: 0\.001\)/);
    assert.match(text, /--data_format NCHW\|NHWC +Layout \(default: NCHW\)/);
    assert.match(text, /--image STRING +Optional image \(optional\)/);
    assert.match(text, /--json +JSON output \(default: false\)/);
  });
});
