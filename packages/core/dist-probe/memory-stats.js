import { liveTensorCount } from './memory.js';
import { getRuntime } from './runtime/global.js';
/** A snapshot of tensor and GPU-buffer accounting, to spot leaks in training loops. */
export function memory() {
    const pool = getRuntime().pool.stats();
    return {
        liveTensors: liveTensorCount(),
        bytesInUse: pool.bytesInUse,
        bytesPooled: pool.bytesPooled,
        poolHighWater: pool.highWater,
        buffersCreated: pool.buffersCreated,
    };
}
//# sourceMappingURL=memory-stats.js.map