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
}

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

  log(`Downloading ${url}`);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new DataError(`${url}: cannot be reached (${describeFetchFailure(error)}); ${offlineAdvice}.`, { cause: error });
  }
  if (!response.ok || response.body === null) {
    throw new DataError(`${url}: server answered HTTP ${response.status}; ${offlineAdvice}.`);
  }
  const announcedBytes = Number(response.headers.get('content-length'));
  const totalBytes = announcedBytes > 0 ? announcedBytes : CIFAR10_ARCHIVE_SIZE;
  const bar = startProgress('Download', totalBytes, { progress: options.progress, log }, formatBytes);
  const hash = createHash('md5');
  const hashAndCount = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
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
    throw new DataError(`${url}: download interrupted (${describeFetchFailure(error)}); retry, or ${offlineAdvice}.`, {
      cause: error,
    });
  } finally {
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
