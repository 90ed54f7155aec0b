// ember's side of the safetensors interop test (safetensors_interop.py drives it):
//   safetensors_interop write PATH           save_safetensors of the expected tensors, with
//                                            metadata {"producer": "ember", "format": "np"}
//   safetensors_interop check PATH PRODUCER  load_safetensors of PATH must give exactly the
//                                            expected tensors and {"producer": PRODUCER}
// The expected tensors are spelled out here and again in the Python script: each side checks
// against its own copy, so neither can pass by reading back what it wrote itself.
#include <cstdio>
#include <limits>
#include <map>
#include <string>

#include <ember/ember.h>

using namespace ember;

namespace {

StateDict expected() {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  return {
      {"f32", tensor({-1.5, 0, 3.25, 1e-30, -7, 1e30}).view({2, 3})},
      {"f64", tensor({0.1, -2.5e300, 1.0 / 3}, kFloat64)},
      {"i64", from_vector<int64_t>({kMin, -1, 0, kMax}, Shape{2, 2})},
      {"mask", tensor({1, 0, 0, 1, 1}).to(kBool)},
      {"scalar", scalar_tensor(3.25, kFloat64)},
      {"empty", zeros({0, 4})},
      // Saved as a view, so the writer's copy to contiguous memory is what Python reads.
      {"transposed", arange(6, kFloat32).view({2, 3}).t()},
  };
}

bool same_values(const Tensor& a, const Tensor& b) {
  if (a.dtype() == kInt64 || a.dtype() == kBool)
    return a.to_vector<int64_t>() == b.to_vector<int64_t>();
  return a.to_vector<double>() == b.to_vector<double>();  // exact: both sides spell the values
}

int check(const std::string& path, const std::string& producer) {
  const StateDict loaded = load_safetensors(path);
  std::map<std::string, Tensor> got(loaded.begin(), loaded.end());
  int failures = 0;
  const auto fail = [&](const std::string& name, const std::string& what) {
    std::fprintf(stderr, "%s: tensor '%s': %s\n", path.c_str(), name.c_str(), what.c_str());
    ++failures;
  };
  if (got.size() != loaded.size()) fail("?", "duplicate names");
  for (const auto& [name, want] : expected()) {
    const auto it = got.find(name);
    if (it == got.end()) {
      fail(name, "missing");
      continue;
    }
    const Tensor& t = it->second;
    if (t.dtype() != want.dtype())
      fail(name, std::string("dtype ") + dtype_name(t.dtype()) + ", expected " +
                     dtype_name(want.dtype()));
    else if (!(t.sizes() == want.sizes()))
      fail(name, "shape " + t.sizes().str() + ", expected " + want.sizes().str());
    else if (!same_values(t, want))
      fail(name, "values differ");
    got.erase(it);
  }
  for (const auto& [name, t] : got) fail(name, "not expected");
  const auto metadata = load_safetensors_metadata(path);
  if (metadata.count("producer") == 0 || metadata.at("producer") != producer)
    fail("__metadata__", "no \"producer\": \"" + producer + "\"");
  if (failures == 0) std::printf("%s: every tensor as expected\n", path.c_str());
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc >= 2 ? argv[1] : "";
  try {
    if (mode == "write" && argc == 3) {
      save_safetensors(expected(), argv[2], {{"producer", "ember"}, {"format", "np"}});
      return 0;
    }
    if (mode == "check" && argc == 4) return check(argv[2], argv[3]);
  } catch (const Error& e) {
    std::fprintf(stderr, "safetensors_interop: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: %s write PATH | check PATH PRODUCER\n", argv[0]);
  return 2;
}
