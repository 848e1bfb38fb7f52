#!/usr/bin/env node
import { main } from './cli.js';

// exitCode rather than process.exit(): output still being written to a pipe is not cut off.
process.exitCode = await main(process.argv.slice(2));
