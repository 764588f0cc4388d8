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
// Bounds, from the signs of the weights: along one axis, the coordinates of a tile fall into
// classes with the same 4 taps and the same sign of each tap source's (summed) weight. A class's
// weights sum to 1, its positive ones to P = 1 + N and its negative ones to -N, so every value
// it interpolates from sources v lies within
//   [min_pos v - N (max_neg v - min_pos v)+,  max_pos v + N (max_pos v - min_neg v)+]
// with N its largest negative sum (Catmull-Rom: 1/8; Keys: 3/16), plus a float rounding
// allowance proportional to max |v|. Values near zero give bounds near zero, whatever their sign
// (a bound on |value| from the sum of |weight| x |source| grows with the background's noise and
// passes the threshold on most tiles). TileBounds, for every tile and channel: the horizontal
// interval of each source row over the tile's columns (from the sources, per column class), then
// the same bound along y over those intervals (per row class); the scales' bounds merged as
// VerticalPass merges. Where a bound on |value| (sum_r sum_c W_y(r) W_x(c) |source(r, c)|, W the
// largest weight a coordinate of the tile gives a source; cheaper still) already decides a tile,
// which is so on most tiles of maps whose background is near zero, that one is kept. Where the
// bound passes the threshold but only just (noise), the sparse NMS asks ExceedingBox: the box of
// the tile's 8x8 blocks whose exact values, compared as they are made, pass it (a second bound
// from the tile's exact horizontal rows first skips most blocks' values).
// A NaN or inf anywhere in the neighbourhood makes the bounds [-inf, inf]: such a tile is never
// skipped. So does a value past 1e35 in magnitude, whose interpolation's float sums may
// overflow.
#ifndef OPENPOSE_TF_KERNELS_CORE_UPSAMPLED_MAPS_H_
#define OPENPOSE_TF_KERNELS_CORE_UPSAMPLED_MAPS_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/core/resize_and_merge.h"

// ValuesAt's two-points-at-once path (PairsAt): x86-64 with AVX2 at run time, built with GCC
// 12 or clang (__builtin_shufflevector).
#if defined(__x86_64__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12))
#define OPENPOSE_PAIRS_AT 1
#define OPENPOSE_AVX2 __attribute__((target("avx2")))
#else
#define OPENPOSE_PAIRS_AT 0
#endif

namespace openpose_tf {

class UpsampledMaps {
 public:
  // Tiles are kTile x kTile target pixels, cut where the source cells change (TileGrid): the
  // first and last row and column of tiles may be smaller.
  static constexpr int kTile = 16;

  // One axis of the tiling: tile j covers the target coordinates [j kTile - shift,
  // (j + 1) kTile - shift) within [0, length). The shift puts the tiles' edges where the source
  // cells (the coordinates with the same 4 taps) change: upsampling 8x, a tile then covers 2
  // cells and reads 5 sources instead of 3 cells and 6, so its bounds take the extremes of
  // fewer values (N(0, 0.02) noise: the cheap bound passes 31% of the area instead of 51%).
  struct TileGrid {
    int length = 0;
    int shift = 0;
    int count = 0;
    int Begin(int j) const { return std::max(0, j * kTile - shift); }
    int End(int j) const { return std::min(length, (j + 1) * kTile - shift); }
    int Of(int d) const { return (d + shift) / kTile; }  // the tile of coordinate d
  };
  // A tile whose bound exceeds this many times a (positive) threshold holds values there (a
  // person): a tighter bound would not skip it, so neither TileBounds' signed bounds nor the
  // sparse NMS's ExceedingBox are spent on it.
  static constexpr float kNearThreshold = 4.f;

  // plan: ResizeAndMerge's plan, already validated (ReadResizeAndMerge).
  explicit UpsampledMaps(const ResizePlan& plan);

  const ResizePlan& plan() const { return plan_; }
  int height() const { return plan_.target_height; }
  int width() const { return plan_.target_width; }
  int tile_rows() const { return grid_y_.count; }
  int tile_cols() const { return grid_x_.count; }
  const TileGrid& grid_y() const { return grid_y_; }
  const TileGrid& grid_x() const { return grid_x_; }

  // One channel of one image being read: its horizontal rows (HorizontalPass's output for that
  // channel), computed where first needed (runs of tile columns; all at once: AllRows) and
  // kept until the next StartChannel. Neighbouring bands of rows share most of their source
  // rows, so each is interpolated along x once. One per thread; reused, it allocates only the
  // first time.
  struct ChannelRows {
    const float* const* image = nullptr;
    int channel = 0;
    std::vector<float> rows;    // per scale: [h_s, W]
    std::vector<uint8_t> done;  // per scale: [h_s, tile_cols()]
    bool all_done = false;      // AllRows has run: every row is there
    std::vector<float> line;   // Horizontal's: one source row of the channel, contiguous
    std::vector<float> terms;  // Rect's: the GPU build's cubic coefficients, 3 rows of width W
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
  // Values at n points (ys[i], xs[i]) into v0[i], v1[i]: one call for many (a limb's probes).
  void ValuesAt(const float* const* image, int c0, int c1, const int32_t* ys, const int32_t* xs,
                int n, float* v0, float* v1) const;
  // The same from two started channels' horizontal rows, all there (AllRows; one scale only):
  // the vertical pass alone, 8 source values a point instead of 32 (a limb with thousands of
  // candidate pairs).
  void RowValuesAt(const ChannelRows& rows0, const ChannelRows& rows1, const int32_t* ys,
                   const int32_t* xs, int n, float* v0, float* v1) const;

  // Bounds of tile rows [row_begin, row_end) for every channel, in two planes of
  // bounds_plane() floats: bounds[(i * tile_cols() + j) * C + c] >= every value of channel c in
  // tile (i, j), and bounds[bounds_plane() + the same] <= every one (inf and -inf where a source
  // value is not finite). First a bound B on |value| for every tile (cheap), then the signed
  // bounds, intersected with it, of the tiles it leaves open: where some channel c's B is at
  // least decided_below[c] and at most kNearThreshold times that (decided_below <= 0: any B;
  // +inf: a channel that decides nothing). All channels where most tiles are open (noise), else
  // only the channels up to the last that decides. Where most of the first tile row's tiles
  // are open (noise), B only there and the signed bounds alone everywhere.
  // `scratch`: working memory, grown as needed.
  void TileBounds(const float* const* image, int row_begin, int row_end,
                  const float* decided_below, float* bounds, std::vector<float>* scratch) const;
  int64_t bounds_plane() const {
    return static_cast<int64_t>(grid_y_.count) * grid_x_.count * plan_.channels;
  }

  // Target pixels [y0, y1) x [x0, x1); empty where y0 >= y1.
  struct Box {
    int y0 = 0, y1 = 0, x0 = 0, x1 = 0;
    bool empty() const { return y0 >= y1; }
  };
  // The smallest box that holds every value of tile (i, j) of the started channel that is
  // > threshold or NaN (empty: none): its exact values, compared as they are computed (computes
  // the horizontal rows it reads, as Rect). TileExceeds: whether there is one.
  Box ExceedingBox(ChannelRows* rows, int i, int j, float threshold) const;
  bool TileExceeds(ChannelRows* rows, int i, int j, float threshold) const {
    return !ExceedingBox(rows, i, j, threshold).empty();
  }

  // Every horizontal row of the started channel at once (where most tiles need theirs); of two
  // started channels (a limb's PAFs; adjacent channels, none of their rows computed yet: both
  // in one pass over the source).
  void AllRows(ChannelRows* rows) const;
  void AllRows(ChannelRows* rows0, ChannelRows* rows1) const;

 private:
  // Coordinates of one tile with the same taps and weight signs (Bounds above).
  struct TapClass {
    int32_t tap[4];  // the 4 source indices (repeated at a border)
    bool pos[4];     // whether its source's weight is > 0 (else < 0, or 0)
    bool has_neg;    // some tap is not positive
    bool standard;   // 4 distinct taps, the middle two positive (ClassIntervalsOf's fast path)
    float spread;    // N: the largest sum of |negative weights| over the class
    float slack;   // the rounding allowance per unit of max |source|
  };

  // One scale's taps along one axis, for every target coordinate, and per tile the source range
  // its taps read and its classes.
  struct Axis {
    std::vector<int32_t> index;  // 4 per target coordinate
    std::vector<float> weight;   // GPU build: t (1 per coordinate); CPU build: 4 Keys weights
    std::vector<float> planar;   // CPU build: weight k of coordinate d at [k * length + d]
    std::vector<int32_t> tile_first, tile_last;  // source range [first, last] per tile
    // The most sources along this axis that one of tiles [begin, end) reads (at least 1).
    int MostSources(int begin, int end) const {
      int most = 1;
      for (int j = begin; j < end; ++j) most = std::max(most, tile_last[j] - tile_first[j] + 1);
      return most;
    }
    std::vector<int64_t> tile_weights;  // where a tile's |value| weights start in weight_bound
    std::vector<float> weight_bound;    // per tile, W of its sources (|value| bound)
    std::vector<TapClass> classes;               // in order of their coordinates
    std::vector<int32_t> class_begin, class_end;  // each class's coordinates [begin, end)
    std::vector<int32_t> tile_classes, tile_classes_end;  // tile j's: [tile_classes[j], _end[j])
    // The largest spread and slack of the standard classes (0: there are none), with which
    // TileBounds evaluates them all at once.
    float standard_spread = 0.f, standard_slack = 0.f;
    // Runs of coordinates with the same 4 taps (upsampling 8x: 8 coordinates each), in order:
    // run_start[tile_runs[j] .. tile_runs[j + 1]) start the runs of tile j, each ending where
    // the next starts or the tile ends.
    std::vector<int32_t> run_start;
    std::vector<int32_t> tile_runs;
    // Per run q: whether runs [q, q + 8) are 8 coordinates each, run i's taps run q's plus i,
    // with the same weights (upsampling 8x): Horizontal computes them as one block.
    std::vector<uint8_t> block_at;
    bool has_blocks = false;
  };
  static TileGrid ChooseGrid(const std::vector<int32_t>& index, int length);
  // `grid`: the axis's tiling, chosen from these taps when still empty (scale 0's).
  Axis MakeAxis(int source_length, int target_length, float scale, TileGrid* grid) const;
  void FindBlocks(Axis* axis, int target_length) const;
  // TileBounds' two parts: [-B, B] for tile rows [row_begin, row_end); the signed bounds of
  // channels [0, used) of the tiles [row_begin, row_end) x [col_begin, col_end), intersected
  // with those (tile rows from fresh_begin on: written, no bounds there yet). Each goes down the
  // tile rows with the source rows they read in a ring (working memory that stays in the cache).
  void MagnitudeBounds(const float* const* image, int row_begin, int row_end, float* bounds,
                       std::vector<float>* scratch) const;
  void SignedBounds(const float* const* image, int row_begin, int row_end, int col_begin,
                    int col_end, int used, int fresh_begin, float* bounds,
                    std::vector<float>* scratch) const;
  void AddClasses(Axis* axis, int begin, int end) const;
  // Values' arithmetic, inlined into Values and ValuesAt (whose two-points-at-once path for
  // a limb's adjacent channels, PairsAt, repeats it in 8-lane vectors: change one, change
  // both).
#if OPENPOSE_PAIRS_AT
  // ValuesAt of channels c0 and c0 + 1 at points [0, m), m the largest even count <= n (AVX2
  // CPUs only); returns m.
  OPENPOSE_AVX2 int PairsAt(const float* const* image, int c0, const int32_t* ys,
                            const int32_t* xs, int n, float* v0, float* v1) const;
#endif
  void ValuesOf(const float* const* image, int c0, int c1, int y, int x, float* v0,
                float* v1) const;
  // Row r of scale s, tile columns [j, j_end), into the channel's horizontal rows (line_there:
  // its source row already in rows->line, where it is used); MissingRows: those of
  // [j_begin, j_end) not computed yet.
  void Horizontal(ChannelRows* rows, int s, int r, int j, int j_end,
                  bool line_there = false) const;
  void MissingRows(ChannelRows* rows, int s, int r, int j_begin, int j_end) const;

  ResizePlan plan_;
  TileGrid grid_y_, grid_x_;
  std::vector<Axis> x_, y_;  // per scale
  std::vector<int64_t> row_offset_, done_offset_;  // per scale, into ChannelRows
};

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_UPSAMPLED_MAPS_H_
