// FixedPointWarpRows against the formula written out plainly (random images, coordinates far
// outside the image too, random tables with negative weights so that sums saturate), a copy with
// the identity table, and row ranges that split the work.
#include "kernels/core/fixed_point_warp.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace openpose_tf {
namespace {

struct Case {
  int height, width, channels, taps, out_h, out_w;
};

// The documented formula, one output value at a time.
uint8_t Reference(const std::vector<uint8_t>& image, const Case& c, int32_t x_fixed,
                  int32_t y_fixed, const std::vector<int32_t>& table, int channel) {
  const int x0 = (x_fixed >> 5) - (c.taps / 2 - 1);
  const int y0 = (y_fixed >> 5) - (c.taps / 2 - 1);
  const int32_t* w = table.data() + ((y_fixed & 31) * 32 + (x_fixed & 31)) * c.taps * c.taps;
  int64_t sum = 0;
  for (int i = 0; i < c.taps; ++i) {
    for (int j = 0; j < c.taps; ++j) {
      const int y = y0 + i, x = x0 + j;
      if (y < 0 || y >= c.height || x < 0 || x >= c.width) continue;
      sum += int64_t{image[(int64_t{y} * c.width + x) * c.channels + channel]} *
             w[i * c.taps + j];
    }
  }
  const int64_t v = (sum + (1 << 14)) >> 15;
  return static_cast<uint8_t>(std::min<int64_t>(std::max<int64_t>(v, 0), 255));
}

TEST(FixedPointWarpTest, EqualsTheFormulaEverywhere) {
  std::mt19937 rng(7);
  const Case cases[] = {{7, 9, 3, 4, 11, 13}, {1, 1, 1, 2, 5, 4}, {16, 5, 3, 2, 3, 20},
                        {30, 40, 4, 4, 31, 17}, {2, 3, 3, 4, 9, 9}};
  int checked = 0;
  for (const Case& c : cases) {
    std::vector<uint8_t> image(static_cast<size_t>(c.height) * c.width * c.channels);
    for (auto& v : image) v = static_cast<uint8_t>(rng() % 256);
    std::vector<int32_t> table(1024 * c.taps * c.taps);
    for (auto& w : table) w = static_cast<int32_t>(rng() % 50000) - 15000;
    std::vector<int32_t> xs(c.out_w), ys(c.out_h);
    for (auto& x : xs) x = static_cast<int32_t>(rng() % ((c.width + 8) * 32)) - 4 * 32;
    for (auto& y : ys) y = static_cast<int32_t>(rng() % ((c.height + 8) * 32)) - 4 * 32;
    std::vector<uint8_t> out(static_cast<size_t>(c.out_h) * c.out_w * c.channels, 77);
    const WarpImage warp{image.data(), c.height, c.width, c.channels};
    // Two uneven row ranges: the rows of a range never depend on the others.
    const int split = c.out_h / 3;
    FixedPointWarpRows(warp, xs.data(), c.out_w, ys.data(), table.data(), c.taps, 0, split,
                       out.data());
    FixedPointWarpRows(warp, xs.data(), c.out_w, ys.data(), table.data(), c.taps, split,
                       c.out_h, out.data());
    int saturated = 0;
    for (int y = 0; y < c.out_h; ++y) {
      for (int x = 0; x < c.out_w; ++x) {
        for (int ch = 0; ch < c.channels; ++ch) {
          const uint8_t want = Reference(image, c, xs[x], ys[y], table, ch);
          ASSERT_EQ(out[(static_cast<size_t>(y) * c.out_w + x) * c.channels + ch], want)
              << "case " << c.height << "x" << c.width << " y=" << y << " x=" << x;
          saturated += want == 0 || want == 255;
          ++checked;
        }
      }
    }
    EXPECT_GT(saturated, 0);
  }
  EXPECT_GT(checked, 2500);
}

TEST(FixedPointWarpTest, IdentityTableCopiesAndOutsideIsBlack) {
  const int h = 4, w = 5, ch = 3;
  std::vector<uint8_t> image(h * w * ch);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>(i * 7 + 1);
  for (int taps : {2, 4}) {
    // Fraction 0: all the weight on the tap at the coordinate itself (row/column taps/2 - 1).
    std::vector<int32_t> table(1024 * taps * taps, 0);
    const int centre = taps / 2 - 1;
    table[centre * taps + centre] = 1 << 15;
    std::vector<int32_t> xs(w + 2), ys(h + 1);
    for (int x = 0; x < w + 2; ++x) xs[x] = x * 32;  // two columns past the image
    for (int y = 0; y < h + 1; ++y) ys[y] = y * 32;  // one row past it
    std::vector<uint8_t> out((h + 1) * (w + 2) * ch);
    FixedPointWarpRows({image.data(), h, w, ch}, xs.data(), w + 2, ys.data(), table.data(),
                       taps, 0, h + 1, out.data());
    for (int y = 0; y <= h; ++y) {
      for (int x = 0; x < w + 2; ++x) {
        for (int c = 0; c < ch; ++c) {
          const uint8_t want = (y < h && x < w) ? image[(y * w + x) * ch + c] : 0;
          EXPECT_EQ(out[(y * (w + 2) + x) * ch + c], want) << taps << " " << y << " " << x;
        }
      }
    }
  }
}

}  // namespace
}  // namespace openpose_tf
