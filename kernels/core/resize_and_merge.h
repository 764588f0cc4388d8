// OpenPose's resizeAndMerge (resizeAndMergeBase.cpp / .cu), docs/algorithms.md#resizeandmerge:
// upsample each scale's net output to the target size with OpenPose's bicubic and average the
// scales.
//
// The tap math (which 4 source pixels, which weights) is one set of host/device inline functions
// below, shared by the CPU passes and any GPU kernel. Both builds are separable and computed in two
// passes, bit-identical to OpenPose's per-pixel evaluation (each tap row's horizontal
// interpolation depends only on that source row and x):
//   1. HorizontalPass: every source row of every scale -> a row of target width  (h_s x TW x C)
//   2. VerticalPass:   every target row, from 4 horizontal rows per scale, merged over scales.
// Images are NHWC ([h, w, C] per image). The caller owns the workspace (ResizeWorkspaceSize).
#ifndef OPENPOSE_TF_KERNELS_CORE_RESIZE_AND_MERGE_H_
#define OPENPOSE_TF_KERNELS_CORE_RESIZE_AND_MERGE_H_

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/core/map_layout.h"

namespace openpose_tf {

// Catmull-Rom cubic (a = -0.5) exactly as OpenPose's cubicInterpolate (cuda.hu), t may be < 0:
//   (-0.5 v0 + 1.5 v1 - 1.5 v2 + 0.5 v3) t t t + (v0 - 2.5 v1 + 2 v2 - 0.5 v3) t t
//   - 0.5 (v0 - v2) t + v1,
// written as its three coefficients (which do not depend on t, so target rows that share their
// 4 taps can share them) and the polynomial: the same float operations in the same order.
// V: float, or a GCC vector of floats (lanes evaluated with the same operations).
template <class V>
struct CatmullRomTerms {
  V cubic, square, linear;
};
template <class V>
OPENPOSE_HOST_DEVICE inline CatmullRomTerms<V> CatmullRomTermsOf(V v0, V v1, V v2, V v3) {
  return {-0.5f * v0 + 1.5f * v1 - 1.5f * v2 + 0.5f * v3, v0 - 2.5f * v1 + 2.f * v2 - 0.5f * v3,
          0.5f * (v0 - v2)};
}
// T: float, or a vector of each lane's t (V a float then: the same terms in every lane).
template <class V, class T>
OPENPOSE_HOST_DEVICE inline auto CatmullRomAt(V cubic, V square, V linear, V v1, T t)
    -> decltype(cubic * t) {
  return cubic * t * t * t + square * t * t - linear * t + v1;
}
template <class V>
OPENPOSE_HOST_DEVICE inline V CatmullRomOf(V v0, V v1, V v2, V v3, float t) {
  const CatmullRomTerms<V> k = CatmullRomTermsOf(v0, v1, v2, v3);
  return CatmullRomAt(k.cubic, k.square, k.linear, v1, t);
}
OPENPOSE_HOST_DEVICE inline float CatmullRom(float v0, float v1, float v2, float v3, float t) {
  return CatmullRomOf(v0, v1, v2, v3, t);
}

// OpenCV's interpolateCubic (imgproc/resize.cpp): Keys' weights, A = -0.75, float in its order.
OPENPOSE_HOST_DEVICE inline void KeysWeights(float x, float* w /* 4 */) {
  const float a = -0.75f;
  w[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
  w[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
  w[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
  w[3] = 1.f - w[0] - w[1] - w[2];
}

// OpenCV's tap sum ((v0*w0 + v1*w1) + v2*w2) + v3*w3 (its scalar order); V and W as
// CatmullRomOf's V (a float with a vector: the float in every lane).
template <class V, class W>
OPENPOSE_HOST_DEVICE inline auto KeysSumOf(V v0, V v1, V v2, V v3, W w0, W w1, W w2, W w3)
    -> decltype(v0 * w0) {
  return v0 * w0 + v1 * w1 + v2 * w2 + v3 * w3;
}
OPENPOSE_HOST_DEVICE inline float KeysSum(float v0, float v1, float v2, float v3, float w0,
                                          float w1, float w2, float w3) {
  return KeysSumOf(v0, v1, v2, v3, w0, w1, w2, w3);
}
OPENPOSE_HOST_DEVICE inline float KeysSum(float v0, float v1, float v2, float v3, const float* w) {
  return KeysSum(v0, v1, v2, v3, w[0], w[1], w[2], w[3]);
}

// OpenPose's float scaleWidth / scaleHeight of one scale (resizeAndMergeBase.cu:379-380,470-478):
// (target / size of scale 0) / (ratio_i / ratio_0).
OPENPOSE_HOST_DEVICE inline float GpuBuildScale(int target, int source0, float ratio_i,
                                                float ratio_0) {
  const float ratio = ratio_i / ratio_0;
  return static_cast<float>(target) / source0 / ratio;
}

// GPU build (cubicSequentialData): s = (d + 0.5f) / scale - 0.5f; i1 = clamp(floor(s), 0, n-1),
// i0 = max(0, i1-1), i2 = min(n-1, i1+1), i3 = min(n-1, i2+1); returns t = s - i1 (may be < 0).
// The floor is clamped in float before the cast, so any s (huge, NaN) is defined.
OPENPOSE_HOST_DEVICE inline float GpuBuildTaps(int d, int source_length, float scale,
                                               int32_t* index /* 4 */) {
  const float s = (static_cast<float>(d) + 0.5f) / scale - 0.5f;
  const int last = source_length - 1;
  const float f = floorf(s);
  const int i1 = !(f > 0.f) ? 0 : (f >= static_cast<float>(last) ? last : static_cast<int>(f));
  index[0] = i1 > 0 ? i1 - 1 : 0;
  index[1] = i1;
  index[2] = i1 < last ? i1 + 1 : last;
  index[3] = index[2] < last ? index[2] + 1 : last;
  return s - static_cast<float>(i1);
}

// CPU build (cv::resize INTER_CUBIC on CV_32F): f = (float)((d + 0.5) * (1. / (target /
// (double)source)) - 0.5), taps floor(f)-1 .. floor(f)+2 replicated at the borders, Keys' weights
// at f - floor(f). d lies in [0, target), so f lies in [-0.5, source).
OPENPOSE_HOST_DEVICE inline void CpuBuildTaps(int d, int source_length, int target_length,
                                              int32_t* index /* 4 */, float* weight /* 4 */) {
  const double scale = 1. / (static_cast<double>(target_length) / source_length);
  float f = static_cast<float>((d + 0.5) * scale - 0.5);
  const int last = source_length - 1;
  // floor(f) <= last in exact arithmetic; clamped in float first, as float rounding near 2^31
  // could make the cast overflow.
  const float fl = floorf(f);
  const int s = fl >= static_cast<float>(last) ? last : static_cast<int>(fl);
  f -= static_cast<float>(s);
  for (int k = 0; k < 4; ++k) {
    const int64_t i = static_cast<int64_t>(s) - 1 + k;
    index[k] = i < 0 ? 0 : (i > last ? last : static_cast<int32_t>(i));
  }
  KeysWeights(f, weight);
}

// One scale's upsampled value at one target pixel from its taps: HorizontalPass at the 4 tap rows,
// then VerticalPass, with the same float operations. `source` is channel c of the scale's image
// ([h, w, C], rows row_stride = w * C floats apart); wx / wy hold t (GPU build) or the 4 Keys
// weights (CPU build).
OPENPOSE_HOST_DEVICE inline float TapValue(const float* source, int64_t row_stride, int channels,
                                           const int32_t* yi, const float* wy, const int32_t* xi,
                                           const float* wx, OpenPoseBuild build) {
  const bool gpu = build == OpenPoseBuild::kGpu;
  float rows[4];
  for (int k = 0; k < 4; ++k) {
    const float* r = source + yi[k] * row_stride;
    const float v0 = r[static_cast<int64_t>(xi[0]) * channels];
    const float v1 = r[static_cast<int64_t>(xi[1]) * channels];
    const float v2 = r[static_cast<int64_t>(xi[2]) * channels];
    const float v3 = r[static_cast<int64_t>(xi[3]) * channels];
    rows[k] = gpu ? CatmullRom(v0, v1, v2, v3, wx[0]) : KeysSum(v0, v1, v2, v3, wx);
  }
  return gpu ? CatmullRom(rows[0], rows[1], rows[2], rows[3], wy[0])
             : KeysSum(rows[0], rows[1], rows[2], rows[3], wy);
}

// VerticalPass's merge, one value at a time: merged = MergeScale(merged, value of scale s, s, S)
// for s = 0 .. S-1 in order, then MergeEnd. The GPU build accumulates from a float 0 and divides
// by S; the CPU build adds in scale order and multiplies by (float)(1.0 / S); one scale is kept
// as it is. V: float, or a GCC vector of floats (lane by lane).
template <class V>
OPENPOSE_HOST_DEVICE inline V MergeScale(V merged, V value, int s, int num_scales,
                                         OpenPoseBuild build) {
  if (s > 0) return merged + value;
  return num_scales > 1 && build == OpenPoseBuild::kGpu ? 0.f + value : value;
}
template <class V>
OPENPOSE_HOST_DEVICE inline V MergeEnd(V merged, int num_scales, OpenPoseBuild build) {
  if (num_scales == 1) return merged;
  return build == OpenPoseBuild::kGpu ? merged / static_cast<float>(num_scales)
                                      : merged * static_cast<float>(1.0 / num_scales);
}

// One call: every scale's source size, the target, and (GPU build) each scale's placement.
struct ResizeScale {
  int height = 0;
  int width = 0;
  float scale_x = 1.f;  // GPU build: OpenPose's scaleWidth (GpuBuildScale); unused by the CPU build
  float scale_y = 1.f;
};

struct ResizePlan {
  OpenPoseBuild build = OpenPoseBuild::kGpu;
  int target_height = 0;
  int target_width = 0;
  int channels = 0;
  std::vector<ResizeScale> scales;
};

// The same plan: the same taps, bit for bit (scales compared as floats).
inline bool operator==(const ResizeScale& a, const ResizeScale& b) {
  return a.height == b.height && a.width == b.width && a.scale_x == b.scale_x &&
         a.scale_y == b.scale_y;
}
inline bool operator==(const ResizePlan& a, const ResizePlan& b) {
  return a.build == b.build && a.target_height == b.target_height &&
         a.target_width == b.target_width && a.channels == b.channels && a.scales == b.scales;
}

// Workspace element counts: the x taps of every scale (index: 4 per target column and scale;
// weight: 1 (GPU build) or 4 (CPU build) per target column and scale) and the horizontal rows
// (sum of h_s x TW x C floats). Returns false when a count would exceed 2^31 - 1 (the CUDA
// kernels index with int); products are formed in 64 bits.
struct ResizeWorkspace {
  int64_t index_count = 0;
  int64_t float_count = 0;
};
bool ResizeWorkspaceSize(const ResizePlan& plan, ResizeWorkspace* size);

// Views into the caller's workspace: `index` and `floats` hold the counts above.
struct ResizeBuffers {
  int32_t* x_index = nullptr;
  float* x_weight = nullptr;
  std::vector<float*> rows;  // per scale: [h_s, TW, C]
};
ResizeBuffers PrepareResize(const ResizePlan& plan, int32_t* index, float* floats);

// The GPU build places scale i by its ratio: with ratios that contradict the maps' sizes the last
// target pixel reads far past a map's edge and the cubic extrapolates to garbage. Returns the
// first scale (and axis: 0 = y, 1 = x) whose last target pixel falls more than `tolerance` source
// pixels past its edge, or whose map overshoots the target by more than `tolerance` pixels on both
// axes; -1 if none. OpenPose's own scales (floored to multiples of 16 input pixels) stay within
// 2.4 map pixels (measured over 20,000 random OpenPose flows).
int FirstMisplacedScale(const ResizePlan& plan, float tolerance, int* axis, float* source_end);

// Pass 1: rows [row_begin, row_end) of scale s's source image [h_s, w_s, C] -> buffers.rows[s].
void HorizontalPass(const ResizePlan& plan, const ResizeBuffers& buffers, int s,
                    const float* source, int row_begin, int row_end);

// Pass 2: target rows [row_begin, row_end) of one image [TH, TW, C] from the horizontal rows.
// Scales are merged as OpenPose: GPU build sums in scale order from 0 and divides by S
// (resizeAndAddAndAverageKernel); CPU build adds in scale order (cv::add) and multiplies by
// (float)(1.0 / S) (OpenCV's Mat /= (float)S); a single scale is written as is.
void VerticalPass(const ResizePlan& plan, const ResizeBuffers& buffers, int row_begin,
                  int row_end, float* out);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_RESIZE_AND_MERGE_H_
