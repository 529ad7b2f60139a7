/**
 * Fused kernels of the project: their names and exact semantics. core registers a JavaScript
 * implementation of each for the stock `cpu` backend (cpu-kernels.ts), backend-native registers C++ ones
 * for `native`, and on any other backend the model falls back to composing stock tfjs ops (fused.ts).
 * All tensors are float32 and row-major unless said otherwise.
 *
 * EsAdamW        inputs {param, grad, m, v} (same shape); attrs {lr, beta1, beta2, eps, decay, c1, c2};
 *                outputs [param', m', v']:
 *                  m' = beta1·m + (1 − beta1)·g
 *                  v' = beta2·v + (1 − beta2)·g²
 *                  param' = param·(1 − decay) − lr·(m'/c1) / (sqrt(v'/c2) + eps)
 *                (decay is lr·weightDecay, or 0 for weights that are not decayed; c1, c2 the bias corrections)
 * EsSwiGLU       inputs {gate, up} (same shape); output silu(gate)·up = gate·σ(gate)·up
 * EsSwiGLUGrad   inputs {gate, up, dy}; outputs [dgate, dup]:
 *                  s = σ(gate); dup = dy·gate·s; dgate = dy·up·s·(1 + gate·(1 − s))
 * EsGelu         inputs {x}; output the tanh-form GELU (Hugging Face's gelu_new, PyTorch's approximate='tanh'):
 *                  y = 0.5·x·(1 + tanh(z)) = x·σ(2z), z = √(2/π)·(x + 0.044715·x³)
 * EsGeluGrad     inputs {x, dy}; output dx = dy·(s + x·s(1 − s)·2z'), s = σ(2z), z' = √(2/π)·(1 + 3·0.044715·x²)
 *                (the second term is 0 wherever s(1 − s) is 0, so that a huge |x| gives dy or 0, not NaN)
 * EsRope         inputs {x [..., seq, d], cos [seq, d/2], sin [seq, d/2]}; attrs {inverse: boolean};
 *                for position t (the second-to-last axis) and i < d/2, with x1 = x[..., t, i], x2 = x[..., t, i + d/2]:
 *                  out[..., t, i] = x1·cos[t,i] − x2·sin[t,i];  out[..., t, i + d/2] = x2·cos[t,i] + x1·sin[t,i]
 *                inverse: the same with −sin (the rotation's inverse, which is also its gradient)
 * EsRmsNorm      inputs {x [n, d], weight [d]}; attrs {eps}; output y = x·r·weight, r = 1/sqrt(mean(x²) + eps) per row
 * EsRmsNormGrad  inputs {x, weight, dy}; attrs {eps}; outputs [dx [n, d], dweight [d]]:
 *                  xhat = x·r; dweight = Σ_rows dy·xhat; g = dy·weight; dx = r·(g − xhat·mean(g·xhat)) per row
 * EsCausalSoftmax  inputs {scores [..., rows, seq]} with rows a multiple of seq (grouped-query heads stack
 *                `rows/seq` query blocks); attrs {scale}; row r attends to keys j ≤ r mod seq:
 *                  y[..., r, j] = exp(scale·s_j − max) / Σ_{j' ≤ r mod seq} exp(scale·s_j' − max) for j ≤ r mod seq, else 0
 * EsCausalSoftmaxGrad  inputs {y, dy}; attrs {scale}; output dx = scale·y·(dy − Σ_j dy·y) per row
 * EsCrossEntropy inputs {logits [n, v], targets [n] int32}; output loss [n] = logsumexp(logits_i) − logits_i[t_i]
 * EsCrossEntropyGrad  inputs {logits, targets, dy [n]}; output dlogits [n, v] = (softmax(logits_i) − onehot(t_i))·dy_i
 * EsSumSquares   inputs {x} (any shape); output the scalar Σ x² (for the gradient clip's global norm; no
 *                gradient). Only backends that cannot read a tensor back cheaply register it (webgpu): elsewhere
 *                tf.sum(tf.square(x)) keeps the numbers exactly as before.
 */
export const kernelNames = {
  adamW: 'EsAdamW',
  swiglu: 'EsSwiGLU',
  swigluGrad: 'EsSwiGLUGrad',
  gelu: 'EsGelu',
  geluGrad: 'EsGeluGrad',
  rope: 'EsRope',
  rmsNorm: 'EsRmsNorm',
  rmsNormGrad: 'EsRmsNormGrad',
  causalSoftmax: 'EsCausalSoftmax',
  causalSoftmaxGrad: 'EsCausalSoftmaxGrad',
  crossEntropy: 'EsCrossEntropy',
  crossEntropyGrad: 'EsCrossEntropyGrad',
} as const;

/** Kernels beyond the fused set above that only some backends register (see each one's contract). */
export const optionalKernelNames = {
  sumSquares: 'EsSumSquares',
} as const;
