/**
 * A user's page script, as package.test.ts type-checks (bundler resolution, DOM types) and bundles
 * it for the browser from the unpacked packages: the browser entries, WebGPU's types from the package.
 */
import { init, tensor, matmul } from '@squeeze/core';
import { SqueezeNetCifar } from '@squeeze/squeezenet';

const device: GPUDevice = await (await navigator.gpu.requestAdapter())!.requestDevice();
await init({ device });
console.log(await matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([1, 0, 0, 1], [2, 2])).data());
console.log(new SqueezeNetCifar({ dataFormat: 'NCHW', seed: 1 }).parameters().length);
