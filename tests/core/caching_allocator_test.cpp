// Tests for the generic caching allocator, driven by raw allocators that count their calls
// or fail on purpose, so every cache decision (hit, split, coalesce, release, retry) shows
// up as a number of raw calls.
#include <ember/core/allocator.h>
#include <ember/core/error.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace ember {
namespace {

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;

// malloc-backed; records every raw call and the guard hooks. Its counters are touched only
// under the caching allocator's mutex, so the multi-threaded test may use it too.
class CountingRawAllocator : public RawAllocator {
 public:
  ~CountingRawAllocator() override {
    for (auto& [ptr, size] : live) std::free(ptr);
  }

  void* raw_alloc(size_t nbytes) override {
    ++alloc_calls;
    if (should_fail(nbytes)) return nullptr;
    void* ptr = std::malloc(nbytes);
    live[ptr] = nbytes;
    live_bytes += nbytes;
    return ptr;
  }

  void raw_free(void* ptr, size_t nbytes) override {
    ++free_calls;
    auto it = live.find(ptr);
    ASSERT_NE(it, live.end()) << "raw_free of a pointer raw_alloc did not return";
    EXPECT_EQ(it->second, nbytes) << "raw_free must be given the size raw_alloc was";
    live_bytes -= it->second;
    live.erase(it);
    std::free(ptr);
  }

  const char* name() const override { return "counting"; }

  void on_block_allocated(void* ptr, size_t usable, size_t guard) override {
    allocated_hooks.push_back({ptr, usable, guard});
  }
  void on_block_freed(void* ptr) override { freed_hooks.push_back(ptr); }

  struct Hook {
    void* ptr;
    size_t usable;
    size_t guard;
  };

  int successful_allocs() const { return alloc_calls - failed_calls; }

  int alloc_calls = 0;  // including failed ones
  int failed_calls = 0;
  int free_calls = 0;
  size_t live_bytes = 0;
  std::map<void*, size_t> live;
  std::vector<Hook> allocated_hooks;
  std::vector<void*> freed_hooks;

 protected:
  virtual bool should_fail(size_t /*nbytes*/) { return false; }
};

// Fails once live_bytes would pass `budget`, and on the next `fail_next` calls regardless.
class FailingRawAllocator : public CountingRawAllocator {
 public:
  explicit FailingRawAllocator(size_t budget_bytes) : budget(budget_bytes) {}
  const char* name() const override { return "failing"; }

  size_t budget;
  int fail_next = 0;

 protected:
  bool should_fail(size_t nbytes) override {
    const bool fail = fail_next > 0 || live_bytes + nbytes > budget;
    if (fail_next > 0) --fail_next;
    if (fail) ++failed_calls;
    return fail;
  }
};

TEST(CachingAllocatorTest, RoundsRequestsUpToTheRounding) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);  // rounding 512
  void* a = alloc.allocate(1);
  EXPECT_EQ(alloc.stats().allocated_bytes, 512);
  void* b = alloc.allocate(513);
  EXPECT_EQ(alloc.stats().allocated_bytes, 512 + 1024);
  void* c = alloc.allocate(0);  // still a real, distinct block
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(alloc.stats().allocated_bytes, 512 + 1024 + 512);
  // Carved in address order from one segment, each block exactly its rounded size.
  EXPECT_EQ(static_cast<char*>(b) - static_cast<char*>(a), 512);
  EXPECT_EQ(static_cast<char*>(c) - static_cast<char*>(b), 1024);
  for (void* p : {a, b, c}) alloc.deallocate(p);
  EXPECT_EQ(alloc.stats().allocated_bytes, 0);
}

TEST(CachingAllocatorTest, ReusingAFreedBlockIsACacheHit) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  void* p = alloc.allocate(1000);
  alloc.deallocate(p);
  const AllocatorStats before = alloc.stats();
  EXPECT_EQ(before.cache_hits, 0);
  void* q = alloc.allocate(1000);
  EXPECT_EQ(q, p);
  EXPECT_EQ(raw.alloc_calls, 1);
  EXPECT_EQ(alloc.stats().raw_alloc_calls, before.raw_alloc_calls);
  EXPECT_EQ(alloc.stats().cache_hits, 1);
  EXPECT_EQ(alloc.stats().alloc_calls, 2);
  alloc.deallocate(q);
}

TEST(CachingAllocatorTest, SteadyStateMakesNoRawAllocations) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  const std::vector<size_t> sizes = {64,          1000,     4096, 300 * kKiB, 1 * kMiB,
                                     1536 * kKiB, 5 * kMiB, 100,  0,          700 * kKiB};
  int raw_after_first = 0;
  for (int iter = 0; iter < 100; ++iter) {
    // A training step's shape: some buffers die early, some survive to the end.
    std::vector<void*> live;
    for (size_t i = 0; i < sizes.size(); ++i) {
      live.push_back(alloc.allocate(sizes[i], /*stream=*/i % 2));
      if (i % 3 == 2) {
        alloc.deallocate(live[i - 1]);
        live[i - 1] = nullptr;
      }
    }
    for (auto it = live.rbegin(); it != live.rend(); ++it) alloc.deallocate(*it);
    if (iter == 0) raw_after_first = raw.alloc_calls;
  }
  EXPECT_GT(raw_after_first, 0);
  EXPECT_EQ(raw.alloc_calls, raw_after_first);
  EXPECT_EQ(alloc.stats().cache_hits, alloc.stats().alloc_calls - raw_after_first);
}

TEST(CachingAllocatorTest, SmallAllocationsShareOneSegment) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  void* a = alloc.allocate(1000);
  void* b = alloc.allocate(200 * kKiB);
  EXPECT_EQ(raw.alloc_calls, 1);
  ASSERT_EQ(raw.live.size(), 1u);
  EXPECT_EQ(raw.live.begin()->second, 2 * kMiB);
  EXPECT_EQ(alloc.stats().reserved_bytes, static_cast<int64_t>(2 * kMiB));
  EXPECT_EQ(alloc.stats().cache_hits, 1);  // b was split off a's segment
  const auto distance = std::abs(static_cast<char*>(b) - static_cast<char*>(a));
  EXPECT_LT(distance, static_cast<std::ptrdiff_t>(2 * kMiB));
  alloc.deallocate(a);
  alloc.deallocate(b);
}

TEST(CachingAllocatorTest, CoalescesFreeNeighbours) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  // Four quarters fill one 2 MiB small segment exactly.
  std::vector<void*> quarters;
  for (int i = 0; i < 4; ++i) quarters.push_back(alloc.allocate(512 * kKiB));
  ASSERT_EQ(raw.alloc_calls, 1);
  // Free out of address order so both the prev- and the next-merge are needed.
  for (int i : {1, 0, 3, 2}) alloc.deallocate(quarters[i]);
  // 1 MiB fits only if the 512 KiB pieces merged back.
  void* half1 = alloc.allocate(1 * kMiB);
  void* half2 = alloc.allocate(1 * kMiB);
  EXPECT_EQ(raw.alloc_calls, 1);
  alloc.deallocate(half2);
  alloc.deallocate(half1);
  // Fully merged again: the segment is whole, so empty_cache can give it back.
  alloc.empty_cache();
  EXPECT_EQ(raw.free_calls, 1);
  EXPECT_EQ(alloc.stats().reserved_bytes, 0);
}

TEST(CachingAllocatorTest, LargeRequestsUseSegmentsRoundedTo2MiB) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  void* p = alloc.allocate(3 * kMiB + 1);
  ASSERT_EQ(raw.live.size(), 1u);
  EXPECT_EQ(raw.live.begin()->second, 4 * kMiB);
  EXPECT_EQ(alloc.stats().reserved_bytes, static_cast<int64_t>(4 * kMiB));
  // The ~1 MiB tail is not > small_limit, so it stays part of the block.
  EXPECT_EQ(alloc.stats().allocated_bytes, static_cast<int64_t>(4 * kMiB));
  alloc.deallocate(p);
  alloc.empty_cache();  // else the 4 MiB block would serve the 3 MiB request below

  // An 8 MiB segment splits: the 5 MiB tail serves a second large request.
  void* big = alloc.allocate(8 * kMiB);
  alloc.deallocate(big);
  const int raw_before = raw.alloc_calls;
  void* a = alloc.allocate(3 * kMiB);
  EXPECT_EQ(alloc.stats().allocated_bytes, static_cast<int64_t>(3 * kMiB));
  void* b = alloc.allocate(5 * kMiB);
  EXPECT_EQ(raw.alloc_calls, raw_before);
  EXPECT_EQ(static_cast<char*>(b) - static_cast<char*>(a), static_cast<std::ptrdiff_t>(3 * kMiB));
  alloc.deallocate(a);
  alloc.deallocate(b);
}

TEST(CachingAllocatorTest, StreamsDoNotShareFreeBlocks) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  void* on1 = alloc.allocate(1000, /*stream=*/1);
  alloc.deallocate(on1);
  void* on2 = alloc.allocate(1000, /*stream=*/2);
  EXPECT_EQ(raw.alloc_calls, 2);
  EXPECT_NE(on2, on1);
  void* again1 = alloc.allocate(1000, /*stream=*/1);
  EXPECT_EQ(again1, on1);
  EXPECT_EQ(raw.alloc_calls, 2);
  alloc.deallocate(on2);
  alloc.deallocate(again1);
}

TEST(CachingAllocatorTest, EmptyCacheReleasesOnlyFreeSegments) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  void* live_small = alloc.allocate(1000);  // pins its 2 MiB small segment
  void* small_neighbour = alloc.allocate(1000);
  void* large = alloc.allocate(6 * kMiB);
  alloc.deallocate(small_neighbour);
  alloc.deallocate(large);
  EXPECT_EQ(alloc.stats().reserved_bytes, static_cast<int64_t>(8 * kMiB));

  alloc.empty_cache();
  EXPECT_EQ(raw.free_calls, 1);
  EXPECT_EQ(alloc.stats().raw_free_calls, 1);
  EXPECT_EQ(alloc.stats().reserved_bytes, static_cast<int64_t>(2 * kMiB));
  EXPECT_EQ(raw.live.count(live_small), 1u);

  alloc.deallocate(live_small);
  alloc.empty_cache();
  EXPECT_EQ(raw.free_calls, 2);
  EXPECT_EQ(alloc.stats().reserved_bytes, 0);
  EXPECT_TRUE(raw.live.empty());
}

// Frees the memory and then reports an error, as cudaFree does when an earlier kernel
// faulted: the first such free throws.
class ErrorAfterFreeRawAllocator : public CountingRawAllocator {
 public:
  void raw_free(void* ptr, size_t nbytes) override {
    CountingRawAllocator::raw_free(ptr, nbytes);
    if (throw_next) {
      throw_next = false;
      throw CudaError("cudaFree: an illegal memory access was encountered");
    }
  }
  bool throw_next = true;
};

TEST(CachingAllocatorTest, AFailingRawFreeStillFreesAndAccountsEverySegment) {
  ErrorAfterFreeRawAllocator raw;
  CachingAllocator alloc(raw);
  alloc.deallocate(alloc.allocate(1000));
  alloc.deallocate(alloc.allocate(6 * kMiB));
  EXPECT_THROW(alloc.empty_cache(), CudaError);
  EXPECT_EQ(raw.free_calls, 2) << "the error stopped the other free";
  EXPECT_TRUE(raw.live.empty());
  EXPECT_EQ(alloc.stats().reserved_bytes, 0);
  EXPECT_EQ(alloc.stats().raw_free_calls, 2);
  alloc.empty_cache();  // nothing left, nothing freed twice
  EXPECT_EQ(raw.free_calls, 2);
  {
    ErrorAfterFreeRawAllocator raw2;
    CachingAllocator doomed(raw2);
    doomed.deallocate(doomed.allocate(1000));
  }  // the destructor's failing free neither throws nor terminates
}

TEST(CachingAllocatorTest, StatsTrackAllocatedPeakAndReserved) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  void* a = alloc.allocate(4096);
  void* b = alloc.allocate(3 * kMiB);
  AllocatorStats s = alloc.stats();
  EXPECT_EQ(s.allocated_bytes, static_cast<int64_t>(4096 + 4 * kMiB));
  EXPECT_EQ(s.peak_allocated_bytes, s.allocated_bytes);
  EXPECT_EQ(s.reserved_bytes, static_cast<int64_t>(2 * kMiB + 4 * kMiB));
  EXPECT_EQ(s.active_blocks, 2);
  EXPECT_EQ(s.alloc_calls, 2);
  EXPECT_EQ(s.raw_alloc_calls, 2);

  alloc.deallocate(b);
  s = alloc.stats();
  EXPECT_EQ(s.allocated_bytes, 4096);
  EXPECT_EQ(s.peak_allocated_bytes, static_cast<int64_t>(4096 + 4 * kMiB));
  EXPECT_EQ(s.reserved_bytes, static_cast<int64_t>(6 * kMiB));  // cached, not released
  EXPECT_EQ(s.active_blocks, 1);

  alloc.empty_cache();
  s = alloc.stats();
  EXPECT_EQ(s.reserved_bytes, static_cast<int64_t>(2 * kMiB));
  EXPECT_EQ(s.peak_reserved_bytes, static_cast<int64_t>(6 * kMiB));

  alloc.reset_peak_stats();
  s = alloc.stats();
  EXPECT_EQ(s.peak_allocated_bytes, 4096);
  EXPECT_EQ(s.peak_reserved_bytes, static_cast<int64_t>(2 * kMiB));

  const std::string line = alloc.stats_string();
  EXPECT_NE(line.find("4.00 KiB"), std::string::npos) << line;
  EXPECT_NE(line.find("reserved 2.00 MiB"), std::string::npos) << line;
  alloc.deallocate(a);
}

TEST(CachingAllocatorTest, OutOfMemoryRetriesAfterReleasingTheCache) {
  FailingRawAllocator raw(4 * kMiB);
  CachingAllocator alloc(raw);
  void* a = alloc.allocate(2 * kMiB);
  void* b = alloc.allocate(2 * kMiB);
  alloc.deallocate(a);
  alloc.deallocate(b);  // 4 MiB cached in two 2 MiB segments that cannot merge
  void* c = alloc.allocate(3 * kMiB);
  ASSERT_NE(c, nullptr);
  AllocatorStats s = alloc.stats();
  EXPECT_EQ(s.oom_retries, 1);
  EXPECT_EQ(s.raw_free_calls, 2);
  EXPECT_EQ(s.raw_alloc_calls, 3);  // failed calls are not counted
  EXPECT_EQ(raw.failed_calls, 1);
  EXPECT_EQ(s.reserved_bytes, static_cast<int64_t>(4 * kMiB));
  alloc.deallocate(c);
}

TEST(CachingAllocatorTest, TransientRawFailureIsRetriedOnce) {
  FailingRawAllocator raw(64 * kMiB);
  CachingAllocator alloc(raw);
  raw.fail_next = 1;
  void* p = alloc.allocate(1000);
  EXPECT_EQ(alloc.stats().oom_retries, 1);
  EXPECT_EQ(raw.alloc_calls, 2);
  alloc.deallocate(p);
}

TEST(CachingAllocatorTest, OutOfMemoryThrowsWithRequestAndStats) {
  FailingRawAllocator raw(4 * kMiB);
  CachingAllocator alloc(raw, {}, "test-device");
  void* held = alloc.allocate(3 * kMiB);  // a 4 MiB segment: the whole budget
  try {
    alloc.allocate(2 * kMiB);
    FAIL() << "expected OutOfMemoryError";
  } catch (const OutOfMemoryError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("2.00 MiB"), std::string::npos) << what;
    EXPECT_NE(what.find("test-device"), std::string::npos) << what;
    EXPECT_NE(what.find("reserved 4.00 MiB"), std::string::npos) << what;
    EXPECT_NE(what.find("allocated 4.00 MiB"), std::string::npos) << what;
  }
  EXPECT_EQ(alloc.stats().oom_retries, 1);
  EXPECT_EQ(raw.failed_calls, 2);  // the first try and the retry
  // The failure left the allocator consistent and usable.
  alloc.deallocate(held);
  void* again = alloc.allocate(2 * kMiB);
  EXPECT_NE(again, nullptr);
  alloc.deallocate(again);
  EXPECT_EQ(alloc.stats().allocated_bytes, 0);
}

TEST(CachingAllocatorTest, ImpossiblyLargeRequestThrowsInsteadOfWrapping) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  EXPECT_THROW(alloc.allocate(SIZE_MAX), OutOfMemoryError);
  EXPECT_EQ(raw.alloc_calls, 0);
}

TEST(CachingAllocatorTest, UnknownPointerThrows) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw, {}, "test-device");
  int local = 0;
  try {
    alloc.deallocate(&local);
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test-device"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0x"), std::string::npos) << e.what();
  }
  char* p = static_cast<char*>(alloc.allocate(4096));
  EXPECT_THROW(alloc.deallocate(p + 512), Error);  // inside a block is not a block
  alloc.deallocate(p);
  EXPECT_THROW(alloc.deallocate(p), Error);  // double free
  EXPECT_NO_THROW(alloc.deallocate(nullptr));
  EXPECT_EQ(alloc.stats().active_blocks, 0);
}

TEST(CachingAllocatorTest, InvalidConfigThrows) {
  CountingRawAllocator raw;
  EXPECT_THROW({ CachingAllocator bad(raw, {.rounding = 0}); }, ValueError);
  EXPECT_THROW({ CachingAllocator bad(raw, {.rounding = 384}); }, ValueError);
  EXPECT_THROW({ CachingAllocator bad(raw, {.small_limit = 4 << 20}); }, ValueError);
}

TEST(CachingAllocatorTest, GuardHooksSeeUsableAndGuardSizes) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw, {.guard_bytes = 64});
  void* a = alloc.allocate(100);
  void* b = alloc.allocate(512);
  ASSERT_EQ(raw.allocated_hooks.size(), 2u);
  EXPECT_EQ(raw.allocated_hooks[0].ptr, a);
  EXPECT_EQ(raw.allocated_hooks[0].usable, 100u);
  EXPECT_EQ(raw.allocated_hooks[0].guard, 64u);
  EXPECT_EQ(raw.allocated_hooks[1].ptr, b);
  EXPECT_EQ(raw.allocated_hooks[1].usable, 512u);
  // 100 + 64 fits one 512 unit; 512 + 64 needs two, so the guard really is reserved.
  EXPECT_EQ(static_cast<char*>(b) - static_cast<char*>(a), 512);
  EXPECT_EQ(alloc.stats().allocated_bytes, 512 + 1024);
  alloc.deallocate(b);
  alloc.deallocate(a);
  ASSERT_EQ(raw.freed_hooks.size(), 2u);
  EXPECT_EQ(raw.freed_hooks[0], b);
  EXPECT_EQ(raw.freed_hooks[1], a);
}

TEST(CachingAllocatorTest, NoGuardHooksWithoutGuardBytes) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  alloc.deallocate(alloc.allocate(100));
  EXPECT_TRUE(raw.allocated_hooks.empty());
  EXPECT_TRUE(raw.freed_hooks.empty());
}

TEST(CachingAllocatorTest, DestructorReleasesCachedSegments) {
  CountingRawAllocator raw;
  {
    CachingAllocator alloc(raw);
    alloc.deallocate(alloc.allocate(1000));
    alloc.deallocate(alloc.allocate(5 * kMiB));
  }
  EXPECT_EQ(raw.free_calls, 2);
  EXPECT_TRUE(raw.live.empty());
}

// Random churn: blocks handed out at the same time never overlap (each is filled with its
// own byte and checked before it is freed), and once all are freed every segment has
// merged back whole, so empty_cache returns all of them.
TEST(CachingAllocatorTest, RandomChurnKeepsBlocksDisjointAndFullyCoalesces) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  std::mt19937 rng(1234);
  struct Live {
    unsigned char* ptr;
    size_t size;
    unsigned char fill;
  };
  std::vector<Live> live;
  auto check_and_free = [&](size_t i) {
    const Live& l = live[i];
    const bool intact =
        std::all_of(l.ptr, l.ptr + l.size, [&](unsigned char c) { return c == l.fill; });
    ASSERT_TRUE(intact) << "block of " << l.size << " bytes was overwritten";
    alloc.deallocate(l.ptr);
    live[i] = live.back();
    live.pop_back();
  };
  for (int step = 0; step < 3000; ++step) {
    if (live.empty() || rng() % 5 < 3) {
      const size_t size = rng() % 10 == 0 ? 1 * kMiB + rng() % (4 * kMiB) : rng() % (64 * kKiB);
      auto* p = static_cast<unsigned char*>(alloc.allocate(size, rng() % 2));
      const auto fill = static_cast<unsigned char>(step);
      std::memset(p, fill, size);
      live.push_back({p, size, fill});
    } else {
      check_and_free(rng() % live.size());
    }
  }
  while (!live.empty()) check_and_free(live.size() - 1);
  EXPECT_EQ(alloc.stats().allocated_bytes, 0);
  alloc.empty_cache();
  EXPECT_EQ(alloc.stats().reserved_bytes, 0);
  EXPECT_EQ(raw.free_calls, raw.alloc_calls);
}

TEST(CachingAllocatorTest, ConcurrentAllocateAndDeallocate) {
  CountingRawAllocator raw;
  CachingAllocator alloc(raw);
  constexpr int kThreads = 4;
  constexpr int kIters = 10000;
  std::vector<std::thread> threads;
  std::vector<int> corrupted(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<unsigned char*> held;
      for (int i = 0; i < kIters; ++i) {
        const size_t size = 64 + static_cast<size_t>((i * 37 + t * 11) % 4096);
        auto* p = static_cast<unsigned char*>(alloc.allocate(size, t % 2));
        p[0] = static_cast<unsigned char>(t);
        p[size - 1] = static_cast<unsigned char>(t);
        held.push_back(p);
        if (held.size() == 8) {
          // Another thread writing into a block we hold would show up here.
          for (unsigned char* h : held) corrupted[t] += h[0] != static_cast<unsigned char>(t);
          for (unsigned char* h : held) alloc.deallocate(h);
          held.clear();
        }
      }
      for (unsigned char* h : held) alloc.deallocate(h);
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(corrupted[t], 0);
  const AllocatorStats s = alloc.stats();
  EXPECT_EQ(s.alloc_calls, kThreads * kIters);
  EXPECT_EQ(s.allocated_bytes, 0);
  EXPECT_EQ(s.active_blocks, 0);
  EXPECT_EQ(s.cache_hits + s.raw_alloc_calls, s.alloc_calls);
}

TEST(CpuCachingAllocatorTest, Returns64ByteAlignedWritableMemory) {
  CachingAllocator& alloc = cpu_caching_allocator();
  EXPECT_EQ(&alloc, &cpu_caching_allocator());
  EXPECT_EQ(alloc.config().rounding, 64u);
  std::vector<std::pair<void*, size_t>> blocks;
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{63}, size_t{65}, size_t{1000}, size_t{3 * kMiB + 7}}) {
    void* p = alloc.allocate(size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << "size " << size;
    std::memset(p, 0xAB, size);
    blocks.emplace_back(p, size);
  }
  for (auto& block : blocks) alloc.deallocate(block.first);

  void* raw = cpu_raw_allocator().raw_alloc(100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(raw) % 64, 0u);
  cpu_raw_allocator().raw_free(raw, 100);
}

}  // namespace
}  // namespace ember
