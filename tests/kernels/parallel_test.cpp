// The CPU loop machinery: parallel_for covers a range exactly once (from several callers at
// once too), runs small ranges as a direct call on the calling thread, never nests; StridedLoop's
// coalescing and odometer give the same offsets as naive index math for any [begin, end) split.
#include <gtest/gtest.h>

#include <omp.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include <ember/kernels/common/error.h>
#include <ember/kernels/cpu/parallel.h>

#include "kernels/test_util.h"

namespace ember::kernels {
namespace {

using testing::coords_of;
using testing::make_layout;
using testing::numel;
using testing::offset_at;

TEST(ParallelFor, CoversRangeExactlyOnce) {
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{1000}, int64_t{1001}, int64_t{100003}}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    for (auto& h : hits) h = 0;
    cpu::parallel_for(n, 1000, [&](int64_t b, int64_t e) {
      ASSERT_LE(0, b);
      ASSERT_LT(b, e);
      ASSERT_LE(e, n);
      for (int64_t i = b; i < e; ++i) ++hits[i];
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n " << n << " i " << i;
  }
}

TEST(ParallelFor, SmallRangeIsOneDirectCall) {
  int calls = 0;
  bool in_parallel = true;
  cpu::parallel_for(500, 1000, [&](int64_t b, int64_t e) {
    ++calls;
    in_parallel = omp_in_parallel();
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 500);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(in_parallel);
}

TEST(ParallelFor, DoesNotNest) {
  std::atomic<int> inner_calls{0};
  int outer_threads = 0;
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    outer_threads = omp_get_num_threads();
    cpu::parallel_for(1 << 20, 16, [&](int64_t b, int64_t e) {
      EXPECT_EQ(b, 0);
      EXPECT_EQ(e, 1 << 20);
      ++inner_calls;
    });
  }
  EXPECT_EQ(inner_calls.load(), outer_threads);  // one direct call per outer thread
}

TEST(ParallelFor, NumThreadsRoundTrip) {
  const int before = cpu::get_num_threads();
  cpu::set_num_threads(1);
  EXPECT_EQ(cpu::get_num_threads(), 1);
  // One thread: even a large range is one call.
  int calls = 0;
  cpu::parallel_for(1 << 20, 16, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 1);
  EXPECT_THROW(cpu::set_num_threads(0), ValueError);
  EXPECT_THROW(cpu::set_num_threads(-3), ValueError);
  EXPECT_EQ(cpu::get_num_threads(), 1);
  cpu::set_num_threads(before);
  EXPECT_EQ(cpu::get_num_threads(), before);
}

// More pool threads than cores, the pool resized between calls, and callers on several user
// threads at once (one runs on the pool, the others run their ranges themselves): every
// range is still covered exactly once.
TEST(ParallelFor, ConcurrentCallersAndResizes) {
  const int before = cpu::get_num_threads();
  for (int threads : {4, 3, 1, 8}) {
    cpu::set_num_threads(threads);
    std::vector<std::thread> callers;
    std::atomic<int> bad{0};
    for (int t = 0; t < 3; ++t) {
      callers.emplace_back([&bad, t] {
        const int64_t n = 200003 + t;
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        for (int round = 0; round < 20; ++round) {
          for (auto& h : hits) h = 0;
          cpu::parallel_for(n, 1000, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) ++hits[i];
          });
          for (auto& h : hits) bad += h.load() != 1;
        }
      });
    }
    for (std::thread& c : callers) c.join();
    EXPECT_EQ(bad.load(), 0) << threads << " threads";
  }
  cpu::set_num_threads(before);
}

// A parallel_for inside a chunk runs inline on the thread that claimed the chunk.
TEST(ParallelFor, NestedCallRunsInline) {
  std::atomic<int> inner_calls{0}, outer_chunks{0};
  cpu::parallel_for(1 << 16, 1 << 10, [&](int64_t, int64_t) {
    ++outer_chunks;
    cpu::parallel_for(1 << 20, 16, [&](int64_t b, int64_t e) {
      EXPECT_EQ(b, 0);
      EXPECT_EQ(e, 1 << 20);
      ++inner_calls;
    });
  });
  EXPECT_EQ(inner_calls.load(), outer_chunks.load());
}

// Runs a 3-operand StridedLoop over [begin, end) and checks every visited position's
// offsets against naive coordinate math.
void check_loop(const Layout& a, const Layout& b, const Layout& c, int64_t begin, int64_t end) {
  const Layout* const ls[3] = {&a, &b, &c};
  const cpu::StridedLoop<3> loop(ls);
  ASSERT_EQ(loop.numel(), numel(a));
  int64_t pos = begin;
  loop.run(begin, end, [&](const int64_t(&off)[3], int64_t len) {
    ASSERT_GT(len, 0);
    for (int64_t i = 0; i < len; ++i, ++pos) {
      const auto co = coords_of(a, pos);
      ASSERT_EQ(off[0] + i * loop.inner_stride(0), offset_at(a, co)) << "pos " << pos;
      ASSERT_EQ(off[1] + i * loop.inner_stride(1), offset_at(b, co)) << "pos " << pos;
      ASSERT_EQ(off[2] + i * loop.inner_stride(2), offset_at(c, co)) << "pos " << pos;
    }
  });
  ASSERT_EQ(pos, std::max(begin, end));
}

TEST(StridedLoop, MatchesNaiveOffsetsForAnySplit) {
  const std::vector<std::vector<Layout>> spaces = {
      {make_layout({4, 6}), make_layout({4, 6}, {0, 1}), make_layout({4, 6}, {1, 4})},
      {make_layout({2, 3, 4, 5}), make_layout({2, 3, 4, 5}, {0, 20, 5, 1}),
       make_layout({2, 3, 4, 5}, {60, 1, 0, 3})},
      {make_layout({1, 7, 1}), make_layout({1, 7, 1}, {9, 0, 9}), make_layout({1, 7, 1})},
      {make_layout({3, 1, 5}), make_layout({3, 1, 5}, {5, 99, 1}),
       make_layout({3, 1, 5}, {0, 0, 0})},
      {make_layout({}), make_layout({}), make_layout({})},
  };
  std::mt19937 rng(17);
  for (const auto& s : spaces) {
    const int64_t n = numel(s[0]);
    check_loop(s[0], s[1], s[2], 0, n);
    for (int trial = 0; trial < 20; ++trial) {
      const int64_t b = static_cast<int64_t>(rng() % (n + 1));
      const int64_t e = b + static_cast<int64_t>(rng() % (n - b + 1));
      check_loop(s[0], s[1], s[2], b, e);
    }
  }
}

TEST(StridedLoop, CoalescesContiguousAndLastDimBroadcast) {
  const Layout c = make_layout({4, 5, 6});
  const Layout* const same[3] = {&c, &c, &c};
  EXPECT_EQ(cpu::StridedLoop<3>(same).ndim, 1);
  const Layout row = make_layout({4, 5, 6}, {0, 6, 1});  // [4, 30] + [30]
  const Layout* const bias[3] = {&c, &c, &row};
  const cpu::StridedLoop<3> loop(bias);
  EXPECT_EQ(loop.ndim, 2);
  EXPECT_EQ(loop.inner_size(), 30);
  EXPECT_EQ(loop.inner_stride(2), 1);
}

}  // namespace
}  // namespace ember::kernels
