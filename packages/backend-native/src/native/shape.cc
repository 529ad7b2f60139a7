#include <cstring>
#include <stdexcept>

#include "kernels.h"
#include "pool.h"

namespace es {
namespace {

constexpr int64_t kGrainBytes = 1 << 17;

// Copies a strided view of `x` (out dims, input strides in elements, input offset) into contiguous `out`.
// Dims are collapsed first; a contiguous innermost dim becomes one memcpy per row.
void stridedCopy(const uint8_t* x, uint8_t* out, int elemSize, Shape dims, Shape strides, int64_t offset) {
  Shape d, s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 1) continue;
    if (!d.empty() && s.back() == strides[i] * dims[i]) { d.back() *= dims[i]; s.back() = strides[i]; continue; }
    d.push_back(dims[i]);
    s.push_back(strides[i]);
  }
  if (d.empty()) { d.push_back(1); s.push_back(1); }
  int64_t total = 1;
  for (int64_t v : d) total *= v;
  if (total == 0) return;
  const int r = static_cast<int>(d.size());
  const int64_t inner = d[r - 1], innerStride = s[r - 1];
  const int64_t rows = total / inner;
  const uint8_t* base = x + offset * elemSize;
  // 2-D tile transpose when the innermost output dim walks the input with a large stride and the
  // next one walks it contiguously (a batch of matrix transposes).
  if (r >= 2 && innerStride != 1 && s[r - 2] == 1 && elemSize == 4) {
    const int64_t m = d[r - 2], n = inner, ldIn = innerStride;
    const int64_t batches = rows / m;
    Shape bd(d.begin(), d.end() - 2), bs(s.begin(), s.end() - 2);
    parallelFor(batches * ((m + 31) / 32), 4, [&](int64_t b0, int64_t b1) {
      const int64_t tilesM = (m + 31) / 32;
      for (int64_t t = b0; t < b1; ++t) {
        int64_t bi = t / tilesM, i0 = (t % tilesM) * 32;
        int64_t off = 0, rem = bi;
        for (int k = static_cast<int>(bd.size()) - 1; k >= 0; --k) { off += (rem % bd[k]) * bs[k]; rem /= bd[k]; }
        const uint32_t* src = reinterpret_cast<const uint32_t*>(base) + off;
        uint32_t* dst = reinterpret_cast<uint32_t*>(out) + bi * m * n;
        const int64_t i1 = std::min(m, i0 + 32);
        for (int64_t j0 = 0; j0 < n; j0 += 32) {
          const int64_t j1 = std::min(n, j0 + 32);
          for (int64_t i = i0; i < i1; ++i)
            for (int64_t j = j0; j < j1; ++j) dst[i * n + j] = src[j * ldIn + i];
        }
      }
    });
    return;
  }
  const int64_t grainRows = std::max<int64_t>(1, kGrainBytes / std::max<int64_t>(inner * elemSize, 1));
  parallelFor(rows, grainRows, [&](int64_t r0, int64_t r1) {
    int64_t idx[32];
    int64_t rem = r0, off = 0;
    for (int k = r - 2; k >= 0; --k) { idx[k] = rem % d[k]; rem /= d[k]; off += idx[k] * s[k]; }
    for (int64_t row = r0; row < r1; ++row) {
      uint8_t* dst = out + row * inner * elemSize;
      const uint8_t* src = base + off * elemSize;
      if (innerStride == 1) {
        std::memcpy(dst, src, inner * elemSize);
      } else if (elemSize == 4) {
        const uint32_t* s4 = reinterpret_cast<const uint32_t*>(src);
        uint32_t* d4 = reinterpret_cast<uint32_t*>(dst);
        for (int64_t j = 0; j < inner; ++j) d4[j] = s4[j * innerStride];
      } else {
        for (int64_t j = 0; j < inner; ++j) std::memcpy(dst + j * elemSize, src + j * innerStride * elemSize, elemSize);
      }
      for (int k = r - 2; k >= 0; --k) {
        ++idx[k];
        off += s[k];
        if (idx[k] < d[k]) break;
        off -= d[k] * s[k];
        idx[k] = 0;
      }
    }
  });
}

Shape rowMajorStrides(const Shape& shape) {
  Shape st(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * shape[i + 1];
  return st;
}

}  // namespace

void transpose(const void* x, void* out, int elemSize, const Shape& shape, const std::vector<int>& perm) {
  if (shape.size() > 32) throw std::runtime_error("transpose: rank above 32");
  Shape inStrides = rowMajorStrides(shape), dims(perm.size()), strides(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) { dims[i] = shape[perm[i]]; strides[i] = inStrides[perm[i]]; }
  stridedCopy(static_cast<const uint8_t*>(x), static_cast<uint8_t*>(out), elemSize, dims, strides, 0);
}

void slice(const void* x, void* out, int elemSize, const Shape& shape, const Shape& begin, const Shape& size,
           const Shape& steps) {
  if (shape.size() > 32) throw std::runtime_error("slice: rank above 32");
  Shape inStrides = rowMajorStrides(shape), strides(shape.size());
  int64_t offset = 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    offset += begin[i] * inStrides[i];
    strides[i] = inStrides[i] * (steps.empty() ? 1 : steps[i]);
  }
  stridedCopy(static_cast<const uint8_t*>(x), static_cast<uint8_t*>(out), elemSize, size, strides, offset);
}

int64_t gather(const void* x, const int32_t* idx, void* out, int elemSize, int64_t outer, int64_t axisDim,
               int64_t nIdx, int64_t inner) {
  for (int64_t i = 0; i < nIdx; ++i)
    if (idx[i] < 0 || idx[i] >= axisDim) return i;
  const uint8_t* src = static_cast<const uint8_t*>(x);
  uint8_t* dst = static_cast<uint8_t*>(out);
  const int64_t rowBytes = inner * elemSize;
  parallelFor(outer * nIdx, std::max<int64_t>(1, kGrainBytes / std::max<int64_t>(rowBytes, 1)), [&](int64_t s, int64_t e) {
    for (int64_t p = s; p < e; ++p) {
      const int64_t o = p / nIdx, i = p % nIdx;
      std::memcpy(dst + p * rowBytes, src + (o * axisDim + idx[i]) * rowBytes, rowBytes);
    }
  });
  return -1;
}

template <typename T>
void segmentSum(const T* x, const int32_t* ids, T* out, int64_t n, int64_t inner, int64_t numSegments) {
  std::memset(out, 0, numSegments * inner * sizeof(T));
  // Threads split the columns so that no two write the same output element.
  parallelFor(inner, std::max<int64_t>(16, (1 << 14) / std::max<int64_t>(n, 1)), [&](int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < n; ++i) {
      const int32_t sgm = ids[i];
      if (sgm < 0 || sgm >= numSegments) continue;
      const T* __restrict src = x + i * inner;
      T* __restrict dst = out + sgm * inner;
      for (int64_t j = j0; j < j1; ++j) {
        if constexpr (std::is_same_v<T, int32_t>)
          dst[j] = static_cast<int32_t>(static_cast<uint32_t>(dst[j]) + static_cast<uint32_t>(src[j]));
        else
          dst[j] += src[j];
      }
    }
  });
}
template void segmentSum<float>(const float*, const int32_t*, float*, int64_t, int64_t, int64_t);
template void segmentSum<int32_t>(const int32_t*, const int32_t*, int32_t*, int64_t, int64_t, int64_t);

void concat(const std::vector<const uint8_t*>& inputs, const std::vector<int64_t>& innerBytes, uint8_t* out,
            int64_t outer) {
  int64_t rowBytes = 0;
  for (int64_t b : innerBytes) rowBytes += b;
  parallelFor(outer, std::max<int64_t>(1, kGrainBytes / std::max<int64_t>(rowBytes, 1)), [&](int64_t s, int64_t e) {
    for (int64_t o = s; o < e; ++o) {
      uint8_t* dst = out + o * rowBytes;
      for (size_t k = 0; k < inputs.size(); ++k) {
        std::memcpy(dst, inputs[k] + o * innerBytes[k], innerBytes[k]);
        dst += innerBytes[k];
      }
    }
  });
}

void tile(const void* x, void* out, int elemSize, const Shape& shape, const Shape& reps) {
  // out[i0..] = x[i0 % shape0, ...]: innermost dim copied whole rows at a time.
  const int r = static_cast<int>(shape.size());
  Shape outShape(r);
  int64_t total = 1;
  for (int i = 0; i < r; ++i) { outShape[i] = shape[i] * reps[i]; total *= outShape[i]; }
  if (total == 0) return;
  const Shape inStrides = rowMajorStrides(shape);
  const int64_t inner = shape[r - 1], innerReps = reps[r - 1], rowBytes = inner * elemSize;
  const int64_t rows = total / outShape[r - 1];
  const uint8_t* src = static_cast<const uint8_t*>(x);
  uint8_t* dst = static_cast<uint8_t*>(out);
  parallelFor(rows, 64, [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; ++row) {
      int64_t rem = row, off = 0;
      for (int k = r - 2; k >= 0; --k) { off += ((rem % outShape[k]) % shape[k]) * inStrides[k]; rem /= outShape[k]; }
      uint8_t* o = dst + row * outShape[r - 1] * elemSize;
      for (int64_t k = 0; k < innerReps; ++k) std::memcpy(o + k * rowBytes, src + off * elemSize, rowBytes);
    }
  });
}

}  // namespace es
