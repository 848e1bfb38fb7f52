import { parseDataFile } from '@squeeze/squeezenet';
import type { ServerInfo } from '../info.js';
import type { PageDataset } from './train-run.js';

const cache = new Map<string, PageDataset>();

/** Fetches a response's body, reporting the bytes received so far. */
async function fetchBytes(url: string, progress: (received: number, total: number) => void): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok || !r.body) throw new Error(`${url}: the server answered ${r.status} ${r.statusText}`);
  const total = Number(r.headers.get('Content-Length') ?? 0);
  const out = new Uint8Array(total);
  const reader = r.body.getReader();
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (received + value.length > total) throw new Error(`${url}: more bytes than the ${total} announced`);
    out.set(value, received);
    received += value.length;
    progress(received, total);
  }
  if (received !== total) throw new Error(`${url}: ${received} of ${total} bytes arrived`);
  return out;
}

/**
 * The prepared dataset as `squeeze setup` wrote it (the same two files `squeeze train` reads,
 * checked the same way), fetched once per page.
 */
export async function loadDataset(info: ServerInfo, name: string, progress: (text: string, fraction: number) => void): Promise<PageDataset> {
  const cached = cache.get(name);
  if (cached) return cached;
  const d = info.datasets.find((x) => x.name === name);
  if (!d) throw new Error(`dataset ${name} is not prepared on the server; run 'squeeze setup' there`);
  const advice = `run 'squeeze setup${name === 'cifar10' ? '' : ` --dataset ${name}`}' on the server`;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const split = async (url: string) => parseDataFile(await fetchBytes(url, (got, total) => progress(`loading ${url} (${mb(got)} of ${mb(total)} MB)`, got / total)), url, advice);
  const dataset = { name, classes: d.classes, train: await split(d.train), test: await split(d.test) };
  cache.set(name, dataset);
  return dataset;
}
