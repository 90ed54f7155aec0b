// The generic caching allocator and the CPU device's instance of it over 64-byte aligned
// host memory.
//
// Note [Caching allocator]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// After PyTorch's c10 allocator. A segment is one raw allocation, carved into Blocks linked
// in address order (prev/next) so a freed block can merge with its free neighbours. Free
// blocks sit in one of two BlockPools ordered by (stream, size, address), which makes
// "smallest free block of this stream that fits" one lower_bound: the small pool (requests
// up to small_limit, carved from small_segment-sized segments) and the large pool (each
// segment the request rounded to large_rounding). A block never changes stream, so memory
// freed on one stream is never handed to work queued on another. Handed-out blocks are
// found again through an open-addressing pointer map. A few just-freed blocks are parked
// before they reach the pools (Note [Parked blocks]).
//
// The cache-hit path (allocate + deallocate of a recently freed size) runs once per tensor
// op, so it does no heap allocation: Block objects and set nodes are recycled, and the
// pointer map only allocates when it grows.
#include <ember/core/allocator.h>

#include <ember/core/error.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <limits>
#include <mutex>
#include <set>
#include <tuple>
#include <vector>

namespace ember {
namespace {

size_t round_up(size_t n, size_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

// "2.00 MiB": OOM messages are read by people deciding how much memory they are short of.
std::string format_bytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof(text), "%lld B", static_cast<long long>(bytes));
  } else {
    std::snprintf(text, sizeof(text), "%.2f %s", value, kUnits[unit]);
  }
  return text;
}

struct BlockPool;

// kParked: freed by the caller but not yet back in its pool (Note [Parked blocks]). Only kFree
// blocks are in a pool, so only they may be merged with or handed out by a best-fit search.
enum class BlockState : uint8_t { kAllocated, kParked, kFree };

struct Block {
  char* ptr = nullptr;
  size_t size = 0;        // bytes this block covers in its segment, guard bytes included
  size_t requested = 0;   // bytes the caller asked for while allocated, else 0
  StreamId stream = 0;    // the stream the segment was allocated for; blocks never move
  uint64_t segment = 0;   // id of the raw allocation the block was carved from
  Block* prev = nullptr;  // split neighbours in the same segment, in address order
  Block* next = nullptr;
  BlockState state = BlockState::kFree;
  BlockPool* pool = nullptr;  // where the block goes when free; fixed per segment

  // A block with no split neighbours is a whole segment: the only thing empty_cache frees.
  bool is_whole_segment() const { return prev == nullptr && next == nullptr; }
};

// (stream, size, address) order: a lower_bound on (stream, n, 0) is the best fit for n on
// that stream, and the address breaks ties so every free block has a distinct key.
struct BlockOrder {
  using is_transparent = void;
  using Key = std::tuple<StreamId, size_t, uintptr_t>;
  static Key key(const Block* b) {
    return {b->stream, b->size, reinterpret_cast<uintptr_t>(b->ptr)};
  }
  bool operator()(const Block* a, const Block* b) const { return key(a) < key(b); }
  bool operator()(const Block* a, const Key& b) const { return key(a) < b; }
  bool operator()(const Key& a, const Block* b) const { return a < key(b); }
};

// Free blocks of one pool. Erased set nodes are kept (as node handles) and refilled by the
// next insert: the split/merge churn of the cache-hit path then costs no malloc/free.
struct BlockPool {
  using Set = std::set<Block*, BlockOrder>;

  explicit BlockPool(bool is_small) : small(is_small) {}

  void insert(Block* block) {
    if (spare_nodes.empty()) {
      blocks.insert(block);
      return;
    }
    Set::node_type node = std::move(spare_nodes.back());
    spare_nodes.pop_back();
    node.value() = block;
    blocks.insert(std::move(node));
  }

  Set::iterator erase(Set::iterator it) {
    auto next = std::next(it);
    spare_nodes.push_back(blocks.extract(it));
    return next;
  }
  void erase(Block* block) { erase(blocks.find(block)); }

  const bool small;
  Set blocks;
  std::vector<Set::node_type> spare_nodes;
};

// Block objects are recycled through an intrusive free list (linked by `next`) and owned by
// fixed-size chunks, so splitting and merging never call new/delete once warm.
class BlockArena {
 public:
  Block* make() {
    if (free_ == nullptr) grow();
    Block* b = free_;
    free_ = b->next;
    *b = Block{};
    return b;
  }
  void recycle(Block* b) {
    b->next = free_;
    free_ = b;
  }

 private:
  static constexpr size_t kChunk = 256;
  void grow() {
    chunks_.push_back(std::make_unique<Block[]>(kChunk));
    for (size_t i = 0; i < kChunk; ++i) recycle(&chunks_.back()[i]);
  }
  std::vector<std::unique_ptr<Block[]>> chunks_;
  Block* free_ = nullptr;
};

// Handed-out pointer -> Block. Linear probing with backward-shift deletion (no tombstones,
// so lookups stay short under endless insert/erase churn); load factor at most 1/2.
class ActiveBlockMap {
 public:
  ActiveBlockMap() { rehash(64); }

  void insert(Block* block) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    place(block);
    ++size_;
  }

  // Removes the block that starts at ptr and returns it; nullptr if there is none.
  Block* erase(const void* ptr) {
    size_t i = home(ptr);
    while (slots_[i].key != nullptr && slots_[i].key != ptr) i = (i + 1) & mask_;
    Block* found = slots_[i].block;
    if (found == nullptr) return nullptr;
    // Pull later entries of the probe run back into the hole when their home slot is at or
    // before it, so every entry stays reachable from its home without tombstones.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; slots_[j].key != nullptr; j = (j + 1) & mask_) {
      if (((j - home(slots_[j].key)) & mask_) >= ((j - hole) & mask_)) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
    return found;
  }

  template <typename F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.block != nullptr) f(s.block);
    }
  }

 private:
  struct Slot {
    const void* key = nullptr;  // == block->ptr, kept here so probing never chases block
    Block* block = nullptr;
  };

  // Fibonacci hashing: block addresses are multiples of the rounding, so their low bits are
  // all zero; the multiply spreads every bit into the high bits we keep.
  size_t home(const void* ptr) const {
    return (reinterpret_cast<uintptr_t>(ptr) * 0x9E3779B97F4A7C15ull) >> shift_;
  }

  void place(Block* block) {
    size_t i = home(block->ptr);
    while (slots_[i].key != nullptr) i = (i + 1) & mask_;
    slots_[i] = Slot{block->ptr, block};
  }

  void rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(capacity));
    for (const Slot& s : old) {
      if (s.block != nullptr) place(s.block);
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  unsigned shift_ = 0;
};

}  // namespace

struct CachingAllocator::Impl {
  Impl(RawAllocator& raw_allocator, const CachingAllocatorConfig& cfg, std::string label)
      : raw(raw_allocator),
        config(cfg),
        name(label.empty() ? std::string(raw_allocator.name()) : std::move(label)) {}

  RawAllocator& raw;
  const CachingAllocatorConfig config;
  const std::string name;

  mutable std::mutex mutex;
  BlockPool small_pool{true};
  BlockPool large_pool{false};
  BlockArena arena;
  ActiveBlockMap active;
  AllocatorStats stats;
  uint64_t next_segment_id = 0;
  static constexpr int kMaxParked = 8;
  Block* parked[kMaxParked] = {};  // Note [Parked blocks], oldest first
  int num_parked = 0;

  // Note [Capture pools] in core/allocator.h.
  struct CapturePool {
    StreamId stream = 0;  // whose allocations it serves while capturing
    StreamId pool = 0;    // the tag of its segments
    bool capturing = true;
    std::vector<Block*> held;  // freed during the capture, still the graph's
  };
  std::vector<CapturePool> pools;
  int capturing = 0;  // pools whose capture is running
  // Tags of released pools: their blocks still in use (a graph's outputs) skip parking when
  // freed, and a segment of theirs that becomes wholly free is released, since no allocation
  // will ever ask for the tag again.
  std::set<StreamId> retired;

  CapturePool* pool_capturing(StreamId stream) {
    for (CapturePool& p : pools) {
      if (p.capturing && (p.stream == stream || p.pool == stream)) return &p;
    }
    return nullptr;
  }
  CapturePool* find_pool(StreamId pool) {
    for (CapturePool& p : pools) {
      if (p.pool == pool) return &p;
    }
    return nullptr;
  }

  // The guard starts right after the bytes asked for (not after the rounded size), so even
  // an overrun by one element is caught; rounding the sum keeps the next block aligned.
  // A zero-byte request still takes a block, so its pointer is unique.
  size_t block_size(size_t nbytes) const {
    // A mask, not round_up: rounding is a power of two, and a 64-bit divide would be a
    // fifth of the cache-hit path.
    return (std::max<size_t>(nbytes, 1) + config.guard_bytes + config.rounding - 1) &
           ~(config.rounding - 1);
  }

  void* allocate(size_t nbytes, StreamId stream) {
    std::lock_guard<std::mutex> lock(mutex);
    ++stats.alloc_calls;
    // Beyond this the rounding arithmetic below would wrap; no raw allocator can serve it.
    const size_t limit = std::numeric_limits<size_t>::max() / 2;
    if (nbytes > limit) throw_oom(nbytes, nbytes, stream);

    if (capturing > 0) [[unlikely]] {
      if (CapturePool* p = pool_capturing(stream)) stream = p->pool;
    }
    const size_t size = block_size(nbytes);
    bool from_cache = true;
    Block* block = take_parked(size, stream);
    if (block == nullptr) {
      BlockPool& pool = size <= config.small_limit ? small_pool : large_pool;
      block = take_best_fit(pool, stream, size);
      if (block == nullptr && num_parked > 0) {
        // Before paying for a raw allocation, see what the parked blocks merge into.
        unpark_all();
        block = take_best_fit(pool, stream, size);
      }
      if (block == nullptr) {
        block = new_segment(pool, stream, size, nbytes);
        from_cache = false;
      }
      if (should_split(*block, size)) split(block, size);
    }
    if (from_cache) ++stats.cache_hits;

    block->state = BlockState::kAllocated;
    block->requested = nbytes;
    active.insert(block);
    stats.allocated_bytes += static_cast<int64_t>(block->size);
    stats.peak_allocated_bytes = std::max(stats.peak_allocated_bytes, stats.allocated_bytes);
    ++stats.active_blocks;
    if (config.guard_bytes > 0) raw.on_block_allocated(block->ptr, nbytes, config.guard_bytes);
    return block->ptr;
  }

  void deallocate(void* ptr) {
    std::lock_guard<std::mutex> lock(mutex);
    Block* block = active.erase(ptr);
    EMBER_CHECK(block != nullptr, Error, "CachingAllocator::deallocate: pointer ", ptr,
                " was not allocated by ", name, " (or was already freed)");
    if (capturing > 0) [[unlikely]] {
      if (CapturePool* p = pool_capturing(block->stream)) {
        p->held.push_back(block);  // still allocated, as far as anyone else can tell
        return;
      }
    }
    free_block(block);
  }

  // Calls f on every block even when it throws for one (a damaged guard, a raw free that
  // reports an earlier fault); the first such error is rethrown at the end.
  template <class F>
  static void for_each_block(const std::vector<Block*>& blocks, F f) {
    std::exception_ptr first_error;
    for (Block* b : blocks) {
      try {
        f(b);
      } catch (...) {
        if (!first_error) first_error = std::current_exception();
      }
    }
    if (first_error) std::rethrow_exception(first_error);
  }

  void free_blocks(const std::vector<Block*>& blocks) {
    for_each_block(blocks, [this](Block* b) { free_block(b); });
  }

  // The free whole segments of `stream`'s blocks, or of every stream.
  std::vector<Block*> whole_free_segments(const StreamId* stream) const {
    std::vector<Block*> whole;
    for (const BlockPool* p : {&small_pool, &large_pool}) {
      auto it = stream != nullptr ? p->blocks.lower_bound(BlockOrder::Key{*stream, 0, 0})
                                  : p->blocks.begin();
      for (; it != p->blocks.end() && (stream == nullptr || (*it)->stream == *stream); ++it) {
        if ((*it)->is_whole_segment()) whole.push_back(*it);
      }
    }
    return whole;
  }

  void free_block(Block* block) {
    void* const ptr = block->ptr;
    block->requested = 0;
    stats.allocated_bytes -= static_cast<int64_t>(block->size);
    --stats.active_blocks;
    if (!retired.empty() && retired.count(block->stream) != 0) [[unlikely]] {
      if (config.guard_bytes > 0) raw.on_block_freed(ptr);
      Block* merged = return_to_pool(block);
      if (capturing == 0 && merged->is_whole_segment()) release_segment(merged);
      return;
    }
    park(block);
    // Told last, under the lock: the allocator is already consistent if the hook throws (a
    // corrupted guard), and a concurrent reuse of ptr cannot be announced before this.
    if (config.guard_bytes > 0) raw.on_block_freed(ptr);
  }

  // Note [Parked blocks]: the commonest pattern is "free a block, then soon ask for the
  // same size on the same stream" (a temporary per op, the same op on the next step).
  // Going through the pool for that costs a merge with the free tail of the segment and
  // then a split of it again: four tree operations. Instead the last few freed blocks are
  // parked as they are, and an exact (size, stream) match takes one back directly. They
  // are merged into the pools before any raw allocation (a request the pools cannot serve,
  // empty_cache, the OOM retry), so parking never costs a raw allocation or keeps a whole
  // segment from being released; at worst a best fit is chosen among slightly less merged
  // free space.
  void park(Block* block) {
    if (num_parked == kMaxParked) {
      // Oldest out: a block unused for 8 frees is not the one the next request wants.
      Block* oldest = parked[0];
      std::copy(parked + 1, parked + num_parked, parked);
      --num_parked;
      return_to_pool(oldest);
    }
    block->state = BlockState::kParked;
    parked[num_parked++] = block;
  }

  // Size alone also picks the right pool: a handed-out small block is exactly its rounded
  // request (<= small_limit), a large one is above small_limit.
  Block* take_parked(size_t size, StreamId stream) {
    for (int i = num_parked - 1; i >= 0; --i) {
      Block* block = parked[i];
      if (block->size == size && block->stream == stream) {
        std::copy(parked + i + 1, parked + num_parked, parked + i);
        --num_parked;
        return block;
      }
    }
    return nullptr;
  }

  void unpark_all() {
    for (int i = 0; i < num_parked; ++i) return_to_pool(parked[i]);
    num_parked = 0;
  }

  // Frees the block for real: merges it with free neighbours and files it in its pool.
  // Returns the block it ended up in (merged with its free neighbours).
  Block* return_to_pool(Block* block) {
    block->state = BlockState::kFree;
    BlockPool& pool = *block->pool;
    if (block->prev != nullptr && block->prev->state == BlockState::kFree) {
      Block* prev = block->prev;
      pool.erase(prev);
      prev->size += block->size;
      prev->next = block->next;
      if (block->next != nullptr) block->next->prev = prev;
      arena.recycle(block);
      block = prev;
    }
    if (block->next != nullptr && block->next->state == BlockState::kFree) {
      Block* next = block->next;
      pool.erase(next);
      block->size += next->size;
      block->next = next->next;
      if (next->next != nullptr) next->next->prev = block;
      arena.recycle(next);
    }
    pool.insert(block);
    return block;
  }

  Block* take_best_fit(BlockPool& pool, StreamId stream, size_t size) {
    auto it = pool.blocks.lower_bound(BlockOrder::Key{stream, size, 0});
    if (it == pool.blocks.end() || (*it)->stream != stream) return nullptr;
    Block* block = *it;
    pool.erase(it);
    return block;
  }

  // Small pool: any leftover is worth keeping (it is at least one rounding unit). Large
  // pool: only a leftover that could serve another large request, as in PyTorch; smaller
  // tails stay attached to the block rather than fragmenting large segments.
  bool should_split(const Block& block, size_t size) const {
    const size_t remaining = block.size - size;
    return block.pool->small ? remaining >= config.rounding : remaining > config.small_limit;
  }

  void split(Block* block, size_t size) {
    Block* rest = arena.make();
    rest->ptr = block->ptr + size;
    rest->size = block->size - size;
    rest->stream = block->stream;
    rest->segment = block->segment;
    rest->pool = block->pool;
    rest->prev = block;
    rest->next = block->next;
    if (block->next != nullptr) block->next->prev = rest;
    block->next = rest;
    block->size = size;
    rest->pool->insert(rest);
  }

  Block* new_segment(BlockPool& pool, StreamId stream, size_t size, size_t nbytes) {
    const size_t segment_size =
        pool.small ? config.small_segment : round_up(size, config.large_rounding);
    void* ptr = raw.raw_alloc(segment_size);
    // Not during a capture: releasing segments (cudaFree) would break it.
    if (ptr == nullptr && capturing == 0) {
      // The memory may be sitting in our own cache in blocks of the wrong size or stream.
      release_free_segments();
      ++stats.oom_retries;
      ptr = raw.raw_alloc(segment_size);
    }
    if (ptr == nullptr) throw_oom(nbytes, segment_size, stream);
    ++stats.raw_alloc_calls;
    stats.reserved_bytes += static_cast<int64_t>(segment_size);
    stats.peak_reserved_bytes = std::max(stats.peak_reserved_bytes, stats.reserved_bytes);

    Block* block = arena.make();
    block->ptr = static_cast<char*>(ptr);
    block->size = segment_size;
    block->stream = stream;
    block->segment = next_segment_id++;
    block->pool = &pool;
    return block;
  }

  [[noreturn]] void throw_oom(size_t nbytes, size_t segment_size, StreamId stream) const {
    throw OutOfMemoryError(
        detail::str_cat("CachingAllocator: out of memory: ", name, " could not allocate ",
                        format_bytes(static_cast<int64_t>(nbytes)), " (", nbytes, " bytes, as a ",
                        format_bytes(static_cast<int64_t>(segment_size)), " segment) on stream ",
                        stream, " from raw allocator '", raw.name(),
                        "' even after releasing cached blocks; ", stats_string_locked()));
  }

  // Hands a free whole segment back to the raw allocator.
  void release_segment(Block* block) {
    block->pool->erase(block);
    void* const ptr = block->ptr;
    const size_t size = block->size;
    ++stats.raw_free_calls;
    stats.reserved_bytes -= static_cast<int64_t>(size);
    arena.recycle(block);
    raw.raw_free(ptr, size);
  }

  // The pool's free whole segments go back to the raw allocator (not during a capture, which
  // a raw free would break: then they wait for its blocks' next free or empty_cache).
  void release_pool_segments(StreamId pool) {
    if (capturing > 0) return;
    unpark_all();
    for_each_block(whole_free_segments(&pool), [this](Block* b) { release_segment(b); });
  }

  // Frees every free whole segment. A raw free that fails (on a GPU, an earlier kernel's
  // fault surfacing at cudaFree, which frees the memory all the same) stops neither the
  // others nor the accounting: the first error is rethrown once all are done.
  void release_free_segments() {
    unpark_all();
    for_each_block(whole_free_segments(nullptr), [this](Block* b) { release_segment(b); });
  }

  std::string stats_string_locked() const {
    const AllocatorStats& s = stats;
    return detail::str_cat(
        "allocated ", format_bytes(s.allocated_bytes), " (peak ",
        format_bytes(s.peak_allocated_bytes), "), reserved ", format_bytes(s.reserved_bytes),
        " (peak ", format_bytes(s.peak_reserved_bytes), "), ", s.active_blocks, " active blocks, ",
        s.alloc_calls, " allocs, ", s.cache_hits, " cache hits, ", s.raw_alloc_calls,
        " raw allocs, ", s.raw_free_calls, " raw frees, ", s.oom_retries, " OOM retries");
  }
};

CachingAllocator::CachingAllocator(RawAllocator& raw, CachingAllocatorConfig config,
                                   std::string name) {
  EMBER_CHECK(config.rounding > 0 && (config.rounding & (config.rounding - 1)) == 0, ValueError,
              "CachingAllocator: rounding must be a power of two (it is the blocks' alignment), "
              "got ",
              config.rounding);
  EMBER_CHECK(config.small_limit <= config.small_segment, ValueError,
              "CachingAllocator: small_limit (", config.small_limit,
              ") must not exceed small_segment (", config.small_segment, ")");
  EMBER_CHECK(config.small_segment % config.rounding == 0 &&
                  config.large_rounding % config.rounding == 0 && config.large_rounding > 0,
              ValueError, "CachingAllocator: small_segment (", config.small_segment,
              ") and large_rounding (", config.large_rounding,
              ") must be positive multiples of rounding (", config.rounding, ")");
  impl_ = std::make_unique<Impl>(raw, config, std::move(name));
}

// Blocks still handed out keep their segments: at process exit a static tensor may outlive
// the allocator, and freeing memory under it would turn a leak into a crash.
CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  try {
    impl_->release_free_segments();
  } catch (...) {  // nobody is left to tell, and a throwing destructor would terminate
  }
}

void* CachingAllocator::allocate(size_t nbytes, StreamId stream) {
  return impl_->allocate(nbytes, stream);
}

void CachingAllocator::deallocate(void* ptr) {
  if (ptr == nullptr) return;
  impl_->deallocate(ptr);
}

void CachingAllocator::begin_capture(StreamId stream, StreamId pool) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  EMBER_CHECK(impl_->pool_capturing(stream) == nullptr && impl_->find_pool(pool) == nullptr,
              ValueError, "CachingAllocator::begin_capture: ", impl_->name, ": stream ", stream,
              " is already capturing, or pool ", pool, " is in use");
  impl_->pools.push_back(Impl::CapturePool{stream, pool, true, {}});
  ++impl_->capturing;
}

void CachingAllocator::end_capture(StreamId pool) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  Impl::CapturePool* p = impl_->find_pool(pool);
  EMBER_CHECK(p != nullptr && p->capturing, ValueError,
              "CachingAllocator::end_capture: ", impl_->name, ": pool ", pool, " is not capturing");
  p->capturing = false;
  --impl_->capturing;
  // The pool's own blocks freed during the capture become free pool blocks: only this pool's
  // allocations could take them, and it has no more. Other blocks stay held.
  std::vector<Block*> mine;
  std::vector<Block*> keep;
  for (Block* b : p->held) (b->stream == pool ? mine : keep).push_back(b);
  p->held = std::move(keep);
  impl_->free_blocks(mine);
}

void CachingAllocator::release_pool(StreamId pool) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = std::find_if(impl_->pools.begin(), impl_->pools.end(),
                         [pool](const Impl::CapturePool& p) { return p.pool == pool; });
  if (it == impl_->pools.end()) return;
  if (it->capturing) --impl_->capturing;
  std::vector<Block*> held = std::move(it->held);
  impl_->pools.erase(it);
  impl_->retired.insert(pool);
  impl_->free_blocks(held);
  impl_->release_pool_segments(pool);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  EMBER_CHECK(impl_->capturing == 0, ValueError, "empty_cache: ", impl_->name,
              " is serving a CUDA graph capture, which releasing memory would break; call it "
              "after the capture");
  impl_->release_free_segments();
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->stats;
}

void CachingAllocator::reset_peak_stats() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->stats.peak_allocated_bytes = impl_->stats.allocated_bytes;
  impl_->stats.peak_reserved_bytes = impl_->stats.reserved_bytes;
}

const CachingAllocatorConfig& CachingAllocator::config() const {
  return impl_->config;
}

std::string CachingAllocator::stats_string() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->stats_string_locked();
}

// ---------------------------------------------------------------------------------------
// The CPU device.

namespace {

class CpuRawAllocator final : public RawAllocator {
 public:
  static constexpr size_t kAlignment = 64;
  // aligned_alloc wants a size that is a multiple of the alignment.
  void* raw_alloc(size_t nbytes) override {
    return std::aligned_alloc(kAlignment, round_up(nbytes == 0 ? 1 : nbytes, kAlignment));
  }
  void raw_free(void* ptr, size_t /*nbytes*/) override { std::free(ptr); }
  const char* name() const override { return "cpu"; }
};

}  // namespace

// Never destroyed: tensors with static storage duration may outlive any function-local
// static, and their storage must still find a live allocator at exit.
RawAllocator& cpu_raw_allocator() {
  static auto* allocator = new CpuRawAllocator();
  return *allocator;
}

// Rounding 64 (not the default 512): host tensors are often tiny and only need cache-line
// alignment, so a coarser rounding would waste most of each small block.
CachingAllocator& cpu_caching_allocator() {
  static auto* allocator = new CachingAllocator(cpu_raw_allocator(),
                                                CachingAllocatorConfig{.rounding = 64,
                                                                       .small_limit = 1 << 20,
                                                                       .small_segment = 2 << 20,
                                                                       .large_rounding = 2 << 20,
                                                                       .guard_bytes = 0},
                                                "cpu caching allocator");
  return *allocator;
}

}  // namespace ember
