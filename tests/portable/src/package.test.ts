import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['kernels-wgsl', 'core', 'squeezenet'];

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, SQUEEZE_DEFAULT_LIMITS: '' } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * The packages as a user gets them: `pnpm pack` each, unpack the tarballs into an empty folder's
 * node_modules, and build and run a user's program there (consumer/train.ts) with tsc --strict and
 * no skipLibCheck. Offline: the tarballs' own dependencies (webgpu, @webgpu/types, …) are linked
 * from this workspace's install instead of fetched, the one step that differs from `npm install`.
 */
describe('packages: installed from their tarballs in an empty folder', function () {
  this.timeout(20 * 60_000);
  let dir = '';
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('pack with real versions and no tests; a strict TypeScript program opens a default-limits device, init({ device }), trains a CNN with Adam; a page type-checks and bundles', async () => {
    dir = mkdtempSync(join(tmpdir(), 'squeeze-consumer-'));
    const packs = join(dir, 'packs');
    const modules = join(dir, 'node_modules');
    mkdirSync(packs);
    mkdirSync(join(modules, '@squeeze'), { recursive: true });
    const linked = new Set<string>();
    const link = (name: string, from: string) => {
      if (linked.has(name) || existsSync(join(modules, name))) return;
      mkdirSync(dirname(join(modules, name)), { recursive: true });
      symlinkSync(realpathSync(join(from, 'node_modules', name)), join(modules, name), 'dir');
      linked.add(name);
    };
    for (const name of PACKAGES) {
      const source = join(ROOT, 'packages', name);
      run('pnpm', ['pack', '--pack-destination', packs], source);
      const tarball = readdirSync(packs).find((f) => f.startsWith(`squeeze-${name}-`) && f.endsWith('.tgz'));
      assert.ok(tarball, `pnpm pack made no tarball for ${name}`);
      const files = run('tar', ['tzf', join(packs, tarball)], dir).trim().split('\n');
      assert.deepEqual(files.filter((f) => /\.test\.|\.bench\.|mocha-hooks|test-helpers|\/src\//.test(f)), [], `${name} ships no tests, benches or sources`);
      assert.ok(files.includes('package/README.md') && files.includes('package/dist/index.d.ts'), `${name} ships its README and types`);
      mkdirSync(join(dir, 'unpack'));
      run('tar', ['xzf', join(packs, tarball), '-C', join(dir, 'unpack')], dir);
      renameSync(join(dir, 'unpack', 'package'), join(modules, '@squeeze', name));
      rmSync(join(dir, 'unpack'), { recursive: true });
      const manifest = JSON.parse(readFileSync(join(modules, '@squeeze', name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      for (const [dep, version] of Object.entries(manifest.dependencies ?? {})) {
        assert.doesNotMatch(version, /^workspace:/, `${name}'s dependency ${dep} has a real version`);
        if (!dep.startsWith('@squeeze/')) link(dep, source);
      }
    }
    link('@types/node', ROOT);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    for (const file of ['train.ts', 'readme.ts', 'page.ts']) copyFileSync(fileURLToPath(new URL(`../consumer/${file}`, import.meta.url)), join(dir, file));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out' },
      files: ['train.ts', 'readme.ts'],
    }));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    run(process.execPath, [tsc, '--strict', '--noEmit', '-p', '.'], dir);
    run(process.execPath, [tsc, '-p', '.'], dir);
    const out = run(process.execPath, ['out/train.js'], dir);
    assert.match(out, /device limits: 8 storage buffers per stage/);
    const losses = /loss: (.*)/.exec(out)![1]!.trim().split(' ').map(Number);
    assert.ok(losses.length > 1 && losses.at(-1)! < losses[0]! / 2, `losses ${losses}`);

    assert.ok(Number.isFinite(Number(run(process.execPath, ['out/readme.js'], dir).trim())), 'the README snippet prints its loss');

    // The page: a bundler's resolution picks the browser entries; their types need nothing but DOM's.
    writeFileSync(join(dir, 'tsconfig.page.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM'], strict: true, noEmit: true },
      files: ['page.ts'],
    }));
    run(process.execPath, [tsc, '-p', 'tsconfig.page.json'], dir);
    const bundle = await build({ entryPoints: [join(dir, 'page.ts')], bundle: true, format: 'esm', platform: 'browser', write: false, metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(bundle.metafile.inputs);
    assert.ok(inputs.some((p) => p.endsWith('@squeeze/core/dist/browser.js')) && inputs.some((p) => p.endsWith('@squeeze/squeezenet/dist/browser.js')), 'the bundle takes the browser entries');
    assert.deepEqual(inputs.filter((p) => /webgpu\/|^node:|runtime\/(dawn|polling|node-platform)\.js$/.test(p)), [], 'no Dawn, Node module or Node-only runtime code');
  });
});
