import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer from 'puppeteer-core';
import type { PageResult, PhaseResult } from './page.js';
import { readmeSnippet, snippetInputs, squeezeNetSteps, SNIPPET_W_SHAPE, SNIPPET_X_SHAPE } from './workload.js';

/** Debian's chromium (scripts/setup-system.sh installs it); env CHROMIUM points elsewhere. */
const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
/**
 * SwiftShader compiles each pipeline in 0.5–2 s and a SqueezeNet step needs dozens, on a machine
 * whose cores other work shares: the page gets minutes, not seconds.
 */
const PAGE_TIMEOUT_MS = 20 * 60_000;

/** Σ relu(conv2d(x, w, SAME)) and its gradient in w, in float64: the README snippet's reference. */
function snippetReference(x: Float32Array, w: Float32Array): { loss: number; grad: Float64Array } {
  const [n, c, h, wd] = SNIPPET_X_SHAPE;
  const [o, , kh, kw] = SNIPPET_W_SHAPE;
  let loss = 0;
  const grad = new Float64Array(w.length);
  const xAt = (b: number, ch: number, y: number, xx: number) => (y < 0 || y >= h || xx < 0 || xx >= wd ? 0 : x[((b * c + ch) * h + y) * wd + xx]!);
  for (let b = 0; b < n; b++) for (let oc = 0; oc < o; oc++) for (let y = 0; y < h; y++) for (let xx = 0; xx < wd; xx++) {
    let acc = 0;
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) acc += xAt(b, ch, y + i - 1, xx + j - 1) * w[((oc * c + ch) * kh + i) * kw + j]!;
    if (acc <= 0) continue;
    loss += acc;
    for (let ch = 0; ch < c; ch++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) grad[((oc * c + ch) * kh + i) * kw + j] += xAt(b, ch, y + i - 1, xx + j - 1);
  }
  return { loss, grad };
}

function closeTo(actual: number[], expected: ArrayLike<number>, atol: number, rtol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= atol + rtol * Math.abs(e), `${label}[${i}]: ${a} vs ${e} (atol ${atol}, rtol ${rtol})`);
  });
}

describe('browser: @squeeze/core in headless Chromium (WebGPU)', function () {
  this.timeout(PAGE_TIMEOUT_MS + 5 * 60_000);
  let server: Server | undefined;

  after(() => server?.close());

  it('bundles for the browser without Dawn or Node modules; runs the README snippet and 3 squeezenet_cifar steps as Node does, after init() and init({ device })', async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: run \`bash scripts/setup-system.sh\` (installs Debian's chromium) or set CHROMIUM`);
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL('./page.js', import.meta.url))],
      bundle: true, format: 'esm', platform: 'browser', write: false, metafile: true, logLevel: 'silent',
    });
    const inputs = Object.keys(bundle.metafile.inputs);
    assert.ok(inputs.some((p) => /packages\/core\/dist\/browser\.js$/.test(p)), 'the bundle takes @squeeze/core\'s browser entry');
    assert.deepEqual(inputs.filter((p) => /node_modules\/webgpu\/|^node:|runtime\/(dawn|polling|node-platform)\.js$/.test(p)), [], 'no Dawn, Node module or Node-only runtime code');
    const script = bundle.outputFiles[0]!.text;

    server = createServer((req, res) => {
      if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu'],
      protocolTimeout: PAGE_TIMEOUT_MS,
    });
    let result: PageResult | { error: string };
    const pageLog: string[] = [];
    try {
      const page = await browser.newPage();
      page.on('console', (m) => pageLog.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => pageLog.push(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction('window.squeezeResult !== undefined', { timeout: PAGE_TIMEOUT_MS, polling: 1000 });
      result = await page.evaluate('window.squeezeResult') as PageResult | { error: string };
    } finally {
      await browser.close();
    }
    if ('error' in result) assert.fail(`the page failed: ${result.error}\n${pageLog.join('\n')}`);
    const phases = Object.entries(result) as Array<[string, PhaseResult]>;
    for (const [name, r] of phases) {
      console.log(`      ${name}: ${r.adapter}; ${r.limits['maxStorageBuffersPerShaderStage']} storage buffers per stage; `
        + `steps ${r.training.stepMs.map((t) => `${(t / 1000).toFixed(1)} s`).join(', ')}; ${(r.totalMs / 1000).toFixed(0)} s in all`);
    }
    assert.equal(result.ownDevice.limits['maxStorageBuffersPerShaderStage'], 8, 'init({ device }) used the device as opened, with the default limits');

    const { x, w } = snippetInputs();
    const ref = snippetReference(x, w);
    const node = await readmeSnippet();
    const nodeTraining = await squeezeNetSteps();
    // The snippet against float64: sums of 27-term float32 dot products.
    for (const [name, snippet] of [['Node', node], ['browser, init()', result.viaInit.snippet], ['browser, init({ device })', result.ownDevice.snippet]] as const) {
      closeTo([snippet.loss], [ref.loss], 1e-3, 1e-4, `snippet loss (${name} vs float64)`);
      closeTo(snippet.grad, ref.grad, 1e-3, 1e-4, `snippet d loss / d w (${name} vs float64)`);
    }
    // Training: the same model, batch and optimizer in Node. The first loss differs only by float32
    // rounding in different kernels (adapters pick their own tilings); Adam's first update is about
    // lr·sign(gradient), so a gradient near zero can flip a step of lr and later losses drift: in
    // Node alone, only regrouping the batch-norm sums of the convolutions' epilogues (per subgroup
    // or per lane) moves the third loss by 3 % (0.362 vs 0.374).
    for (const [name, r] of phases) {
      closeTo([r.training.losses[0]!], [nodeTraining.losses[0]!], 1e-4, 1e-4, `step 1 loss (browser ${name} vs Node)`);
      closeTo(r.training.losses, nodeTraining.losses, 1e-3, 5e-2, `losses (browser ${name} vs Node)`);
      closeTo(r.training.conv10Bias, nodeTraining.conv10Bias, 1e-4, 1e-2, `conv10 bias after 3 steps (browser ${name} vs Node)`);
    }
  });
});
