import { FIRE_SIZES } from '../model/squeezenet.js';

/**
 * The state-dict names and shapes of SqueezeNetCifar for `classes` classes, computed without a GPU
 * from the same FIRE_SIZES the model is built from (export.test.ts compares them with a real
 * model's stateDict). `save` checks a checkpoint against them before it writes anything.
 */
export function squeezeNetStateShapes(classes: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  const convBn = (prefix: string, inC: number, outC: number, k: number): void => {
    out[`${prefix}.weight`] = [outC, inC, k, k];
    for (const s of ['bias', 'running_mean', 'running_var']) out[`${prefix}.bn.${s}`] = [outC];
  };
  convBn('conv1', 3, 96, 2);
  let c = 96;
  FIRE_SIZES.forEach(([s, e], i) => {
    const fire = `fire${i + 2}`;
    convBn(`${fire}.squeeze`, c, s, 1);
    convBn(`${fire}.expand1x1`, s, e, 1);
    convBn(`${fire}.expand3x3`, s, e, 3);
    c = 2 * e;
  });
  out['conv10.weight'] = [classes, c, 1, 1];
  out['conv10.bias'] = [classes];
  return out;
}

/** Differences between tensors and the expected names and shapes, as one phrase; null when they match. */
export function shapeMismatch(tensors: Record<string, { shape: number[] }>, expected: Record<string, number[]>): string | null {
  for (const [name, shape] of Object.entries(expected)) {
    const t = tensors[name];
    if (!t) return `tensor '${name}' is missing`;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) return `tensor '${name}' has shape [${t.shape}], the model needs [${shape}]`;
  }
  const extra = Object.keys(tensors).find((name) => !(name in expected));
  return extra === undefined ? null : `tensor '${extra}' is not part of the model`;
}
