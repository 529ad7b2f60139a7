/* Times cblas_sgemm called directly (no Node, no addon): the reference for the addon's matrix products.
 * Usage: sgemm_direct M N K [reps] -> prints one JSON line. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  int m = argc > 1 ? atoi(argv[1]) : 1024, n = argc > 2 ? atoi(argv[2]) : 1024, k = argc > 3 ? atoi(argv[3]) : 1024;
  int reps = argc > 4 ? atoi(argv[4]) : 20;
  float* a = malloc(sizeof(float) * (size_t)m * k);
  float* b = malloc(sizeof(float) * (size_t)k * n);
  float* c = malloc(sizeof(float) * (size_t)m * n);
  for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)rand() / RAND_MAX;
  for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)rand() / RAND_MAX;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a, k, b, n, 0.f, c, n);
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a, k, b, n, 0.f, c, n);
    double dt = now() - t0;
    if (dt < best) best = dt;
  }
  printf("{\"m\":%d,\"n\":%d,\"k\":%d,\"best_ms\":%.3f,\"gflops\":%.1f,\"threads\":%d}\n", m, n, k, best * 1e3,
         2.0 * m * n * k / best / 1e9, openblas_get_num_threads());
  free(a); free(b); free(c);
  return 0;
}
