import { type Tensor } from '../../tensor.js';
export interface DropoutOptions {
    /** dropout acts only in training; in evaluation it is the identity. */
    training: boolean;
    /** u32 seed of the mask (same seed, same mask); drawn from an internal generator when omitted. */
    seed?: number;
}
/**
 * Inverted dropout: in training each element is zeroed with probability p and survivors are scaled
 * by 1/(1−p), so evaluation (the identity, a view) needs no rescaling. The mask is a hash of
 * (seed, element index): the gradient regenerates it rather than storing it.
 */
export declare function dropout(x: Tensor, p: number, opts: DropoutOptions): Tensor;
