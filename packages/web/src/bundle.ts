import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { PAGE_DIR } from './server.js';

const PAGE_SOURCE = fileURLToPath(new URL('../src/page/main.ts', import.meta.url));
const STATIC_DIR = fileURLToPath(new URL('../static/', import.meta.url));

/**
 * Builds the page into `outDir`: the TypeScript bundled by esbuild for browsers (the packages'
 * `browser` entries: no Node modules) as app.js, next to index.html and style.css.
 */
export async function bundlePage(outDir = PAGE_DIR): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: [PAGE_SOURCE],
    outfile: path.join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  for (const f of readdirSync(STATIC_DIR)) copyFileSync(path.join(STATIC_DIR, f), path.join(outDir, f));
}

// `node packages/web/dist/bundle.js` (part of `pnpm build`).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await bundlePage();
