// Peak detection of OpenPose's NMS (nmsBase.cpp / nmsBase.cu), docs/algorithms.md#nms.
#ifndef OPENPOSE_TF_KERNELS_CORE_NMS_H_
#define OPENPOSE_TF_KERNELS_CORE_NMS_H_

#include <cstdint>

#include "kernels/core/map_layout.h"

namespace openpose_tf {

struct NmsParams {
  float threshold = 0.05f;
  float offset_x = 0.5f;  // added to the refined position (OpenPose: 0.5 / scaleNetToOutput)
  float offset_y = 0.5f;
  int max_peaks = 127;    // M: peaks kept per channel, the first ones in raster order
  OpenPoseBuild build = OpenPoseBuild::kGpu;
};

// One map read through strides: element (y, x) is data[y * ys + x * xs].
struct StridedMap {
  const float* data;
  int64_t ys;
  int64_t xs;
  OPENPOSE_HOST_DEVICE float operator()(int y, int x) const { return data[y * ys + x * xs]; }
};

// Peak test at (x, y) of an h x w map read through `map(y, x)` (any accessor: a strided tensor,
// or the sparse path's exact values; one definition keeps both bit-identical).
// GPU build (nmsRegisterKernel): 1 <= x <= W-2 and 1 <= y <= H-2, v > threshold and v > all 8
//   neighbours (strict); the outer 1-pixel border never peaks.
// CPU build (nmsRegisterKernelCPU): strict as above for 2 <= x <= W-3 and 2 <= y <= H-3; on the
//   ring x == 1, x == W-2, y == 1 or y == H-2 (which includes 8 outer-border pixels) the test is
//   v >= neighbours, with neighbours outside the image read as `threshold`: OpenPose's CPU
//   resize (cv::resize) makes twin maxima there. Every other border pixel never peaks.
// Only (x, y) and its in-image 8 neighbours are read.
template <class Map>
OPENPOSE_HOST_DEVICE inline bool IsPeakAt(const Map& map, int h, int w, int x, int y,
                                          float threshold, OpenPoseBuild build) {
  const float v = map(y, x);
  if (!(v > threshold)) return false;  // also rejects NaN
  const bool interior = build == OpenPoseBuild::kGpu
                            ? (0 < x && x < w - 1 && 0 < y && y < h - 1)
                            : (1 < x && x < w - 2 && 1 < y && y < h - 2);
  if (interior) {
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        if ((dx != 0 || dy != 0) && !(v > map(y + dy, x + dx))) return false;
    return true;
  }
  if (build == OpenPoseBuild::kGpu) return false;
  if (!(x == 1 || x == w - 2 || y == 1 || y == h - 2)) return false;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      if (dx == 0 && dy == 0) continue;
      const int nx = x + dx;
      const int ny = y + dy;
      const bool inside = 0 <= nx && nx < w && 0 <= ny && ny < h;
      const float n = inside ? map(ny, nx) : threshold;
      if (!(v >= n)) return false;
    }
  }
  return true;
}

OPENPOSE_HOST_DEVICE inline bool IsPeak(const float* map, int64_t ys, int64_t xs, int h, int w,
                                        int x, int y, float threshold, OpenPoseBuild build) {
  return IsPeakAt(StridedMap{map, ys, xs}, h, w, x, y, threshold, build);
}

// OpenPose's nmsAccuratePeakPosition (same on CPU and GPU): the score-weighted mean position over
// the 7x7 window, counting in-image pixels with score > 0 (not > threshold), accumulated in
// float in dy-then-dx order, plus the offset. The score is the raw value at the peak. The
// position is always finite: where the mean is not, the integer position is used.
// Only the in-image pixels of the 7x7 window are read.
template <class Map>
OPENPOSE_HOST_DEVICE inline void RefinePeakAt(const Map& map, int h, int w, int x, int y,
                                              float offset_x, float offset_y,
                                              float* out /* 3: x, y, score */) {
  float x_acc = 0.f;
  float y_acc = 0.f;
  float score_acc = 0.f;
  for (int dy = -3; dy <= 3; ++dy) {
    const int py = y + dy;
    if (py < 0 || py >= h) continue;
    for (int dx = -3; dx <= 3; ++dx) {
      const int px = x + dx;
      if (px < 0 || px >= w) continue;
      const float score = map(py, px);
      if (score > 0) {
        x_acc += static_cast<float>(px) * score;
        y_acc += static_cast<float>(py) * score;
        score_acc += score;
      }
    }
  }
  float px = x_acc / score_acc;
  float py = y_acc / score_acc;
  // Not in OpenPose: with no positive pixel in the window (a negative threshold) or sums that are
  // not finite (inf or near-FLT_MAX scores) the mean is NaN or inf; keep the integer position.
  if (!(px - px == 0.f) || !(py - py == 0.f)) {
    px = static_cast<float>(x);
    py = static_cast<float>(y);
  }
  out[0] = px + offset_x;
  out[1] = py + offset_y;
  out[2] = map(y, x);
}

OPENPOSE_HOST_DEVICE inline void RefinePeak(const float* map, int64_t ys, int64_t xs, int h, int w,
                                            int x, int y, float offset_x, float offset_y,
                                            float* out /* 3: x, y, score */) {
  RefinePeakAt(StridedMap{map, ys, xs}, h, w, x, y, offset_x, offset_y, out);
}

// NMS on channels [c_begin, c_end) of one image.
// peaks:  CxMx3 for the whole image; channel c's rows (x, y, score) start at peaks + c*M*3,
//         in raster order (y, then x), at most M of them; rows past the count are zeroed
//         (OpenPose leaves stale memory there).
// counts: C, peaks found per channel (capped at M).
void NmsImage(const float* maps, const MapLayout& layout, int c_begin, int c_end,
              const NmsParams& params, float* peaks, int32_t* counts);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_NMS_H_
