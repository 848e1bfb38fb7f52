import { CHECKPOINT_DIR } from '../checkpoint/checkpoint.js';
import { EXPORT_DIR } from '../export/save.js';

/**
 * What training, saving, plotting and tracing write in a model folder (`--model_dir`), named once
 * for the code that cleans it. Everything else there (the dataset, when it shares the folder) is
 * not the model's.
 */
const PLOTS_DIR = 'plots';

export const MODEL_DIR_LAYOUT = {
  /** The charts of `squeeze plot` (its default output folder). */
  plotsDir: PLOTS_DIR,
  /** Folders owned by the model: checkpoints, the export, the charts. */
  folders: [CHECKPOINT_DIR, EXPORT_DIR, PLOTS_DIR],
  /** The evaluation event files' folder. */
  evalDir: 'eval',
  /** TensorBoard event files, in the folder and in evalDir. */
  eventFile: /^events\.out\.tfevents\./,
  /** Chrome traces of `squeeze trace`. */
  traceFile: /^cifar_trace_.*\.json$/,
  /** Debris of an export interrupted between its two renames (see saveModel). */
  exportDebris: new RegExp(`^${EXPORT_DIR}\\.(tmp|old)-`),
} as const;
