#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "fastmath.h"
#include "kernels.h"
#include "pool.h"

namespace es {
namespace {

constexpr int64_t kGrain = 1 << 15;

// Sum of a contiguous float row in double with independent accumulators.
inline double sumRow(const float* __restrict x, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += x[i + j];
  double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) s += x[i];
  return s;
}

template <typename T, bool IsMax>
inline T extremeOf(T acc, T v) {
  if constexpr (std::is_floating_point_v<T>) {
    if (acc != acc) return acc;
    if (v != v) return v;  // NaN propagates, as in tfjs
  }
  return IsMax ? (v > acc ? v : acc) : (v < acc ? v : acc);
}

template <typename T, bool IsMax>
void extreme(const T* x, T* out, int64_t outer, int64_t r, int64_t inner) {
  parallelFor(outer * inner, std::max<int64_t>(1, kGrain / std::max<int64_t>(r, 1)), [&](int64_t s, int64_t e) {
    if (inner == 1) {
      for (int64_t o = s; o < e; ++o) {
        const T* row = x + o * r;
        T acc = row[0];
        for (int64_t i = 1; i < r; ++i) acc = extremeOf<T, IsMax>(acc, row[i]);
        out[o] = acc;
      }
      return;
    }
    for (int64_t p = s; p < e;) {
      const int64_t o = p / inner, j0 = p % inner, j1 = std::min(inner, j0 + (e - p));
      const T* base = x + o * r * inner;
      T* dst = out + o * inner;
      for (int64_t j = j0; j < j1; ++j) dst[j] = base[j];
      for (int64_t i = 1; i < r; ++i) {
        const T* row = base + i * inner;
        for (int64_t j = j0; j < j1; ++j) dst[j] = extremeOf<T, IsMax>(dst[j], row[j]);
      }
      p += j1 - j0;
    }
  });
}

// JS stores a double into an Int32Array modulo 2^32.
template <typename T>
inline T castOut(double v) {
  if constexpr (std::is_same_v<T, int32_t>) {
    if (!(std::fabs(v) < 9.2e18)) return 0;
    return static_cast<int32_t>(static_cast<uint32_t>(static_cast<int64_t>(v)));
  } else {
    return static_cast<T>(v);
  }
}

template <typename T>
void sumLike(const T* x, T* out, int64_t outer, int64_t r, int64_t inner, bool mean, bool prod) {
  parallelFor(outer * inner, std::max<int64_t>(1, kGrain / std::max<int64_t>(r, 1)), [&](int64_t s, int64_t e) {
    if (inner == 1) {
      for (int64_t o = s; o < e; ++o) {
        const T* row = x + o * r;
        double acc;
        if (prod) { acc = 1; for (int64_t i = 0; i < r; ++i) acc *= row[i]; }
        else if constexpr (std::is_same_v<T, float>) acc = sumRow(row, r);
        else { acc = 0; for (int64_t i = 0; i < r; ++i) acc += row[i]; }
        if (mean) acc = acc / static_cast<double>(r);
        out[o] = castOut<T>(acc);
      }
      return;
    }
    std::vector<double> acc;
    for (int64_t p = s; p < e;) {
      const int64_t o = p / inner, j0 = p % inner, j1 = std::min(inner, j0 + (e - p));
      acc.assign(j1 - j0, prod ? 1.0 : 0.0);
      const T* base = x + o * r * inner;
      for (int64_t i = 0; i < r; ++i) {
        const T* row = base + i * inner + j0;
        if (prod) for (int64_t j = 0; j < j1 - j0; ++j) acc[j] *= row[j];
        else for (int64_t j = 0; j < j1 - j0; ++j) acc[j] += row[j];
      }
      T* dst = out + o * inner + j0;
      for (int64_t j = 0; j < j1 - j0; ++j) dst[j] = castOut<T>(mean ? acc[j] / static_cast<double>(r) : acc[j]);
      p += j1 - j0;
    }
  });
}

}  // namespace

template <typename T>
void reduce(ReduceOp op, const T* x, T* out, int64_t outer, int64_t r, int64_t inner) {
  if (outer * inner == 0) return;
  if (r == 0) throw std::runtime_error("reduce: empty reduction");
  switch (op) {
    case ReduceOp::Sum: return sumLike<T>(x, out, outer, r, inner, false, false);
    case ReduceOp::Mean: return sumLike<T>(x, out, outer, r, inner, true, false);
    case ReduceOp::Prod: return sumLike<T>(x, out, outer, r, inner, false, true);
    case ReduceOp::Max: return extreme<T, true>(x, out, outer, r, inner);
    case ReduceOp::Min: return extreme<T, false>(x, out, outer, r, inner);
    default: break;
  }
  throw std::runtime_error("reduce: unsupported op");
}
template void reduce<float>(ReduceOp, const float*, float*, int64_t, int64_t, int64_t);
template void reduce<int32_t>(ReduceOp, const int32_t*, int32_t*, int64_t, int64_t, int64_t);

void reduceBool(ReduceOp op, const uint8_t* x, uint8_t* out, int64_t outer, int64_t r, int64_t inner) {
  const bool any = op == ReduceOp::Any;
  if (!any && op != ReduceOp::All) throw std::runtime_error("reduceBool: unsupported op");
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      bool acc = !any;
      for (int64_t i = 0; i < r; ++i) {
        const bool v = x[(o * r + i) * inner + j] != 0;
        acc = any ? (acc || v) : (acc && v);
      }
      out[o * inner + j] = acc ? 1 : 0;
    }
}

namespace {
// max over a row in 16 lanes (vectorised), and whether it holds a NaN
inline float rowMax(const float* __restrict x, int64_t n, bool& nan) {
  float lanes[16];
  for (int k = 0; k < 16; ++k) lanes[k] = -std::numeric_limits<float>::infinity();
  float nanLanes[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int k = 0; k < 16; ++k) {
      const float v = x[i + k];
      lanes[k] = v > lanes[k] ? v : lanes[k];
      nanLanes[k] += v != v ? 1.f : 0.f;
    }
  float m = -std::numeric_limits<float>::infinity(), nans = 0.f;
  for (; i < n; ++i) { m = x[i] > m ? x[i] : m; nans += x[i] != x[i] ? 1.f : 0.f; }
  for (int k = 0; k < 16; ++k) { m = lanes[k] > m ? lanes[k] : m; nans += nanLanes[k]; }
  nan = nans > 0.f;
  return m;
}

}  // namespace

void softmax(const float* x, float* out, int64_t rows, int64_t cols) {
  parallelFor(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1) / 4), [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const float* __restrict in = x + r * cols;
      float* __restrict o = out + r * cols;
      bool nan;
      const float m = rowMax(in, cols, nan);
      if (nan) { for (int64_t i = 0; i < cols; ++i) o[i] = std::numeric_limits<float>::quiet_NaN(); continue; }
      if (std::fabs(m) < std::numeric_limits<float>::infinity()) {
        for (int64_t i = 0; i < cols; ++i) o[i] = fastExp(in[i] - m);
      } else {
        for (int64_t i = 0; i < cols; ++i) o[i] = std::exp(in[i] - m);
      }
      const float inv = 1.f / sumFloat(o, cols);
      for (int64_t i = 0; i < cols; ++i) o[i] = o[i] * inv;
    }
  });
}

void logSoftmax(const float* x, float* out, int64_t rows, int64_t cols) {
  parallelFor(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1) / 4), [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const float* in = x + r * cols;
      float* o = out + r * cols;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < cols; ++i) m = in[i] > m ? in[i] : m;
      double sum = 0;
      for (int64_t i = 0; i < cols; ++i) sum += std::exp(in[i] - m);
      const float lse = m + static_cast<float>(std::log(sum));
      for (int64_t i = 0; i < cols; ++i) o[i] = in[i] - lse;
    }
  });
}

}  // namespace es
