#include "kernels/core/resize_and_merge.h"

#include <cstdint>
#include <limits>

namespace openpose_tf {
namespace {

constexpr int64_t kMaxCount = std::numeric_limits<int32_t>::max();

int WeightsPerTap(OpenPoseBuild build) { return build == OpenPoseBuild::kGpu ? 1 : 4; }

// a * b, or kMaxCount + 1 when it would exceed kMaxCount (a, b >= 0).
int64_t CappedProduct(int64_t a, int64_t b) {
  if (a != 0 && b > kMaxCount / a) return kMaxCount + 1;
  return a * b;
}

}  // namespace

bool ResizeWorkspaceSize(const ResizePlan& plan, ResizeWorkspace* size) {
  const int64_t scales = static_cast<int64_t>(plan.scales.size());
  const int64_t row = CappedProduct(plan.target_width, plan.channels);
  int64_t rows = 0;
  for (const ResizeScale& s : plan.scales) {
    rows += CappedProduct(s.height, row);
    if (rows > kMaxCount) return false;
  }
  size->index_count = CappedProduct(CappedProduct(scales, plan.target_width), 4);
  const int64_t weights =
      CappedProduct(CappedProduct(scales, plan.target_width), WeightsPerTap(plan.build));
  size->float_count = weights + rows;
  return size->index_count <= kMaxCount && size->float_count <= kMaxCount;
}

ResizeBuffers PrepareResize(const ResizePlan& plan, int32_t* index, float* floats) {
  ResizeBuffers buffers;
  const int tw = plan.target_width;
  const int per_tap = WeightsPerTap(plan.build);
  const int num_scales = static_cast<int>(plan.scales.size());
  buffers.x_index = index;
  buffers.x_weight = floats;
  float* rows = floats + static_cast<int64_t>(num_scales) * tw * per_tap;
  for (int s = 0; s < num_scales; ++s) {
    const ResizeScale& scale = plan.scales[s];
    for (int x = 0; x < tw; ++x) {
      const int64_t tap = static_cast<int64_t>(s) * tw + x;
      int32_t* idx = index + tap * 4;
      float* w = buffers.x_weight + tap * per_tap;
      if (plan.build == OpenPoseBuild::kGpu) {
        *w = GpuBuildTaps(x, scale.width, scale.scale_x, idx);
      } else {
        CpuBuildTaps(x, scale.width, tw, idx, w);
      }
    }
    buffers.rows.push_back(rows);
    rows += static_cast<int64_t>(scale.height) * tw * plan.channels;
  }
  return buffers;
}

int FirstMisplacedScale(const ResizePlan& plan, float tolerance, int* axis, float* source_end) {
  if (plan.build != OpenPoseBuild::kGpu) return -1;  // the CPU build stretches every scale
  for (int s = 0; s < static_cast<int>(plan.scales.size()); ++s) {
    const ResizeScale& scale = plan.scales[s];
    // Source coordinate of the last target pixel (GpuBuildTaps' s), and the map's last pixel.
    const float end[2] = {(plan.target_height - 0.5f) / scale.scale_y - 0.5f,
                          (plan.target_width - 0.5f) / scale.scale_x - 0.5f};
    const float last[2] = {static_cast<float>(scale.height - 1),
                           static_cast<float>(scale.width - 1)};
    int short_axes = 0;
    for (int a = 0; a < 2; ++a) {
      if (!(end[a] <= last[a] + tolerance)) {  // also NaN
        *axis = a;
        *source_end = end[a];
        return s;
      }
      short_axes += end[a] < last[a] - tolerance;
    }
    if (short_axes == 2) {
      *axis = 1;
      *source_end = end[1];
      return s;
    }
  }
  return -1;
}

OPENPOSE_SIMD_CLONES void HorizontalPass(const ResizePlan& plan, const ResizeBuffers& buffers, int s,
                    const float* source, int row_begin, int row_end) {
  const int tw = plan.target_width;
  const int channels = plan.channels;
  const int64_t in_row = static_cast<int64_t>(plan.scales[s].width) * channels;
  const int64_t out_row = static_cast<int64_t>(tw) * channels;
  const int per_tap = WeightsPerTap(plan.build);
  const int32_t* index = buffers.x_index + static_cast<int64_t>(s) * tw * 4;
  const float* weight = buffers.x_weight + static_cast<int64_t>(s) * tw * per_tap;
  for (int y = row_begin; y < row_end; ++y) {
    const float* src = source + y * in_row;
    float* dst = buffers.rows[s] + y * out_row;
    for (int x = 0; x < tw; ++x) {
      const int32_t* idx = index + static_cast<int64_t>(x) * 4;
      const float* p0 = src + static_cast<int64_t>(idx[0]) * channels;
      const float* p1 = src + static_cast<int64_t>(idx[1]) * channels;
      const float* p2 = src + static_cast<int64_t>(idx[2]) * channels;
      const float* p3 = src + static_cast<int64_t>(idx[3]) * channels;
      float* o = dst + static_cast<int64_t>(x) * channels;
      const float* w = weight + static_cast<int64_t>(x) * per_tap;
      if (plan.build == OpenPoseBuild::kGpu) {
        const float t = *w;
        for (int c = 0; c < channels; ++c) o[c] = CatmullRom(p0[c], p1[c], p2[c], p3[c], t);
      } else {
        for (int c = 0; c < channels; ++c) o[c] = KeysSum(p0[c], p1[c], p2[c], p3[c], w);
      }
    }
  }
}

OPENPOSE_SIMD_CLONES void VerticalPass(const ResizePlan& plan, const ResizeBuffers& buffers, int row_begin,
                  int row_end, float* out) {
  const int64_t row_size = static_cast<int64_t>(plan.target_width) * plan.channels;
  const int num_scales = static_cast<int>(plan.scales.size());
  const bool gpu = plan.build == OpenPoseBuild::kGpu;
  for (int y = row_begin; y < row_end; ++y) {
    float* o = out + y * row_size;
    for (int s = 0; s < num_scales; ++s) {
      int32_t idx[4];
      float w[4];
      if (gpu) {
        w[0] = GpuBuildTaps(y, plan.scales[s].height, plan.scales[s].scale_y, idx);
      } else {
        CpuBuildTaps(y, plan.scales[s].height, plan.target_height, idx, w);
      }
      const float* r0 = buffers.rows[s] + idx[0] * row_size;
      const float* r1 = buffers.rows[s] + idx[1] * row_size;
      const float* r2 = buffers.rows[s] + idx[2] * row_size;
      const float* r3 = buffers.rows[s] + idx[3] * row_size;
      if (gpu) {
        const float t = w[0];
        if (s == 0 && num_scales == 1) {
          for (int64_t i = 0; i < row_size; ++i) o[i] = CatmullRom(r0[i], r1[i], r2[i], r3[i], t);
        } else if (s == 0) {
          // OpenPose's merge kernel accumulates from a float 0.
          for (int64_t i = 0; i < row_size; ++i)
            o[i] = 0.f + CatmullRom(r0[i], r1[i], r2[i], r3[i], t);
        } else {
          for (int64_t i = 0; i < row_size; ++i) o[i] += CatmullRom(r0[i], r1[i], r2[i], r3[i], t);
        }
      } else if (s == 0) {
        for (int64_t i = 0; i < row_size; ++i) o[i] = KeysSum(r0[i], r1[i], r2[i], r3[i], w);
      } else {
        for (int64_t i = 0; i < row_size; ++i) o[i] += KeysSum(r0[i], r1[i], r2[i], r3[i], w);
      }
    }
    if (num_scales > 1) {
      if (gpu) {
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
