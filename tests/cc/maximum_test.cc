// Core Maximum (docs/algorithms.md#maximum) against hand-drawn maps and a slow reference.
#include "kernels/core/maximum.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cc/test_maps.h"

namespace openpose_tf {
namespace {

using testing::Maps;

std::vector<float> RunMaximum(const Maps& m, bool nchw = false) {
  std::vector<float> out(static_cast<size_t>(m.c) * 3, -7.f);
  const std::vector<float> nhwc = m.ToNhwc();
  MaximumImage(nchw ? m.data.data() : nhwc.data(), nchw ? m.nchw() : m.nhwc(), 0, m.c,
               out.data());
  return out;
}

TEST(MaximumTest, IntegerPositionAndValueNoRefinement) {
  Maps m(2, 5, 7);
  m.at(0, 3, 6) = 0.9f;
  m.at(0, 3, 5) = 0.8f;
  m.at(1, 0, 0) = -0.1f;
  const std::vector<float> out = RunMaximum(m);
  EXPECT_EQ(out[0], 6.f);
  EXPECT_EQ(out[1], 3.f);
  EXPECT_EQ(out[2], 0.9f);
  // Channel 1 is 0 everywhere but (0,0): the first 0 in raster order is (1, 0).
  EXPECT_EQ(out[3], 1.f);
  EXPECT_EQ(out[4], 0.f);
  EXPECT_EQ(out[5], 0.f);
}

TEST(MaximumTest, TiesGoToTheFirstInRasterOrder) {
  Maps m(1, 6, 6);
  m.at(0, 4, 1) = 0.5f;
  m.at(0, 2, 5) = 0.5f;  // earlier in raster order (row 2)
  m.at(0, 2, 4) = 0.5f;  // earlier still (same row, smaller x)
  const std::vector<float> out = RunMaximum(m);
  EXPECT_EQ(out[0], 4.f);
  EXPECT_EQ(out[1], 2.f);
}

TEST(MaximumTest, NanIsSkippedAndAllNanGivesNan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Maps m(2, 3, 3, nan);
  m.at(0, 2, 1) = -std::numeric_limits<float>::infinity();
  const std::vector<float> out = RunMaximum(m);
  EXPECT_EQ(out[0], 1.f);
  EXPECT_EQ(out[1], 2.f);
  EXPECT_TRUE(std::isinf(out[2]) && out[2] < 0);
  EXPECT_EQ(out[3], 0.f);
  EXPECT_EQ(out[4], 0.f);
  EXPECT_TRUE(std::isnan(out[5]));
}

TEST(MaximumTest, RandomMapsMatchAReferenceInBothLayouts) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 100; ++trial) {
    const Maps m = testing::RandomMaps(&rng, 1 + rng() % 5, 1 + rng() % 20, 1 + rng() % 20, 4);
    for (bool nchw : {false, true}) {
      const std::vector<float> out = RunMaximum(m, nchw);
      for (int c = 0; c < m.c; ++c) {
        int bx = 0, by = 0;
        for (int y = 0; y < m.h; ++y)
          for (int x = 0; x < m.w; ++x)
            if (m.at(c, y, x) > m.at(c, by, bx)) bx = x, by = y;
        ASSERT_EQ(out[c * 3], static_cast<float>(bx)) << trial;
        ASSERT_EQ(out[c * 3 + 1], static_cast<float>(by)) << trial;
        ASSERT_EQ(out[c * 3 + 2], m.at(c, by, bx)) << trial;
      }
    }
  }
}

}  // namespace
}  // namespace openpose_tf
