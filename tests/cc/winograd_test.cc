// The Winograd F(4x4, 3x3) tile transforms: input pass, the products with G g G^T written out
// plainly, output pass, against a direct 3x3 convolution in double (pads 0-2, ragged tiles,
// channel counts off the 16-channel block, batches); the padding tile; fused activations; tile
// ranges that split the work give the same bytes.
#include "kernels/core/winograd.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace openpose_tf {
namespace {

constexpr double kG[6][3] = {{1.0 / 4, 0, 0},          {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                             {-1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6},
                             {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};

struct Case {
  int batch, height, width, channels, outputs, pad_h, pad_w;
};

struct Data {
  std::vector<float> input, kernel, bias;  // kernel [3][3][C][K]
};

Data RandomData(const Case& c, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Data d;
  d.input.resize(size_t(c.batch) * c.height * c.width * c.channels);
  d.kernel.resize(9 * size_t(c.channels) * c.outputs);
  d.bias.resize(c.outputs);
  for (float& v : d.input) v = normal(rng);
  const float scale = std::sqrt(2.0f / (9.0f * c.channels));
  for (float& v : d.kernel) v = normal(rng) * scale;
  for (float& v : d.bias) v = normal(rng);
  return d;
}

// G g G^T: [36][C][K] float.
std::vector<float> TransformWeights(const Case& c, const std::vector<float>& kernel) {
  std::vector<float> u(36 * size_t(c.channels) * c.outputs);
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) {
      for (int ch = 0; ch < c.channels; ++ch) {
        for (int k = 0; k < c.outputs; ++k) {
          double sum = 0;
          for (int a = 0; a < 3; ++a) {
            for (int b = 0; b < 3; ++b) {
              sum += kG[i][a] * kernel[((a * 3 + b) * c.channels + ch) * c.outputs + k] * kG[j][b];
            }
          }
          u[((i * 6 + j) * size_t(c.channels) + ch) * c.outputs + k] = static_cast<float>(sum);
        }
      }
    }
  }
  return u;
}

// The whole convolution through the two passes, tiles split into `pieces` ranges.
std::vector<float> Winograd(const Case& c, const Data& d, const WinogradEpilogue& epilogue,
                            int pieces) {
  const WinogradGeometry g{c.batch, c.height, c.width, c.pad_h, c.pad_w};
  const int64_t stride = WinogradTileStride(g.Tiles());
  EXPECT_EQ(stride % 2, 1);
  EXPECT_GE(stride, g.Tiles());
  std::vector<float> v(36 * stride * c.channels, NAN);
  for (int p = 0; p < pieces; ++p) {
    WinogradInputTiles(g, c.channels, d.input.data(), stride * p / pieces,
                       stride * (p + 1) / pieces, v.data());
  }
  for (float value : v) EXPECT_FALSE(std::isnan(value));  // every tile written, padding too
  const std::vector<float> u = TransformWeights(c, d.kernel);
  std::vector<float> m(36 * stride * c.outputs, 0.0f);
  for (int q = 0; q < 36; ++q) {
    for (int64_t t = 0; t < stride; ++t) {
      for (int k = 0; k < c.outputs; ++k) {
        float sum = 0;
        for (int ch = 0; ch < c.channels; ++ch) {
          sum += v[(q * stride + t) * c.channels + ch] *
                 u[(q * size_t(c.channels) + ch) * c.outputs + k];
        }
        m[(q * stride + t) * c.outputs + k] = sum;
      }
    }
  }
  std::vector<float> out(size_t(c.batch) * g.OutHeight() * g.OutWidth() * c.outputs, NAN);
  for (int p = 0; p < pieces; ++p) {
    WinogradOutputTiles(g, c.outputs, m.data(), epilogue, stride * p / pieces,
                        stride * (p + 1) / pieces, out.data());
  }
  return out;
}

std::vector<double> Direct(const Case& c, const Data& d) {
  const int out_h = c.height + 2 * c.pad_h - 2, out_w = c.width + 2 * c.pad_w - 2;
  std::vector<double> out(size_t(c.batch) * out_h * out_w * c.outputs);
  for (int n = 0; n < c.batch; ++n) {
    for (int y = 0; y < out_h; ++y) {
      for (int x = 0; x < out_w; ++x) {
        for (int k = 0; k < c.outputs; ++k) {
          double sum = d.bias[k];
          for (int a = 0; a < 3; ++a) {
            for (int b = 0; b < 3; ++b) {
              const int sy = y + a - c.pad_h, sx = x + b - c.pad_w;
              if (sy < 0 || sy >= c.height || sx < 0 || sx >= c.width) continue;
              for (int ch = 0; ch < c.channels; ++ch) {
                sum += double(d.input[((size_t(n) * c.height + sy) * c.width + sx) * c.channels +
                                      ch]) *
                       d.kernel[((a * 3 + b) * c.channels + ch) * c.outputs + k];
              }
            }
          }
          out[((size_t(n) * out_h + y) * out_w + x) * c.outputs + k] = sum;
        }
      }
    }
  }
  return out;
}

class WinogradTest : public ::testing::TestWithParam<Case> {};

TEST_P(WinogradTest, MatchesTheDirectConvolution) {
  const Case c = GetParam();
  const Data d = RandomData(c, static_cast<unsigned>(c.height * 131 + c.channels));
  const WinogradEpilogue none{d.bias.data(), nullptr, false, WinogradActivation::kNone};
  const std::vector<float> got = Winograd(c, d, none, 1);
  const std::vector<double> want = Direct(c, d);
  ASSERT_EQ(got.size(), want.size());
  double largest = 1;
  for (double w : want) largest = std::max(largest, std::abs(w));
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], 2e-5 * largest) << "output " << i;
  }
  // The same bytes whatever the split of the tiles (the thread count).
  EXPECT_EQ(Winograd(c, d, none, 3), got);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, WinogradTest,
    ::testing::Values(Case{1, 8, 8, 16, 16, 1, 1}, Case{2, 9, 13, 20, 7, 1, 1},
                      Case{1, 1, 1, 33, 5, 1, 1}, Case{1, 11, 6, 17, 9, 0, 0},
                      Case{1, 5, 7, 3, 3, 2, 1}, Case{1, 12, 20, 40, 24, 1, 1}));

TEST(WinogradActivationTest, ReluAndPreluAreCaffes) {
  const Case c{1, 10, 9, 16, 18, 1, 1};
  const Data d = RandomData(c, 7);
  std::vector<float> slopes(c.outputs);
  for (int k = 0; k < c.outputs; ++k) slopes[k] = 0.02f * k;
  const std::vector<float> plain =
      Winograd(c, d, {d.bias.data(), nullptr, false, WinogradActivation::kNone}, 1);
  const std::vector<float> relu =
      Winograd(c, d, {d.bias.data(), nullptr, false, WinogradActivation::kRelu}, 1);
  const std::vector<float> prelu =
      Winograd(c, d, {d.bias.data(), slopes.data(), true, WinogradActivation::kPrelu}, 2);
  const float shared_slope = 0.25f;
  const std::vector<float> shared =
      Winograd(c, d, {d.bias.data(), &shared_slope, false, WinogradActivation::kPrelu}, 1);
  int negatives = 0;
  for (size_t i = 0; i < plain.size(); ++i) {
    const int k = static_cast<int>(i % c.outputs);
    const float y = plain[i];
    negatives += y < 0;
    EXPECT_EQ(relu[i], std::max(y, 0.0f));
    EXPECT_EQ(prelu[i], std::max(y, 0.0f) + slopes[k] * std::min(y, 0.0f));
    EXPECT_EQ(shared[i], std::max(y, 0.0f) + shared_slope * std::min(y, 0.0f));
    if (k == 0 && y <= 0) {
      EXPECT_FALSE(std::signbit(prelu[i])) << i;  // slope 0: +0
    }
  }
  EXPECT_GT(negatives, 100);
}

}  // namespace
}  // namespace openpose_tf
