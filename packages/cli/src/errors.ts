import { DeviceLimitError, NoAdapterError } from '@squeeze/core';

/**
 * How the CLI reports an error thrown by a command: errors about the user's input or machine
 * (a missing dataset, a corrupt file, no GPU driver) are one clean line; anything else is a bug
 * and keeps its stack trace.
 */

/** Built-in classes say nothing about who threw them, so they are not taken as user-facing. */
const BUILTIN_ERROR_NAMES = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError']);

/**
 * True for errors meant for the user: any with a `userMessage`; our own error classes (DataError,
 * FormatError, NoAdapterError, GpuError, … — a name ending in 'Error' that is not a built-in
 * class); and Node's file-system errors (ENOENT, EACCES, …), which name the path.
 */
export function isUserFacing(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  if (typeof (error as { userMessage?: unknown }).userMessage === 'string') return true;
  if (typeof (error as NodeJS.ErrnoException).syscall === 'string') return true;
  return error.name.endsWith('Error') && !BUILTIN_ERROR_NAMES.has(error.name);
}

/**
 * The library's errors speak of tensors and options; on the command line the same advice names
 * the flag: a device limit is met by a smaller --batch_size, an adapter is picked by --adapter.
 */
function inFlagTerms(error: Error): string {
  if (error instanceof DeviceLimitError) return `${error.detail}; use a smaller --batch_size`;
  if (error instanceof NoAdapterError && error.source === 'option' && error.requested !== undefined) {
    return `No WebGPU adapter matches '${error.requested}' (from --adapter); available: ${error.available.map((n) => `'${n}'`).join(', ')}.`;
  }
  return error.message;
}

/** The single line printed for a user-facing error. */
export function userMessage(error: Error): string {
  const text = (error as { userMessage?: unknown }).userMessage;
  return (typeof text === 'string' ? text : inFlagTerms(error)).replace(/\s*\n\s*/g, ' ');
}
