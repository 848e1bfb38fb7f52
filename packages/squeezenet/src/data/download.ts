import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { CIFAR10_ARCHIVE_MD5, CIFAR10_ARCHIVE_NAME, CIFAR10_ARCHIVE_SIZE, CIFAR10_URL } from './cifar.js';
import { DataError } from './errors.js';
import { tempNameFor } from './fsutil.js';
import { formatBytes, startProgress, type ProgressOptions } from './progress.js';

export interface DownloadOptions {
  /** Where the archive ends up; it only appears there once complete and verified. */
  destination: string;
  /** Default: the official CIFAR-10 address; overridable for mirrors and tests. */
  url?: string;
  /** Expected MD5 (hex); default: that of the official archive. */
  md5?: string;
  progress?: boolean;
  log?: (line: string) => void;
  /** Give up when connecting, or any wait for more data, takes longer than this (default 60 s). */
  timeoutMs?: number;
}

export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 60_000;

export async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function describeFetchFailure(error: unknown): string {
  // undici reports "fetch failed" and keeps the useful system error (ECONNREFUSED, ENOTFOUND…) in `cause`.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** Downloads the CIFAR-10 binary archive to `destination` with a progress bar, verifying its MD5. */
export async function downloadCifar10(options: DownloadOptions): Promise<string> {
  const url = options.url ?? CIFAR10_URL;
  const expectedMd5 = options.md5 ?? CIFAR10_ARCHIVE_MD5;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const offlineAdvice = `download ${CIFAR10_ARCHIVE_NAME} from ${CIFAR10_URL} on a machine with internet access and pass it with --from PATH`;

  const timeoutMs = options.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
  const seconds = `${timeoutMs / 1000} s`;
  log(`Downloading ${url} (giving up after ${seconds} without data)`);
  // One timer covers connecting and every wait for the next chunk: a silent server ends the
  // download after timeoutMs instead of hanging it.
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs);
  };
  const timeoutAdvice = `retry, raise --download_timeout, or ${offlineAdvice}`;
  arm();
  let response: Response;
  try {
    response = await fetch(url, { signal: controller.signal });
  } catch (error) {
    clearTimeout(timer);
    if (timedOut) throw new DataError(`${url}: no answer within ${seconds} (--download_timeout); ${timeoutAdvice}.`, { cause: error });
    throw new DataError(`${url}: cannot be reached (${describeFetchFailure(error)}); ${offlineAdvice}.`, { cause: error });
  }
  if (!response.ok || response.body === null) {
    clearTimeout(timer);
    throw new DataError(`${url}: server answered HTTP ${response.status}; ${offlineAdvice}.`);
  }
  const announcedBytes = Number(response.headers.get('content-length'));
  const totalBytes = announcedBytes > 0 ? announcedBytes : CIFAR10_ARCHIVE_SIZE;
  const bar = startProgress('Download', totalBytes, { progress: options.progress, log }, formatBytes);
  const hash = createHash('md5');
  const hashAndCount = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      arm();
      hash.update(chunk);
      bar.increment(chunk.length);
      callback(null, chunk);
    },
  });
  const temp = tempNameFor(options.destination);
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream), hashAndCount, createWriteStream(temp));
  } catch (error) {
    rmSync(temp, { force: true });
    if (timedOut) throw new DataError(`${url}: no data for ${seconds} (--download_timeout); ${timeoutAdvice}.`, { cause: error });
    throw new DataError(`${url}: download interrupted (${describeFetchFailure(error)}); retry, or ${offlineAdvice}.`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    bar.stop();
  }
  const actualMd5 = hash.digest('hex');
  if (actualMd5 !== expectedMd5) {
    rmSync(temp, { force: true });
    throw new DataError(`${url}: downloaded file has MD5 ${actualMd5}, expected ${expectedMd5} (corrupted in transit); retry, or ${offlineAdvice}.`);
  }
  renameSync(temp, options.destination);
  return options.destination;
}
