// Shape: a small fixed-capacity list of sizes (or strides). No heap allocation, so
// creating tensors stays cheap; ember tensors have at most kMaxDims (8) dims.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include <ember/core/error.h>
#include <ember/kernels/common/layout.h>

namespace ember {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) { assign(dims.begin(), dims.end()); }
  Shape(const std::vector<int64_t>& dims) { assign(dims.begin(), dims.end()); }  // NOLINT
  template <typename It>
  Shape(It first, It last) {
    assign(first, last);
  }

  int size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t& operator[](int i) { return d_[i]; }
  const int64_t* begin() const { return d_; }
  const int64_t* end() const { return d_ + n_; }
  int64_t* begin() { return d_; }
  int64_t* end() { return d_ + n_; }
  const int64_t* data() const { return d_; }
  int64_t back() const { return d_[n_ - 1]; }

  void push_back(int64_t v) {
    EMBER_CHECK(n_ < kMaxDims, ShapeError, "ember supports at most ", kMaxDims, " dims");
    d_[n_++] = v;
  }
  void insert(int pos, int64_t v);
  void erase(int pos);
  void resize(int n, int64_t fill = 0);

  // The element count. A count past int64 throws ShapeError (a shape with a zero dim has 0
  // elements however large the others are); every shape is checked where it enters ember,
  // so the shape of a tensor that exists never throws here.
  int64_t numel() const {
    int64_t n = 1;
    bool overflow = false;
    for (int i = 0; i < n_; ++i) overflow |= __builtin_mul_overflow(n, d_[i], &n);
    return overflow ? numel_past_int64() : n;
  }
  std::vector<int64_t> vec() const { return std::vector<int64_t>(begin(), end()); }
  std::string str() const;  // "[2, 3]"

  bool operator==(const Shape& o) const {
    if (n_ != o.n_) return false;
    for (int i = 0; i < n_; ++i)
      if (d_[i] != o.d_[i]) return false;
    return true;
  }

 private:
  int64_t numel_past_int64() const;  // 0 with a zero dim, else throws ShapeError
  template <typename It>
  void assign(It first, It last) {
    n_ = 0;
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }
  int64_t d_[kMaxDims] = {};
  int n_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Shape& s);

// Row-major strides for `sizes`; throws ShapeError when a stride does not fit in int64 (as
// for [0, 2^40, 2^40], which has no elements but whose first stride would be 2^80).
Shape contiguous_strides(const Shape& sizes);

// Why a tensor of `sizes` with `element_size`-byte elements cannot exist, or "" when it can:
// a negative size, or an element count, a row-major stride or a byte count past int64. Readers
// of untrusted bytes ask this to throw their own IOError; everything else calls check_shape.
std::string shape_problem(const Shape& sizes, int64_t element_size);
// Throws ShapeError naming `op` and the shape when shape_problem finds one.
void check_shape(const char* op, const Shape& sizes, int64_t element_size);

}  // namespace ember
