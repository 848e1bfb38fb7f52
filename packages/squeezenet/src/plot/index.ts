/** Charts of training runs and benchmarks, from their event and result files. */
export { PlotError } from './errors.js';
export { plotTraining, trainingCurves, type TrainingCurves } from './plot-training.js';
export { plotBench, readBenchSteps, type BenchStep } from './plot-bench.js';
