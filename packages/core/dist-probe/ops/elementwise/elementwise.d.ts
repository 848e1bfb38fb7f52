import { type UnaryOp, type BinaryOp } from '@squeeze/kernels-wgsl';
import { type Tensor } from '../../tensor.js';
/** Runs a unary kernel without recording a gradient. */
export declare function mapUnary(op: UnaryOp, x: Tensor, scalar?: number): Tensor;
/** Runs a binary kernel with broadcasting, without recording a gradient. */
export declare function mapBinary(op: BinaryOp, a: Tensor, b: Tensor): Tensor;
export declare function neg(x: Tensor): Tensor;
export declare function exp(x: Tensor): Tensor;
export declare function log(x: Tensor): Tensor;
export declare function sqrt(x: Tensor): Tensor;
export declare function relu(x: Tensor): Tensor;
export declare function sigmoid(x: Tensor): Tensor;
export declare function tanh(x: Tensor): Tensor;
export declare function addScalar(x: Tensor, s: number): Tensor;
export declare function mulScalar(x: Tensor, s: number): Tensor;
export declare function square(x: Tensor): Tensor;
export declare function add(a: Tensor, b: Tensor): Tensor;
export declare function sub(a: Tensor, b: Tensor): Tensor;
export declare function mul(a: Tensor, b: Tensor): Tensor;
export declare function div(a: Tensor, b: Tensor): Tensor;
/** Element-wise maximum; where a == b the gradient goes to a (as PyTorch's first-operand choice). */
export declare function maximum(a: Tensor, b: Tensor): Tensor;
