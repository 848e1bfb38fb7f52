/** float64 references of the activations (JavaScript has no erf: `erf64` below is exact to ~1e-15). */

/** erf to double precision: its Maclaurin series below |x| = 3, erfc's continued fraction above. */
export function erf64(x: number): number {
  const a = Math.abs(x);
  if (a < 3) {
    // 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
    let term = a;
    let sum = a;
    for (let n = 1; n < 100 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= -(a * a) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = e^(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), evaluated from the tail
  let k = a;
  for (let n = 80; n >= 1; n--) k = a + n / 2 / k;
  return Math.sign(x) * (1 - Math.exp(-a * a) / (Math.sqrt(Math.PI) * k));
}

export const geluRef = (x: number): number => 0.5 * x * (1 + erf64(x / Math.SQRT2));
export const geluTanhRef = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
export const siluRef = (x: number): number => x / (1 + Math.exp(-x));
export const leakyReluRef = (slope: number) => (x: number): number => (x > 0 ? x : slope * x);
export const clampRef = (lo: number, hi: number) => (x: number): number => Math.min(Math.max(x, lo), hi);
