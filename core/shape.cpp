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

Shape contiguous_strides(const Shape& sizes) {
  Shape strides = sizes;
  int64_t stride = 1;
  for (int i = sizes.size() - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= sizes[i] > 1 ? sizes[i] : 1;
  }
  return strides;
}

}  // namespace ember
