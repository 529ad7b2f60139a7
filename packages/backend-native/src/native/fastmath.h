// Branch-free float math that compilers vectorise inside loops (no libm calls).
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>

namespace es {

// exp(x) for float, within about 2 ulp of the correctly rounded value: x = n·ln2 + r with |r| ≤ ln2/2
// (ln2 split in two for an exact reduction), a degree-6 minimax polynomial for e^r (Cephes), and 2^n
// built in the exponent bits. Overflow gives +inf, x below the normal range gives 0 (the true value
// is under 1.2e-38), NaN stays NaN.
inline float fastExp(float x) {
  constexpr float kHi = 88.72283935546875f;   // largest x with finite expf
  constexpr float kLo = -87.33654022216797f;  // log of the smallest normal float
  float xc = x > kHi ? kHi : x;
  xc = xc < kLo ? kLo : xc;
  // n = round(x / ln2): adding and subtracting 1.5·2^23 rounds to nearest in float arithmetic
  const float fn = (xc * 1.44269504088896341f + 12582912.f) - 12582912.f;
  float r = xc - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.f;
  // 2^n as 2^(n>>1)·2^(n − n>>1): both factors normal for every n in [-126, 128]
  const int32_t n = static_cast<int32_t>(fn), n1 = n >> 1;
  const int32_t bits1 = (n1 + 127) << 23, bits2 = (n - n1 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &bits1, sizeof(s1));
  std::memcpy(&s2, &bits2, sizeof(s2));
  float y = (p * s1) * s2;
  y = x > kHi ? std::numeric_limits<float>::infinity() : y;
  y = x < kLo ? 0.f : y;
  return x != x ? x : y;
}

// Σ x[i] in float with 16 independent partial sums (vectorised without reassociation flags).
inline float sumFloat(const float* __restrict x, int64_t n) {
  float acc[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int k = 0; k < 16; ++k) acc[k] += x[i + k];
  float s = 0.f;
  for (; i < n; ++i) s += x[i];
  for (int k = 0; k < 16; ++k) s += acc[k];
  return s;
}

// 1 / (1 + e^-x), with the extremes exact: large |x| gives 0 or 1, NaN stays NaN.
inline float fastSigmoid(float x) { return 1.f / (1.f + fastExp(-x)); }

}  // namespace es
