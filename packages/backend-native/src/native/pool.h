// A small persistent thread pool for the kernels (and for the matrix products, whose BLAS calls run
// single-threaded inside it): one worker per core beyond the caller.
//
// Work is split into a few chunks per thread that the caller and the workers claim one at a time, so a
// worker that is slow to wake (or descheduled by other load on the machine) costs at most the chunk it
// claimed: the caller goes on with the rest instead of waiting for a fixed share. Workers spin briefly
// after each job before sleeping, so that the next kernel of a training step, microseconds later, does
// not pay for a futex wake-up. Below a size threshold work stays on the calling thread.
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
  // Runs fn(begin, end) over [0, n) in contiguous chunks of at least `grain` (up to 4 per thread).
  void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);
  // Runs fn over [0, n) in chunks of one index each (for a few large tasks); fn must take any range, as
  // a single thread (or a concurrent caller) runs fn(0, n).
  void parallelTasks(int64_t n, const std::function<void(int64_t, int64_t)>& fn);
  static Pool& instance();
  static int defaultThreads();

 private:
  void run(int64_t n, int chunks, const std::function<void(int64_t, int64_t)>& fn);
  // Claims and runs chunks of job `gen` until none is left.
  void work(uint64_t gen);
  void workerLoop();
  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::mutex callMu_;  // one parallel region at a time; a concurrent caller runs serially
  std::condition_variable wake_;
  std::condition_variable done_;
  // The current job, written under mu_ before its generation is published in state_.
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t n_ = 0;
  int chunks_ = 0;
  int sleeping_ = 0;
  bool callerWaiting_ = false;
  // generation (high 32 bits) and next unclaimed chunk (low 32): a claim succeeds only for the current job
  std::atomic<uint64_t> state_{0};
  std::atomic<int> finished_{0};
};

// Splits [0, n) when the work is worth it (grain = minimum elements per chunk).
inline void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (n < 2 * grain) { fn(0, n); return; }
  Pool::instance().parallelFor(n, grain, fn);
}

}  // namespace es
