// GPU Maximum (kernels/maximum_op_gpu.cu.cc) against the CPU core on random and hand-drawn maps.
// Built by `make gpu-test` with nvcc alone (no TensorFlow, no Bazel), for the GPU machine.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "kernels/core/maximum.h"
#include "kernels/maximum_op_gpu.h"
#include "tests/gpu/gpu_check.h"

namespace openpose_tf {
namespace {

bool SameResults(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  }
  return true;
}

// One case: `batch` images of `layout`, GPU vs CPU, bit for bit.
bool Check(const std::vector<float>& maps, int64_t batch, const MapLayout& layout) {
  std::vector<float> want(batch * layout.channels * 3);
  for (int64_t n = 0; n < batch; ++n) {
    MaximumImage(maps.data() + n * layout.image_size(), layout, 0, layout.channels,
                 want.data() + n * layout.channels * 3);
  }
  DeviceBuffer in(maps), out(want.size());
  if (LaunchMaximum(nullptr, in.data(), batch, layout, out.data()) != 0) return false;
  return SameResults(out.ToHost(), want);
}

}  // namespace
}  // namespace openpose_tf

int main() {
  using namespace openpose_tf;  // NOLINT: a test's main
  testing::GpuTestRun run("maximum_gpu_test");
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> level(0, 7);
  for (int trial = 0; trial < 40; ++trial) {
    const int h = 1 + static_cast<int>(rng() % 400), w = 1 + static_cast<int>(rng() % 700);
    const int c = 1 + static_cast<int>(rng() % 30), n = 1 + static_cast<int>(rng() % 3);
    const bool nchw = trial % 2;
    const MapLayout layout = nchw ? NchwLayout(h, w, c) : NhwcLayout(h, w, c);
    std::vector<float> maps(n * layout.image_size());
    for (float& v : maps) v = level(rng) / 8.f;  // many ties: the first in raster order wins
    run.Expect(Check(maps, n, layout), "random maps (ties, both layouts)");
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> nan_maps(2 * 5 * 7, nan);
  nan_maps[33 * 2] = -std::numeric_limits<float>::infinity();  // channel 0 has one value
  run.Expect(Check(nan_maps, 1, NhwcLayout(5, 7, 2)), "NaN skipped, all-NaN channel");
  run.Expect(LaunchMaximum(nullptr, nullptr, 0, NhwcLayout(5, 7, 2), nullptr) == 0,
             "empty batch launches nothing");
  return run.Finish();
}
