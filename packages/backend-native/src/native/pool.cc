#include "pool.h"

#include <chrono>
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
    workers_.emplace_back([this] { workerLoop(); });
    workers_.back().detach();
  }
}

namespace {
inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}
// How long a worker keeps polling for the next job, and the caller for its workers, before sleeping.
constexpr auto kSpin = std::chrono::microseconds(300);

// Polls `ready` for up to kSpin; true when it became true.
template <typename F>
bool spinUntil(F ready) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      if (ready()) return true;
      cpuRelax();
    }
    if (std::chrono::steady_clock::now() > until) return ready();
  }
}
}  // namespace

void Pool::work(uint64_t gen) {
  const std::function<void(int64_t, int64_t)>* job;
  int64_t n;
  int chunks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_.load(std::memory_order_relaxed) >> 32 != gen) return;  // that job is over
    job = job_;
    n = n_;
    chunks = chunks_;
  }
  for (;;) {
    uint64_t s = state_.load(std::memory_order_acquire);
    int64_t c;
    do {
      c = static_cast<int64_t>(s & 0xffffffffu);
      if (s >> 32 != gen || c >= chunks) return;
    } while (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire));
    (*job)(n * c / chunks, n * (c + 1) / chunks);
    if (finished_.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) {
      std::lock_guard<std::mutex> lock(mu_);
      if (callerWaiting_) done_.notify_one();
    }
  }
}

void Pool::workerLoop() {
  uint64_t seen = 0;
  for (;;) {
    spinUntil([&] { return state_.load(std::memory_order_acquire) >> 32 != seen; });
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (state_.load(std::memory_order_relaxed) >> 32 == seen) {
        ++sleeping_;
        wake_.wait(lock, [&] { return state_.load(std::memory_order_relaxed) >> 32 != seen; });
        --sleeping_;
      }
      seen = state_.load(std::memory_order_relaxed) >> 32;
    }
    work(seen);
  }
}

void Pool::run(int64_t n, int chunks, const std::function<void(int64_t, int64_t)>& fn) {
  if (chunks <= 1 || threads_ <= 1) { fn(0, n); return; }
  std::unique_lock<std::mutex> call(callMu_, std::try_to_lock);
  if (!call.owns_lock()) { fn(0, n); return; }
  uint64_t gen;
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    n_ = n;
    chunks_ = chunks;
    finished_.store(0, std::memory_order_relaxed);
    gen = (state_.load(std::memory_order_relaxed) >> 32) + 1;
    state_.store(gen << 32, std::memory_order_release);
    wake = sleeping_ > 0;
  }
  if (wake) wake_.notify_all();
  work(gen);
  // Every chunk is claimed now; wait for those that workers are still running.
  if (!spinUntil([&] { return finished_.load(std::memory_order_acquire) == chunks; })) {
    std::unique_lock<std::mutex> lock(mu_);
    callerWaiting_ = true;
    done_.wait(lock, [&] { return finished_.load(std::memory_order_acquire) == chunks; });
    callerWaiting_ = false;
  }
}

void Pool::parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t most = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
  run(n, static_cast<int>(std::min<int64_t>(most, threads_ * 4)), fn);
}

void Pool::parallelTasks(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  run(n, static_cast<int>(std::min<int64_t>(n, 1 << 30)), fn);
}

}  // namespace es
