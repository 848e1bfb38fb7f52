import type { DataFormat } from '@squeeze/core';
import { LineChart, drawProbabilities } from './charts.js';
import { loadCheckpoint, saveCheckpoint, type HostTensors, type StoredCheckpoint } from './checkpoint-store.js';
import type { ServerInfo } from '../info.js';
import { loadDataset } from './data.js';
import { FLAG_NAMES, FLAG_SPECS, FlagError, flagsQuery, parseFlags, type TrainFlags } from '../flags.js';
import { adapterLine, openGpu, webgpuMissingReason } from './gpu.js';
import { Predictor, exportFiles } from './predictor.js';
import { runTraining } from './train-run.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const form = $<HTMLFormElement>('flags');
const logPanel = $<HTMLPreElement>('log');
const trainButton = $<HTMLButtonElement>('train');
const resumeButton = $<HTMLButtonElement>('resume');
const stopButton = $<HTMLButtonElement>('stop');
const progressBar = $<HTMLProgressElement>('progress');
const progressText = $('progress-text');
const modelSource = $<HTMLSelectElement>('model-source');
const accuracyChart = new LineChart($('accuracy-chart'), [{ name: 'train', colour: '#3b6fd8' }, { name: 'evaluation', colour: '#e0793a' }], { min: 0, max: 1 });
const lossChart = new LineChart($('loss-chart'), [{ name: 'loss', colour: '#3b6fd8' }]);

let info: ServerInfo = { datasets: [], model: null, gallery: [] };
let gpuReady = false;
let running: AbortController | null = null;
/** The weights of the last model trained here, which Predict and Download use. */
let trained: { weights: HostTensors; flags: TrainFlags; step: number; classes: string[] } | null = null;
const predictors = new Map<string, Predictor>();

/** One line for the person: a bad flag, a missing file, an error. Empty hides it. */
function say(text: string): void {
  const el = $('message');
  el.textContent = text;
  el.hidden = text === '';
}

function log(line: string, kind: 'sample' | 'info' = 'sample'): void {
  const span = document.createElement('span');
  span.className = kind;
  span.textContent = `${line}\n`;
  logPanel.append(span);
  logPanel.scrollTop = logPanel.scrollHeight;
}

function datasetNames(): string[] { return info.datasets.map((d) => d.name); }

function fillForm(f: Partial<Record<keyof TrainFlags, string | number>>): void {
  for (const name of FLAG_NAMES) {
    const field = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
    const value = f[name] ?? (name === 'dataset' ? datasetNames()[0] : FLAG_SPECS[name].default);
    if (field && value !== undefined && value !== null) field.value = String(value);
  }
}

function setBusy(busy: boolean): void {
  trainButton.disabled = busy || !gpuReady || info.datasets.length === 0;
  stopButton.disabled = !busy;
  void refreshResume(busy);
}

async function refreshResume(busy = running !== null): Promise<void> {
  const c = gpuReady && !busy ? await loadCheckpoint().catch(() => null) : null;
  resumeButton.disabled = c === null;
  resumeButton.textContent = c ? `Resume (step ${c.meta.globalStep})` : 'Resume';
}

async function train(flags: TrainFlags, resume: StoredCheckpoint | null): Promise<void> {
  say('');
  const controller = new AbortController();
  running = controller;
  setBusy(true);
  if (!resume) { logPanel.textContent = ''; accuracyChart.clear(); lossChart.clear(); }
  history.replaceState(null, '', `${location.pathname}${flagsQuery(flags, datasetNames())}`);
  const started = performance.now();
  try {
    const data = await loadDataset(info, flags.dataset, (text, fraction) => { progressText.textContent = text; progressBar.value = fraction; });
    progressText.textContent = 'compiling GPU pipelines…';
    const r = await runTraining(flags, data, resume, controller.signal, {
      log: (line) => log(line),
      info: (line) => log(line, 'info'),
      trained: (step, accuracy, loss) => { accuracyChart.add('train', step, accuracy); lossChart.add('loss', step, loss); },
      evaluated: (step, accuracy) => accuracyChart.add('evaluation', step, accuracy),
      progress: (step, max, ms) => {
        progressBar.value = step / max;
        progressText.textContent = `step ${step}/${max} · ${ms > 0 ? (1000 / ms).toFixed(2) : '–'} steps/s`;
      },
      checkpoint: (c) => saveCheckpoint(c),
    });
    if (r.model) {
      trained = { weights: r.model, flags, step: r.globalStep, classes: data.classes };
      predictors.get('trained')?.dispose();
      predictors.delete('trained');
      offerTrainedModel();
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (r.stopped) log(`Stopped at step ${r.globalStep}; the checkpoint is kept in this browser: Resume continues from it.`, 'info');
    else if (!r.alreadyDone) log(`Finished step ${r.globalStep} in ${seconds} s.`, 'info');
  } catch (e) {
    say(e instanceof Error ? e.message : String(e));
    progressText.textContent = 'stopped by an error';
  } finally {
    running = null;
    setBusy(false);
  }
}

function readForm(): TrainFlags {
  const entries: [string, string][] = [];
  for (const name of FLAG_NAMES) {
    const field = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
    if (field) entries.push([name, field.value]);
  }
  return parseFlags(entries, datasetNames());
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  let flags: TrainFlags;
  try { flags = readForm(); } catch (e) { say((e as Error).message); return; }
  // The checkpoint of an earlier run stays until this run writes its first one.
  void train(flags, null);
});

resumeButton.addEventListener('click', () => {
  let flags: TrainFlags;
  try { flags = readForm(); } catch (e) { say((e as Error).message); return; }
  void loadCheckpoint().then((c) => {
    if (!c) { say('There is no checkpoint in this browser to resume from; click Train.'); return; }
    // The checkpoint's dataset, layout and seed continue the run; the form's step count and intervals apply.
    const f = { ...flags, dataset: c.meta.dataset, data_format: c.meta.dataFormat, seed: c.meta.seed };
    fillForm(f);
    return train(f, c);
  });
});

stopButton.addEventListener('click', () => {
  running?.abort();
  stopButton.disabled = true;
  log('Stopping after this step, with a checkpoint…', 'info');
});

// --- Predict ---

function offerTrainedModel(): void {
  let option = [...modelSource.options].find((o) => o.value === 'trained');
  if (!option) { option = new Option('', 'trained'); modelSource.add(option, 0); }
  option.textContent = `trained in this page (step ${trained!.step})`;
  modelSource.value = 'trained';
  $<HTMLButtonElement>('download-weights').disabled = false;
  $<HTMLButtonElement>('download-labels').disabled = false;
}

/** The model chosen under Predict, loaded once per source and data format. */
async function currentPredictor(): Promise<Predictor> {
  const source = modelSource.value;
  const dataFormat = (form.elements.namedItem('data_format') as HTMLSelectElement).value as DataFormat;
  const cached = predictors.get(source);
  if (cached?.dataFormat === dataFormat) return cached;
  cached?.dispose();
  predictors.delete(source);
  let p: Predictor;
  if (source === 'trained' && trained) p = Predictor.fromTrained(trained.weights, trained.classes, dataFormat);
  else if (source === 'server' && info.model) p = await Predictor.fromServer(info.model.weights, info.model.labels, dataFormat);
  else throw new Error('No model yet: train one here, or start squeeze web with a --model_dir that squeeze save wrote to.');
  predictors.set(source, p);
  return p;
}

async function predict(name: string, png: Blob): Promise<void> {
  if (!gpuReady) return;
  say('');
  const line = $('prediction-line');
  try {
    const predictor = await currentPredictor();
    const { prediction, pixels } = await predictor.predict(name, png);
    line.textContent = `${prediction.path}: predicted ${prediction.label}`;
    line.dataset['logits'] = JSON.stringify(prediction.logits);
    const preview = $<HTMLCanvasElement>('preview');
    const ctx = preview.getContext('2d')!;
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, preview.width, preview.height);
    ctx.drawImage(await createImageBitmap(pixels), 0, 0, preview.width, preview.height);
    drawProbabilities($('probabilities'), predictor.labels, prediction.probabilities, prediction.index);
  } catch (e) {
    line.textContent = '';
    delete line.dataset['logits'];
    say((e as Error).message);
  }
}

$<HTMLInputElement>('file').addEventListener('change', (ev) => {
  const file = (ev.target as HTMLInputElement).files?.[0];
  if (file) void predict(file.name, file);
});
const drop = $('drop');
drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const file = ev.dataTransfer?.files[0];
  if (file) void predict(file.name, file);
});

function download(name: string, data: Uint8Array | string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([data as BlobPart]));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

function trainedExport(): { weights: Uint8Array; labels: string } {
  const t = trained!;
  return exportFiles(t.weights, { dataFormat: t.flags.data_format, classes: t.classes, step: t.step, dataset: t.flags.dataset });
}
$('download-weights').addEventListener('click', () => download('squeezenet.safetensors', trainedExport().weights));
$('download-labels').addEventListener('click', () => download('labels.txt', trainedExport().labels));

// --- Start ---

async function start(): Promise<void> {
  fillForm({});
  const adapter = $('adapter');
  const [infoResult] = await Promise.allSettled([fetch('api/info').then((r) => r.json() as Promise<ServerInfo>)]);
  if (infoResult.status === 'fulfilled') info = infoResult.value;
  else say(`Cannot reach the squeeze web server (${String(infoResult.reason)}); is 'squeeze web' still running?`);
  const datasetSelect = form.elements.namedItem('dataset') as HTMLSelectElement;
  for (const d of info.datasets) datasetSelect.add(new Option(`${d.name} (${d.trainCount} + ${d.testCount} images)`, d.name));
  if (info.model) modelSource.add(new Option('saved by squeeze save (--model_dir)', 'server'));
  const gallery = $('gallery');
  for (const g of info.gallery) {
    const img = new Image();
    img.src = g.url;
    img.alt = img.title = g.name;
    img.addEventListener('click', () => void fetch(g.url).then((r) => r.blob()).then((b) => predict(g.name, b)));
    gallery.append(img);
  }
  fillForm({});

  const missing = webgpuMissingReason();
  if (missing) {
    adapter.textContent = 'WebGPU is not available';
    adapter.className = 'status bad';
    say(missing);
  } else {
    try {
      adapter.textContent = adapterLine(await openGpu());
      adapter.className = 'status ok';
      gpuReady = true;
    } catch (e) {
      adapter.textContent = 'No WebGPU adapter';
      adapter.className = 'status bad';
      say(`WebGPU is present but gave no usable device (${(e as Error).message}); check chrome://gpu, or start Chrome with --enable-unsafe-webgpu.`);
    }
  }
  if (info.datasets.length === 0 && infoResult.status === 'fulfilled') say("The server has no prepared dataset: run 'squeeze setup' (or 'squeeze setup --dataset fashion-mnist'), then restart 'squeeze web'.");
  setBusy(false);

  // The URL's flags fill the form and start a run, so a link reproduces one; a bad value starts nothing.
  const query = [...new URLSearchParams(location.search)];
  if (query.length === 0) return;
  let flags: TrainFlags;
  try { flags = parseFlags(query, datasetNames()); } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    say(`Not started: ${e.message}.`);
    return;
  }
  fillForm(flags);
  if (gpuReady && info.datasets.length > 0) await train(flags, null);
}

void start();
