// A small persistent thread pool for element-wise kernels: one worker per core beyond the caller,
// static partitioning, and a size threshold below which work stays on the calling thread.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace es {

class Pool {
 public:
  explicit Pool(int threads);
  int threads() const { return threads_; }
  // Runs fn(begin, end) over [0, n) split into at most threads() contiguous chunks of at least `grain`.
  void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);
  static Pool& instance();
  static int defaultThreads();

 private:
  void workerLoop(int index);
  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::mutex callMu_;  // one parallel region at a time; a concurrent caller runs serially
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t n_ = 0;
  int chunks_ = 0;
  uint64_t generation_ = 0;
  std::atomic<int> pending_{0};
};

// Splits [0, n) when the work is worth it (grain = minimum elements per thread).
inline void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (n < 2 * grain) { fn(0, n); return; }
  Pool::instance().parallelFor(n, grain, fn);
}

}  // namespace es
