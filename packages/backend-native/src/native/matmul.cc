
#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "kernels.h"
#include "pool.h"

namespace es {

void setBlasThreads(int n) { openblas_set_num_threads(n); }
int blasThreads() { return openblas_get_num_threads(); }
const char* blasConfig() { return openblas_get_config(); }

namespace {
// The BLAS runs single-threaded: parallelism comes from the pool, which splits products into row (or
// column) blocks and spreads batches, so that one set of threads serves the kernels and the products
// (two sets would contend for the cores), and a block is claimed by whichever thread is free.
std::once_flag blasOnce;
void singleThreadedBlas() {
  std::call_once(blasOnce, [] {
    if (Pool::instance().threads() > 1 && !std::getenv("OPENBLAS_NUM_THREADS")) openblas_set_num_threads(1);
  });
}
}  // namespace

void sgemmBatched(const float* a, const float* b, float* c, int64_t batch, int64_t m, int64_t n, int64_t k,
                  bool transA, bool transB, const int32_t* aIdx, const int32_t* bIdx) {
  if (batch == 0 || m == 0 || n == 0) return;
  if (k == 0) { std::fill(c, c + batch * m * n, 0.f); return; }
  singleThreadedBlas();
  const CBLAS_TRANSPOSE ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans;
  const int lda = static_cast<int>(transA ? m : k), ldb = static_cast<int>(transB ? k : n);
  const int64_t aSize = m * k, bSize = k * n, cSize = m * n;
  auto ai = [&](int64_t i) { return aIdx ? static_cast<int64_t>(aIdx[i]) : i; };
  auto bi = [&](int64_t i) { return bIdx ? static_cast<int64_t>(bIdx[i]) : i; };
  Pool& pool = Pool::instance();
  const int threads = pool.threads();

  // C[rows r0..r1) of one product: A's rows (or columns when transposed) r0..r1
  auto rows = [&](const float* A, const float* B, float* C, int64_t r0, int64_t r1) {
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(r1 - r0), static_cast<int>(n), static_cast<int>(k), 1.f,
                A + (transA ? r0 : r0 * k), lda, B, ldb, 0.f, C + r0 * n, static_cast<int>(n));
  };
  // C[:, cols c0..c1) of one product: B's columns (or rows when transposed) c0..c1
  auto cols = [&](const float* A, const float* B, float* C, int64_t c0, int64_t c1) {
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(c1 - c0), static_cast<int>(k), 1.f,
                A, lda, B + (transB ? c0 * k : c0), ldb, 0.f, C + c0, static_cast<int>(n));
  };
  // One product split into blocks over the pool: rows when there are enough, else columns. Blocks of at
  // least 64 rows or columns keep the BLAS's packing overhead small.
  auto one = [&](const float* A, const float* B, float* C, int64_t mm) {
    const int64_t flops = mm * n * k;
    if (threads <= 1 || flops < (int64_t{1} << 21)) {
      cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(mm), static_cast<int>(n), static_cast<int>(k), 1.f, A, lda,
                  B, ldb, 0.f, C, static_cast<int>(n));
      return;
    }
    const bool byRows = mm >= n || transA == false && mm >= 64 * threads;
    const int64_t extent = byRows ? mm : n;
    const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(threads * 2, extent / 64));
    pool.parallelTasks(blocks, [&](int64_t i0, int64_t i1) {
      const int64_t s = extent * i0 / blocks, e = extent * i1 / blocks;
      if (byRows) rows(A, B, C, s, e);
      else cols(A, B, C, s, e);
    });
  };

  // One shared B and consecutive untransposed A batches: a single product with batch*m rows.
  bool sharedB = batch > 1 && !transA;
  for (int64_t i = 0; sharedB && i < batch; ++i) sharedB = bi(i) == bi(0) && ai(i) == ai(0) + i;
  if (sharedB || batch == 1) {
    // (with transA, `rows` offsets columns of A [k, m]: the row count stays m for lda)
    one(a + ai(0) * aSize, b + bi(0) * bSize, c, sharedB ? batch * m : m);
    return;
  }
  // Many products: whole products spread over the pool.
  pool.parallelTasks(batch, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.f,
                a + ai(i) * aSize, lda, b + bi(i) * bSize, ldb, 0.f, c + i * cSize, static_cast<int>(n));
  });
}

}  // namespace es
