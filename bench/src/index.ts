import type { DataFormat } from '@squeeze/core';
export { runBench, BenchFilterError, type BenchOptions, type BenchResult } from './bench.js';
export { formatBench, textTable, writeBenchJson } from './report.js';
export {
  measureShape, convStepTotals, relateConvRows, CONV_PASSES,
  type ConvPass, type ConvRow, type ConvStepTotal, type GemmRow,
} from './kernels.js';
export {
  benchTrainingSteps, kernelKind, kernelKindTotals, memorySnapshot, KERNEL_KINDS,
  type KernelKind, type KernelKindTotals, type MemorySnapshot, type StepMemory, type StepRow,
} from './step.js';
export { distinctConvShapes, gemmSizes, squeezeNetConvLayers, type ConvShape } from './shapes.js';
export { gflops, gpuMsOf, measureGpuWork, measureTakingTurns, timeGpuWork, timingOf, type Clock, type Timing } from './measure.js';
export { PYTHON_CANDIDATES, PYTORCH_SCRIPT, PyTorchStep, findTorchPython, type PyTorchRow } from './pytorch.js';
