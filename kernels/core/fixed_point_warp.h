// OpenCV's fixed-point remap (the inner loop of cv::warpAffine / cv::remap with INTER_LINEAR or
// INTER_CUBIC, BORDER_CONSTANT 0), for warps whose source row depends only on the destination row
// and the source column only on the destination column: OpenPose's input scaling
// (resizeFixedAspectRatio) and its hand and face crops (axis-aligned, possibly mirrored).
// Coordinates come in OpenCV's INTER_BITS = 5 fixed point (1/32 pixel); the weights are OpenCV's
// 2-D integer tables (initInterTab2D, sum 32768 per fraction pair), computed by the caller.
#ifndef OPENPOSE_TF_KERNELS_CORE_FIXED_POINT_WARP_H_
#define OPENPOSE_TF_KERNELS_CORE_FIXED_POINT_WARP_H_

#include <cstdint>

namespace openpose_tf {

constexpr int kWarpFractionBits = 5;  // OpenCV's INTER_BITS
constexpr int kWarpFractions = 1 << kWarpFractionBits;
constexpr int kWarpWeightBits = 15;   // INTER_REMAP_COEF_BITS: weights sum to 1 << 15

struct WarpImage {
  const uint8_t* pixels;  // [height, width, channels], row-major
  int height;
  int width;
  int channels;
};

// Rows [row_begin, row_end) of one warped image `out` ([out_h, out_w, channels]):
//   out[y, x, c] = saturate_uchar((sum_{i,j < taps} src(Y0 + i, X0 + j, c) * w[i][j] + 2^14) >> 15)
// with X = xs[x], Y = ys[y] in 1/32 pixel, X0 = (X >> 5) - (taps / 2 - 1) (likewise Y0),
// w = weights[((Y & 31) * 32 + (X & 31)) * taps * taps ...] and src() = 0 outside the image.
// taps is 2 (linear) or 4 (cubic). Exact integer arithmetic: weights within +-2^16 (the
// kernel checks it) keep |sum| < 16 * 255 * 2^16 < 2^31.
void FixedPointWarpRows(const WarpImage& image, const int32_t* xs, int out_w, const int32_t* ys,
                        const int32_t* weights, int taps, int row_begin, int row_end,
                        uint8_t* out);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_FIXED_POINT_WARP_H_
