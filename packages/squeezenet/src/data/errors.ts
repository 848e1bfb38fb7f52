/**
 * A problem with data on disk or with its source. The message is one line that names the
 * file involved and says what the user can do about it, so the CLI can print it as is.
 */
export class DataError extends Error {
  override readonly name = 'DataError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
