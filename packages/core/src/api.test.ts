import { readFileSync } from 'node:fs';
import * as core from './index.js';

describe('docs/api.md', () => {
  it('lists every value @squeeze/core exports (Node entry)', () => {
    const doc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    // An export counts as listed where its name opens a code span: `conv2d(…)` or `Adam`.
    const missing = Object.keys(core).filter((name) => !new RegExp('`' + name + '\\b').test(doc));
    if (missing.length > 0) throw new Error(`docs/api.md does not list: ${missing.join(', ')}`);
  });
});
