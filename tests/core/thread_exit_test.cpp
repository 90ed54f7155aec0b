// Memory a thread holds in ember's thread-local object pools goes back when the thread exits:
// a program that starts short-lived threads (a server's worker per request, a data thread per
// epoch) must not grow with every thread.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstddef>
#include <fstream>
#include <thread>
#include <vector>

#include <ember/ember.h>

#include "test_device.h"

using namespace ember;

namespace {

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMBER_TEST_ASAN 1
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define EMBER_TEST_ASAN 1
#endif

#ifdef EMBER_TEST_ASAN
extern "C" size_t __sanitizer_get_current_allocated_bytes();
// AddressSanitizer keeps freed memory resident for a while (its quarantine) and so would count
// as growth, but it knows the bytes the program holds, which is what this test is about.
int64_t resident_bytes() {
  return static_cast<int64_t>(__sanitizer_get_current_allocated_bytes());
}
#else
// Resident set size in bytes (/proc/self/statm's second field is in pages).
int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}
#endif

// Creates and frees `n` tensors at once, so the thread's pools cache as much as they hold.
void churn(int n) {
  std::vector<Tensor> keep;
  keep.reserve(n);
  for (int i = 0; i < n; ++i) keep.push_back(relu(full({1}, 1.0)));
}

void run_threads(int count) {
  for (int i = 0; i < count; ++i) std::thread(churn, 1000).join();
}

}  // namespace

TEST(ThreadExit, ShortLivedThreadsLeaveNoGrowth) {
  EMBER_CPU_ONLY("the pools are per host thread whatever the device; once is enough");
  run_threads(50);  // the heap's arenas and the allocator's cache reach their steady size
  const int64_t before = resident_bytes();
  run_threads(1000);
  const int64_t grown = resident_bytes() - before;
  // Each thread caches ~1000 blocks of each pooled size (~250 KB): kept after exit, 1,000
  // threads would add ~250 MB. A small constant (heap fragmentation) is all that may remain.
  EXPECT_LT(grown, int64_t{32} << 20)
      << "resident memory grew by " << (grown >> 20) << " MiB over 1000 short-lived threads";
}
