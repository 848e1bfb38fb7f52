import { readFileSync } from 'node:fs';
import { shutdown } from '@squeeze/core';
import { COMMANDS } from './commands/index.js';
import { isUserFacing, userMessage } from './errors.js';
import { describeFsError } from './fs-errors.js';
import { helpText, parseFlags, UsageError, type Command, type FlagSpecs } from './flags.js';

/** Exit codes: 1 for a failed command, 2 for a command line that could not be understood. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: squeeze <command> [flags]',
    '',
    'SqueezeNet on CIFAR-10 with WebGPU compute shaders.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'squeeze <command> --help' for a command's flags. 'squeeze --version' prints the version.",
    'Set SQUEEZE_DEBUG=1 to see stack traces of errors.',
    '',
  ].join('\n');
}

async function runCommand(command: Command<FlagSpecs>, argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(command.flags, argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`squeeze ${command.name}: ${error.message}; see 'squeeze ${command.name} --help'\n`);
    return EXIT_USAGE;
  }
  if (parsed.help) {
    process.stdout.write(helpText(command));
    return 0;
  }
  try {
    return (await command.run(parsed.values)) ?? 0;
  } catch (error) {
    if (isUserFacing(error) && !process.env['SQUEEZE_DEBUG']) {
      process.stderr.write(`squeeze ${command.name}: ${describeFsError(error) ?? userMessage(error)}\n`);
    } else {
      process.stderr.write(`squeeze ${command.name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    return EXIT_FAILURE;
  } finally {
    // The GPU device keeps Node's event loop alive; destroying it lets the process exit by itself.
    shutdown();
  }
}

/** Runs `squeeze` with `argv` (the arguments after the program name) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(mainHelp());
    return 0;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`squeeze ${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    process.stderr.write(`squeeze: unknown command '${first}'; see 'squeeze --help'\n`);
    return EXIT_USAGE;
  }
  return runCommand(command, rest);
}
