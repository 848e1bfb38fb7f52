/** A small seedable generator (xoshiro128**) so that initialisation and data order are reproducible. */
export class Random {
    s;
    constructor(seed) {
        // splitmix32 expands the seed into the 128-bit state.
        this.s = new Uint32Array(4);
        let x = seed >>> 0;
        for (let i = 0; i < 4; i++) {
            x = (x + 0x9e3779b9) >>> 0;
            let z = x;
            z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
            z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
            this.s[i] = (z ^ (z >>> 16)) >>> 0;
        }
    }
    /** uniform 32-bit integer */
    nextU32() {
        const s = this.s;
        const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
        const t = (s[1] << 9) >>> 0;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 11);
        return result;
    }
    /** uniform in [0, 1) */
    next() { return this.nextU32() / 4294967296; }
    uniform(lo, hi) { return lo + (hi - lo) * this.next(); }
    /** standard normal (Box–Muller) */
    normal() {
        let u = this.next();
        while (u === 0)
            u = this.next();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
    }
    /** integer in [0, n) */
    int(n) { return Math.floor(this.next() * n); }
    /** Fisher–Yates permutation of 0..n-1 */
    permutation(n) {
        const p = new Uint32Array(n);
        for (let i = 0; i < n; i++)
            p[i] = i;
        for (let i = n - 1; i > 0; i--) {
            const j = this.int(i + 1);
            const t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
function rotl(x, k) { return ((x << k) | (x >>> (32 - k))) >>> 0; }
//# sourceMappingURL=random.js.map