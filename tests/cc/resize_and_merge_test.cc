// Core ResizeAndMerge (docs/algorithms.md#resizeandmerge) on hand-computed 2x2 -> 16x16 cases
// and edges.
#include "kernels/core/resize_and_merge.h"

#include <cmath>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cc/test_maps.h"

namespace openpose_tf {
namespace {

// A plan for single-channel scales of the given sizes to th x tw, placed as OpenPose's GPU build
// with ratios 1 (every scale stretched like scale 0).
ResizePlan Plan(OpenPoseBuild v, int th, int tw, std::vector<std::pair<int, int>> sizes) {
  ResizePlan plan;
  plan.build = v;
  plan.target_height = th;
  plan.target_width = tw;
  plan.channels = 1;
  for (auto [h, w] : sizes) {
    ResizeScale s;
    s.height = h;
    s.width = w;
    s.scale_x = GpuBuildScale(tw, sizes[0].second, 1.f, 1.f);
    s.scale_y = GpuBuildScale(th, sizes[0].first, 1.f, 1.f);
    plan.scales.push_back(s);
  }
  return plan;
}

// Runs a plan through the caller-owned workspace and the two passes.
std::vector<float> RunPlan(const ResizePlan& plan, const std::vector<const float*>& sources) {
  std::vector<float> out = testing::RunResizePlan(plan, sources);
  EXPECT_FALSE(out.empty());
  return out;
}

// Resizes one single-channel image (h x w) to th x tw through the two passes.
std::vector<float> Resize(const std::vector<float>& src, int h, int w, int th, int tw,
                          OpenPoseBuild v) {
  return RunPlan(Plan(v, th, tw, {{h, w}}), {src.data()});
}

// Catmull-Rom through 4 samples, in double: the textbook form of OpenPose's cubicInterpolate.
double CatmullRomRef(double v0, double v1, double v2, double v3, double t) {
  return v1 + 0.5 * t * (v2 - v0 + t * (2 * v0 - 5 * v1 + 4 * v2 - v3 + t * (3 * (v1 - v2) + v3 - v0)));
}

// Keys' kernel, A = -0.75, in double.
double Keys(double d) {
  const double a = -0.75;
  d = std::fabs(d);
  if (d <= 1) return (a + 2) * d * d * d - (a + 3) * d * d + 1;
  if (d < 2) return a * d * d * d - 5 * a * d * d + 8 * a * d - 4 * a;
  return 0;
}

TEST(ResizeAndMergeTest, GpuRampMatchesHandComputedCatmullRom) {
  // [[0, 1], [0, 1]]: a horizontal ramp; rows are equal so y does not matter.
  const std::vector<float> out = Resize({0, 1, 0, 1}, 2, 2, 16, 16, OpenPoseBuild::kGpu);
  for (int x = 0; x < 16; ++x) {
    const double s = (x + 0.5) / 8 - 0.5;
    // Taps (0,0,1,1) with t = s (negative at the left edge), or (0,1,1,1) with t = s - 1.
    const double want = s < 1 ? CatmullRomRef(0, 0, 1, 1, s) : CatmullRomRef(0, 1, 1, 1, s - 1);
    for (int y = 0; y < 16; ++y) EXPECT_NEAR(out[y * 16 + x], want, 1e-6) << x;
  }
  // OpenPose's edge rule extrapolates: the left edge of a 0 pixel is above 0 and the right edge
  // of a 1 pixel overshoots 1.
  EXPECT_NEAR(out[0], 0.152099609375, 1e-7);
  EXPECT_NEAR(out[15], 1.0692138671875, 1e-7);
}

TEST(ResizeAndMergeTest, CpuRampMatchesHandComputedKeys) {
  const std::vector<float> out = Resize({0, 1, 0, 1}, 2, 2, 16, 16, OpenPoseBuild::kCpu);
  for (int x = 0; x < 16; ++x) {
    const double f = (x + 0.5) / 8 - 0.5;
    const int s = static_cast<int>(std::floor(f));
    double want = 0;
    for (int k = -1; k <= 2; ++k) {
      const int tap = std::min(1, std::max(0, s + k));  // replicated border
      want += (tap == 1 ? 1.0 : 0.0) * Keys(f - (s + k));
    }
    EXPECT_NEAR(out[5 * 16 + x], want, 1e-6) << x;
  }
}

TEST(ResizeAndMergeTest, ConstantStaysConstant) {
  const std::vector<float> gpu = Resize(std::vector<float>(6, 0.375f), 2, 3, 16, 24, OpenPoseBuild::kGpu);
  for (float v : gpu) ASSERT_EQ(v, 0.375f);  // Catmull-Rom of equal taps is exact
  const std::vector<float> cpu = Resize(std::vector<float>(6, 0.375f), 2, 3, 16, 24, OpenPoseBuild::kCpu);
  for (float v : cpu) ASSERT_NEAR(v, 0.375f, 1e-7);  // Keys weights sum to 1 up to rounding
}

TEST(ResizeAndMergeTest, GpuTapsAtTheEdges) {
  int32_t idx[4];
  // x = 0: s = -0.4375, i1 = clamp(floor(s)) = 0, taps (0, 0, 1, 1), t negative.
  EXPECT_FLOAT_EQ(GpuBuildTaps(0, 2, 8.f, idx), -0.4375f);
  EXPECT_EQ(std::vector<int32_t>(idx, idx + 4), (std::vector<int32_t>{0, 0, 1, 1}));
  // x = 15: s = 1.4375, i1 = 1, taps (0, 1, 1, 1), t = 0.4375.
  EXPECT_FLOAT_EQ(GpuBuildTaps(15, 2, 8.f, idx), 0.4375f);
  EXPECT_EQ(std::vector<int32_t>(idx, idx + 4), (std::vector<int32_t>{0, 1, 1, 1}));
  // Huge, negative and NaN source coordinates never make an undefined cast: taps stay in range.
  for (float scale : {1e-30f, -1.f, std::nanf("")}) {
    GpuBuildTaps(7, 5, scale, idx);
    for (int k = 0; k < 4; ++k) EXPECT_TRUE(idx[k] >= 0 && idx[k] < 5) << scale;
  }
}

TEST(ResizeAndMergeTest, WorkspaceSizeInSixtyFourBits) {
  ResizeWorkspace size;
  // 2^16 source rows x 2^15 target columns: 2^31 row elements, one too many.
  EXPECT_FALSE(ResizeWorkspaceSize(Plan(OpenPoseBuild::kGpu, 1, 1 << 15, {{1 << 16, 1}}), &size));
  EXPECT_TRUE(ResizeWorkspaceSize(Plan(OpenPoseBuild::kGpu, 1, 1 << 14, {{1 << 16, 1}}), &size));
  EXPECT_EQ(size.float_count, (int64_t{1} << 30) + (1 << 14));
  EXPECT_EQ(size.index_count, 4 << 14);
  // Near the int32 limit in every factor: no overflow, just "too large".
  EXPECT_FALSE(ResizeWorkspaceSize(
      Plan(OpenPoseBuild::kCpu, 2147483647, 2147483647, {{2147483647, 2147483647}}), &size));
}

TEST(ResizeAndMergeTest, MisplacedScalesAreFound) {
  ResizePlan plan = Plan(OpenPoseBuild::kGpu, 368, 656, {{46, 82}, {34, 60}});
  // OpenPose's 1920x1080 flow at scale_gap 0.25: ratios 0.340130 and 0.249609.
  const float r0 = 367.f / 1079.f, r1 = 479.f / 1919.f;
  plan.scales[1].scale_x = GpuBuildScale(656, 82, r1, r0);
  plan.scales[1].scale_y = GpuBuildScale(368, 46, r1, r0);
  int axis = -1;
  float end = 0.f;
  EXPECT_EQ(FirstMisplacedScale(plan, 3.f, &axis, &end), -1);
  // Ratios swapped: scale 1 would be read up to column ~111 of its 60.
  plan.scales[1].scale_x = GpuBuildScale(656, 82, r0, r1);
  plan.scales[1].scale_y = GpuBuildScale(368, 46, r0, r1);
  EXPECT_EQ(FirstMisplacedScale(plan, 3.f, &axis, &end), 1);
  EXPECT_EQ(axis, 0);  // rows first: 46 * 1.36 rows wanted of 34
  EXPECT_GT(end, 60.f);
  // The CPU build stretches every scale: nothing to check.
  plan.build = OpenPoseBuild::kCpu;
  EXPECT_EQ(FirstMisplacedScale(plan, 3.f, &axis, &end), -1);
}

TEST(ResizeAndMergeTest, OnePixelSourcesAndDownscaling) {
  for (OpenPoseBuild v : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    EXPECT_EQ(Resize({0.5f}, 1, 1, 8, 8, v), std::vector<float>(64, 0.5f));
    // A 1-pixel-high row keeps its horizontal profile on every output row (exactly with
    // Catmull-Rom over 4 equal taps; Keys weights sum to 1 only up to rounding).
    const std::vector<float> row = Resize({0.f, 1.f, 0.f}, 1, 3, 4, 24, v);
    for (int y = 1; y < 4; ++y)
      for (int x = 0; x < 24; ++x)
        ASSERT_NEAR(row[y * 24 + x], row[x], v == OpenPoseBuild::kGpu ? 0 : 1e-6);
    // Downscaling also works (taps stay in range).
    const std::vector<float> down = Resize(std::vector<float>(64, 1.f), 8, 8, 3, 2, v);
    for (float d : down) ASSERT_NEAR(d, 1.f, 1e-6);
  }
}

TEST(ResizeAndMergeTest, MergeAveragesScalesAsOpenPose) {
  // Two scales of the same constant size: GPU sums from 0 and divides by 2; CPU multiplies by 0.5.
  const std::vector<float> a(4, 0.25f), b(4, 0.75f);
  for (OpenPoseBuild v : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    const std::vector<float> out = RunPlan(Plan(v, 16, 16, {{2, 2}, {2, 2}}), {a.data(), b.data()});
    for (float o : out) ASSERT_NEAR(o, 0.5f, 1e-7);
  }
}

}  // namespace
}  // namespace openpose_tf
