import type { OnnxGraphInput, OnnxInitializer, OnnxNode } from '../formats/index.js';
import { BN_EPS, FIRE_SIZES, POOL_AFTER_FIRE } from '../model/squeezenet.js';

type HostTensors = Record<string, { shape: number[]; data: Float32Array }>;

/**
 * The SqueezeNet graph in ONNX (opset 13, always NCHW): input `images` [N,3,32,32] in [0,1],
 * outputs `logits` [N,classes] and `predictions` [N] int64. Batch norm is exported in inference
 * form (BatchNormalization with scale 1 and the running statistics). Initialisers keep the
 * checkpoint's names, so Netron shows the same names as PyTorch would.
 */
export function squeezeNetOnnxGraph(weights: HostTensors, classes: number, metadata: Record<string, string>): OnnxGraphInput {
  const initializers: OnnxInitializer[] = [];
  const nodes: OnnxNode[] = [];
  const init = (name: string): string => {
    const t = weights[name];
    if (!t) throw new Error(`export: tensor '${name}' is missing from the checkpoint`);
    initializers.push({ name, dims: t.shape, data: t.data });
    return name;
  };
  const constant = (name: string, data: Float32Array): string => {
    initializers.push({ name, dims: [data.length], data });
    return name;
  };
  /** TensorFlow SAME for stride 1: total pad k-1, the odd pixel at the bottom/right. */
  const samePads = (k: number): number[] => { const b = Math.floor((k - 1) / 2); const e = k - 1 - b; return [b, b, e, e]; };

  const convBnRelu = (input: string, prefix: string): string => {
    const w = weights[`${prefix}.weight`];
    if (!w) throw new Error(`export: tensor '${prefix}.weight' is missing from the checkpoint`);
    const [outC, , k] = w.shape as [number, number, number, number];
    const conv = `${prefix}/conv`;
    nodes.push({ op: 'Conv', name: conv, inputs: [input, init(`${prefix}.weight`)], outputs: [conv], attrs: { kernel_shape: [k, k], strides: [1, 1], pads: samePads(k) } });
    const bn = `${prefix}/bn`;
    nodes.push({
      op: 'BatchNormalization', name: bn,
      inputs: [conv, constant(`${prefix}.bn.scale`, new Float32Array(outC).fill(1)), init(`${prefix}.bn.bias`), init(`${prefix}.bn.running_mean`), init(`${prefix}.bn.running_var`)],
      outputs: [bn], attrs: { epsilon: { float: BN_EPS } },
    });
    const relu = `${prefix}/relu`;
    nodes.push({ op: 'Relu', name: relu, inputs: [bn], outputs: [relu] });
    return relu;
  };
  const maxPool = (input: string, name: string): string => {
    nodes.push({ op: 'MaxPool', name, inputs: [input], outputs: [name], attrs: { kernel_shape: [2, 2], strides: [2, 2] } });
    return name;
  };

  let h = maxPool(convBnRelu('images', 'conv1'), 'pool1');
  FIRE_SIZES.forEach((_, i) => {
    const k = i + 2;
    const s = convBnRelu(h, `fire${k}.squeeze`);
    const e1 = convBnRelu(s, `fire${k}.expand1x1`);
    const e3 = convBnRelu(s, `fire${k}.expand3x3`);
    const cat = `fire${k}/concat`;
    nodes.push({ op: 'Concat', name: cat, inputs: [e1, e3], outputs: [cat], attrs: { axis: 1 } });
    h = cat;
    if (POOL_AFTER_FIRE.has(k)) h = maxPool(h, `pool${k}`);
  });
  nodes.push({ op: 'AveragePool', name: 'pool10', inputs: [h], outputs: ['pool10'], attrs: { kernel_shape: [4, 4], strides: [4, 4] } });
  nodes.push({ op: 'Conv', name: 'conv10', inputs: ['pool10', init('conv10.weight'), init('conv10.bias')], outputs: ['conv10'], attrs: { kernel_shape: [1, 1] } });
  nodes.push({ op: 'Flatten', name: 'flatten', inputs: ['conv10'], outputs: ['logits'], attrs: { axis: 1 } });
  nodes.push({ op: 'ArgMax', name: 'argmax', inputs: ['logits'], outputs: ['predictions'], attrs: { axis: 1, keepdims: 0 } });
  return {
    opset: 13,
    graphName: 'squeezenet_cifar',
    inputs: [{ name: 'images', elemType: 'float', shape: ['N', 3, 32, 32] }],
    outputs: [{ name: 'logits', elemType: 'float', shape: ['N', classes] }, { name: 'predictions', elemType: 'int64', shape: ['N'] }],
    initializers,
    nodes,
    metadata,
    docString: 'SqueezeNet (TensorFlow squeezenet_cifar sample) trained with squeeze; input images in [0, 1], NCHW.',
  };
}
