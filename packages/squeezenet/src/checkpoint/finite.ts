/* No files here: checkpoints, exports and the web page check their tensors the same way. */

export type HostTensors = Record<string, { shape: number[]; data: Float32Array }>;

/** The first non-finite value (NaN, ±∞) among the tensors, or null when all are finite. */
export function findNonFinite(groups: HostTensors[]): { name: string; index: number; value: number } | null {
  for (const tensors of groups) {
    for (const [name, t] of Object.entries(tensors)) {
      const d = t.data;
      for (let i = 0; i < d.length; i++) {
        // x - x is 0 for finite x and NaN for NaN and ±∞: one comparison per value.
        if (d[i]! - d[i]! !== 0) return { name, index: i, value: d[i]! };
      }
    }
  }
  return null;
}
