#include <cblas.h>

#include <algorithm>

#include "kernels.h"
#include "pool.h"

namespace es {

void setBlasThreads(int n) { openblas_set_num_threads(n); }
int blasThreads() { return openblas_get_num_threads(); }
const char* blasConfig() { return openblas_get_config(); }

void sgemmBatched(const float* a, const float* b, float* c, int64_t batch, int64_t m, int64_t n, int64_t k,
                  bool transA, bool transB, const int32_t* aIdx, const int32_t* bIdx) {
  if (batch == 0 || m == 0 || n == 0) return;
  if (k == 0) { std::fill(c, c + batch * m * n, 0.f); return; }
  const CBLAS_TRANSPOSE ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans;
  const int lda = static_cast<int>(transA ? m : k), ldb = static_cast<int>(transB ? k : n);
  const int64_t aSize = m * k, bSize = k * n, cSize = m * n;
  auto ai = [&](int64_t i) { return aIdx ? static_cast<int64_t>(aIdx[i]) : i; };
  auto bi = [&](int64_t i) { return bIdx ? static_cast<int64_t>(bIdx[i]) : i; };

  // One shared B and consecutive untransposed A batches: a single product with batch*m rows.
  bool sharedB = batch > 1 && !transA;
  for (int64_t i = 0; sharedB && i < batch; ++i) sharedB = bi(i) == bi(0) && ai(i) == ai(0) + i;
  if (sharedB) {
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(batch * m), static_cast<int>(n), static_cast<int>(k), 1.f,
                a + ai(0) * aSize, lda, b + bi(0) * bSize, ldb, 0.f, c, static_cast<int>(n));
    return;
  }
  const int threads = Pool::instance().threads();
  // Many small products: one BLAS thread per product, products spread over the pool, instead of the BLAS
  // splitting each small product (its own threads would otherwise contend with the pool's).
  const bool spread = threads > 1 && batch >= threads && m * n * k <= (int64_t{1} << 22);
  auto run = [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i)
      cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.f,
                  a + ai(i) * aSize, lda, b + bi(i) * bSize, ldb, 0.f, c + i * cSize, static_cast<int>(n));
  };
  if (spread) {
    const int before = openblas_get_num_threads();
    openblas_set_num_threads(1);
    Pool::instance().parallelFor(batch, 1, run);
    openblas_set_num_threads(before);
  } else {
    run(0, batch);
  }
}

}  // namespace es
