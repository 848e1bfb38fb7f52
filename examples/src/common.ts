import { pathToFileURL } from 'node:url';
import { argmax, noGrad, tensor, tidy, type Module } from '@squeeze/core';
import { gather, type HostDataset } from './data.js';

/** Share of examples the model classifies correctly, in eval mode, `batchSize` at a time. */
export async function accuracy(model: Module, data: HostDataset, batchSize = 256): Promise<number> {
  const wasTraining = model.training;
  model.eval();
  const n = data.labels.length;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const batch = gather(data, indices);
    const predicted = noGrad(() => tidy(() => argmax(model.forward(tensor(batch.features, [indices.length, ...data.exampleShape])), 1)));
    const labels = await predicted.data();
    predicted.dispose();
    labels.forEach((p, i) => { if (p === batch.labels[i]) correct++; });
  }
  model.train(wasTraining);
  return correct / n;
}

/** true when the module at `moduleUrl` is the script Node was started with. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href;
}
