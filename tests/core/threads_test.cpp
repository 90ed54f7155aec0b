// ember::set_num_threads / get_num_threads and SingleThreadGuard: the public face of the CPU
// thread pool (kernels/cpu/parallel.h).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>

#include <ember/ember.h>
#include <ember/kernels/cpu/parallel.h>

namespace ember {
namespace {

TEST(Threads, SetNumThreadsRoundTripsAndRejectsNonPositive) {
  const int before = get_num_threads();
  set_num_threads(1);
  EXPECT_EQ(get_num_threads(), 1);
  try {
    set_num_threads(0);
    ADD_FAILURE() << "set_num_threads(0) did not throw";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("set_num_threads"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("got 0"), std::string::npos) << e.what();
  }
  EXPECT_EQ(get_num_threads(), 1);
  set_num_threads(before);
  EXPECT_EQ(get_num_threads(), before);
}

// Inside the guard a large parallel_for is one call on the calling thread; after it the pool
// splits the range again; guards nest.
TEST(Threads, SingleThreadGuardRunsLoopsOnTheCallingThread) {
  const int before = get_num_threads();
  set_num_threads(4);
  const auto count_calls = [] {
    std::atomic<int> calls{0};
    std::atomic<bool> other_thread{false};
    const std::thread::id me = std::this_thread::get_id();
    kernels::cpu::parallel_for(1 << 20, 1024, [&](int64_t, int64_t) {
      ++calls;
      if (std::this_thread::get_id() != me) other_thread = true;
    });
    return std::pair<int, bool>(calls.load(), other_thread.load());
  };
  {
    SingleThreadGuard outer;
    {
      SingleThreadGuard inner;
      EXPECT_EQ(count_calls(), std::make_pair(1, false));
    }
    EXPECT_EQ(count_calls(), std::make_pair(1, false));  // still inside the outer guard
  }
  EXPECT_GT(count_calls().first, 1);  // split into chunks again
  // A tensor op inside the guard computes the same values.
  const Tensor x = arange(0, 1 << 18, 1, kFloat32);
  const Tensor pooled = relu(x - 1000.0);
  Tensor single;
  {
    SingleThreadGuard guard;
    single = relu(x - 1000.0);
  }
  EXPECT_EQ(single.to_vector<float>(), pooled.to_vector<float>());
  set_num_threads(before);
}

}  // namespace
}  // namespace ember
