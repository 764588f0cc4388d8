// OpenPose's resizeAndMerge (resizeAndMergeBase.cpp / .cu), spec section 2: upsample each scale's
// net output to the target size with OpenPose's bicubic and average the scales.
//
// Both variants are separable and computed in two passes, bit-identical to OpenPose's per-pixel
// evaluation (each tap row's horizontal interpolation depends only on that source row and x):
//   1. HorizontalPass: every source row of every scale -> a row of target width  (h x TW x C)
//   2. VerticalPass:   every target row, from 4 horizontal rows per scale, merged over scales.
// Images are NHWC ([h, w, C] per image); the caller owns the scratch rows.
#ifndef OPENPOSE_TF_KERNELS_CORE_RESIZE_AND_MERGE_H_
#define OPENPOSE_TF_KERNELS_CORE_RESIZE_AND_MERGE_H_

#include <cstdint>
#include <vector>

#include "kernels/core/map_layout.h"

namespace openpose_tf {

// Catmull-Rom cubic (a = -0.5) exactly as OpenPose's cubicInterpolate (cuda.hu), t may be < 0.
OPENPOSE_HOST_DEVICE inline float CatmullRom(float v0, float v1, float v2, float v3, float t) {
  return (-0.5f * v0 + 1.5f * v1 - 1.5f * v2 + 0.5f * v3) * t * t * t +
         (v0 - 2.5f * v1 + 2.f * v2 - 0.5f * v3) * t * t - 0.5f * (v0 - v2) * t + v1;
}

// The 4 source taps of one destination position along one axis, and how to weigh them.
struct AxisTaps {
  std::vector<int32_t> index;  // 4 per destination position, each in [0, source length)
  std::vector<float> weight;   // kGpu: 1 per position (t); kCpu: 4 per position (Keys weights)
};

// kGpu (cubicSequentialData): s = (d + 0.5f) / scale - 0.5f; i1 = clamp(floor(s), 0, n-1),
// i0 = max(0, i1-1), i2 = min(n-1, i1+1), i3 = min(n-1, i2+1); t = s - i1.
// `scale` is OpenPose's float scaleWidth: (target / size of scale 0) / (ratio_i / ratio_0).
AxisTaps GpuAxisTaps(int source_length, int target_length, float scale);

// kCpu (OpenCV's cv::resize INTER_CUBIC on CV_32F): f = (float)((d + 0.5) * (1. / (target /
// (double)source)) - 0.5), taps floor(f)-1 .. floor(f)+2 replicated at the borders, weights of
// Keys' kernel with A = -0.75 (interpolateCubic) at f - floor(f).
AxisTaps CpuAxisTaps(int source_length, int target_length);

// Pass 1: rows [row_begin, row_end) of one source image [h, w, C] -> out rows [h, TW, C].
void HorizontalPass(const float* source, int source_width, int channels, const AxisTaps& x_taps,
                    Variant variant, int row_begin, int row_end, float* out);

// Pass 2: target rows [row_begin, row_end) of one image [TH, TW, C] from the horizontal rows of
// each scale (rows[s]: [h_s, TW, C]) and their vertical taps. Scales are merged as OpenPose:
// kGpu sums in scale order from 0 and divides by S (resizeAndAddAndAverageKernel); kCpu adds in
// scale order (cv::add) and multiplies by (float)(1.0 / S) (OpenCV's Mat /= (float)S); a single
// scale is written as is.
void VerticalPass(const float* const* rows, const AxisTaps* y_taps, int num_scales,
                  int target_width, int channels, Variant variant, int row_begin, int row_end,
                  float* out);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_RESIZE_AND_MERGE_H_
