// Shape helpers.
#include <ember/core/shape.h>

#include <sstream>

namespace ember {

void Shape::insert(int pos, int64_t v) {
  EMBER_CHECK(n_ < kMaxDims, ShapeError, "ember supports at most ", kMaxDims, " dims");
  for (int i = n_; i > pos; --i) d_[i] = d_[i - 1];
  d_[pos] = v;
  ++n_;
}

void Shape::erase(int pos) {
  for (int i = pos; i + 1 < n_; ++i) d_[i] = d_[i + 1];
  --n_;
}

void Shape::resize(int n, int64_t fill) {
  EMBER_CHECK(n >= 0 && n <= kMaxDims, ShapeError, "ember supports at most ", kMaxDims, " dims");
  for (int i = n_; i < n; ++i) d_[i] = fill;
  n_ = n;
}

std::string Shape::str() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Shape& s) {
  os << '[';
  for (int i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  return os << ']';
}

int64_t Shape::numel_past_int64() const {
  for (int i = 0; i < n_; ++i)
    if (d_[i] == 0) return 0;
  throw ShapeError(detail::str_cat("shape ", *this, " has more elements than int64 can count"));
}

namespace {

// The row-major strides of `sizes`, or false when one does not fit in int64.
bool strides_fit(const Shape& sizes, Shape* strides) {
  *strides = sizes;
  int64_t stride = 1;
  bool fits = true;
  for (int i = sizes.size() - 1; i >= 0; --i) {
    (*strides)[i] = stride;
    // A stride past the last dim is never used, but a later dim's stride is this product.
    if (i > 0 && sizes[i] > 1) fits &= !__builtin_mul_overflow(stride, sizes[i], &stride);
  }
  return fits;
}

}  // namespace

Shape contiguous_strides(const Shape& sizes) {
  Shape strides;
  EMBER_CHECK(strides_fit(sizes, &strides), ShapeError, "shape ", sizes,
              " is too large: its row-major strides overflow int64");
  return strides;
}

std::string shape_problem(const Shape& sizes, int64_t element_size) {
  for (int64_t s : sizes)
    if (s < 0) return "negative size " + std::to_string(s) + " in shape " + sizes.str();
  Shape strides;
  if (!strides_fit(sizes, &strides))
    return "shape " + sizes.str() + " is too large: its row-major strides overflow int64";
  int64_t n = 1, bytes = 0;
  bool overflow = false;
  for (int64_t s : sizes) overflow |= __builtin_mul_overflow(n, s, &n);
  if (overflow) {
    // A zero dim makes the count 0 whatever overflowed before it (n is then 0 already).
    bool zero = false;
    for (int64_t s : sizes) zero |= s == 0;
    if (!zero) return "shape " + sizes.str() + " has more elements than int64 can count";
  }
  if (__builtin_mul_overflow(n, element_size, &bytes))
    return "shape " + sizes.str() + " of " + std::to_string(n) + " elements of " +
           std::to_string(element_size) + " bytes needs more bytes than int64 can count";
  return "";
}

void check_shape(const char* op, const Shape& sizes, int64_t element_size) {
  const std::string problem = shape_problem(sizes, element_size);
  EMBER_CHECK(problem.empty(), ShapeError, op, ": ", problem);
}

}  // namespace ember
