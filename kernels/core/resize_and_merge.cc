#include "kernels/core/resize_and_merge.h"

#include <algorithm>
#include <cmath>

namespace openpose_tf {
namespace {

// OpenCV's interpolateCubic (imgproc/resize.cpp), float arithmetic in its order.
void KeysWeights(float x, float* w) {
  const float a = -0.75f;
  w[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
  w[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
  w[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
  w[3] = 1.f - w[0] - w[1] - w[2];
}

// OpenCV's horizontal and vertical sums: ((v0*w0 + v1*w1) + v2*w2) + v3*w3 (scalar order).
inline float KeysSum(float v0, float v1, float v2, float v3, const float* w) {
  return v0 * w[0] + v1 * w[1] + v2 * w[2] + v3 * w[3];
}

}  // namespace

AxisTaps GpuAxisTaps(int source_length, int target_length, float scale) {
  AxisTaps taps;
  taps.index.resize(static_cast<size_t>(target_length) * 4);
  taps.weight.resize(target_length);
  const int last = source_length - 1;
  for (int d = 0; d < target_length; ++d) {
    const float s = (static_cast<float>(d) + 0.5f) / scale - 0.5f;
    const int i1 = std::min(last, std::max(0, static_cast<int>(std::floor(s))));
    const int i0 = std::max(0, i1 - 1);
    const int i2 = std::min(last, i1 + 1);
    const int i3 = std::min(last, i2 + 1);
    int32_t* idx = &taps.index[static_cast<size_t>(d) * 4];
    idx[0] = i0;
    idx[1] = i1;
    idx[2] = i2;
    idx[3] = i3;
    taps.weight[d] = s - static_cast<float>(i1);
  }
  return taps;
}

AxisTaps CpuAxisTaps(int source_length, int target_length) {
  AxisTaps taps;
  taps.index.resize(static_cast<size_t>(target_length) * 4);
  taps.weight.resize(static_cast<size_t>(target_length) * 4);
  // cv::resize: inv_scale = dst / (double)src, and the mapping uses scale = 1. / inv_scale.
  const double scale = 1. / (static_cast<double>(target_length) / source_length);
  const int last = source_length - 1;
  for (int d = 0; d < target_length; ++d) {
    float f = static_cast<float>((d + 0.5) * scale - 0.5);
    const int s = static_cast<int>(std::floor(f));
    f -= static_cast<float>(s);
    for (int k = 0; k < 4; ++k) {
      taps.index[static_cast<size_t>(d) * 4 + k] = std::min(last, std::max(0, s - 1 + k));
    }
    KeysWeights(f, &taps.weight[static_cast<size_t>(d) * 4]);
  }
  return taps;
}

void HorizontalPass(const float* source, int source_width, int channels, const AxisTaps& x_taps,
                    Variant variant, int row_begin, int row_end, float* out) {
  const int target_width = static_cast<int>(x_taps.index.size() / 4);
  const int64_t in_row = static_cast<int64_t>(source_width) * channels;
  const int64_t out_row = static_cast<int64_t>(target_width) * channels;
  for (int y = row_begin; y < row_end; ++y) {
    const float* src = source + y * in_row;
    float* dst = out + y * out_row;
    for (int x = 0; x < target_width; ++x) {
      const int32_t* idx = &x_taps.index[static_cast<size_t>(x) * 4];
      const float* p0 = src + static_cast<int64_t>(idx[0]) * channels;
      const float* p1 = src + static_cast<int64_t>(idx[1]) * channels;
      const float* p2 = src + static_cast<int64_t>(idx[2]) * channels;
      const float* p3 = src + static_cast<int64_t>(idx[3]) * channels;
      float* o = dst + static_cast<int64_t>(x) * channels;
      if (variant == Variant::kGpu) {
        const float t = x_taps.weight[x];
        for (int c = 0; c < channels; ++c) o[c] = CatmullRom(p0[c], p1[c], p2[c], p3[c], t);
      } else {
        const float* w = &x_taps.weight[static_cast<size_t>(x) * 4];
        for (int c = 0; c < channels; ++c) o[c] = KeysSum(p0[c], p1[c], p2[c], p3[c], w);
      }
    }
  }
}

void VerticalPass(const float* const* rows, const AxisTaps* y_taps, int num_scales,
                  int target_width, int channels, Variant variant, int row_begin, int row_end,
                  float* out) {
  const int64_t row_size = static_cast<int64_t>(target_width) * channels;
  for (int y = row_begin; y < row_end; ++y) {
    float* o = out + y * row_size;
    for (int s = 0; s < num_scales; ++s) {
      const int32_t* idx = &y_taps[s].index[static_cast<size_t>(y) * 4];
      const float* r0 = rows[s] + idx[0] * row_size;
      const float* r1 = rows[s] + idx[1] * row_size;
      const float* r2 = rows[s] + idx[2] * row_size;
      const float* r3 = rows[s] + idx[3] * row_size;
      if (variant == Variant::kGpu) {
        const float t = y_taps[s].weight[y];
        if (s == 0 && num_scales == 1) {
          for (int64_t i = 0; i < row_size; ++i) o[i] = CatmullRom(r0[i], r1[i], r2[i], r3[i], t);
        } else if (s == 0) {
          // OpenPose's merge kernel accumulates from a float 0.
          for (int64_t i = 0; i < row_size; ++i)
            o[i] = 0.f + CatmullRom(r0[i], r1[i], r2[i], r3[i], t);
        } else {
          for (int64_t i = 0; i < row_size; ++i) o[i] += CatmullRom(r0[i], r1[i], r2[i], r3[i], t);
        }
      } else {
        const float* w = &y_taps[s].weight[static_cast<size_t>(y) * 4];
        if (s == 0) {
          for (int64_t i = 0; i < row_size; ++i) o[i] = KeysSum(r0[i], r1[i], r2[i], r3[i], w);
        } else {
          for (int64_t i = 0; i < row_size; ++i) o[i] += KeysSum(r0[i], r1[i], r2[i], r3[i], w);
        }
      }
    }
    if (num_scales > 1) {
      if (variant == Variant::kGpu) {
        const float count = static_cast<float>(num_scales);
        for (int64_t i = 0; i < row_size; ++i) o[i] /= count;
      } else {
        const float inverse = static_cast<float>(1.0 / num_scales);
        for (int64_t i = 0; i < row_size; ++i) o[i] *= inverse;
      }
    }
  }
}

}  // namespace openpose_tf
