// The project's fused kernels (semantics in packages/core/src/ops/kernel-names.ts): one pass over the
// data where the composed tfjs ops would take several, threaded over rows or elements.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "fastmath.h"
#include "fused.h"
#include "pool.h"

namespace es {
namespace {

constexpr int64_t kGrain = 1 << 14;  // elements per thread below which a kernel stays single-threaded

// Rows per thread so that a thread gets at least kGrain elements.
inline int64_t rowGrain(int64_t cols) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1)); }

inline float dotF(const float* __restrict a, const float* __restrict b, int64_t n) {
  // 16 independent partial sums: vectorised without reassociation flags
  float acc[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  float s = 0.f;
  for (int j = 0; j < 16; ++j) s += acc[j];
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// max of scale·x over a row, ignoring NaN (a NaN then reaches every output through exp and the sum);
// -inf for an empty or all-NaN row. 16 lanes so that it vectorises.
inline float maxRow(const float* __restrict x, int64_t n, float scale) {
  float lanes[16];
  for (int k = 0; k < 16; ++k) lanes[k] = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int k = 0; k < 16; ++k) {
      const float v = scale * x[i + k];
      lanes[k] = v > lanes[k] ? v : lanes[k];
    }
  float m = -std::numeric_limits<float>::infinity();
  for (; i < n; ++i) { const float v = scale * x[i]; m = v > m ? v : m; }
  for (int k = 0; k < 16; ++k) m = lanes[k] > m ? lanes[k] : m;
  return m;
}

inline bool finite(float v) { return std::fabs(v) < std::numeric_limits<float>::infinity(); }

// o[j] = exp(scale·x[j] − m) for j < n: fastExp when m is finite, libm's exp otherwise (the reference's
// NaN for inf − inf). Returns the sum.
inline float expShifted(const float* __restrict x, float* __restrict o, int64_t n, float scale, float m) {
  if (finite(m)) {
    for (int64_t j = 0; j < n; ++j) o[j] = fastExp(scale * x[j] - m);
  } else {
    for (int64_t j = 0; j < n; ++j) o[j] = std::exp(scale * x[j] - m);
  }
  return sumFloat(o, n);
}

}  // namespace

// Hot loops take restrict pointers and scalars as their own parameters (or locals): through a lambda's
// captured references the compiler may assume that a store changes them, and not vectorise.

namespace {
void adamWRange(const float* __restrict p, const float* __restrict g, const float* __restrict m, const float* __restrict v,
                float* __restrict pOut, float* __restrict mOut, float* __restrict vOut, int64_t s, int64_t e,
                const AdamWParams a) {
  const float b1 = a.beta1, b2 = a.beta2, lr = a.lr, eps = a.eps;
  const float ob1 = 1.f - a.beta1, ob2 = 1.f - a.beta2, keep = 1.f - a.decay;
  const float ic1 = 1.f / a.c1, ic2 = 1.f / a.c2;
  for (int64_t i = s; i < e; ++i) {
    const float gi = g[i];
    const float mi = b1 * m[i] + ob1 * gi;
    const float vi = b2 * v[i] + ob2 * (gi * gi);
    mOut[i] = mi;
    vOut[i] = vi;
    pOut[i] = p[i] * keep - lr * (mi * ic1) / (std::sqrt(vi * ic2) + eps);
  }
}

void ropeRow(const float* __restrict x1, const float* __restrict x2, const float* __restrict c,
             const float* __restrict sn, float* __restrict o1, float* __restrict o2, int64_t h, float sign) {
  for (int64_t i = 0; i < h; ++i) {
    const float ci = c[i], si = sign * sn[i], a = x1[i], b = x2[i];
    o1[i] = a * ci - b * si;
    o2[i] = b * ci + a * si;
  }
}
}  // namespace

void adamW(const float* p, const float* g, const float* m, const float* v, float* pOut, float* mOut, float* vOut,
           int64_t n, const AdamWParams& a) {
  parallelFor(n, kGrain, [&](int64_t s, int64_t e) { adamWRange(p, g, m, v, pOut, mOut, vOut, s, e, a); });
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  parallelFor(n, kGrain, [&](int64_t s, int64_t e) {
    const float* __restrict G = gate;
    const float* __restrict U = up;
    float* __restrict O = out;
    for (int64_t i = s; i < e; ++i) {
      const float x = G[i];
      O[i] = x * fastSigmoid(x) * U[i];
    }
  });
}

void swigluGrad(const float* gate, const float* up, const float* dy, float* dgate, float* dup, int64_t n) {
  parallelFor(n, kGrain, [&](int64_t s, int64_t e) {
    const float* __restrict G = gate;
    const float* __restrict U = up;
    const float* __restrict D = dy;
    float* __restrict DG = dgate;
    float* __restrict DU = dup;
    for (int64_t i = s; i < e; ++i) {
      const float x = G[i], d = D[i];
      const float sg = fastSigmoid(x);
      DU[i] = d * x * sg;
      DG[i] = d * U[i] * sg * (1.f + x * (1.f - sg));
    }
  });
}

namespace {
// GELU's tanh form as x·σ(2z) with 2z = kGeluK0·(x + kGeluCubic·x³) (kernel-names.ts)
constexpr float kGeluK0 = 1.5957691216057308f;  // 2·√(2/π)
constexpr float kGeluCubic = 0.044715f;

void geluRange(const float* __restrict x, float* __restrict out, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) {
    const float v = x[i];
    out[i] = v * fastSigmoid(kGeluK0 * (v + kGeluCubic * (v * v * v)));
  }
}

void geluGradRange(const float* __restrict x, const float* __restrict dy, float* __restrict dx, int64_t s, int64_t e) {
  for (int64_t i = s; i < e; ++i) {
    const float v = x[i];
    const float sg = fastSigmoid(kGeluK0 * (v + kGeluCubic * (v * v * v)));
    const float q = sg * (1.f - sg);
    const float slope = v * q * (kGeluK0 * (1.f + 3.f * kGeluCubic * (v * v)));
    dx[i] = dy[i] * (sg + (q > 0.f ? slope : 0.f));
  }
}
}  // namespace

void gelu(const float* x, float* out, int64_t n) {
  parallelFor(n, kGrain, [&](int64_t s, int64_t e) { geluRange(x, out, s, e); });
}

void geluGrad(const float* x, const float* dy, float* dx, int64_t n) {
  parallelFor(n, kGrain, [&](int64_t s, int64_t e) { geluGradRange(x, dy, dx, s, e); });
}

void rope(const float* x, const float* cosT, const float* sinT, float* out, int64_t rows, int64_t seq, int64_t d,
          bool inverse) {
  const int64_t h = d / 2;
  const float sign = inverse ? -1.f : 1.f;
  parallelFor(rows, rowGrain(d), [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; ++row) {
      const int64_t t = row % seq;
      const float* xr = x + row * d;
      float* o = out + row * d;
      ropeRow(xr, xr + h, cosT + t * h, sinT + t * h, o, o + h, h, sign);
    }
  });
}

void rmsNorm(const float* x, const float* w, float* out, int64_t n, int64_t d, float eps) {
  parallelFor(n, rowGrain(d), [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; ++row) {
      const float* __restrict xr = x + row * d;
      float* __restrict o = out + row * d;
      const float r = 1.f / std::sqrt(dotF(xr, xr, d) / static_cast<float>(d) + eps);
      for (int64_t i = 0; i < d; ++i) o[i] = xr[i] * r * w[i];
    }
  });
}

void rmsNormGrad(const float* x, const float* w, const float* dy, float* dx, float* dw, int64_t n, int64_t d, float eps) {
  // dweight is a sum over rows: each chunk of rows accumulates its own partial sums (in double), added at the end.
  const int chunks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(Pool::instance().threads(), n * d / kGrain)));
  std::vector<double> partial(static_cast<size_t>(chunks) * d, 0.0);
  auto work = [&](int64_t cs, int64_t ce) {
    std::vector<float> g(d);
    for (int64_t c = cs; c < ce; ++c) {
      double* __restrict acc = partial.data() + c * d;
      const int64_t r0 = n * c / chunks, r1 = n * (c + 1) / chunks;
      for (int64_t row = r0; row < r1; ++row) {
        const float* __restrict xr = x + row * d;
        const float* __restrict dyr = dy + row * d;
        float* __restrict dxr = dx + row * d;
        float* __restrict gr = g.data();
        const float r = 1.f / std::sqrt(dotF(xr, xr, d) / static_cast<float>(d) + eps);
        for (int64_t i = 0; i < d; ++i) {
          const float xhat = xr[i] * r;
          acc[i] += static_cast<double>(dyr[i] * xhat);
          gr[i] = dyr[i] * w[i];
        }
        const float mean = dotF(gr, xr, d) * r / static_cast<float>(d);
        for (int64_t i = 0; i < d; ++i) dxr[i] = r * (gr[i] - xr[i] * r * mean);
      }
    }
  };
  if (chunks == 1) work(0, 1);
  else Pool::instance().parallelFor(chunks, 1, work);
  for (int64_t i = 0; i < d; ++i) {
    double s = 0;
    for (int c = 0; c < chunks; ++c) s += partial[c * d + i];
    dw[i] = static_cast<float>(s);
  }
}

void causalSoftmax(const float* x, float* out, int64_t rows, int64_t seq, float scale) {
  parallelFor(rows, rowGrain(seq), [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; ++row) {
      const float* __restrict in = x + row * seq;
      float* __restrict o = out + row * seq;
      const int64_t len = row % seq + 1;  // keys 0..(row mod seq)
      const float sum = expShifted(in, o, len, scale, maxRow(in, len, scale));
      const float inv = 1.f / sum;
      for (int64_t j = 0; j < len; ++j) o[j] *= inv;
      for (int64_t j = len; j < seq; ++j) o[j] = 0.f;
    }
  });
}

void causalSoftmaxGrad(const float* y, const float* dy, float* dx, int64_t rows, int64_t seq, float scale) {
  parallelFor(rows, rowGrain(seq), [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; ++row) {
      const float* __restrict yr = y + row * seq;
      const float* __restrict dyr = dy + row * seq;
      float* __restrict o = dx + row * seq;
      const float dot = dotF(dyr, yr, seq);
      for (int64_t j = 0; j < seq; ++j) o[j] = scale * yr[j] * (dyr[j] - dot);
    }
  });
}

namespace {
// A row's max m, the number of entries equal to it, and rest = Σ exp(x − m) over the entries below it:
// Σ exp(x − m) = count + rest, and log of it = log(count) + log1p(rest / count) keeps full relative
// precision when one logit dominates (a tiny loss). m is NaN when the row holds a NaN.
struct RowStats {
  float m, count, rest;
  float logSum() const { return std::log(count) + std::log1p(rest / count); }
  float sum() const { return count + rest; }
};

// tmp: v floats of scratch.
inline RowStats rowStats(const float* __restrict x, float* __restrict tmp, int64_t v) {
  RowStats st;
  const float m = st.m = maxRow(x, v, 1.f);
  if (!finite(m)) {
    // all NaN, or infinities: the plain formula (inf − inf is NaN, as in the reference)
    st.count = 1.f;
    st.rest = expShifted(x, tmp, v, 1.f, m) - 1.f;
    return st;
  }
  float cnt[16] = {0};
  int64_t j = 0;
  for (; j + 16 <= v; j += 16)
    for (int k = 0; k < 16; ++k) cnt[k] += x[j + k] == m ? 1.f : 0.f;
  float c = 0.f;
  for (; j < v; ++j) c += x[j] == m ? 1.f : 0.f;
  for (int k = 0; k < 16; ++k) c += cnt[k];
  // the max entries' exp(0) = 1 are counted apart; a NaN entry stays in `rest` and makes it NaN
  for (j = 0; j < v; ++j) tmp[j] = x[j] == m ? 0.f : fastExp(x[j] - m);
  st.count = c;
  st.rest = sumFloat(tmp, v);
  return st;
}
}  // namespace

void crossEntropy(const float* logits, const int32_t* targets, float* loss, int64_t n, int64_t v) {
  parallelFor(n, rowGrain(v), [&](int64_t s, int64_t e) {
    std::vector<float> tmp(v);
    for (int64_t i = s; i < e; ++i) {
      const float* row = logits + i * v;
      const RowStats st = rowStats(row, tmp.data(), v);
      const int32_t t = targets[i];
      loss[i] = t >= 0 && t < v ? (st.m - row[t]) + st.logSum() : std::numeric_limits<float>::quiet_NaN();
    }
  });
}

void crossEntropyGrad(const float* logits, const int32_t* targets, const float* dy, float* out, int64_t n, int64_t v) {
  parallelFor(n, rowGrain(v), [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) {
      const float* __restrict row = logits + i * v;
      float* __restrict o = out + i * v;
      const RowStats st = rowStats(row, o, v);  // leaves exp(x − m) in o, except 0 at the max entries
      const float d = dy[i], m = st.m, f = d / st.sum();
      for (int64_t j = 0; j < v; ++j) o[j] = (row[j] == m ? 1.f : o[j]) * f;
      const int32_t t = targets[i];
      if (t >= 0 && t < v) o[t] -= d;
    }
  });
}

}  // namespace es
