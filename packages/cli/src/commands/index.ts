import type { Command, FlagSpecs } from '../flags.js';
import bench from './bench.js';
import clean from './clean.js';
import doctor from './doctor.js';
import plot from './plot.js';
import predict from './predict.js';
import save from './save.js';
import setup from './setup.js';
import trace from './trace.js';
import train from './train.js';
import web from './web.js';

/** Every `squeeze` command, in the order a user meets them (as listed by `squeeze --help`). */
export const COMMANDS: readonly Command<FlagSpecs>[] = [doctor, setup, train, save, predict, web, plot, trace, bench, clean];
