// The project's fused kernels; exact semantics in packages/core/src/ops/kernel-names.ts. float32, row-major.
#pragma once
#include <cstdint>

namespace es {

struct AdamWParams {
  float lr, beta1, beta2, eps, decay, c1, c2;
};

void adamW(const float* p, const float* g, const float* m, const float* v, float* pOut, float* mOut, float* vOut,
           int64_t n, const AdamWParams& a);
void swiglu(const float* gate, const float* up, float* out, int64_t n);
void swigluGrad(const float* gate, const float* up, const float* dy, float* dgate, float* dup, int64_t n);
void gelu(const float* x, float* out, int64_t n);
void geluGrad(const float* x, const float* dy, float* dx, int64_t n);
// x: rows × d, row r at position r mod seq; cos/sin: seq × d/2.
void rope(const float* x, const float* cosT, const float* sinT, float* out, int64_t rows, int64_t seq, int64_t d,
          bool inverse);
void rmsNorm(const float* x, const float* w, float* out, int64_t n, int64_t d, float eps);
void rmsNormGrad(const float* x, const float* w, const float* dy, float* dx, float* dw, int64_t n, int64_t d, float eps);
// x: rows × seq; row r attends to keys 0..(r mod seq).
void causalSoftmax(const float* x, float* out, int64_t rows, int64_t seq, float scale);
void causalSoftmaxGrad(const float* y, const float* dy, float* dx, int64_t rows, int64_t seq, float scale);
// Out-of-range targets give a NaN loss (and no one-hot term in the gradient).
void crossEntropy(const float* logits, const int32_t* targets, float* loss, int64_t n, int64_t v);
void crossEntropyGrad(const float* logits, const int32_t* targets, const float* dy, float* out, int64_t n, int64_t v);

}  // namespace es
