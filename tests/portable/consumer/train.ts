/**
 * A user's program, as package.test.ts installs it in an empty folder next to the packed packages:
 * opens a device with WebGPU's default limits itself, hands it to squeeze, trains a small CNN with
 * Adam and exits non-zero unless the loss falls. Type-checked with tsc --strict.
 */
import { create, globals } from 'webgpu';
import {
  init, shutdown, tidy, tensor, Random, Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear,
  Adam, crossEntropyLoss,
} from '@squeeze/core';
import { SqueezeNetCifar } from '@squeeze/squeezenet';

Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) throw new Error('no WebGPU adapter');
const device: GPUDevice = await adapter.requestDevice(); // WebGPU's default limits
await init({ device });

// Two classes of 8×8 images: a bright left half or a bright right half, under noise.
const rng = new Random(1);
const batch = 16;
const xs = new Float32Array(batch * 64);
const ys = new Int32Array(batch);
for (let n = 0; n < batch; n++) {
  ys[n] = n % 2;
  for (let i = 0; i < 64; i++) xs[n * 64 + i] = ((i % 8 < 4) === (ys[n] === 0) ? 1 : 0) + rng.uniform(-0.3, 0.3);
}
const model = new Sequential(
  new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
  new Flatten(), new Linear(4 * 4 * 4, 2),
);
const optimizer = new Adam(model.namedParameters(), { lr: 1e-2 });
const losses: number[] = [];
for (let step = 0; step < 20; step++) {
  const loss = tidy(() => {
    const l = crossEntropyLoss(model.forward(tensor(xs, [batch, 1, 8, 8])), tensor(ys, [batch], 'i32'));
    l.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return l;
  });
  losses.push(await loss.item());
  loss.dispose();
}
console.log(`device limits: ${device.limits.maxStorageBuffersPerShaderStage} storage buffers per stage`);
console.log(`loss: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
const net: SqueezeNetCifar = new SqueezeNetCifar({ dataFormat: 'NCHW', seed: 1 });
console.log(`squeezenet_cifar parameters: ${net.parameters().reduce((s, p) => s + p.size, 0)}`);
net.dispose();
optimizer.dispose();
model.dispose();
shutdown();
device.destroy();
if (!(losses.at(-1)! < losses[0]! / 2)) { console.error('loss did not fall'); process.exit(1); }
