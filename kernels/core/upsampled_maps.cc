#include "kernels/core/upsampled_maps.h"

#include <algorithm>
#include <cmath>

namespace openpose_tf {
namespace {

// Relative and absolute margins of the bounds: float rounding moves a computed value by at most
// a few dozen units in the last place of its terms' magnitudes (1e-5 is ~170 of them), and by at
// most a few subnormal steps in absolute terms (1e-30 is far above); the final margin also covers
// the rounding of the bounds' own sums (hundreds of terms at most).
constexpr double kRelativeMargin = 1e-5;
constexpr float kFinalMargin = 1.001f;
constexpr float kAbsoluteMargin = 1e-30f;

// Each tap's |weight| plus its share of the float rounding allowance: a cubic's computed value
// is at most the sum of these times its inputs' magnitudes.
void TapBounds(OpenPoseBuild build, const float* weight, double* out /* 4 */) {
  if (build == OpenPoseBuild::kCpu) {
    for (int k = 0; k < 4; ++k) {
      out[k] = std::fabs(static_cast<double>(weight[k])) * (1 + kRelativeMargin);
    }
    return;
  }
  // CatmullRom's polynomial in t: these are its weights of v0..v3; its float evaluation errs by
  // a few ulps of its terms' magnitudes, at most (4|t|^3 + 6t^2 + |t| + 1) max|v|: that
  // allowance is added to every tap (sum_k |v_k| >= max |v|).
  const double t = *weight;
  const double t2 = t * t, t3 = t2 * t, a = std::fabs(t);
  const double w[4] = {-0.5 * t3 + t2 - 0.5 * t, 1.5 * t3 - 2.5 * t2 + 1,
                       -1.5 * t3 + 2 * t2 + 0.5 * t, 0.5 * t3 - 0.5 * t2};
  const double allowance = kRelativeMargin * (4 * a * a * a + 6 * a * a + a + 1);
  for (int k = 0; k < 4; ++k) out[k] = std::fabs(w[k]) + allowance;
}

// |v|, with NaN as inf (a NaN must make its tiles' bounds infinite, and max() would drop it).
inline float Magnitude(float v) { return v == v ? std::fabs(v) : INFINITY; }

}  // namespace

UpsampledMaps::UpsampledMaps(const ResizePlan& plan) : plan_(plan) {
  tile_rows_ = (plan.target_height + kTile - 1) / kTile;
  tile_cols_ = (plan.target_width + kTile - 1) / kTile;
  row_offset_.push_back(0);
  done_offset_.push_back(0);
  for (const ResizeScale& s : plan.scales) {
    x_.push_back(MakeAxis(s.width, plan.target_width, s.scale_x));
    y_.push_back(MakeAxis(s.height, plan.target_height, s.scale_y));
    row_offset_.push_back(row_offset_.back() + static_cast<int64_t>(s.height) * plan.target_width);
    done_offset_.push_back(done_offset_.back() + static_cast<int64_t>(s.height) * tile_cols_);
  }
}

UpsampledMaps::Axis UpsampledMaps::MakeAxis(int source_length, int target_length,
                                            float scale) const {
  const bool gpu = plan_.build == OpenPoseBuild::kGpu;
  const int per_tap = gpu ? 1 : 4;
  Axis axis;
  axis.index.resize(4 * static_cast<size_t>(target_length));
  axis.weight.resize(per_tap * static_cast<size_t>(target_length));
  for (int d = 0; d < target_length; ++d) {
    int32_t* index = &axis.index[4 * static_cast<size_t>(d)];
    float* weight = &axis.weight[per_tap * static_cast<size_t>(d)];
    if (gpu) {
      *weight = GpuBuildTaps(d, source_length, scale, index);
    } else {
      CpuBuildTaps(d, source_length, target_length, index, weight);
    }
  }
  if (!gpu) {
    axis.planar.resize(axis.weight.size());
    for (int d = 0; d < target_length; ++d) {
      for (int k = 0; k < 4; ++k) {
        axis.planar[k * static_cast<size_t>(target_length) + d] =
            axis.weight[4 * static_cast<size_t>(d) + k];
      }
    }
  }
  std::vector<double> w, at;  // per tile, below
  for (int begin = 0; begin < target_length; begin += kTile) {
    const int end = std::min(target_length, begin + kTile);
    axis.tile_runs.push_back(static_cast<int32_t>(axis.run_start.size()));
    for (int d = begin; d < end; ++d) {
      if (d == begin || !std::equal(&axis.index[4 * static_cast<size_t>(d)],
                                    &axis.index[4 * static_cast<size_t>(d) + 4],
                                    &axis.index[4 * static_cast<size_t>(d - 1)])) {
        axis.run_start.push_back(d);
      }
    }
    int32_t first = source_length, last = 0;
    for (int d = begin; d < end; ++d) {
      for (int k = 0; k < 4; ++k) {
        first = std::min(first, axis.index[4 * static_cast<size_t>(d) + k]);
        last = std::max(last, axis.index[4 * static_cast<size_t>(d) + k]);
      }
    }
    // W of each source in [first, last]: the largest over the tile's coordinates of the summed
    // tap bounds that coordinate gives it; never 0, so that inf * W stays inf.
    w.assign(last - first + 1, 0.0);
    at.resize(w.size());
    for (int d = begin; d < end; ++d) {
      double taps[4];
      TapBounds(plan_.build, &axis.weight[per_tap * static_cast<size_t>(d)], taps);
      std::fill(at.begin(), at.end(), 0.0);
      for (int k = 0; k < 4; ++k) at[axis.index[4 * static_cast<size_t>(d) + k] - first] += taps[k];
      for (size_t i = 0; i < w.size(); ++i) w[i] = std::max(w[i], at[i]);
    }
    axis.tile_first.push_back(first);
    axis.tile_last.push_back(last);
    axis.tile_weights.push_back(static_cast<int64_t>(axis.bound.size()));
    for (double v : w) {
      axis.bound.push_back(std::max(1e-30f, static_cast<float>(v * (1 + kRelativeMargin))));
    }
  }
  axis.tile_runs.push_back(static_cast<int32_t>(axis.run_start.size()));
  return axis;
}

void UpsampledMaps::StartChannel(const float* const* image, int c, ChannelRows* rows) const {
  rows->image = image;
  rows->channel = c;
  rows->rows.resize(row_offset_.back());
  rows->done.assign(done_offset_.back(), 0);
}

// HorizontalPass's arithmetic for one tile column of one row, a run of coordinates with the same
// taps at a time: its 4 source values are read once and the run's cubics (which differ only in
// their weights) run as one vector.
OPENPOSE_SIMD_CLONES void UpsampledMaps::Horizontal(ChannelRows* rows, int s, int r,
                                                    int j) const {
  const Axis& ax = x_[s];
  const int channels = plan_.channels;
  const int tile_end = std::min(plan_.target_width, (j + 1) * kTile);
  const float* src = rows->image[s] +
                     static_cast<int64_t>(r) * plan_.scales[s].width * channels + rows->channel;
  float* h = rows->rows.data() + row_offset_[s] + static_cast<int64_t>(r) * plan_.target_width;
  const bool gpu = plan_.build == OpenPoseBuild::kGpu;
  const size_t length = ax.weight.size() / 4;  // CPU build: ax.planar's stride
  for (int32_t q = ax.tile_runs[j]; q < ax.tile_runs[j + 1]; ++q) {
    const int d0 = ax.run_start[q];
    const int d1 = q + 1 < ax.tile_runs[j + 1] ? ax.run_start[q + 1] : tile_end;
    const int32_t* idx = &ax.index[4 * static_cast<size_t>(d0)];
    const float v0 = src[static_cast<int64_t>(idx[0]) * channels];
    const float v1 = src[static_cast<int64_t>(idx[1]) * channels];
    const float v2 = src[static_cast<int64_t>(idx[2]) * channels];
    const float v3 = src[static_cast<int64_t>(idx[3]) * channels];
    if (gpu) {
      const float* t = ax.weight.data();
      for (int d = d0; d < d1; ++d) h[d] = CatmullRom(v0, v1, v2, v3, t[d]);
    } else {
      const float* w0 = ax.planar.data();
      const float *w1 = w0 + length, *w2 = w1 + length, *w3 = w2 + length;
      for (int d = d0; d < d1; ++d) h[d] = KeysSum(v0, v1, v2, v3, w0[d], w1[d], w2[d], w3[d]);
    }
  }
  rows->done[done_offset_[s] + static_cast<int64_t>(r) * tile_cols_ + j] = 1;
}

OPENPOSE_SIMD_CLONES void UpsampledMaps::Rect(ChannelRows* cache, int y0, int y1, int x0, int x1,
                                              float* out, int64_t ld) const {
  const int num_scales = static_cast<int>(plan_.scales.size());
  const bool gpu = plan_.build == OpenPoseBuild::kGpu;
  const int tw = plan_.target_width;
  const int nx = x1 - x0;
  for (int s = 0; s < num_scales; ++s) {
    const Axis& ay = y_[s];
    // Taps are non-decreasing in the target coordinate: these are the source rows read.
    const int r_first = ay.index[4 * static_cast<size_t>(y0)];
    const int r_last = ay.index[4 * static_cast<size_t>(y1 - 1) + 3];
    for (int r = r_first; r <= r_last; ++r) {
      const uint8_t* done = &cache->done[done_offset_[s] + static_cast<int64_t>(r) * tile_cols_];
      for (int j = x0 / kTile; j <= (x1 - 1) / kTile; ++j) {
        if (!done[j]) Horizontal(cache, s, r, j);
      }
    }
    // VerticalPass, with its merge of the scales.
    const float* rows = cache->rows.data() + row_offset_[s] + x0;
    for (int y = y0; y < y1; ++y) {
      const int32_t* idx = &ay.index[4 * static_cast<size_t>(y)];
      const float* h0 = rows + static_cast<int64_t>(idx[0]) * tw;
      const float* h1 = rows + static_cast<int64_t>(idx[1]) * tw;
      const float* h2 = rows + static_cast<int64_t>(idx[2]) * tw;
      const float* h3 = rows + static_cast<int64_t>(idx[3]) * tw;
      float* o = out + (y - y0) * ld;
      if (gpu) {
        const float t = ay.weight[y];
        if (num_scales == 1) {
          for (int i = 0; i < nx; ++i) o[i] = CatmullRom(h0[i], h1[i], h2[i], h3[i], t);
        } else if (s == 0) {
          for (int i = 0; i < nx; ++i) o[i] = 0.f + CatmullRom(h0[i], h1[i], h2[i], h3[i], t);
        } else {
          for (int i = 0; i < nx; ++i) o[i] += CatmullRom(h0[i], h1[i], h2[i], h3[i], t);
        }
      } else {
        const float* w = &ay.weight[4 * static_cast<size_t>(y)];
        if (s == 0) {
          for (int i = 0; i < nx; ++i) o[i] = KeysSum(h0[i], h1[i], h2[i], h3[i], w);
        } else {
          for (int i = 0; i < nx; ++i) o[i] += KeysSum(h0[i], h1[i], h2[i], h3[i], w);
        }
      }
    }
  }
  if (num_scales > 1) {
    const float count = static_cast<float>(num_scales);
    const float inverse = static_cast<float>(1.0 / num_scales);
    for (int y = y0; y < y1; ++y) {
      float* o = out + (y - y0) * ld;
      if (gpu) {
        for (int i = 0; i < nx; ++i) o[i] /= count;
      } else {
        for (int i = 0; i < nx; ++i) o[i] *= inverse;
      }
    }
  }
}

float UpsampledMaps::Value(const float* const* image, int c, int y, int x) const {
  float v0 = 0.f, v1 = 0.f;
  Values(image, c, c, y, x, &v0, &v1);
  return v0;
}

// TapValue for two channels at once: the 8 horizontal cubics (lane 4e + k: channel e, tap row k)
// as one vector, then the two vertical ones; the same float operations, lane by lane.
// GCC 12 warns that p[i] "may be used uninitialized" in its AVX2 clone of this function, where
// the vector built from 8 loads is assigned whole (a false positive; zero-initialising p does not
// silence it).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
OPENPOSE_SIMD_CLONES void UpsampledMaps::Values(const float* const* image, int c0, int c1, int y,
                                                int x, float* v0, float* v1) const {
  typedef float Lanes __attribute__((vector_size(32)));
  const int num_scales = static_cast<int>(plan_.scales.size());
  const int channels = plan_.channels;
  const bool gpu = plan_.build == OpenPoseBuild::kGpu;
  const size_t per_tap = gpu ? 1 : 4;
  float o[2] = {0.f, 0.f};
  for (int s = 0; s < num_scales; ++s) {
    const int32_t* xi = &x_[s].index[4 * static_cast<size_t>(x)];
    const int32_t* yi = &y_[s].index[4 * static_cast<size_t>(y)];
    const float* wx = &x_[s].weight[per_tap * x];
    const float* wy = &y_[s].weight[per_tap * y];
    const int64_t row_stride = static_cast<int64_t>(plan_.scales[s].width) * channels;
    const float* a[4];  // channel c0's tap rows; c1's are c1 - c0 further
    for (int k = 0; k < 4; ++k) a[k] = image[s] + c0 + yi[k] * row_stride;
    const int64_t e = c1 - c0;
    Lanes p[4];
    for (int i = 0; i < 4; ++i) {
      const int64_t at = static_cast<int64_t>(xi[i]) * channels;
      p[i] = Lanes{a[0][at], a[1][at], a[2][at], a[3][at],
                   a[0][at + e], a[1][at + e], a[2][at + e], a[3][at + e]};
    }
    const Lanes rows = gpu ? CatmullRomOf(p[0], p[1], p[2], p[3], wx[0])
                           : KeysSumOf(p[0], p[1], p[2], p[3], wx[0], wx[1], wx[2], wx[3]);
    for (int c = 0; c < 2; ++c) {
      const float r0 = rows[4 * c], r1 = rows[4 * c + 1], r2 = rows[4 * c + 2],
                  r3 = rows[4 * c + 3];
      const float v = gpu ? CatmullRom(r0, r1, r2, r3, wy[0]) : KeysSum(r0, r1, r2, r3, wy);
      o[c] = MergeScale(o[c], v, s, num_scales, plan_.build);
    }
  }
  *v0 = MergeEnd(o[0], num_scales, plan_.build);
  *v1 = MergeEnd(o[1], num_scales, plan_.build);
}
#pragma GCC diagnostic pop

OPENPOSE_SIMD_CLONES void UpsampledMaps::TileBounds(const float* const* image, int row_begin,
                                                    int row_end, float* bounds,
                                                    std::vector<float>* scratch) const {
  const int channels = plan_.channels;
  const int nt = tile_cols_;
  const int num_scales = static_cast<int>(plan_.scales.size());
  float* b_begin = bounds + static_cast<int64_t>(row_begin) * nt * channels;
  const int64_t count = static_cast<int64_t>(row_end - row_begin) * nt * channels;
  std::fill(b_begin, b_begin + count, 0.f);
  for (int s = 0; s < num_scales; ++s) {
    const Axis& ax = x_[s];
    const Axis& ay = y_[s];
    const int r_first = ay.tile_first[row_begin];
    const int r_last = ay.tile_last[row_end - 1];
    const size_t col_max_size = static_cast<size_t>(r_last - r_first + 1) * nt * channels;
    if (scratch->size() < col_max_size) scratch->resize(col_max_size);
    float* col_max = scratch->data();  // [row][tile column][channel]: sum over the tile's columns
    const int64_t row_stride = static_cast<int64_t>(plan_.scales[s].width) * channels;
    for (int r = r_first; r <= r_last; ++r) {
      const float* src = image[s] + r * row_stride;
      for (int j = 0; j < nt; ++j) {
        float* m = col_max + (static_cast<size_t>(r - r_first) * nt + j) * channels;
        for (int c = 0; c < channels; ++c) m[c] = 0.f;
        const float* wx = &ax.bound[ax.tile_weights[j]];
        for (int col = ax.tile_first[j]; col <= ax.tile_last[j]; ++col) {
          const float* p = src + static_cast<int64_t>(col) * channels;
          const float weight = wx[col - ax.tile_first[j]];
          for (int c = 0; c < channels; ++c) m[c] += Magnitude(p[c]) * weight;
        }
      }
    }
    for (int i = row_begin; i < row_end; ++i) {
      const float* wy = &ay.bound[ay.tile_weights[i]];
      for (int j = 0; j < nt; ++j) {
        float* b = bounds + (static_cast<int64_t>(i) * nt + j) * channels;
        for (int r = ay.tile_first[i]; r <= ay.tile_last[i]; ++r) {
          const float* m = col_max + (static_cast<size_t>(r - r_first) * nt + j) * channels;
          const float weight = wy[r - ay.tile_first[i]];
          for (int c = 0; c < channels; ++c) b[c] += m[c] * weight;
        }
      }
    }
  }
  // The merge divides the sum of the scales by their count.
  const float factor = kFinalMargin / static_cast<float>(num_scales);
  for (int64_t e = 0; e < count; ++e) b_begin[e] = b_begin[e] * factor + kAbsoluteMargin;
}

}  // namespace openpose_tf
