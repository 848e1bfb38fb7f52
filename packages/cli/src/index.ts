export { main, mainHelp, EXIT_FAILURE, EXIT_USAGE } from './cli.js';
export { cleanModelDir } from './clean.js';
export { COMMANDS } from './commands/index.js';
export { isUserFacing, userMessage } from './errors.js';
export {
  defineCommand,
  helpText,
  parseFlags,
  UsageError,
  type BoolFlag,
  type Command,
  type EnumFlag,
  type FlagSpec,
  type FlagSpecs,
  type FlagValues,
  type FloatFlag,
  type IntFlag,
  type ParseResult,
  type StringFlag,
} from './flags.js';
