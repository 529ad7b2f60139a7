// silu(gate)·up: core's fused kernel (one pass, and a fused gradient) on the backends that have it,
// stock tfjs ops elsewhere; the same one the dense FFN uses, so dense and low-rank compare fairly.
export { swiglu } from '@efficientscale/core';
