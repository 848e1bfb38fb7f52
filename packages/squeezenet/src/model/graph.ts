import type { GraphDefInput } from '../formats/index.js';
import { squeezeNetOnnxGraph } from '../export/onnx-graph.js';
import type { DataFormat } from '@squeeze/core';
import { imageShape } from './squeezenet.js';

/**
 * The network as a TensorFlow GraphDef for TensorBoard's Graph tab: one node per layer op, named
 * with '/' scopes (`fire3/expand3x3/Conv2D`) so TensorBoard folds each fire module into a box.
 * Derived from the ONNX export's graph so both always describe the same network.
 */
const TF_OPS: Record<string, string> = {
  Conv: 'Conv2D', BatchNormalization: 'FusedBatchNormV3', Relu: 'Relu', MaxPool: 'MaxPool', AveragePool: 'AvgPool',
  Concat: 'ConcatV2', Flatten: 'Reshape', ArgMax: 'ArgMax',
};

export function squeezeNetGraphDef(shapes: Record<string, readonly number[]>, classes: number, dataFormat: DataFormat): GraphDefInput {
  // Only names and shapes matter here: zero-filled stand-ins for the weights.
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, s] of Object.entries(shapes)) weights[k] = { shape: [...s], data: new Float32Array(s.reduce((a, b) => a * b, 1)) };
  const g = squeezeNetOnnxGraph(weights, classes, {});
  const scoped = (name: string): string => name.replace(/\./g, '/');
  const nodes: GraphDefInput['nodes'] = [{ name: 'images', op: 'Placeholder', inputs: [], attrs: { shape: imageShape(dataFormat, -1), dtype: { type: 'DT_FLOAT' } } }];
  for (const init of g.initializers) {
    nodes.push({ name: scoped(init.name), op: 'VariableV2', inputs: [], attrs: { shape: init.dims, dtype: { type: 'DT_FLOAT' } } });
  }
  // ONNX inputs name values (node outputs); GraphDef inputs name nodes.
  const producer = new Map<string, string>();
  for (const n of g.nodes) for (const out of n.outputs) producer.set(out, n.name ?? out);
  for (const n of g.nodes) {
    nodes.push({
      name: scoped(n.name ?? n.outputs[0]!),
      op: TF_OPS[n.op] ?? n.op,
      inputs: n.inputs.map((i) => scoped(producer.get(i) ?? i)),
      attrs: { data_format: dataFormat },
    });
  }
  return { nodes };
}
