// ResizeAndMerge's output without computing it: its exact values only where they are asked for,
// and a bound on every tile of it. The sparse post-processing (sparse_postprocess.h) reads the
// few thousand values near the peaks and along the limbs instead of the whole upsampled maps
// (78 x 368 x 656 floats for BODY_25).
//
// Exact: a value is computed with the same taps (GpuBuildTaps / CpuBuildTaps), the same cubic
// (CatmullRom / KeysSum) and the same order as HorizontalPass then VerticalPass: each source tap
// row interpolated along x, then those rows along y, then the scales merged as VerticalPass does.
// So every value equals the full op's bit for bit.
//
// Bounds: a bicubic value is a weighted sum of its 4x4 source neighbourhood, so its magnitude is
// at most sum_r sum_c W_y(r) W_x(c) |source(r, c)| over the source cells any pixel of a tile
// reads, where W_x(c) is the largest absolute weight (summed over taps that repeat c at a border,
// plus an allowance for float rounding far above its worst case) that any column of the tile
// gives source column c, and W_y likewise. A tile whose bound is <= a threshold has no value
// above it. A NaN or inf anywhere in the neighbourhood makes the bound inf: such a tile is never
// skipped.
#ifndef OPENPOSE_TF_KERNELS_CORE_UPSAMPLED_MAPS_H_
#define OPENPOSE_TF_KERNELS_CORE_UPSAMPLED_MAPS_H_

#include <cstdint>
#include <vector>

#include "kernels/core/resize_and_merge.h"

namespace openpose_tf {

class UpsampledMaps {
 public:
  // Tiles are kTile x kTile target pixels (the last row and column of tiles may be smaller).
  static constexpr int kTile = 16;

  // plan: ResizeAndMerge's plan, already validated (ReadResizeAndMerge).
  explicit UpsampledMaps(const ResizePlan& plan);

  const ResizePlan& plan() const { return plan_; }
  int height() const { return plan_.target_height; }
  int width() const { return plan_.target_width; }
  int tile_rows() const { return tile_rows_; }
  int tile_cols() const { return tile_cols_; }

  // One channel of one image being read: its horizontal rows (HorizontalPass's output for that
  // channel), computed a tile column at a time when first needed and kept until the next
  // StartChannel. Neighbouring bands of rows share most of their source rows, so each is
  // interpolated along x once. One per thread; reused, it allocates only the first time.
  struct ChannelRows {
    const float* const* image = nullptr;
    int channel = 0;
    std::vector<float> rows;    // per scale: [h_s, W]
    std::vector<uint8_t> done;  // per scale: [h_s, tile_cols()]
  };

  // image: one image's net outputs, image[s] scale s's [h_s, w_s, C] NHWC data; c: the channel.
  void StartChannel(const float* const* image, int c, ChannelRows* rows) const;

  // Values of the started channel over target rows [y0, y1) x columns [x0, x1) (non-empty,
  // inside the target) into out[(y - y0) * ld + (x - x0)].
  void Rect(ChannelRows* rows, int y0, int y1, int x0, int x1, float* out, int64_t ld) const;

  // The value of channel c at (y, x); Values: channels c0 and c1 at once (shared taps).
  float Value(const float* const* image, int c, int y, int x) const;
  void Values(const float* const* image, int c0, int c1, int y, int x, float* v0,
              float* v1) const;

  // Bounds of tile rows [row_begin, row_end) for every channel: bounds[(i * tile_cols() + j) * C
  // + c] >= |value| of every pixel of channel c in tile (i, j) (inf where a source value is not
  // finite). `scratch`: working memory, grown as needed.
  void TileBounds(const float* const* image, int row_begin, int row_end, float* bounds,
                  std::vector<float>* scratch) const;

 private:
  // One scale's taps along one axis, for every target coordinate, and per tile the source range
  // its taps read with the bound's weight of each source in it (W above).
  struct Axis {
    std::vector<int32_t> index;  // 4 per target coordinate
    std::vector<float> weight;   // GPU build: t (1 per coordinate); CPU build: 4 Keys weights
    std::vector<float> planar;   // CPU build: weight k of coordinate d at [k * length + d]
    std::vector<int32_t> tile_first, tile_last;  // source range [first, last] per tile
    std::vector<int64_t> tile_weights;           // where a tile's weights start in `bound`
    std::vector<float> bound;                    // W of sources first..last, per tile
    // Runs of coordinates with the same 4 taps (upsampling 8x: 8 coordinates each), in order:
    // run_start[tile_runs[j] .. tile_runs[j + 1]) start the runs of tile j, each ending where
    // the next starts or the tile ends.
    std::vector<int32_t> run_start;
    std::vector<int32_t> tile_runs;
  };
  Axis MakeAxis(int source_length, int target_length, float scale) const;
  // Row r of scale s, tile column j, into the channel's horizontal rows.
  void Horizontal(ChannelRows* rows, int s, int r, int j) const;

  ResizePlan plan_;
  int tile_rows_ = 0;
  int tile_cols_ = 0;
  std::vector<Axis> x_, y_;  // per scale
  std::vector<int64_t> row_offset_, done_offset_;  // per scale, into ChannelRows
};

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_UPSAMPLED_MAPS_H_
