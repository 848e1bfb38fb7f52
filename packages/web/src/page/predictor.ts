import {
  ARCHITECTURE, DataError, decodeExportWeights, encodeExportWeights, exportedModel, exportLabelsText, modelInputFromRgba, modelLogits, parseLabels,
  prediction, type ExportMetadata, type Prediction, type SqueezeNetCifar,
} from '@squeeze/squeezenet';
import type { HostTensors } from './checkpoint-store.js';
import type { DataFormat } from '@squeeze/core';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A model ready to classify images, as `squeeze predict` loads one (`Classifier`). */
export class Predictor {
  private constructor(readonly model: SqueezeNetCifar, readonly labels: string[], readonly dataFormat: DataFormat) {}

  /** The export `squeeze save` wrote, as the server serves it. */
  static async fromServer(weightsUrl: string, labelsUrl: string, dataFormat: DataFormat): Promise<Predictor> {
    const [weights, labelsText] = await Promise.all([fetchOk(weightsUrl).then((r) => r.arrayBuffer()), fetchOk(labelsUrl).then((r) => r.text())]);
    const exported = decodeExportWeights(new Uint8Array(weights), weightsUrl);
    const labels = parseLabels(labelsText, labelsUrl);
    return new Predictor(exportedModel(exported.weights, exported.meta.classes.length, dataFormat), labels, dataFormat);
  }

  /** The model trained in this page (its last checkpoint's weights). */
  static fromTrained(weights: HostTensors, classes: string[], dataFormat: DataFormat): Predictor {
    return new Predictor(exportedModel(weights, classes.length, dataFormat), classes, dataFormat);
  }

  /** Classifies one PNG: decoded by the browser, then prepared and run as `squeeze predict` does. */
  async predict(name: string, png: Blob): Promise<{ prediction: Prediction; pixels: ImageData }> {
    const pixels = await decodePng(name, png);
    const input = modelInputFromRgba(pixels.data, pixels.width, pixels.height);
    const [logits] = await modelLogits(this.model, [input]);
    return { prediction: prediction(name, logits!, this.labels), pixels };
  }

  dispose(): void { this.model.dispose(); }
}

/** The two files `squeeze save` writes into `<model_dir>/models/`, from a model's weights. */
export function exportFiles(weights: HostTensors, meta: Omit<ExportMetadata, 'architecture'>): { weights: Uint8Array; labels: string } {
  return { weights: encodeExportWeights(weights, { architecture: ARCHITECTURE, ...meta }), labels: exportLabelsText(meta.classes) };
}

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: the server answered ${r.status} ${r.statusText}`);
  return r;
}

/**
 * 8-bit RGBA pixels of a PNG as the file stores them: no colour-space conversion and no alpha
 * premultiplication, so opaque images give pngjs's bytes.
 */
async function decodePng(name: string, png: Blob): Promise<ImageData> {
  const head = new Uint8Array(await png.slice(0, 8).arrayBuffer());
  if (head.length < 8 || PNG_SIGNATURE.some((b, i) => head[i] !== b)) throw new DataError(`${name}: not a PNG file; convert the image to PNG first.`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(png, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new DataError(`${name}: damaged or truncated PNG (${(e as Error).message}); re-export or re-download the image.`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}
