import { createStore, get, set } from 'idb-keyval';
import type { CheckpointMeta } from '@squeeze/squeezenet';

export type HostTensors = Record<string, { shape: number[]; data: Float32Array }>;

/** A training checkpoint as `squeeze train` writes one (model, optimizer state, metadata), kept in the browser. */
export interface StoredCheckpoint { meta: CheckpointMeta; model: HostTensors; optimizer: HostTensors }

/*
 * One checkpoint per page origin in IndexedDB (typed arrays are stored as they are): the newest,
 * which Resume continues from, as `squeeze train` resumes from the newest in --model_dir.
 */
const store = createStore('squeeze-web', 'checkpoints');
const KEY = 'latest';

export async function loadCheckpoint(): Promise<StoredCheckpoint | null> {
  return (await get<StoredCheckpoint>(KEY, store)) ?? null;
}

export async function saveCheckpoint(c: StoredCheckpoint): Promise<void> {
  await set(KEY, c, store);
}

