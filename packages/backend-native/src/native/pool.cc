#include "pool.h"

#include <cstdlib>
#include <sched.h>

namespace es {

int Pool::defaultThreads() {
  if (const char* env = std::getenv("EFFICIENTSCALE_NATIVE_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

Pool& Pool::instance() {
  // Never destroyed: workers sleep on a condition variable and die with the process.
  static Pool* pool = new Pool(defaultThreads());
  return *pool;
}

Pool::Pool(int threads) : threads_(std::max(1, threads)) {
  for (int i = 1; i < threads_; ++i) {
    workers_.emplace_back([this, i] { workerLoop(i); });
    workers_.back().detach();
  }
}

void Pool::workerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int64_t, int64_t)>* job;
    int64_t n;
    int chunks;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      job = job_;
      n = n_;
      chunks = chunks_;
    }
    if (index < chunks) {
      int64_t begin = n * index / chunks, end = n * (index + 1) / chunks;
      (*job)(begin, end);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);
        done_.notify_one();
      }
    }
  }
}

void Pool::parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  int chunks = static_cast<int>(std::min<int64_t>(threads_, n / std::max<int64_t>(grain, 1)));
  if (chunks <= 1) { fn(0, n); return; }
  std::unique_lock<std::mutex> call(callMu_, std::try_to_lock);
  if (!call.owns_lock()) { fn(0, n); return; }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    n_ = n;
    chunks_ = chunks;
    pending_.store(chunks - 1, std::memory_order_release);
    ++generation_;
  }
  wake_.notify_all();
  fn(0, n / chunks);
  // Brief spin first: most chunks finish within microseconds of the caller's own.
  for (int spin = 0; spin < 2000 && pending_.load(std::memory_order_acquire) != 0; ++spin) std::this_thread::yield();
  if (pending_.load(std::memory_order_acquire) != 0) {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
  }
}

}  // namespace es
