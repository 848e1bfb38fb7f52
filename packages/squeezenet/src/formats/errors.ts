/**
 * Thrown when a file (or byte buffer) does not conform to the format it claims
 * to be in: truncated, corrupted, or structurally invalid. The message is a
 * single line that starts with the file name, so CLI output points straight
 * at the offending file.
 */
export class FormatError extends Error {
  /** The file path, or a label such as "<bytes>" for in-memory input. */
  readonly file: string;

  constructor(file: string, detail: string) {
    // Collapse any newlines so the message stays on one line.
    super(`${file}: ${detail}`.replace(/\s*\n\s*/g, ' '));
    this.name = 'FormatError';
    this.file = file;
  }
}
