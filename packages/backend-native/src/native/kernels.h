// Kernel implementations on raw buffers. Shapes are row-major; all sizes in elements unless noted.
#pragma once
#include <cstdint>
#include <vector>

namespace es {

using Shape = std::vector<int64_t>;

enum class BinaryOp : int {
  Add = 0, Sub = 1, Mul = 2, Div = 3, Max = 4, Min = 5, SquaredDiff = 6, Pow = 7, Prelu = 8,
  // fused for the backward passes of the model's hot paths
  SigmoidGrad = 9,  // a = y (sigmoid output), b = dy  -> dy * y * (1 - y)
  TanhGrad = 10,    // a = y, b = dy -> dy * (1 - y^2)
  ReluGrad = 11,    // a = dy, b = x -> x > 0 ? dy : 0
};

enum class UnaryOp : int {
  Exp = 0, Log = 1, Neg = 2, Sqrt = 3, Rsqrt = 4, Square = 5, Sigmoid = 6, Reciprocal = 7, Tanh = 8,
  Relu = 9, Relu6 = 10, Elu = 11, LeakyRelu = 12, Abs = 13, Softplus = 14, Step = 15, Log1p = 16,
  Expm1 = 17, Sin = 18, Cos = 19, Silu = 20, Erf = 21,
};

enum class CompareOp : int { Equal = 0, NotEqual = 1, Less = 2, LessEqual = 3, Greater = 4, GreaterEqual = 5 };

enum class ReduceOp : int { Sum = 0, Max = 1, Min = 2, Mean = 3, Prod = 4, Any = 5, All = 6 };

// out[outShape] = a[aShape] (op) b[bShape] with numpy broadcasting (shapes right-aligned).
template <typename T>
void binary(BinaryOp op, const T* a, const Shape& aShape, const T* b, const Shape& bShape, T* out,
            const Shape& outShape);

// out (bool, one byte each) = a (op) b with broadcasting.
template <typename T>
void compare(CompareOp op, const T* a, const Shape& aShape, const T* b, const Shape& bShape, uint8_t* out,
             const Shape& outShape);

void unaryF32(UnaryOp op, const float* x, float* out, int64_t n, float alpha);
void unaryI32(UnaryOp op, const int32_t* x, int32_t* out, int64_t n);

// x viewed as [outer, r, inner]; out is [outer, inner].
template <typename T>
void reduce(ReduceOp op, const T* x, T* out, int64_t outer, int64_t r, int64_t inner);
void reduceBool(ReduceOp op, const uint8_t* x, uint8_t* out, int64_t outer, int64_t r, int64_t inner);

void softmax(const float* x, float* out, int64_t rows, int64_t cols);
void logSoftmax(const float* x, float* out, int64_t rows, int64_t cols);

// Element size in bytes: 1, 4 or 8.
void transpose(const void* x, void* out, int elemSize, const Shape& shape, const std::vector<int>& perm);
void slice(const void* x, void* out, int elemSize, const Shape& shape, const Shape& begin, const Shape& size,
           const Shape& strides);
// Returns -1, or the position of the first out-of-range index.
int64_t gather(const void* x, const int32_t* idx, void* out, int elemSize, int64_t outer, int64_t axisDim,
               int64_t nIdx, int64_t inner);
template <typename T>
void segmentSum(const T* x, const int32_t* ids, T* out, int64_t n, int64_t inner, int64_t numSegments);
void concat(const std::vector<const uint8_t*>& inputs, const std::vector<int64_t>& innerBytes, uint8_t* out,
            int64_t outer);
template <typename T>
void addN(const std::vector<const T*>& inputs, T* out, int64_t n);
template <typename T>
void select(const uint8_t* cond, const T* t, const T* e, T* out, int64_t condSize, int64_t inner);
template <typename T>
void oneHot(const int32_t* idx, T* out, int64_t n, int64_t depth, T on, T off);
void tile(const void* x, void* out, int elemSize, const Shape& shape, const Shape& reps);

// Batched C[i] = op(A[aIdx[i]]) * op(B[bIdx[i]]) with row-major A: [M,K] (or [K,M] transposed), B: [K,N].
// aIdx/bIdx may be null (identity). The BLAS threads each product; batches of small products run in parallel.
void sgemmBatched(const float* a, const float* b, float* c, int64_t batch, int64_t m, int64_t n, int64_t k,
                  bool transA, bool transB, const int32_t* aIdx, const int32_t* bIdx);
void setBlasThreads(int n);
int blasThreads();
const char* blasConfig();

}  // namespace es
