/**
 * README's Node snippet ("Use squeeze in your project"), as package.test.ts builds and runs it
 * from the unpacked packages: `init()` opens Dawn's device; no import of webgpu of its own.
 */
import { init, tidy, tensor, Sequential, Conv2d, ReLU, Flatten, Linear, Adam, crossEntropyLoss, shutdown } from '@squeeze/core';

await init();
const images = Float32Array.from({ length: 16 * 8 * 8 }, Math.random);
const labels = Int32Array.from({ length: 16 }, (_, i) => i % 2);
const model = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new ReLU(), new Flatten(), new Linear(4 * 8 * 8, 2));
const optimizer = new Adam(model.namedParameters(), { lr: 1e-2 });
const loss = tidy(() => {
  const l = crossEntropyLoss(model.forward(tensor(images, [16, 1, 8, 8])), tensor(labels, [16], 'i32'));
  l.backward(); optimizer.step(); optimizer.zeroGrad();
  return l;
});
console.log(await loss.item());
shutdown();
