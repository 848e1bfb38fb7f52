import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DATASET_NAMES, EXPORT_DIR, EXPORT_LABELS, EXPORT_WEIGHTS, IMAGE_BYTES, chwToInterleaved, datasetPaths, encodePngRgb, loadDataset,
} from '@squeeze/squeezenet';
import type { ServerInfo } from './info.js';

export type { ServerInfo } from './info.js';

export interface WebServerOptions {
  port: number;
  /** Interface to listen on; 127.0.0.1 keeps the page (and the files it serves) to this machine. */
  host: string;
  /** Where `squeeze setup` prepared the dataset(s). */
  dataDir: string;
  /** Where `squeeze save` wrote `models/` (optional: the page can train its own). */
  modelDir: string;
  /** The bundled page (default: this package's dist/page). */
  pageDir?: string;
}

export interface WebServer {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

/** The server cannot start; the message is one line naming the folder or address and what to do. */
export class WebServerError extends Error { override name = 'WebServerError'; }

/** The bundled page next to this module once `pnpm build` has run. */
export const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));

/** Test images offered in the page's gallery: the first of each class in the test split. */
const GALLERY_PER_CLASS = 1;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8', '.png': 'image/png',
  '.bin': 'application/octet-stream', '.safetensors': 'application/octet-stream', '.svg': 'image/svg+xml',
};

type Route = { file: string } | { bytes: Uint8Array; type: string };

/**
 * A fixed table of URL paths, built at start from the directories given: a request is served only
 * when its path is exactly one of them, so no part of a URL ever becomes part of a file path.
 */
function buildRoutes(o: WebServerOptions): { routes: Map<string, Route>; info: ServerInfo } {
  const pageDir = o.pageDir ?? PAGE_DIR;
  if (!existsSync(path.join(pageDir, 'index.html'))) {
    throw new WebServerError(`${pageDir}: the page is not built (no index.html); run 'pnpm build' first`);
  }
  const routes = new Map<string, Route>();
  for (const f of readdirSync(pageDir, { withFileTypes: true })) {
    if (f.isFile()) routes.set(`/${f.name}`, { file: path.join(pageDir, f.name) });
  }
  routes.set('/', { file: path.join(pageDir, 'index.html') });

  const info: ServerInfo = { datasets: [], model: null, gallery: [] };
  for (const name of DATASET_NAMES) {
    const p = datasetPaths(o.dataDir, name);
    if (!existsSync(p.meta)) continue;
    // Loading checks every file (sizes, checksums) so the page never fetches a broken set.
    const data = loadDataset(o.dataDir, name);
    const base = `/data/${name}`;
    routes.set(`${base}/train.bin`, { file: p.train });
    routes.set(`${base}/test.bin`, { file: p.test });
    routes.set(`${base}/meta.json`, { file: p.meta });
    info.datasets.push({
      name, classes: data.classes, trainCount: data.train.count, testCount: data.test.count, train: `${base}/train.bin`, test: `${base}/test.bin`,
    });
    if (info.gallery.length > 0) continue;
    const seen = new Map<number, number>();
    for (let i = 0; i < data.test.count; i++) {
      const label = data.test.labels[i]!;
      if ((seen.get(label) ?? 0) >= GALLERY_PER_CLASS) continue;
      seen.set(label, (seen.get(label) ?? 0) + 1);
      const fileName = `test-${String(i).padStart(5, '0')}-${data.classes[label]}.png`;
      const url = `/gallery/${fileName}`;
      routes.set(url, { bytes: encodePngRgb(32, 32, chwToInterleaved(data.test.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES))), type: 'image/png' });
      info.gallery.push({ url, name: fileName, label: data.classes[label]! });
    }
    info.gallery.sort((a, b) => a.name.localeCompare(b.name));
  }
  const weights = path.join(o.modelDir, EXPORT_DIR, EXPORT_WEIGHTS);
  const labels = path.join(o.modelDir, EXPORT_DIR, EXPORT_LABELS);
  if (existsSync(weights) && existsSync(labels)) {
    routes.set(`/model/${EXPORT_WEIGHTS}`, { file: weights });
    routes.set(`/model/${EXPORT_LABELS}`, { file: labels });
    info.model = { weights: `/model/${EXPORT_WEIGHTS}`, labels: `/model/${EXPORT_LABELS}` };
  }
  routes.set('/api/info', { bytes: new TextEncoder().encode(JSON.stringify(info)), type: CONTENT_TYPES['.json']! });
  return { routes, info };
}

/**
 * Rejects what a path-traversal attempt looks like before the URL parser normalises it away:
 * dot segments (plain or percent-encoded), encoded slashes, backslashes and NUL.
 */
export function isSuspiciousPath(rawPath: string): boolean {
  let decoded: string;
  try { decoded = decodeURIComponent(rawPath); } catch { return true; }
  return /%2f|%5c|%00/i.test(rawPath) || /[\\\0]/.test(decoded) || decoded.split('/').some((s) => s === '..' || s === '.') || !rawPath.startsWith('/');
}

function send(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${text}\n`);
}

/** Serves the page, the prepared dataset and the exported model, read-only. */
export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const { routes } = buildRoutes(o);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'method not allowed: this server is read-only');
      return;
    }
    const raw = (req.url ?? '/').split('?')[0]!;
    const route = isSuspiciousPath(raw) ? undefined : routes.get(raw);
    if (!route) { send(res, 404, 'not found'); return; }
    const headers: http.OutgoingHttpHeaders = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' };
    if ('bytes' in route) {
      res.writeHead(200, { ...headers, 'Content-Type': route.type, 'Content-Length': route.bytes.byteLength });
      res.end(req.method === 'HEAD' ? undefined : route.bytes);
      return;
    }
    let size: number;
    try { size = statSync(route.file).size; } catch { send(res, 404, 'not found'); return; }
    const type = CONTENT_TYPES[path.extname(route.file)] ?? 'application/octet-stream';
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': size });
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(route.file).on('error', () => res.destroy()).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (e: NodeJS.ErrnoException): void => {
      const where = `${o.host}:${o.port}`;
      if (e.code === 'EADDRINUSE') reject(new WebServerError(`${where} is already in use (another squeeze web?); choose another port`));
      else if (e.code === 'EACCES') reject(new WebServerError(`${where}: not allowed to listen there (ports below 1024 need privileges); choose another port`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new WebServerError(`${o.host}: not an address of this machine; choose another host`));
      else reject(e);
    };
    server.once('error', fail);
    server.listen(o.port, o.host, () => { server.off('error', fail); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}/`,
    server,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
