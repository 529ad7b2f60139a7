#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "fastmath.h"
#include "kernels.h"
#include "pool.h"

namespace es {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per thread below which a kernel stays single-threaded

inline float fnan() { return std::numeric_limits<float>::quiet_NaN(); }

template <typename T> struct AddF { static T f(T a, T b) { return a + b; } };
template <typename T> struct SubF { static T f(T a, T b) { return a - b; } };
template <typename T> struct MulF { static T f(T a, T b) { return a * b; } };
struct DivF { static float f(float a, float b) { return a / b; } };
// Math.max/Math.min semantics: NaN if either is NaN.
struct MaxF { static float f(float a, float b) { return (a != a || b != b) ? fnan() : (a > b ? a : b); } };
struct MinF { static float f(float a, float b) { return (a != a || b != b) ? fnan() : (a < b ? a : b); } };
struct SqDiffF { static float f(float a, float b) { float d = a - b; return d * d; } };
// Math.pow: NaN exponent gives NaN, and (+-1) ** (+-Infinity) is NaN (C's pow gives 1 for both).
struct PowF {
  static float f(float a, float b) {
    if (b != b || (std::isinf(b) && std::fabs(a) == 1.f)) return fnan();
    return static_cast<float>(std::pow(static_cast<double>(a), static_cast<double>(b)));
  }
};
struct PreluF { static float f(float x, float alpha) { return x < 0.f ? alpha * x : x; } };
struct SigmoidGradF { static float f(float y, float dy) { return dy * (y * (1.f - y)); } };
struct TanhGradF { static float f(float y, float dy) { return dy * (1.f - y * y); } };
struct ReluGradF { static float f(float dy, float x) { return x > 0.f ? dy : 0.f; } };

// int32 results follow JS: the double result of the operation, stored into an Int32Array (ToInt32).
inline int32_t toInt32(double v) {
  if (!std::isfinite(v)) return 0;
  if (std::fabs(v) < 2147483648.0) return static_cast<int32_t>(v);
  double m = std::fmod(std::trunc(v), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}
struct AddI { static int32_t f(int32_t a, int32_t b) { return toInt32(static_cast<double>(a) + b); } };
struct SubI { static int32_t f(int32_t a, int32_t b) { return toInt32(static_cast<double>(a) - b); } };
struct MulI { static int32_t f(int32_t a, int32_t b) { return toInt32(static_cast<double>(a) * b); } };
struct MaxI { static int32_t f(int32_t a, int32_t b) { return a > b ? a : b; } };
struct MinI { static int32_t f(int32_t a, int32_t b) { return a < b ? a : b; } };
struct SqDiffI { static int32_t f(int32_t a, int32_t b) { const double d = static_cast<double>(a) - b; return toInt32(d * d); } };

// Broadcast geometry collapsed to the fewest dims: out dims with per-input strides (0 = broadcast).
struct Geometry {
  std::vector<int64_t> dims, sa, sb;
};

Geometry makeGeometry(const Shape& aShape, const Shape& bShape, const Shape& outShape) {
  const int r = static_cast<int>(outShape.size());
  std::vector<int64_t> sa(r, 0), sb(r, 0);
  auto fill = [&](const Shape& s, std::vector<int64_t>& st) {
    int64_t stride = 1;
    const int off = r - static_cast<int>(s.size());
    for (int i = static_cast<int>(s.size()) - 1; i >= 0; --i) {
      st[off + i] = s[i] == 1 ? 0 : stride;
      stride *= s[i];
    }
  };
  fill(aShape, sa);
  fill(bShape, sb);
  Geometry g;
  for (int i = 0; i < r; ++i) {
    if (outShape[i] == 1) continue;  // size-1 dims contribute nothing
    if (!g.dims.empty()) {
      const size_t j = g.dims.size() - 1;
      // merge with the previous dim when both inputs stay contiguous across the boundary
      if (g.sa[j] == sa[i] * outShape[i] && g.sb[j] == sb[i] * outShape[i]) {
        g.dims[j] *= outShape[i];
        g.sa[j] = sa[i];
        g.sb[j] = sb[i];
        continue;
      }
    }
    g.dims.push_back(outShape[i]);
    g.sa.push_back(sa[i]);
    g.sb.push_back(sb[i]);
  }
  if (g.dims.empty()) { g.dims.push_back(1); g.sa.push_back(0); g.sb.push_back(0); }
  return g;
}

template <typename T, typename F, typename TOut = T>
void binaryRange(const T* __restrict a, const T* __restrict b, TOut* out, const Geometry& g, int64_t begin, int64_t end) {
  const int r = static_cast<int>(g.dims.size());
  const int64_t inner = g.dims[r - 1];
  const int64_t ia = g.sa[r - 1], ib = g.sb[r - 1];
  int64_t idx[16];
  int64_t rem = begin, offA = 0, offB = 0;
  for (int d = r - 1; d >= 0; --d) {
    idx[d] = rem % g.dims[d];
    rem /= g.dims[d];
    offA += idx[d] * g.sa[d];
    offB += idx[d] * g.sb[d];
  }
  int64_t pos = begin;
  while (pos < end) {
    const int64_t cnt = std::min(inner - idx[r - 1], end - pos);
    const T* pa = a + offA;
    const T* pb = b + offB;
    TOut* po = out + pos;
    if (ia == 1 && ib == 1) {
      for (int64_t i = 0; i < cnt; ++i) po[i] = F::f(pa[i], pb[i]);
    } else if (ia == 1 && ib == 0) {
      const T vb = pb[0];
      for (int64_t i = 0; i < cnt; ++i) po[i] = F::f(pa[i], vb);
    } else if (ia == 0 && ib == 1) {
      const T va = pa[0];
      for (int64_t i = 0; i < cnt; ++i) po[i] = F::f(va, pb[i]);
    } else {
      for (int64_t i = 0; i < cnt; ++i) po[i] = F::f(pa[i * ia], pb[i * ib]);
    }
    pos += cnt;
    idx[r - 1] += cnt;
    offA += cnt * ia;
    offB += cnt * ib;
    if (idx[r - 1] == inner && pos < end) {
      idx[r - 1] = 0;
      offA -= inner * ia;
      offB -= inner * ib;
      for (int d = r - 2; d >= 0; --d) {
        ++idx[d];
        offA += g.sa[d];
        offB += g.sb[d];
        if (idx[d] < g.dims[d]) break;
        offA -= g.dims[d] * g.sa[d];
        offB -= g.dims[d] * g.sb[d];
        idx[d] = 0;
      }
    }
  }
}

template <typename T, typename F, typename TOut = T>
void runBinary(const T* a, const Shape& aShape, const T* b, const Shape& bShape, TOut* out, const Shape& outShape) {
  int64_t n = 1;
  for (int64_t d : outShape) n *= d;
  if (n == 0) return;
  Geometry g = makeGeometry(aShape, bShape, outShape);
  if (g.dims.size() > 16) throw std::runtime_error("binary: rank above 16");
  parallelFor(n, kGrain, [&](int64_t s, int64_t e) { binaryRange<T, F, TOut>(a, b, out, g, s, e); });
}

template <typename T> struct EqF { static uint8_t f(T a, T b) { return a == b; } };
template <typename T> struct NeF { static uint8_t f(T a, T b) { return a != b; } };
template <typename T> struct LtF { static uint8_t f(T a, T b) { return a < b; } };
template <typename T> struct LeF { static uint8_t f(T a, T b) { return a <= b; } };
template <typename T> struct GtF { static uint8_t f(T a, T b) { return a > b; } };
template <typename T> struct GeF { static uint8_t f(T a, T b) { return a >= b; } };

template <typename T>
void runCompare(CompareOp op, const T* a, const Shape& as, const T* b, const Shape& bs, uint8_t* out, const Shape& os) {
  switch (op) {
    case CompareOp::Equal: return runBinary<T, EqF<T>, uint8_t>(a, as, b, bs, out, os);
    case CompareOp::NotEqual: return runBinary<T, NeF<T>, uint8_t>(a, as, b, bs, out, os);
    case CompareOp::Less: return runBinary<T, LtF<T>, uint8_t>(a, as, b, bs, out, os);
    case CompareOp::LessEqual: return runBinary<T, LeF<T>, uint8_t>(a, as, b, bs, out, os);
    case CompareOp::Greater: return runBinary<T, GtF<T>, uint8_t>(a, as, b, bs, out, os);
    case CompareOp::GreaterEqual: return runBinary<T, GeF<T>, uint8_t>(a, as, b, bs, out, os);
  }
  throw std::runtime_error("compare: unknown op");
}

}  // namespace

template <>
void binary<float>(BinaryOp op, const float* a, const Shape& as, const float* b, const Shape& bs, float* out, const Shape& os) {
  switch (op) {
    case BinaryOp::Add: return runBinary<float, AddF<float>>(a, as, b, bs, out, os);
    case BinaryOp::Sub: return runBinary<float, SubF<float>>(a, as, b, bs, out, os);
    case BinaryOp::Mul: return runBinary<float, MulF<float>>(a, as, b, bs, out, os);
    case BinaryOp::Div: return runBinary<float, DivF>(a, as, b, bs, out, os);
    case BinaryOp::Max: return runBinary<float, MaxF>(a, as, b, bs, out, os);
    case BinaryOp::Min: return runBinary<float, MinF>(a, as, b, bs, out, os);
    case BinaryOp::SquaredDiff: return runBinary<float, SqDiffF>(a, as, b, bs, out, os);
    case BinaryOp::Pow: return runBinary<float, PowF>(a, as, b, bs, out, os);
    case BinaryOp::Prelu: return runBinary<float, PreluF>(a, as, b, bs, out, os);
    case BinaryOp::SigmoidGrad: return runBinary<float, SigmoidGradF>(a, as, b, bs, out, os);
    case BinaryOp::TanhGrad: return runBinary<float, TanhGradF>(a, as, b, bs, out, os);
    case BinaryOp::ReluGrad: return runBinary<float, ReluGradF>(a, as, b, bs, out, os);
  }
  throw std::runtime_error("binary: unknown float32 op");
}

template <>
void binary<int32_t>(BinaryOp op, const int32_t* a, const Shape& as, const int32_t* b, const Shape& bs, int32_t* out, const Shape& os) {
  switch (op) {
    case BinaryOp::Add: return runBinary<int32_t, AddI>(a, as, b, bs, out, os);
    case BinaryOp::Sub: return runBinary<int32_t, SubI>(a, as, b, bs, out, os);
    case BinaryOp::Mul: return runBinary<int32_t, MulI>(a, as, b, bs, out, os);
    case BinaryOp::Max: return runBinary<int32_t, MaxI>(a, as, b, bs, out, os);
    case BinaryOp::Min: return runBinary<int32_t, MinI>(a, as, b, bs, out, os);
    case BinaryOp::SquaredDiff: return runBinary<int32_t, SqDiffI>(a, as, b, bs, out, os);
    default: break;
  }
  throw std::runtime_error("binary: op not supported for int32");
}

template <typename T>
void compare(CompareOp op, const T* a, const Shape& as, const T* b, const Shape& bs, uint8_t* out, const Shape& os) {
  runCompare<T>(op, a, as, b, bs, out, os);
}
template void compare<float>(CompareOp, const float*, const Shape&, const float*, const Shape&, uint8_t*, const Shape&);
template void compare<int32_t>(CompareOp, const int32_t*, const Shape&, const int32_t*, const Shape&, uint8_t*, const Shape&);

namespace {
template <typename F>
void mapF32(const float* __restrict x, float* out, int64_t n, F f) {
  parallelFor(n, kGrain, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) out[i] = f(x[i]);
  });
}
}  // namespace

void unaryF32(UnaryOp op, const float* x, float* out, int64_t n, float alpha) {
  switch (op) {
    case UnaryOp::Exp: return mapF32(x, out, n, [](float v) { return fastExp(v); });
    case UnaryOp::Log: return mapF32(x, out, n, [](float v) { return std::log(v); });
    case UnaryOp::Neg: return mapF32(x, out, n, [](float v) { return -v; });
    case UnaryOp::Sqrt: return mapF32(x, out, n, [](float v) { return std::sqrt(v); });
    case UnaryOp::Rsqrt: return mapF32(x, out, n, [](float v) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(v))); });
    case UnaryOp::Square: return mapF32(x, out, n, [](float v) { return v * v; });
    case UnaryOp::Sigmoid: return mapF32(x, out, n, [](float v) { return fastSigmoid(v); });
    case UnaryOp::Reciprocal: return mapF32(x, out, n, [](float v) { return 1.f / v; });
    case UnaryOp::Tanh: return mapF32(x, out, n, [](float v) { return std::tanh(v); });
    case UnaryOp::Relu: return mapF32(x, out, n, [](float v) { return v < 0.f ? 0.f : v; });
    case UnaryOp::Relu6: return mapF32(x, out, n, [](float v) { return v != v ? v : std::min(std::max(v, 0.f), 6.f); });
    case UnaryOp::Elu: return mapF32(x, out, n, [](float v) { return v >= 0.f ? v : std::exp(v) - 1.f; });
    case UnaryOp::LeakyRelu: return mapF32(x, out, n, [alpha](float v) { return v < 0.f ? alpha * v : v; });
    case UnaryOp::Abs: return mapF32(x, out, n, [](float v) { return std::fabs(v); });
    case UnaryOp::Softplus:
      // tfjs: threshold at log(eps) + 2 with eps = 1.1920928955078125e-7
      return mapF32(x, out, n, [](float v) {
        const float threshold = std::log(1.1920928955078125e-7f) + 2.f;
        if (v > -threshold) return v;
        if (v < threshold) return std::exp(v);
        return std::log(std::exp(v) + 1.f);
      });
    case UnaryOp::Step: return mapF32(x, out, n, [alpha](float v) { return v != v ? fnan() : (v > 0.f ? 1.f : alpha); });
    case UnaryOp::Log1p: return mapF32(x, out, n, [](float v) { return std::log1p(v); });
    case UnaryOp::Expm1: return mapF32(x, out, n, [](float v) { return std::expm1(v); });
    case UnaryOp::Sin: return mapF32(x, out, n, [](float v) { return std::sin(v); });
    case UnaryOp::Cos: return mapF32(x, out, n, [](float v) { return std::cos(v); });
    case UnaryOp::Silu: return mapF32(x, out, n, [](float v) { return v * fastSigmoid(v); });
    case UnaryOp::Erf: return mapF32(x, out, n, [](float v) { return std::erf(v); });
  }
  throw std::runtime_error("unary: unknown op");
}

void unaryI32(UnaryOp op, const int32_t* x, int32_t* out, int64_t n) {
  auto map = [&](auto f) {
    parallelFor(n, kGrain, [&](int64_t s, int64_t e) { for (int64_t i = s; i < e; ++i) out[i] = f(x[i]); });
  };
  switch (op) {
    case UnaryOp::Neg: return map([](int32_t v) { return toInt32(-static_cast<double>(v)); });
    case UnaryOp::Abs: return map([](int32_t v) { return toInt32(std::fabs(static_cast<double>(v))); });
    case UnaryOp::Square: return map([](int32_t v) { return MulI::f(v, v); });
    case UnaryOp::Relu: return map([](int32_t v) { return v < 0 ? 0 : v; });
    default: break;
  }
  throw std::runtime_error("unary: op not supported for int32");
}

template <typename T>
void addN(const std::vector<const T*>& inputs, T* out, int64_t n) {
  parallelFor(n, kGrain, [&](int64_t s, int64_t e) {
    std::memcpy(out + s, inputs[0] + s, (e - s) * sizeof(T));
    for (size_t k = 1; k < inputs.size(); ++k) {
      const T* __restrict in = inputs[k];
      for (int64_t i = s; i < e; ++i) {
        if constexpr (std::is_same_v<T, int32_t>) out[i] = AddI::f(out[i], in[i]);
        else out[i] += in[i];
      }
    }
  });
}
template void addN<float>(const std::vector<const float*>&, float*, int64_t);
template void addN<int32_t>(const std::vector<const int32_t*>&, int32_t*, int64_t);

template <typename T>
void select(const uint8_t* cond, const T* t, const T* e, T* out, int64_t condSize, int64_t inner) {
  parallelFor(condSize * inner, kGrain, [&](int64_t s, int64_t end) {
    for (int64_t i = s; i < end; ++i) out[i] = cond[i / inner] ? t[i] : e[i];
  });
}
template void select<float>(const uint8_t*, const float*, const float*, float*, int64_t, int64_t);
template void select<int32_t>(const uint8_t*, const int32_t*, const int32_t*, int32_t*, int64_t, int64_t);
template void select<uint8_t>(const uint8_t*, const uint8_t*, const uint8_t*, uint8_t*, int64_t, int64_t);

template <typename T>
void oneHot(const int32_t* idx, T* out, int64_t n, int64_t depth, T on, T off) {
  for (int64_t i = 0; i < n * depth; ++i) out[i] = off;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t k = idx[i];
    if (k >= 0 && k < depth) out[i * depth + k] = on;
  }
}
template void oneHot<float>(const int32_t*, float*, int64_t, int64_t, float, float);
template void oneHot<int32_t>(const int32_t*, int32_t*, int64_t, int64_t, int32_t, int32_t);

}  // namespace es
