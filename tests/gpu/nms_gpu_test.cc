// GPU NMS (kernels/nms_op_gpu.cu.cc) against the CPU core, bit for bit: random maps full of
// plateaus and ties, both OpenPose builds and layouts, the max_peaks cap, tiny and huge maps,
// NaN/inf. Built by `make gpu-test` with nvcc alone (no TensorFlow, no Bazel).
// `--quick` leaves out the largest maps (for compute-sanitizer).
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/nms_op_gpu.h"
#include "tests/gpu/cpu_reference.h"
#include "tests/gpu/gpu_check.h"

namespace openpose_tf {
namespace {

using testing::QuantisedRandom;
using testing::SameBits;

// One case: GPU vs CPU on `batch` images of `layout` (maps in that layout; `first` is the
// offset of the layout's channel 0, for a ChannelRange view).
bool Check(const std::vector<float>& maps, int64_t batch, const MapLayout& layout,
           const NmsParams& params, const std::string& what, int64_t first = 0) {
  std::vector<float> offsets;
  for (int64_t n = 0; n < batch; ++n) {
    offsets.push_back(0.5f + 0.25f * static_cast<float>(n));
    offsets.push_back(0.5f - 0.125f * static_cast<float>(n));
  }
  std::vector<float> want_peaks;
  std::vector<int32_t> want_counts;
  testing::NmsCpu(maps.data() + first, batch, layout, params, offsets, &want_peaks,
                  &want_counts);
  DeviceBuffer in(maps);
  DeviceArray<int8_t> scratch(NmsScratchBytes(batch));
  DeviceBuffer peaks(std::vector<float>(want_peaks.size(), 99.f));  // all overwritten
  DeviceArray<int32_t> counts(std::vector<int32_t>(want_counts.size(), 99));
  if (LaunchNms(nullptr, in.data() + first, batch, layout, params, offsets.data(),
                scratch.data(), peaks.data(), counts.data()) != 0) {
    std::printf("%s: launch failed\n", what.c_str());
    return false;
  }
  const std::vector<int32_t> got_counts = counts.ToHost();
  if (got_counts != want_counts) {
    std::printf("%s: counts differ\n", what.c_str());
    return false;
  }
  return SameBits(peaks.ToHost(), want_peaks, what.c_str());
}

NmsParams Params(OpenPoseBuild build, float threshold, int max_peaks) {
  NmsParams p;
  p.build = build;
  p.threshold = threshold;
  p.max_peaks = max_peaks;
  return p;
}

// Channel-major [C][H][W] values -> the layout's order.
std::vector<float> ToLayout(const std::vector<float>& chw, int64_t batch, const MapLayout& l) {
  std::vector<float> out(chw.size());
  for (int64_t n = 0; n < batch; ++n)
    for (int c = 0; c < l.channels; ++c)
      for (int y = 0; y < l.height; ++y)
        for (int x = 0; x < l.width; ++x)
          out[n * l.image_size() + l.offset(c, y, x)] =
              chw[((n * l.channels + c) * l.height + y) * l.width + x];
  return out;
}

}  // namespace
}  // namespace openpose_tf

int main(int argc, char** argv) {
  using namespace openpose_tf;  // NOLINT: a test's main
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  testing::GpuTestRun run("nms_gpu_test");
  std::mt19937 rng(2);
  const OpenPoseBuild builds[] = {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu};
  for (int trial = 0; trial < 60; ++trial) {
    const int h = 1 + static_cast<int>(rng() % 90), w = 1 + static_cast<int>(rng() % 130);
    const int c = 1 + static_cast<int>(rng() % 6), n = 1 + static_cast<int>(rng() % 3);
    const MapLayout layout = trial % 2 ? NchwLayout(h, w, c) : NhwcLayout(h, w, c);
    const int levels = trial % 3 == 0 ? 4 : 64;  // plateaus / many distinct peaks
    const int max_peaks = trial % 4 == 0 ? 3 : 127;
    const std::vector<float> maps = QuantisedRandom(&rng, n * layout.image_size(), levels);
    for (OpenPoseBuild build : builds) {
      const float threshold = trial % 5 == 0 ? 0.25f : 0.05f;  // 0.25 = a level: ties with it
      run.Expect(Check(maps, n, layout, Params(build, threshold, max_peaks), "random maps"),
                 "random maps (ties, plateaus, both layouts and builds, caps)");
    }
  }
  // A channel range read in place (the op's channel_begin/channel_end), both layouts.
  for (int nchw = 0; nchw < 2; ++nchw) {
    const MapLayout full = nchw ? NchwLayout(33, 47, 9) : NhwcLayout(33, 47, 9);
    const std::vector<float> maps = QuantisedRandom(&rng, 3 * full.image_size(), 16);
    run.Expect(Check(maps, 3, ChannelRange(full, 3, 7), Params(OpenPoseBuild::kGpu, 0.05f, 127),
                     "channel range", ChannelOffset(full, 3)),
               "channels [3, 7) of 9, 3 images");
  }
  // Degenerate sizes: 1x1, 1xW, Hx1, 2x2, 3x3, 5x5 (the CPU ring covers whole maps).
  const int sizes[][2] = {{1, 1}, {1, 9}, {9, 1}, {2, 2}, {3, 3}, {5, 5}, {4, 7}};
  for (const auto& hw : sizes) {
    const MapLayout layout = NhwcLayout(hw[0], hw[1], 2);
    const std::vector<float> maps = QuantisedRandom(&rng, layout.image_size(), 16);
    for (OpenPoseBuild build : builds) {
      run.Expect(Check(maps, 1, layout, Params(build, 0.05f, 127), "tiny maps"), "tiny maps");
    }
  }
  // 127 peaks in every one of 25 parts (a lattice of spikes, more than 127 of them): the cap
  // keeps the first 127 in raster order.
  {
    const int h = 368, w = 656, c = 25;
    std::vector<float> chw(static_cast<size_t>(c) * h * w, 0.f);
    for (int ch = 0; ch < c; ++ch)
      for (int y = 4 + ch % 3; y < h - 4; y += 12)
        for (int x = 3 + ch % 5; x < w - 4; x += 14) chw[(ch * h + y) * w + x] = 0.5f + ch * 0.01f;
    for (OpenPoseBuild build : builds) {
      const MapLayout layout = NhwcLayout(h, w, c);
      run.Expect(Check(ToLayout(chw, 1, layout), 1, layout, Params(build, 0.05f, 127),
                       "127 peaks per part"),
                 "127 peaks in every part");
    }
  }
  // NaN, inf and -inf among the values; a negative threshold with the GPU build.
  {
    const MapLayout layout = NhwcLayout(40, 50, 3);
    std::vector<float> maps = QuantisedRandom(&rng, layout.image_size(), 32);
    const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity()};
    for (int i = 0; i < 300; ++i) maps[rng() % maps.size()] = specials[i % 3];
    for (OpenPoseBuild build : builds) {
      run.Expect(Check(maps, 1, layout, Params(build, 0.05f, 127), "NaN/inf"), "NaN and inf");
    }
    run.Expect(Check(maps, 1, layout, Params(OpenPoseBuild::kGpu, -0.5f, 127), "threshold < 0"),
               "negative threshold (GPU build)");
  }
  // Sparse maps with the only peaks near the end: every chunk is scanned.
  if (!quick) {
    const int h = 2000, w = 2000;
    const MapLayout layout = NhwcLayout(h, w, 1);
    std::vector<float> maps(layout.image_size(), 0.f);
    for (int i = 0; i < 5; ++i) maps[static_cast<size_t>(h - 10 + i) * w + 100 * i + 7] = 0.9f;
    for (OpenPoseBuild build : builds) {
      run.Expect(Check(maps, 1, layout, Params(build, 0.05f, 127), "2000x2000 sparse"),
                 "2000x2000, peaks at the end");
    }
    const std::vector<float> dense = QuantisedRandom(&rng, layout.image_size(), 1000);
    run.Expect(Check(dense, 1, layout, Params(OpenPoseBuild::kGpu, 0.05f, 127),
                     "2000x2000 dense"),
               "2000x2000, cap reached early");
  }
  {
    const MapLayout layout = NhwcLayout(5, 7, 2);
    run.Expect(LaunchNms(nullptr, nullptr, 0, layout, Params(OpenPoseBuild::kGpu, 0.05f, 127),
                         nullptr, nullptr, nullptr, nullptr) == 0,
               "empty batch launches nothing");
  }
  return run.Finish();
}
