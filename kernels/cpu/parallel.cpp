// ember's CPU thread pool (Note [Work-claiming pool] in kernels/cpu/parallel.h).
#include <ember/kernels/cpu/parallel.h>

#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <ember/kernels/common/error.h>

namespace ember::kernels::cpu {
namespace {

// A worker that found no job spins this long, re-checking, before it goes to sleep: long
// enough to catch a training step's next op, short enough not to burn a shared core.
constexpr int kSpinRounds = 4000;

// The pool's state word: the job's generation in the high bits, the next unclaimed chunk in
// the low kChunkBits. One compare-and-swap claims a chunk of exactly one generation, so a
// thread that read a finished job's fields can never run a chunk of the next one.
constexpr int kChunkBits = 24;
constexpr uint64_t kChunkMask = (uint64_t{1} << kChunkBits) - 1;

// EMBER_NUM_THREADS (which must be a count from 1 to 1024), else OMP_NUM_THREADS when it is
// one number, else the cores this process may run on.
int default_threads() {
  const auto parse = [](const char* env) -> long {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    return end != env && *end == '\0' && n >= 1 && n <= 1024 ? n : -1;
  };
  if (const char* env = std::getenv("EMBER_NUM_THREADS")) {
    const long n = parse(env);
    EMBER_CHECK(n > 0, ValueError, "EMBER_NUM_THREADS='", env,
                "' is not a thread count (expected an integer from 1 to 1024)");
    return static_cast<int>(n);
  }
  if (const char* env = std::getenv("OMP_NUM_THREADS"))
    if (const long n = parse(env); n > 0) return static_cast<int>(n);
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

class Pool {
 public:
  // Never destroyed: worker threads may still be parked in it when static destructors run.
  static Pool& get() {
    static Pool* pool = new Pool(default_threads());
    return *pool;
  }

  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void resize(int n) {
    std::lock_guard<std::mutex> run(run_mutex_);  // no job in flight while workers change
    stop_workers();
    threads_.store(n, std::memory_order_relaxed);
    start_workers(n - 1);
  }

  bool run(int64_t n, int64_t chunk, detail::ChunkFn fn, const void* body) {
    std::unique_lock<std::mutex> run(run_mutex_, std::try_to_lock);
    if (!run.owns_lock()) return false;
    const int64_t chunks = (n + chunk - 1) / chunk;
    if (chunks > static_cast<int64_t>(kChunkMask)) return false;
    fn_.store(fn, std::memory_order_relaxed);
    body_.store(body, std::memory_order_relaxed);
    n_.store(n, std::memory_order_relaxed);
    chunk_.store(chunk, std::memory_order_relaxed);
    chunks_.store(chunks, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint64_t gen = ++generation_;
    state_.store(gen << kChunkBits, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      wake_.notify_all();
    }
    detail::t_in_parallel_region = true;
    work();
    detail::t_in_parallel_region = false;
    // Only chunks another thread has claimed can remain; wait for those.
    for (int spins = 0; done_.load(std::memory_order_acquire) < chunks; ++spins)
      if (spins > 64) std::this_thread::yield();
    return true;
  }

 private:
  explicit Pool(int threads) : threads_(threads) { start_workers(threads - 1); }

  // Claims and runs chunks of the current job until none are left.
  void work() {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t next = s & kChunkMask;
      const detail::ChunkFn fn = fn_.load(std::memory_order_relaxed);
      const void* body = body_.load(std::memory_order_relaxed);
      const int64_t n = n_.load(std::memory_order_relaxed);
      const int64_t chunk = chunk_.load(std::memory_order_relaxed);
      const int64_t chunks = chunks_.load(std::memory_order_relaxed);
      if (static_cast<int64_t>(next) >= chunks) return;
      // Succeeds only if no chunk was claimed and no new job posted since s was read, so
      // the fields read above are this job's.
      if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                        std::memory_order_acquire))
        continue;
      const int64_t begin = static_cast<int64_t>(next) * chunk;
      fn(body, begin, std::min(n, begin + chunk));
      done_.fetch_add(1, std::memory_order_release);
      s = state_.load(std::memory_order_acquire);
    }
  }

  void worker_loop() {
    detail::t_in_parallel_region = true;  // a parallel_for inside a chunk runs inline
    omp_set_num_threads(1);               // a BLAS call on this thread must not fork OpenMP threads
    uint64_t seen = 0;
    while (!stop_.load(std::memory_order_acquire)) {
      uint64_t gen = state_.load(std::memory_order_acquire) >> kChunkBits;
      for (int spin = 0; gen == seen && spin < kSpinRounds; ++spin) {
        if (spin > kSpinRounds / 2) std::this_thread::yield();
        gen = state_.load(std::memory_order_acquire) >> kChunkBits;
      }
      if (gen == seen) {
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(lock, [&] {
          return stop_.load(std::memory_order_acquire) ||
                 (state_.load(std::memory_order_seq_cst) >> kChunkBits) != seen;
        });
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
        continue;
      }
      seen = gen;
      work();
    }
  }

  void start_workers(int count) {
    stop_.store(false, std::memory_order_release);
    for (int i = 0; i < count; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stop_.store(true, std::memory_order_release);
      wake_.notify_all();
    }
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  std::atomic<int> threads_;
  std::mutex run_mutex_;  // one job at a time; a second caller runs its range itself
  uint64_t generation_ = 0;
  std::atomic<uint64_t> state_{0};
  std::atomic<detail::ChunkFn> fn_{nullptr};
  std::atomic<const void*> body_{nullptr};
  std::atomic<int64_t> n_{0}, chunk_{1}, chunks_{0}, done_{0};
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

}  // namespace

int get_num_threads() {
  return Pool::get().threads();
}

void set_num_threads(int n) {
  EMBER_CHECK(n >= 1, ValueError, "set_num_threads: the thread count must be at least 1, got ", n);
  if (n != Pool::get().threads()) Pool::get().resize(n);
}

namespace detail {

bool run_on_pool(int64_t n, int64_t chunk, ChunkFn fn, const void* body) {
  return Pool::get().run(n, chunk, fn, body);
}

}  // namespace detail
}  // namespace ember::kernels::cpu
