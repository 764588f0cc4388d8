#include "kernels/core/fixed_point_warp.h"

#include <algorithm>
#include <cstdint>

namespace openpose_tf {
namespace {

inline uint8_t Saturate(int32_t sum) {
  // Arithmetic shift, as OpenCV's (and floor division by 2^15).
  const int32_t v = (sum + (1 << (kWarpWeightBits - 1))) >> kWarpWeightBits;
  return static_cast<uint8_t>(std::min(std::max(v, 0), 255));
}

// One destination row. kTaps is 2 or 4; the tap loops unroll.
template <int kTaps>
void WarpRow(const WarpImage& image, const int32_t* xs, int out_w, int32_t y_fixed,
             const int32_t* weights, uint8_t* out) {
  const int channels = image.channels;
  const int y0 = (y_fixed >> kWarpFractionBits) - (kTaps / 2 - 1);
  const int fy = y_fixed & (kWarpFractions - 1);
  // Rows of the taps; nullptr for a row outside the image (it reads 0).
  const uint8_t* rows[kTaps];
  bool all_rows = true;
  for (int i = 0; i < kTaps; ++i) {
    const int y = y0 + i;
    const bool inside = y >= 0 && y < image.height;
    rows[i] = inside ? image.pixels + static_cast<int64_t>(y) * image.width * channels : nullptr;
    all_rows = all_rows && inside;
  }
  for (int x = 0; x < out_w; ++x, out += channels) {
    const int32_t x_fixed = xs[x];
    const int x0 = (x_fixed >> kWarpFractionBits) - (kTaps / 2 - 1);
    const int32_t* w =
        weights + (fy * kWarpFractions + (x_fixed & (kWarpFractions - 1))) * kTaps * kTaps;
    if (all_rows && x0 >= 0 && x0 + kTaps <= image.width) {  // every tap inside: no checks
      for (int c = 0; c < channels; ++c) {
        int32_t sum = 0;
        for (int i = 0; i < kTaps; ++i) {
          const uint8_t* p = rows[i] + static_cast<int64_t>(x0) * channels + c;
          for (int j = 0; j < kTaps; ++j) sum += p[j * channels] * w[i * kTaps + j];
        }
        out[c] = Saturate(sum);
      }
      continue;
    }
    for (int c = 0; c < channels; ++c) {
      int32_t sum = 0;
      for (int i = 0; i < kTaps; ++i) {
        if (rows[i] == nullptr) continue;
        for (int j = 0; j < kTaps; ++j) {
          const int xj = x0 + j;
          if (xj < 0 || xj >= image.width) continue;
          sum += rows[i][static_cast<int64_t>(xj) * channels + c] * w[i * kTaps + j];
        }
      }
      out[c] = Saturate(sum);
    }
  }
}

}  // namespace

void FixedPointWarpRows(const WarpImage& image, const int32_t* xs, int out_w, const int32_t* ys,
                        const int32_t* weights, int taps, int row_begin, int row_end,
                        uint8_t* out) {
  const int64_t row_size = static_cast<int64_t>(out_w) * image.channels;
  for (int y = row_begin; y < row_end; ++y) {
    uint8_t* row = out + y * row_size;
    if (taps == 4) {
      WarpRow<4>(image, xs, out_w, ys[y], weights, row);
    } else {
      WarpRow<2>(image, xs, out_w, ys[y], weights, row);
    }
  }
}

}  // namespace openpose_tf
