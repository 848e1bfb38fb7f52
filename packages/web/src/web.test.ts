import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import {
  Classifier, EXPORT_DIR, encodePngRgb, makeCifarFixture, saveModel, setupData, train, type TrainOptions,
} from '@squeeze/squeezenet';
import { bundlePage } from './bundle.js';
import { startWebServer, type WebServer } from './server.js';

/** Debian's chromium (scripts/setup-system.sh installs it); env CHROMIUM points elsewhere. */
const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
/**
 * SwiftShader compiles each of a SqueezeNet step's dozens of pipelines in 0.5–2 s and runs kernels
 * slower than lavapipe, on cores other work shares: each wait gets minutes.
 */
const WAIT_MS = 10 * 60_000;
/** The screenshot the README shows (docs/web.png is a copy). */
const OUTPUT_DIR = fileURLToPath(new URL('../test-output/', import.meta.url));
const FLAGS = { max_train_steps: 4, batch_size: 8, validation_interval: 3 };
const RESUMED_STEPS = 6;

/** The sample's lines (`Train Step …`, `Evaluation Step …`) in the page's log panel. */
async function sampleLines(page: Page): Promise<string[]> {
  return page.$$eval('#log .sample', (spans) => spans.map((s) => s.textContent!.trimEnd()));
}

async function waitForLog(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t: string) => {
    const message = document.getElementById('message')!;
    if (!message.hidden) throw new Error(`the page says: ${message.textContent}`);
    return document.getElementById('log')!.textContent!.includes(t);
  }, { timeout: WAIT_MS, polling: 500 }, text);
}

/** The step and evaluation labels of the sample's lines (`Train Step 3    `), without the accuracies. */
const labels = (lines: string[]) => lines.map((l) => l.split(':')[0]);

function assertClose(actual: number[], expected: number[], atol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= atol, `${label}[${i}]: ${a} vs ${expected[i]} (atol ${atol})`));
}

async function predictInPage(page: Page, action: () => Promise<void>): Promise<{ line: string; logits: number[] }> {
  await page.$eval('#prediction-line', (el) => { el.textContent = ''; });
  await action();
  await page.waitForFunction(() => {
    const message = document.getElementById('message')!;
    if (!message.hidden) throw new Error(`the page says: ${message.textContent}`);
    return document.getElementById('prediction-line')!.textContent !== '';
  }, { timeout: WAIT_MS, polling: 200 });
  return page.$eval('#prediction-line', (el) => ({ line: el.textContent!, logits: JSON.parse((el as HTMLElement).dataset['logits']!) as number[] }));
}

describe('squeeze web: training, prediction and download in headless Chromium', function () {
  this.timeout(4 * WAIT_MS);
  let root: string;
  let web: WebServer | undefined;
  let browser: Browser | undefined;
  const nodeLines: string[] = [];
  const nodeResumedLines: string[] = [];

  before(async function () {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: run \`bash scripts/setup-system.sh\` (installs Debian's chromium) or set CHROMIUM`);
    root = mkdtempSync(join(tmpdir(), 'squeeze-web-'));
    const dataDir = join(root, 'data');
    const modelDir = join(root, 'node-model');
    await setupData({ dataDir, from: await makeCifarFixture(join(root, 'fixture'), { trainPerClass: 4, testPerClass: 2 }), download: false, progress: false, log: () => {} });
    // What `squeeze train` prints for the same flags (its defaults for the rest), then resumed further.
    const options: TrainOptions = {
      modelDir, dataDir, batchSize: FLAGS.batch_size, dataFormat: 'NCHW', maxTrainSteps: FLAGS.max_train_steps, learningRate: 0.001,
      summaryInterval: 1, checkpointInterval: 100, validationInterval: FLAGS.validation_interval, keepLastNCheckpoints: 3, seed: 1337,
      log: (l) => nodeLines.push(l), info: () => {},
    };
    await train(options);
    await train({ ...options, maxTrainSteps: RESUMED_STEPS, log: (l) => nodeResumedLines.push(l) });
    saveModel(modelDir);
    const pageDir = join(root, 'page');
    await bundlePage(pageDir);
    web = await startWebServer({ port: 0, host: '127.0.0.1', dataDir, modelDir, pageDir });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM, headless: true, protocolTimeout: 2 * WAIT_MS,
      args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu'],
    });
  });

  after(async function () {
    await browser?.close();
    await web?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('says in one line what is wrong with a bad query value, and starts nothing', async function () {
    const page = await browser!.newPage();
    await page.goto(`${web!.url}?max_train_steps=4&batch_size=eight`);
    await page.waitForFunction(() => !document.getElementById('message')!.hidden, { timeout: WAIT_MS });
    assert.equal(await page.$eval('#message', (el) => el.textContent), "Not started: batch_size must be an integer, got 'eight'.");
    assert.equal(await page.$eval('#log', (el) => el.textContent), '');
    await page.close();
  });

  it('says which browser or flag gives WebGPU where the page has none, and offers no training', async function () {
    const plain = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless=new', '--no-sandbox'] });
    try {
      const page = await plain.newPage();
      await page.goto(web!.url);
      await page.waitForFunction(() => !document.getElementById('message')!.hidden, { timeout: WAIT_MS });
      assert.match(await page.$eval('#message', (el) => el.textContent!), /WebGPU.*(Chrome|--enable-unsafe-webgpu)/);
      assert.match(await page.$eval('#adapter', (el) => el.textContent!), /WebGPU/);
      assert.equal(await page.$eval('#train', (el) => (el as HTMLButtonElement).disabled), true);
    } finally {
      await plain.close();
    }
  });

  it('trains, resumes, predicts, downloads a model squeeze predict reads with the same logits, and stops with a checkpoint', async function () {
    const started = Date.now();
    const page = await browser!.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(`${web!.url}?${new URLSearchParams(Object.entries(FLAGS).map(([k, v]) => [k, String(v)]))}`);
    // The page names its adapter once requestAdapter resolves, later on a busy machine.
    await page.waitForFunction(() => !document.getElementById('adapter')!.textContent!.startsWith('Looking for WebGPU'), { timeout: WAIT_MS });
    const adapter = await page.$eval('#adapter', (el) => el.textContent!);
    assert.match(adapter, /^WebGPU adapter: /);

    // The run the URL describes: the sample's lines at the steps squeeze train prints them.
    await waitForLog(page, 'Finished step 4');
    const trainedAt = Date.now();
    const lines = await sampleLines(page);
    assert.deepEqual(labels(lines), labels(nodeLines));
    assert.deepEqual(labels(lines), ['Evaluation Step 0    ', 'Train Step 0    ', 'Train Step 1    ', 'Train Step 2    ', 'Evaluation Step 3    ', 'Train Step 3    ']);
    for (const l of lines) assert.match(l, /^(Train|Evaluation) Step \d+ +: {2}(0\.\d+|1\.0|0\.0)$/);

    // Resume from the checkpoint kept in IndexedDB, with more steps.
    await page.$eval('input[name=max_train_steps]', (el, n) => { (el as HTMLInputElement).value = String(n); }, RESUMED_STEPS);
    await page.waitForFunction(() => !(document.getElementById('resume') as HTMLButtonElement).disabled, { timeout: WAIT_MS });
    await page.click('#resume');
    await waitForLog(page, `Finished step ${RESUMED_STEPS}`);
    const resumedAt = Date.now();
    assert.match(await page.$eval('#log', (el) => el.textContent!), /Resuming from the checkpoint in this browser at step 4\./);
    assert.deepEqual(labels((await sampleLines(page)).slice(lines.length)), labels(nodeResumedLines));

    // Predict a PNG of another size with the model trained here, then download that model.
    const image = join(root, 'stripes.png');
    const rgb = new Uint8Array(40 * 48 * 3).map((_, i) => (i * 37 + (i % 3) * 91) % 256);
    writeFileSync(image, encodePngRgb(48, 40, rgb));
    const input = await page.$('#file');
    const inPage = await predictInPage(page, () => (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(image));
    const downloads = join(root, 'downloaded');
    mkdirSync(join(downloads, EXPORT_DIR), { recursive: true });
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: join(downloads, EXPORT_DIR) });
    await page.click('#download-weights');
    await page.click('#download-labels');
    const files = ['squeezenet.safetensors', 'labels.txt'].map((f) => join(downloads, EXPORT_DIR, f));
    for (let i = 0; i < 600 && !files.every(existsSync); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(files.every(existsSync), `downloads missing: ${files.filter((f) => !existsSync(f)).join(', ')}`);

    // squeeze predict on the downloaded model: same label, same logits.
    const classifier = await Classifier.load(downloads);
    try {
      const { predictions: [node] } = await classifier.predictFiles([image]);
      assert.equal(classifier.exported.meta.step, RESUMED_STEPS);
      assert.equal(inPage.line, `stripes.png: predicted ${node!.label}`);
      assertClose(inPage.logits, node!.logits, 1e-4, 'logits (page vs squeeze predict on the downloaded model)');
    } finally {
      classifier.dispose();
    }

    // The model squeeze save wrote in --model_dir, on a gallery image.
    await page.select('#model-source', 'server');
    const gallery = await predictInPage(page, () => page.click('#gallery img'));
    const galleryName = gallery.line.split(':')[0]!;
    const galleryFile = join(root, galleryName);
    writeFileSync(galleryFile, Buffer.from(await (await fetch(`${web!.url}gallery/${galleryName}`)).arrayBuffer()));
    const saved = await Classifier.load(join(root, 'node-model'));
    try {
      const { predictions: [node] } = await saved.predictFiles([galleryFile]);
      assert.equal(gallery.line, `${galleryName}: predicted ${node!.label}`);
      assertClose(gallery.logits, node!.logits, 1e-4, 'logits (page vs squeeze predict on squeeze save\'s model)');
    } finally {
      saved.dispose();
    }

    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(OUTPUT_DIR, 'web.png') as `${string}.png`, fullPage: true });

    // Stop: a longer fresh run stops after its current step, with a checkpoint Resume offers.
    await page.$eval('input[name=max_train_steps]', (el) => { (el as HTMLInputElement).value = '1000'; });
    await page.click('#train');
    await waitForLog(page, 'Train Step 1 ');
    await page.click('#stop');
    await waitForLog(page, 'Stopped at step ');
    const stoppedAt = Number(/Stopped at step (\d+)/.exec(await page.$eval('#log', (el) => el.textContent!))![1]);
    assert.ok(stoppedAt >= 2 && stoppedAt < 1000, `stopped at step ${stoppedAt}`);
    await page.waitForFunction((n: number) => document.getElementById('resume')!.textContent === `Resume (step ${n})`, { timeout: WAIT_MS }, stoppedAt);
    assert.deepEqual(pageErrors, []);
    console.log(`      ${adapter}; first run ${((trainedAt - started) / 1000).toFixed(0)} s (pipeline compiles included), `
      + `resumed ${((resumedAt - trainedAt) / 1000).toFixed(0)} s, ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
    await page.close();
  });
});
