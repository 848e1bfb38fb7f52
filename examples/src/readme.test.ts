import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
// Beside the compiled examples, so that '@squeeze/core' resolves through examples/node_modules.
const snippetPath = fileURLToPath(new URL('./readme-snippet.mjs', import.meta.url));

describe('examples/README.md', () => {
  it('its code block runs and classifies the four points as its comment says', async () => {
    const readme = await readFile(readmePath, 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme);
    if (!block) throw new Error('no ```ts block in examples/README.md');
    // The snippet is plain JavaScript (no type annotations), so Node runs it as it stands.
    await writeFile(snippetPath, block[1]!);
    const { stdout } = await promisify(execFile)(process.execPath, [snippetPath], { timeout: 60_000 });
    if (!stdout.includes('Int32Array(4) [ 1, 1, 0, 0 ]')) throw new Error(`the README snippet printed: ${stdout}`);
  });
});
