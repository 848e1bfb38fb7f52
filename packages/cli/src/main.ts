#!/usr/bin/env node
// First: where the CLI's own stderr goes (see stderr.ts) must be settled before anything writes.
import './stderr.js';
import { main } from './cli.js';

// exitCode rather than process.exit(): output still being written to a pipe is not cut off.
process.exitCode = await main(process.argv.slice(2));
