import { openDevice } from './dawn.js';
import { setPlatform } from './global.js';
import { throttleNativePolling } from './polling.js';

/**
 * In Node, `init()` opens a device through Dawn; reads sleep for the GPU time they expect before
 * mapping (see Runtime.read) and Dawn's busy polling is throttled (see polling.ts): both are about
 * how Dawn's binding learns of finished work, which a page's event loop does not share.
 */
setPlatform({
  open: (opts) => openDevice(opts),
  runtime: { pacedReads: true },
  prepare: throttleNativePolling,
});
