// Core ResizeAndMerge (spec section 2) on hand-computed 2x2 -> 16x16 cases and edges.
#include "kernels/core/resize_and_merge.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace openpose_tf {
namespace {

// Resizes one single-channel image (h x w) to th x tw through the two passes.
std::vector<float> Resize(const std::vector<float>& src, int h, int w, int th, int tw,
                          Variant v) {
  const AxisTaps xt = v == Variant::kGpu ? GpuAxisTaps(w, tw, static_cast<float>(tw) / w)
                                         : CpuAxisTaps(w, tw);
  const AxisTaps yt = v == Variant::kGpu ? GpuAxisTaps(h, th, static_cast<float>(th) / h)
                                         : CpuAxisTaps(h, th);
  std::vector<float> rows(static_cast<size_t>(h) * tw), out(static_cast<size_t>(th) * tw);
  HorizontalPass(src.data(), w, 1, xt, v, 0, h, rows.data());
  const float* r = rows.data();
  VerticalPass(&r, &yt, 1, tw, 1, v, 0, th, out.data());
  return out;
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
  const std::vector<float> out = Resize({0, 1, 0, 1}, 2, 2, 16, 16, Variant::kGpu);
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
  const std::vector<float> out = Resize({0, 1, 0, 1}, 2, 2, 16, 16, Variant::kCpu);
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
  const std::vector<float> gpu = Resize(std::vector<float>(6, 0.375f), 2, 3, 16, 24, Variant::kGpu);
  for (float v : gpu) ASSERT_EQ(v, 0.375f);  // Catmull-Rom of equal taps is exact
  const std::vector<float> cpu = Resize(std::vector<float>(6, 0.375f), 2, 3, 16, 24, Variant::kCpu);
  for (float v : cpu) ASSERT_NEAR(v, 0.375f, 1e-7);  // Keys weights sum to 1 up to rounding
}

TEST(ResizeAndMergeTest, GpuTapsAtTheEdges) {
  const AxisTaps t = GpuAxisTaps(2, 16, 8.f);
  // x = 0: s = -0.4375, i1 = clamp(floor(s)) = 0, taps (0, 0, 1, 1), t negative.
  EXPECT_EQ(t.index[0], 0);
  EXPECT_EQ(t.index[1], 0);
  EXPECT_EQ(t.index[2], 1);
  EXPECT_EQ(t.index[3], 1);
  EXPECT_FLOAT_EQ(t.weight[0], -0.4375f);
  // x = 15: s = 1.4375, i1 = 1, taps (0, 1, 1, 1), t = 0.4375.
  EXPECT_EQ(t.index[60], 0);
  EXPECT_EQ(t.index[61], 1);
  EXPECT_EQ(t.index[62], 1);
  EXPECT_EQ(t.index[63], 1);
  EXPECT_FLOAT_EQ(t.weight[15], 0.4375f);
}

TEST(ResizeAndMergeTest, OnePixelSourcesAndDownscaling) {
  for (Variant v : {Variant::kGpu, Variant::kCpu}) {
    EXPECT_EQ(Resize({0.5f}, 1, 1, 8, 8, v), std::vector<float>(64, 0.5f));
    // A 1-pixel-high row keeps its horizontal profile on every output row (exactly with
    // Catmull-Rom over 4 equal taps; Keys weights sum to 1 only up to rounding).
    const std::vector<float> row = Resize({0.f, 1.f, 0.f}, 1, 3, 4, 24, v);
    for (int y = 1; y < 4; ++y)
      for (int x = 0; x < 24; ++x) ASSERT_NEAR(row[y * 24 + x], row[x], v == Variant::kGpu ? 0 : 1e-6);
    // Downscaling also works (taps stay in range).
    const std::vector<float> down = Resize(std::vector<float>(64, 1.f), 8, 8, 3, 2, v);
    for (float d : down) ASSERT_NEAR(d, 1.f, 1e-6);
  }
}

TEST(ResizeAndMergeTest, MergeAveragesScalesAsOpenPose) {
  // Two scales of the same constant size: GPU sums from 0 and divides by 2; CPU multiplies by 0.5.
  const std::vector<float> a(4, 0.25f), b(4, 0.75f);
  for (Variant v : {Variant::kGpu, Variant::kCpu}) {
    const AxisTaps xt = v == Variant::kGpu ? GpuAxisTaps(2, 16, 8.f) : CpuAxisTaps(2, 16);
    const AxisTaps yt[2] = {xt, xt};
    std::vector<float> ra(2 * 16), rb(2 * 16), out(16 * 16);
    HorizontalPass(a.data(), 2, 1, xt, v, 0, 2, ra.data());
    HorizontalPass(b.data(), 2, 1, xt, v, 0, 2, rb.data());
    const float* rows[2] = {ra.data(), rb.data()};
    VerticalPass(rows, yt, 2, 16, 1, v, 0, 16, out.data());
    for (float o : out) ASSERT_NEAR(o, 0.5f, 1e-7);
  }
}

}  // namespace
}  // namespace openpose_tf
