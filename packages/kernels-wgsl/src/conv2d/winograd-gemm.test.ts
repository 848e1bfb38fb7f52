import assert from 'node:assert/strict';
import { winogradTileFor } from './tuning.js';
import { winogradMatrices, winogradGemmFilterKernel, winogradInputKernel, winogradOutputKernel, type WinogradOutputTile } from './winograd-gemm.js';

/** Deterministic values in [-1, 1). */
const values = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => (((i + 1) * 7919 * seed) % 2000) / 1000 - 1);

const matVec = (M: number[][], v: number[]): number[] => M.map((row) => row.reduce((s, c, k) => s + c * v[k]!, 0));

describe('Winograd F(m×m, 3×3) matrices', () => {
  for (const m of [2, 4] as WinogradOutputTile[]) {
    it(`F(${m}, 3): Aᵀ[(G g) ⊙ (Bᵀ d)] is the 1-D correlation of d with g (float64)`, () => {
      const { alpha, BT, G, AT } = winogradMatrices(m);
      assert.equal(alpha, m + 2);
      assert.deepEqual([BT.length, BT[0]!.length, G.length, G[0]!.length, AT.length, AT[0]!.length], [alpha, alpha, alpha, 3, m, alpha]);
      for (const seed of [1, 2, 3]) {
        const d = values(alpha, seed);
        const g = values(3, seed + 10);
        const Gg = matVec(G, g);
        const Bd = matVec(BT, d);
        const y = matVec(AT, Gg.map((x, i) => x * Bd[i]!));
        const direct = Array.from({ length: m }, (_, i) => d[i]! * g[0]! + d[i + 1]! * g[1]! + d[i + 2]! * g[2]!);
        y.forEach((v, i) => assert.ok(Math.abs(v - direct[i]!) < 1e-12, `m=${m} y[${i}] ${v} vs ${direct[i]}`));
      }
    });
  }

  it('generates WGSL without the zero coefficients, and rejects what it cannot do', () => {
    const input = winogradInputKernel.wgsl({ m: 4, layout: 'NHWC', workgroup: 64, srcVec4: true });
    // Bᵀ row 0 of F(4, 3) is 4, 0, −5, 0, 1, 0: three terms.
    assert.match(input, /let e0_0 = 4\.0 \* d0_0 - 5\.0 \* d2_0 \+ d4_0;/);
    assert.match(winogradOutputKernel.wgsl({ m: 2, layout: 'NCHW', workgroup: 64, bias: true, dstVec4: false }), /biasAt/);
    assert.match(winogradGemmFilterKernel.wgsl({ m: 4, workgroup: 64, flip: true }), /wino\[35u \*/);
    assert.throws(() => winogradInputKernel.wgsl({ m: 4, layout: 'NCHW', workgroup: 64, srcVec4: true }), /NHWC/);
    assert.throws(() => winogradMatrices(3 as WinogradOutputTile), /2 or 4/);
  });
});

describe('winogradTileFor', () => {
  it('takes F(2×2, 3×3) below m2Below pixels in either dimension, else the tuning\'s m', () => {
    const w = { m: 4, m2Below: 8 } as const;
    assert.equal(winogradTileFor(w, 16, 16), 4);
    assert.equal(winogradTileFor(w, 8, 8), 4);
    assert.equal(winogradTileFor(w, 4, 4), 2);
    assert.equal(winogradTileFor(w, 16, 7), 2);
    assert.equal(winogradTileFor({ m: 4, m2Below: 0 }, 1, 1), 4);
  });
});
