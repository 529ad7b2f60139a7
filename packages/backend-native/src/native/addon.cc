// Node-API bindings. Every kernel takes its inputs and its (JS-allocated) output as typed arrays and
// works on their memory directly: no copies cross the boundary.
#include <napi.h>

#include <cstring>
#include <string>

#include "fused.h"
#include "kernels.h"
#include "pool.h"

namespace {

using es::Shape;

struct Buf {
  void* data = nullptr;
  size_t length = 0;  // elements
  int elemSize = 0;
  napi_typedarray_type type = napi_uint8_array;
};

Buf buf(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a typed array");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  Buf b;
  b.type = ta.TypedArrayType();
  b.length = ta.ElementLength();
  b.elemSize = static_cast<int>(ta.ElementSize());
  b.data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  return b;
}

Buf bufOf(const Napi::Value& v, napi_typedarray_type type, const char* what) {
  Buf b = buf(v, what);
  if (b.type != type) throw Napi::TypeError::New(v.Env(), std::string(what) + ": wrong typed array type");
  return b;
}

Shape shape(const Napi::Value& v) {
  Napi::Array arr = v.As<Napi::Array>();
  Shape s(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) s[i] = static_cast<int64_t>(arr.Get(i).As<Napi::Number>().Int64Value());
  return s;
}

int64_t sizeOf(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

int64_t i64(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }

void check(const Napi::Env& env, bool ok, const char* msg) {
  if (!ok) throw Napi::RangeError::New(env, msg);
}

// binary(op, a, aShape, b, bShape, out, outShape)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto op = static_cast<es::BinaryOp>(info[0].As<Napi::Number>().Int32Value());
  Buf a = buf(info[1], "a"), b = buf(info[3], "b"), out = buf(info[5], "out");
  Shape as = shape(info[2]), bs = shape(info[4]), os = shape(info[6]);
  check(env, a.type == b.type && a.type == out.type, "binary: dtypes differ");
  check(env, static_cast<int64_t>(a.length) == sizeOf(as) && static_cast<int64_t>(b.length) == sizeOf(bs) &&
                 static_cast<int64_t>(out.length) == sizeOf(os), "binary: sizes do not match shapes");
  if (a.type == napi_float32_array)
    es::binary<float>(op, static_cast<float*>(a.data), as, static_cast<float*>(b.data), bs, static_cast<float*>(out.data), os);
  else if (a.type == napi_int32_array)
    es::binary<int32_t>(op, static_cast<int32_t*>(a.data), as, static_cast<int32_t*>(b.data), bs, static_cast<int32_t*>(out.data), os);
  else
    throw Napi::TypeError::New(env, "binary: unsupported dtype");
  return env.Undefined();
}

// compare(op, a, aShape, b, bShape, out: Uint8Array, outShape)
Napi::Value Compare(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto op = static_cast<es::CompareOp>(info[0].As<Napi::Number>().Int32Value());
  Buf a = buf(info[1], "a"), b = buf(info[3], "b"), out = bufOf(info[5], napi_uint8_array, "out");
  Shape as = shape(info[2]), bs = shape(info[4]), os = shape(info[6]);
  check(env, a.type == b.type, "compare: dtypes differ");
  check(env, static_cast<int64_t>(a.length) == sizeOf(as) && static_cast<int64_t>(b.length) == sizeOf(bs) &&
                 static_cast<int64_t>(out.length) == sizeOf(os), "compare: sizes do not match shapes");
  if (a.type == napi_float32_array)
    es::compare<float>(op, static_cast<float*>(a.data), as, static_cast<float*>(b.data), bs, static_cast<uint8_t*>(out.data), os);
  else if (a.type == napi_int32_array)
    es::compare<int32_t>(op, static_cast<int32_t*>(a.data), as, static_cast<int32_t*>(b.data), bs, static_cast<uint8_t*>(out.data), os);
  else
    throw Napi::TypeError::New(env, "compare: unsupported dtype");
  return env.Undefined();
}

// unary(op, x, out, alpha)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto op = static_cast<es::UnaryOp>(info[0].As<Napi::Number>().Int32Value());
  Buf x = buf(info[1], "x"), out = buf(info[2], "out");
  check(env, x.type == out.type && x.length == out.length, "unary: output does not match input");
  const float alpha = info.Length() > 3 ? info[3].As<Napi::Number>().FloatValue() : 0.f;
  if (x.type == napi_float32_array) es::unaryF32(op, static_cast<float*>(x.data), static_cast<float*>(out.data), x.length, alpha);
  else if (x.type == napi_int32_array) es::unaryI32(op, static_cast<int32_t*>(x.data), static_cast<int32_t*>(out.data), x.length);
  else throw Napi::TypeError::New(env, "unary: unsupported dtype");
  return env.Undefined();
}

// reduce(op, x, out, outer, r, inner)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto op = static_cast<es::ReduceOp>(info[0].As<Napi::Number>().Int32Value());
  Buf x = buf(info[1], "x"), out = buf(info[2], "out");
  const int64_t outer = i64(info[3]), r = i64(info[4]), inner = i64(info[5]);
  check(env, static_cast<int64_t>(x.length) == outer * r * inner && static_cast<int64_t>(out.length) == outer * inner,
        "reduce: sizes do not match");
  check(env, x.type == out.type, "reduce: dtypes differ");
  if (x.type == napi_float32_array) es::reduce<float>(op, static_cast<float*>(x.data), static_cast<float*>(out.data), outer, r, inner);
  else if (x.type == napi_int32_array) es::reduce<int32_t>(op, static_cast<int32_t*>(x.data), static_cast<int32_t*>(out.data), outer, r, inner);
  else if (x.type == napi_uint8_array) es::reduceBool(op, static_cast<uint8_t*>(x.data), static_cast<uint8_t*>(out.data), outer, r, inner);
  else throw Napi::TypeError::New(env, "reduce: unsupported dtype");
  return env.Undefined();
}

// softmax(x, out, rows, cols, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf x = bufOf(info[0], napi_float32_array, "x"), out = bufOf(info[1], napi_float32_array, "out");
  const int64_t rows = i64(info[2]), cols = i64(info[3]);
  check(env, static_cast<int64_t>(x.length) == rows * cols && out.length == x.length, "softmax: sizes do not match");
  if (info.Length() > 4 && info[4].ToBoolean())
    es::logSoftmax(static_cast<float*>(x.data), static_cast<float*>(out.data), rows, cols);
  else
    es::softmax(static_cast<float*>(x.data), static_cast<float*>(out.data), rows, cols);
  return env.Undefined();
}

// transpose(x, out, shape, perm)
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf x = buf(info[0], "x"), out = buf(info[1], "out");
  Shape s = shape(info[2]), p = shape(info[3]);
  check(env, x.elemSize == out.elemSize && x.length == out.length && static_cast<int64_t>(x.length) == sizeOf(s) &&
                 p.size() == s.size(), "transpose: sizes do not match");
  std::vector<int> perm(p.begin(), p.end());
  es::transpose(x.data, out.data, x.elemSize, s, perm);
  return env.Undefined();
}

// slice(x, out, shape, begin, size, strides?)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf x = buf(info[0], "x"), out = buf(info[1], "out");
  Shape s = shape(info[2]), begin = shape(info[3]), size = shape(info[4]);
  Shape steps = info.Length() > 5 && info[5].IsArray() ? shape(info[5]) : Shape();
  check(env, x.elemSize == out.elemSize && static_cast<int64_t>(out.length) == sizeOf(size) &&
                 static_cast<int64_t>(x.length) == sizeOf(s), "slice: sizes do not match");
  es::slice(x.data, out.data, x.elemSize, s, begin, size, steps);
  return env.Undefined();
}

// gather(x, indices, out, outer, axisDim, inner) -> -1 or the position of a bad index
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf x = buf(info[0], "x"), idx = bufOf(info[1], napi_int32_array, "indices"), out = buf(info[2], "out");
  const int64_t outer = i64(info[3]), axisDim = i64(info[4]), inner = i64(info[5]);
  const int64_t nIdx = static_cast<int64_t>(idx.length);
  check(env, x.elemSize == out.elemSize && static_cast<int64_t>(x.length) == outer * axisDim * inner &&
                 static_cast<int64_t>(out.length) == outer * nIdx * inner, "gather: sizes do not match");
  return Napi::Number::New(env, static_cast<double>(es::gather(x.data, static_cast<int32_t*>(idx.data), out.data,
                                                               x.elemSize, outer, axisDim, nIdx, inner)));
}

// segmentSum(x, ids, out, numSegments)
Napi::Value SegmentSum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf x = buf(info[0], "x"), ids = bufOf(info[1], napi_int32_array, "segmentIds"), out = buf(info[2], "out");
  const int64_t numSegments = i64(info[3]);
  const int64_t n = static_cast<int64_t>(ids.length);
  check(env, x.type == out.type && n > 0 && x.length % n == 0, "segmentSum: sizes do not match");
  const int64_t inner = static_cast<int64_t>(x.length) / n;
  check(env, static_cast<int64_t>(out.length) == numSegments * inner, "segmentSum: output size does not match");
  if (x.type == napi_float32_array)
    es::segmentSum<float>(static_cast<float*>(x.data), static_cast<int32_t*>(ids.data), static_cast<float*>(out.data), n, inner, numSegments);
  else if (x.type == napi_int32_array)
    es::segmentSum<int32_t>(static_cast<int32_t*>(x.data), static_cast<int32_t*>(ids.data), static_cast<int32_t*>(out.data), n, inner, numSegments);
  else throw Napi::TypeError::New(env, "segmentSum: unsupported dtype");
  return env.Undefined();
}

// concat(inputs[], innerSizes[] (elements), out, outer)
Napi::Value Concat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array ins = info[0].As<Napi::Array>(), inner = info[1].As<Napi::Array>();
  Buf out = buf(info[2], "out");
  const int64_t outer = i64(info[3]);
  std::vector<const uint8_t*> ptrs;
  std::vector<int64_t> bytes;
  int64_t total = 0;
  for (uint32_t i = 0; i < ins.Length(); ++i) {
    Buf b = buf(ins.Get(i), "input");
    check(env, b.elemSize == out.elemSize, "concat: dtypes differ");
    const int64_t n = i64(inner.Get(i));
    check(env, static_cast<int64_t>(b.length) == outer * n, "concat: input size does not match");
    ptrs.push_back(static_cast<const uint8_t*>(b.data));
    bytes.push_back(n * b.elemSize);
    total += n;
  }
  check(env, static_cast<int64_t>(out.length) == outer * total, "concat: output size does not match");
  es::concat(ptrs, bytes, static_cast<uint8_t*>(out.data), outer);
  return env.Undefined();
}

// addN(inputs[], out)
Napi::Value AddN(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array ins = info[0].As<Napi::Array>();
  Buf out = buf(info[1], "out");
  check(env, ins.Length() > 0, "addN: no inputs");
  std::vector<const float*> f;
  std::vector<const int32_t*> n;
  for (uint32_t i = 0; i < ins.Length(); ++i) {
    Buf b = buf(ins.Get(i), "input");
    check(env, b.type == out.type && b.length == out.length, "addN: inputs differ");
    f.push_back(static_cast<const float*>(b.data));
    n.push_back(static_cast<const int32_t*>(b.data));
  }
  if (out.type == napi_float32_array) es::addN<float>(f, static_cast<float*>(out.data), out.length);
  else if (out.type == napi_int32_array) es::addN<int32_t>(n, static_cast<int32_t*>(out.data), out.length);
  else throw Napi::TypeError::New(env, "addN: unsupported dtype");
  return env.Undefined();
}

// select(cond, t, e, out)
Napi::Value Select(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf c = bufOf(info[0], napi_uint8_array, "condition"), t = buf(info[1], "t"), e = buf(info[2], "e"), out = buf(info[3], "out");
  check(env, t.type == e.type && t.type == out.type && t.length == e.length && t.length == out.length &&
                 c.length > 0 && t.length % c.length == 0, "select: sizes do not match");
  const int64_t inner = static_cast<int64_t>(t.length / c.length);
  const uint8_t* cp = static_cast<uint8_t*>(c.data);
  if (t.type == napi_float32_array)
    es::select<float>(cp, static_cast<float*>(t.data), static_cast<float*>(e.data), static_cast<float*>(out.data), c.length, inner);
  else if (t.type == napi_int32_array)
    es::select<int32_t>(cp, static_cast<int32_t*>(t.data), static_cast<int32_t*>(e.data), static_cast<int32_t*>(out.data), c.length, inner);
  else if (t.type == napi_uint8_array)
    es::select<uint8_t>(cp, static_cast<uint8_t*>(t.data), static_cast<uint8_t*>(e.data), static_cast<uint8_t*>(out.data), c.length, inner);
  else throw Napi::TypeError::New(env, "select: unsupported dtype");
  return env.Undefined();
}

// oneHot(indices, out, depth, on, off)
Napi::Value OneHot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf idx = bufOf(info[0], napi_int32_array, "indices"), out = buf(info[1], "out");
  const int64_t depth = i64(info[2]);
  check(env, static_cast<int64_t>(out.length) == static_cast<int64_t>(idx.length) * depth, "oneHot: sizes do not match");
  const double on = info[3].As<Napi::Number>().DoubleValue(), off = info[4].As<Napi::Number>().DoubleValue();
  if (out.type == napi_float32_array)
    es::oneHot<float>(static_cast<int32_t*>(idx.data), static_cast<float*>(out.data), idx.length, depth, static_cast<float>(on), static_cast<float>(off));
  else if (out.type == napi_int32_array)
    es::oneHot<int32_t>(static_cast<int32_t*>(idx.data), static_cast<int32_t*>(out.data), idx.length, depth, static_cast<int32_t>(on), static_cast<int32_t>(off));
  else throw Napi::TypeError::New(env, "oneHot: unsupported dtype");
  return env.Undefined();
}

// tile(x, out, shape, reps)
Napi::Value Tile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf x = buf(info[0], "x"), out = buf(info[1], "out");
  Shape s = shape(info[2]), reps = shape(info[3]);
  check(env, !s.empty() && s.size() == reps.size() && x.elemSize == out.elemSize && static_cast<int64_t>(x.length) == sizeOf(s),
        "tile: sizes do not match");
  int64_t total = 1;
  for (size_t i = 0; i < s.size(); ++i) total *= s[i] * reps[i];
  check(env, static_cast<int64_t>(out.length) == total, "tile: output size does not match");
  es::tile(x.data, out.data, x.elemSize, s, reps);
  return env.Undefined();
}

// sgemm(a, b, out, batch, m, n, k, transA, transB, aIdx|null, bIdx|null)
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf a = bufOf(info[0], napi_float32_array, "a"), b = bufOf(info[1], napi_float32_array, "b"),
      c = bufOf(info[2], napi_float32_array, "out");
  const int64_t batch = i64(info[3]), m = i64(info[4]), n = i64(info[5]), k = i64(info[6]);
  const bool ta = info[7].ToBoolean(), tb = info[8].ToBoolean();
  const int32_t* aIdx = nullptr;
  const int32_t* bIdx = nullptr;
  int64_t aBatches = batch, bBatches = batch;
  if (info.Length() > 9 && info[9].IsTypedArray()) {
    Buf ai = bufOf(info[9], napi_int32_array, "aIdx");
    check(env, static_cast<int64_t>(ai.length) == batch, "sgemm: aIdx length");
    aIdx = static_cast<int32_t*>(ai.data);
    aBatches = 0;
    for (int64_t i = 0; i < batch; ++i) aBatches = std::max<int64_t>(aBatches, aIdx[i] + 1);
  }
  if (info.Length() > 10 && info[10].IsTypedArray()) {
    Buf bi = bufOf(info[10], napi_int32_array, "bIdx");
    check(env, static_cast<int64_t>(bi.length) == batch, "sgemm: bIdx length");
    bIdx = static_cast<int32_t*>(bi.data);
    bBatches = 0;
    for (int64_t i = 0; i < batch; ++i) bBatches = std::max<int64_t>(bBatches, bIdx[i] + 1);
  }
  check(env, static_cast<int64_t>(a.length) >= aBatches * m * k && static_cast<int64_t>(b.length) >= bBatches * k * n &&
                 static_cast<int64_t>(c.length) == batch * m * n, "sgemm: sizes do not match");
  es::sgemmBatched(static_cast<float*>(a.data), static_cast<float*>(b.data), static_cast<float*>(c.data), batch, m, n,
                   k, ta, tb, aIdx, bIdx);
  return env.Undefined();
}

// ---- fused kernels (kernel-names.ts in core). Every array float32 unless said; sizes checked here.

float* f32(const Napi::Value& v, const char* what, size_t length) {
  Buf b = bufOf(v, napi_float32_array, what);
  if (b.length != length) throw Napi::RangeError::New(v.Env(), std::string(what) + ": size does not match");
  return static_cast<float*>(b.data);
}

float num(const Napi::Value& v) { return v.As<Napi::Number>().FloatValue(); }

// adamW(p, g, m, v, pOut, mOut, vOut, lr, beta1, beta2, eps, decay, c1, c2)
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  const size_t n = bufOf(info[0], napi_float32_array, "param").length;
  es::AdamWParams a{num(info[7]), num(info[8]), num(info[9]), num(info[10]), num(info[11]), num(info[12]), num(info[13])};
  es::adamW(f32(info[0], "param", n), f32(info[1], "grad", n), f32(info[2], "m", n), f32(info[3], "v", n),
            f32(info[4], "param out", n), f32(info[5], "m out", n), f32(info[6], "v out", n), n, a);
  return info.Env().Undefined();
}

// swiglu(gate, up, out)
Napi::Value SwiGLU(const Napi::CallbackInfo& info) {
  const size_t n = bufOf(info[0], napi_float32_array, "gate").length;
  es::swiglu(f32(info[0], "gate", n), f32(info[1], "up", n), f32(info[2], "out", n), n);
  return info.Env().Undefined();
}

// swigluGrad(gate, up, dy, dgate, dup)
Napi::Value SwiGLUGrad(const Napi::CallbackInfo& info) {
  const size_t n = bufOf(info[0], napi_float32_array, "gate").length;
  es::swigluGrad(f32(info[0], "gate", n), f32(info[1], "up", n), f32(info[2], "dy", n), f32(info[3], "dgate", n),
                 f32(info[4], "dup", n), n);
  return info.Env().Undefined();
}

// gelu(x, out)
Napi::Value Gelu(const Napi::CallbackInfo& info) {
  const size_t n = bufOf(info[0], napi_float32_array, "x").length;
  es::gelu(f32(info[0], "x", n), f32(info[1], "out", n), n);
  return info.Env().Undefined();
}

// geluGrad(x, dy, dx)
Napi::Value GeluGrad(const Napi::CallbackInfo& info) {
  const size_t n = bufOf(info[0], napi_float32_array, "x").length;
  es::geluGrad(f32(info[0], "x", n), f32(info[1], "dy", n), f32(info[2], "dx", n), n);
  return info.Env().Undefined();
}

// rope(x, cos, sin, out, seq, d, inverse)
Napi::Value Rope(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t n = bufOf(info[0], napi_float32_array, "x").length;
  const int64_t seq = i64(info[4]), d = i64(info[5]);
  check(env, seq > 0 && d > 0 && d % 2 == 0 && static_cast<int64_t>(n) % (seq * d) == 0, "rope: bad shape");
  const size_t half = static_cast<size_t>(seq * d / 2);
  es::rope(f32(info[0], "x", n), f32(info[1], "cos", half), f32(info[2], "sin", half), f32(info[3], "out", n),
           static_cast<int64_t>(n) / d, seq, d, info[6].ToBoolean());
  return env.Undefined();
}

// rmsNorm(x, weight, out, d, eps)
Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t n = bufOf(info[0], napi_float32_array, "x").length;
  const int64_t d = i64(info[3]);
  check(env, d > 0 && static_cast<int64_t>(n) % d == 0, "rmsNorm: bad shape");
  es::rmsNorm(f32(info[0], "x", n), f32(info[1], "weight", d), f32(info[2], "out", n), static_cast<int64_t>(n) / d, d,
              num(info[4]));
  return env.Undefined();
}

// rmsNormGrad(x, weight, dy, dx, dweight, d, eps)
Napi::Value RmsNormGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t n = bufOf(info[0], napi_float32_array, "x").length;
  const int64_t d = i64(info[5]);
  check(env, d > 0 && static_cast<int64_t>(n) % d == 0, "rmsNormGrad: bad shape");
  es::rmsNormGrad(f32(info[0], "x", n), f32(info[1], "weight", d), f32(info[2], "dy", n), f32(info[3], "dx", n),
                  f32(info[4], "dweight", d), static_cast<int64_t>(n) / d, d, num(info[6]));
  return env.Undefined();
}

// causalSoftmax(x, out, seq, scale)
Napi::Value CausalSoftmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t n = bufOf(info[0], napi_float32_array, "scores").length;
  const int64_t seq = i64(info[2]);
  check(env, seq > 0 && static_cast<int64_t>(n) % seq == 0, "causalSoftmax: bad shape");
  es::causalSoftmax(f32(info[0], "scores", n), f32(info[1], "out", n), static_cast<int64_t>(n) / seq, seq, num(info[3]));
  return env.Undefined();
}

// causalSoftmaxGrad(y, dy, out, seq, scale)
Napi::Value CausalSoftmaxGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t n = bufOf(info[0], napi_float32_array, "y").length;
  const int64_t seq = i64(info[3]);
  check(env, seq > 0 && static_cast<int64_t>(n) % seq == 0, "causalSoftmaxGrad: bad shape");
  es::causalSoftmaxGrad(f32(info[0], "y", n), f32(info[1], "dy", n), f32(info[2], "out", n), static_cast<int64_t>(n) / seq,
                        seq, num(info[4]));
  return env.Undefined();
}

// crossEntropy(logits, targets: Int32Array, loss, v)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf t = bufOf(info[1], napi_int32_array, "targets");
  const int64_t v = i64(info[3]), n = static_cast<int64_t>(t.length);
  check(env, v > 0, "crossEntropy: bad shape");
  es::crossEntropy(f32(info[0], "logits", n * v), static_cast<int32_t*>(t.data), f32(info[2], "loss", n), n, v);
  return env.Undefined();
}

// crossEntropyGrad(logits, targets: Int32Array, dy, out, v)
Napi::Value CrossEntropyGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buf t = bufOf(info[1], napi_int32_array, "targets");
  const int64_t v = i64(info[4]), n = static_cast<int64_t>(t.length);
  check(env, v > 0, "crossEntropyGrad: bad shape");
  es::crossEntropyGrad(f32(info[0], "logits", n * v), static_cast<int32_t*>(t.data), f32(info[2], "dy", n),
                       f32(info[3], "out", n * v), n, v);
  return env.Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("threads", es::Pool::instance().threads());
  o.Set("blasThreads", es::blasThreads());
  o.Set("blas", std::string(es::blasConfig()));
  return o;
}

Napi::Value SetBlasThreads(const Napi::CallbackInfo& info) {
  es::setBlasThreads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// A 2x2 product and a broadcast add, checked: proves the BLAS and the pool work after loading.
Napi::Value SelfTest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4] = {0, 0, 0, 0};
  es::sgemmBatched(a, b, c, 1, 2, 2, 2, false, false, nullptr, nullptr);
  if (c[0] != 19.f || c[1] != 22.f || c[2] != 43.f || c[3] != 50.f) return Napi::String::New(env, "sgemm gave a wrong product");
  std::vector<float> x(1 << 17, 1.f), y(1 << 17, 0.f);
  float one = 2.f;
  es::binary<float>(es::BinaryOp::Add, x.data(), {1 << 17}, &one, {1}, y.data(), {1 << 17});
  for (float v : y)
    if (v != 3.f) return Napi::String::New(env, "threaded add gave a wrong sum");
  return Napi::Boolean::New(env, true);
}

template <typename F>
Napi::Function guarded(Napi::Env env, const char* name, F f) {
  // C++ exceptions from kernels become JS errors.
  return Napi::Function::New(env, [f, name](const Napi::CallbackInfo& info) -> Napi::Value {
    try {
      return f(info);
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), std::string(name) + ": " + e.what());
    }
  }, name);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", guarded(env, "binary", Binary));
  exports.Set("compare", guarded(env, "compare", Compare));
  exports.Set("unary", guarded(env, "unary", Unary));
  exports.Set("reduce", guarded(env, "reduce", Reduce));
  exports.Set("softmax", guarded(env, "softmax", Softmax));
  exports.Set("transpose", guarded(env, "transpose", Transpose));
  exports.Set("slice", guarded(env, "slice", Slice));
  exports.Set("gather", guarded(env, "gather", Gather));
  exports.Set("segmentSum", guarded(env, "segmentSum", SegmentSum));
  exports.Set("concat", guarded(env, "concat", Concat));
  exports.Set("addN", guarded(env, "addN", AddN));
  exports.Set("select", guarded(env, "select", Select));
  exports.Set("oneHot", guarded(env, "oneHot", OneHot));
  exports.Set("tile", guarded(env, "tile", Tile));
  exports.Set("sgemm", guarded(env, "sgemm", Sgemm));
  exports.Set("adamW", guarded(env, "adamW", AdamW));
  exports.Set("swiglu", guarded(env, "swiglu", SwiGLU));
  exports.Set("swigluGrad", guarded(env, "swigluGrad", SwiGLUGrad));
  exports.Set("gelu", guarded(env, "gelu", Gelu));
  exports.Set("geluGrad", guarded(env, "geluGrad", GeluGrad));
  exports.Set("rope", guarded(env, "rope", Rope));
  exports.Set("rmsNorm", guarded(env, "rmsNorm", RmsNorm));
  exports.Set("rmsNormGrad", guarded(env, "rmsNormGrad", RmsNormGrad));
  exports.Set("causalSoftmax", guarded(env, "causalSoftmax", CausalSoftmax));
  exports.Set("causalSoftmaxGrad", guarded(env, "causalSoftmaxGrad", CausalSoftmaxGrad));
  exports.Set("crossEntropy", guarded(env, "crossEntropy", CrossEntropy));
  exports.Set("crossEntropyGrad", guarded(env, "crossEntropyGrad", CrossEntropyGrad));
  exports.Set("info", guarded(env, "info", Info));
  exports.Set("setBlasThreads", guarded(env, "setBlasThreads", SetBlasThreads));
  exports.Set("selfTest", guarded(env, "selfTest", SelfTest));
  return exports;
}

}  // namespace

NODE_API_MODULE(efficientscale_native, Init)
