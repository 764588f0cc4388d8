// GPU ResizeAndMerge (kernels/resize_and_merge_op_gpu.cu.cc) against the CPU core's two passes,
// bit for bit: both OpenPose builds, enlarging and shrinking, 1 to 9 scales, 1x1 maps, one
// channel, a 2000x2000 target, NaN/inf. Built by `make gpu-test` with nvcc alone.
// `--quick` leaves out the largest maps (for compute-sanitizer).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/resize_and_merge_op_gpu.h"
#include "tests/gpu/cpu_reference.h"
#include "tests/gpu/gpu_check.h"

namespace openpose_tf {
namespace {

// A plan for `sizes` (h, w per scale) with OpenPose's GPU-build placement of scale s by ratio
// ratios[s] (GpuBuildScale), as ReadResizeAndMerge builds it.
ResizePlan Plan(OpenPoseBuild build, int th, int tw, int channels,
                const std::vector<std::pair<int, int>>& sizes, const std::vector<float>& ratios) {
  ResizePlan plan;
  plan.build = build;
  plan.target_height = th;
  plan.target_width = tw;
  plan.channels = channels;
  for (size_t s = 0; s < sizes.size(); ++s) {
    ResizeScale scale;
    scale.height = sizes[s].first;
    scale.width = sizes[s].second;
    scale.scale_x = GpuBuildScale(tw, sizes[0].second, ratios[s], ratios[0]);
    scale.scale_y = GpuBuildScale(th, sizes[0].first, ratios[s], ratios[0]);
    plan.scales.push_back(scale);
  }
  return plan;
}

bool Check(const ResizePlan& plan, const std::vector<std::vector<float>>& sources, int64_t batch,
           const std::string& what) {
  const std::vector<float> want = testing::ResizeAndMergeCpu(plan, sources, batch);
  std::vector<std::unique_ptr<DeviceBuffer>> inputs;
  std::vector<const float*> pointers;
  for (const std::vector<float>& s : sources) {
    inputs.push_back(std::make_unique<DeviceBuffer>(s));
    pointers.push_back(inputs.back()->data());
  }
  DeviceArray<int8_t> scratch(ResizeScratchBytes(static_cast<int>(sources.size())));
  DeviceBuffer out(std::vector<float>(want.size(), 99.f));
  if (LaunchResizeAndMerge(nullptr, plan, pointers.data(), batch, scratch.data(), out.data()) !=
      0) {
    std::printf("%s: launch failed\n", what.c_str());
    return false;
  }
  return testing::SameBits(out.ToHost(), want, what.c_str());
}

// Random sources for a plan: [batch, h_s, w_s, C] per scale, values in [-0.5, 1).
std::vector<std::vector<float>> Sources(std::mt19937* rng, const ResizePlan& plan,
                                        int64_t batch) {
  std::vector<std::vector<float>> sources;
  for (const ResizeScale& s : plan.scales) {
    std::vector<float> v = testing::QuantisedRandom(
        rng, batch * s.height * s.width * plan.channels, 1 << 12);
    for (float& x : v) x = 1.5f * x - 0.5f;
    sources.push_back(v);
  }
  return sources;
}

}  // namespace
}  // namespace openpose_tf

int main(int argc, char** argv) {
  using namespace openpose_tf;  // NOLINT: a test's main
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  testing::GpuTestRun run("resize_and_merge_gpu_test");
  std::mt19937 rng(3);
  const OpenPoseBuild builds[] = {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu};
  for (int trial = 0; trial < 40; ++trial) {
    const int num_scales = 1 + trial % 9;  // up to 9 scales
    const int h0 = 1 + static_cast<int>(rng() % 40), w0 = 1 + static_cast<int>(rng() % 60);
    std::vector<std::pair<int, int>> sizes;
    std::vector<float> ratios;
    for (int s = 0; s < num_scales; ++s) {
      const float r = 1.f - 0.15f * static_cast<float>(s);
      const float ratio = r > 0.2f ? r : 0.2f;
      ratios.push_back(ratio);
      sizes.push_back({std::max(1, static_cast<int>(h0 * ratio)),
                       std::max(1, static_cast<int>(w0 * ratio))});
    }
    // Mostly enlarging (OpenPose's case), sometimes shrinking.
    const int factor = trial % 4 == 3 ? 0 : 1 + static_cast<int>(rng() % 8);
    const int th = factor ? h0 * factor : std::max(1, h0 / 3);
    const int tw = factor ? w0 * factor + static_cast<int>(rng() % 5) : std::max(1, w0 / 2);
    const int channels = 1 + static_cast<int>(rng() % 5);
    const int batch = 1 + static_cast<int>(rng() % 2);
    for (OpenPoseBuild build : builds) {
      const ResizePlan plan = Plan(build, th, tw, channels, sizes, ratios);
      run.Expect(Check(plan, Sources(&rng, plan, batch), batch, "random"),
                 "random sizes, scales and builds");
    }
  }
  for (OpenPoseBuild build : builds) {
    const ResizePlan one = Plan(build, 7, 9, 1, {{1, 1}}, {1.f});
    run.Expect(Check(one, Sources(&rng, one, 2), 2, "1x1 map"), "1x1 map, one channel");
    const ResizePlan standard = Plan(build, 368, 656, 78, {{46, 82}, {23, 41}}, {1.f, 0.5f});
    std::vector<std::vector<float>> sources = Sources(&rng, standard, 1);
    const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity()};
    for (int i = 0; i < 30; ++i) sources[0][rng() % sources[0].size()] = specials[i % 3];
    run.Expect(Check(standard, sources, 1, "BODY_25 2 scales, NaN/inf"),
               "46x82x78 -> 368x656, 2 scales, NaN and inf");
    if (!quick) {
      const ResizePlan big = Plan(build, 2000, 2000, 1, {{250, 250}}, {1.f});
      run.Expect(Check(big, Sources(&rng, big, 1), 1, "2000x2000"), "2000x2000 target");
    }
  }
  {
    const ResizePlan plan = Plan(OpenPoseBuild::kGpu, 5, 5, 2, {{2, 2}}, {1.f});
    run.Expect(LaunchResizeAndMerge(nullptr, plan, nullptr, 0, nullptr, nullptr) == 0,
               "empty batch launches nothing");
  }
  return run.Finish();
}
