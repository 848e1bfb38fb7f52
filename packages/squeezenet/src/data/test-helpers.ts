import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';

/** A fresh empty folder under the system temp folder; tests remove it themselves. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `squeeze-${prefix}-`));
}

export async function extractTarGz(archive: string, into: string): Promise<void> {
  await tar.x({ file: archive, cwd: into, strict: true });
}

/** Files in a folder, sorted, or [] when it does not exist. */
export function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export function collectLog(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}
