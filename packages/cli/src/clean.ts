import { existsSync, lstatSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_DIR_LAYOUT, withLockSync } from '@squeeze/squeezenet';

/**
 * What `clean` removed, and the symbolic links it left alone: a link in the model folder may point
 * anywhere (another disk, the user's home), so clean never follows one.
 */
export interface CleanResult { removed: string[]; keptLinks: string[] }

function isLink(path: string): boolean {
  try { return lstatSync(path).isSymbolicLink(); } catch { return false; }
}

function isRealDir(path: string): boolean {
  try { return lstatSync(path).isDirectory(); } catch { return false; }
}

/** Regular files (not links) in `dir` whose names match. */
function matchingFiles(dir: string, pattern: RegExp): string[] {
  if (!isRealDir(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && pattern.test(entry.name))
    .map((entry) => join(dir, entry.name))
    .sort();
}

/**
 * Removes what training, saving, plotting and tracing leave in `modelDir` (MODEL_DIR_LAYOUT: the
 * checkpoint, export and plot folders, event files in modelDir and its eval folder, Chrome traces);
 * everything else there (the dataset, when it shares the folder) is kept. Holds the model folder's
 * lock. Everything to remove is listed before anything is removed; symbolic links are reported
 * and left alone. Folders in `removed` end in '/'.
 */
export function cleanModelDir(modelDir: string): CleanResult {
  if (!existsSync(modelDir)) return { removed: [], keptLinks: [] };
  return withLockSync(modelDir, 'model', { role: '--model_dir' }, () => {
    const keptLinks: string[] = [];
    const dirs: string[] = [];
    const debris = readdirSync(modelDir).filter((name) => MODEL_DIR_LAYOUT.exportDebris.test(name)).map((name) => join(modelDir, name));
    for (const name of MODEL_DIR_LAYOUT.folders) {
      const dir = join(modelDir, name);
      if (isLink(dir)) keptLinks.push(dir);
      else if (isRealDir(dir)) dirs.push(dir);
    }
    const evalDir = join(modelDir, MODEL_DIR_LAYOUT.evalDir);
    if (isLink(evalDir)) keptLinks.push(evalDir);
    const files = [
      ...matchingFiles(modelDir, MODEL_DIR_LAYOUT.eventFile),
      ...matchingFiles(evalDir, MODEL_DIR_LAYOUT.eventFile),
      ...matchingFiles(modelDir, MODEL_DIR_LAYOUT.traceFile),
    ];
    const removed: string[] = [];
    for (const dir of [...dirs, ...debris]) {
      rmSync(dir, { recursive: true, force: true });
      removed.push(`${dir}/`);
    }
    for (const file of files) {
      rmSync(file, { force: true });
      removed.push(file);
    }
    if (isRealDir(evalDir) && readdirSync(evalDir).length === 0) {
      rmdirSync(evalDir);
      removed.push(`${evalDir}/`);
    }
    return { removed, keptLinks };
  });
}
