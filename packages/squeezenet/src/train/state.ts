import type { Adam, Module, Optimizer } from '@squeeze/core';
import type { Checkpoint } from '../checkpoint/checkpoint.js';

type HostTensors = Record<string, { shape: number[]; data: Float32Array }>;

/** The model's state dict read back to the host (weights and batch-norm running statistics). */
export async function modelState(model: Module): Promise<HostTensors> {
  const out: HostTensors = {};
  for (const [name, t] of Object.entries(model.stateDict())) out[name] = { shape: [...t.shape], data: (await t.data()) as Float32Array };
  return out;
}

/** The optimizer state as flat tensors named `<state>.<parameter>` (e.g. `exp_avg.conv1.weight`) plus per-parameter steps. */
export async function optimizerState(opt: Optimizer): Promise<HostTensors> {
  const sd = opt.stateDict();
  const out: HostTensors = {};
  for (const [param, states] of Object.entries(sd.state)) {
    for (const [stateName, t] of Object.entries(states)) {
      out[`${stateName}.${param}`] = { shape: [...t.shape], data: (await t.data()) as Float32Array };
    }
    out[`step.${param}`] = { shape: [], data: Float32Array.of(sd.paramSteps[param] ?? 0) };
  }
  return out;
}

export function restoreModel(model: Module, c: Checkpoint): void {
  model.loadStateDict(c.model, { strict: true });
}

export function restoreOptimizer(opt: Adam, c: Checkpoint): void {
  const state: Record<string, Record<string, { shape: number[]; data: Float32Array }>> = {};
  const paramSteps: Record<string, number> = {};
  for (const [key, t] of Object.entries(c.optimizer)) {
    const dot = key.indexOf('.');
    const stateName = key.slice(0, dot);
    const param = key.slice(dot + 1);
    if (stateName === 'step') { paramSteps[param] = t.data[0]!; continue; }
    (state[param] ??= {})[stateName] = t;
  }
  opt.loadStateDict({ step: c.meta.optimizer.step, state, paramSteps });
}
