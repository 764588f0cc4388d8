// The sparse path (UpsampledMaps, SparseNmsChannel, SparseScoreLimb) against the dense ops on the
// full ResizeAndMerge output, bit for bit: random and quantised maps (plateaus, ties, values
// exactly at the threshold), NaN and inf, negative values and thresholds, 1 and 3 scales, sizes
// that are not multiples of a tile, upsampling, stretching and shrinking, both builds.
#include "kernels/core/sparse_postprocess.h"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/core/nms.h"
#include "kernels/core/paf_score.h"
#include "kernels/core/resize_and_merge.h"
#include "tests/cc/test_maps.h"

namespace openpose_tf {
namespace {

struct Case {
  OpenPoseBuild build;
  int channels;
  std::vector<std::pair<int, int>> sizes;  // per scale; scale s has ratio sizes[s].h / sizes[0].h
  int target_h, target_w;
};

ResizePlan MakePlan(const Case& c) {
  ResizePlan plan;
  plan.build = c.build;
  plan.target_height = c.target_h;
  plan.target_width = c.target_w;
  plan.channels = c.channels;
  for (auto [h, w] : c.sizes) {
    const float ratio = static_cast<float>(h) / c.sizes[0].first;
    ResizeScale s;
    s.height = h;
    s.width = w;
    s.scale_x = GpuBuildScale(c.target_w, c.sizes[0].second, ratio, 1.f);
    s.scale_y = GpuBuildScale(c.target_h, c.sizes[0].first, ratio, 1.f);
    plan.scales.push_back(s);
  }
  return plan;
}

// The dense op: every scale through the two passes, all channels, NHWC [TH, TW, C].
std::vector<float> FullResize(const ResizePlan& plan, const std::vector<std::vector<float>>& src) {
  std::vector<const float*> sources;
  for (const auto& s : src) sources.push_back(s.data());
  return testing::RunResizePlan(plan, sources);
}

// Fills the caller-owned buffers with values that break any comparison or sum that reads them
// before they are computed (+inf in the band: no peak beats it; NaN in the horizontal rows), as
// stale data from earlier channels could.
void Poison(const ResizePlan& plan, SparseWorkspace* ws) {
  ws->band.assign(static_cast<size_t>(UpsampledMaps::kTile + 2) * plan.target_width, INFINITY);
  size_t rows = 0;
  for (const ResizeScale& s : plan.scales) rows += static_cast<size_t>(s.height);
  ws->rows.rows.assign(rows * plan.target_width, NAN);
}

// One image's sparse view: its UpsampledMaps, per-scale pointers and every tile's bounds.
// decided_below: TileBounds', every channel's (-inf: the signed bounds everywhere; inf: the
// |value| bound only; 0.05: the signed bounds on the tiles where that one passes 0.05, a few
// runs of tiles or the whole image).
struct SparseImage {
  SparseImage(const ResizePlan& plan, const std::vector<std::vector<float>>& src,
              float decided_below = 0.05f)
      : maps(plan) {
    for (const auto& s : src) image.push_back(s.data());
    bounds.resize(2 * static_cast<size_t>(maps.bounds_plane()));
    const std::vector<float> below(plan.channels, decided_below);
    maps.TileBounds(image.data(), 0, maps.tile_rows(), below.data(), bounds.data(),
                    &workspace.scratch);
  }
  UpsampledMaps maps;
  std::vector<const float*> image;
  std::vector<float> bounds;
  SparseWorkspace workspace;
};

// Net outputs of one style: 0 smooth blobs, 1 quantised levels (ties, plateaus, the threshold
// itself), 2 blobs with NaN / inf / negative specks, 3 faint blobs whose peaks lie near the
// threshold (where a bound that is too tight would drop peaks), 4 blobs over a background of
// Gaussian noise (standard deviation 0.02: a network's; values near the threshold everywhere),
// 5 the same noise with values of +-1e30 and subnormals sprinkled in, 6 blobs with values of
// +-1.2e38 (finite, but their interpolation overflows to inf or NaN).
std::vector<std::vector<float>> MakeSources(const ResizePlan& plan, int style, std::mt19937* rng) {
  std::vector<std::vector<float>> out;
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::normal_distribution<float> noise(0.f, 0.02f);
  for (const ResizeScale& s : plan.scales) {
    std::vector<float> v(static_cast<size_t>(s.height) * s.width * plan.channels);
    const float cy = u(*rng) * s.height, cx = u(*rng) * s.width;
    for (int y = 0; y < s.height; ++y) {
      for (int x = 0; x < s.width; ++x) {
        for (int c = 0; c < plan.channels; ++c) {
          float& e = v[(static_cast<size_t>(y) * s.width + x) * plan.channels + c];
          const float d2 = (y - cy) * (y - cy) + (x - cx - c) * (x - cx - c);
          e = std::exp(-d2 / 3.f) + 0.03f * (u(*rng) - 0.5f);
          if (style == 1) e = std::floor(u(*rng) * 4) * 0.05f;  // 0, 0.05, 0.1, 0.15
          if (style == 3) e = (0.03f + 0.04f * u(*rng)) * std::exp(-d2 / 3.f);
          if (style == 4) e = std::exp(-d2 / 3.f) + noise(*rng);
          if (style == 5) {
            const float r = u(*rng);
            e = noise(*rng);
            if (r < 0.01f) e = r < 0.005f ? 1e30f : -1e30f;
            else if (r < 0.03f) e = 1e-40f * (r - 0.02f);
          }
          if (style == 6) {  // finite values whose interpolation overflows to inf or NaN
            const float r = u(*rng);
            if (r < 0.3f) e = (x + y + c) % 2 ? 1.2e38f : -1.2e38f;
          }
          if (style == 2) {
            const float r = u(*rng);
            if (r < 0.01f) e = NAN;
            else if (r < 0.015f) e = INFINITY;
            else if (r < 0.02f) e = -INFINITY;
            else if (r < 0.2f) e = -e;
          }
        }
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

// The same bits, or both NaN (a NaN's sign differs between vector and scalar code; no NaN ever
// reaches a peak or a score).
bool Same(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

constexpr int kStyles = 7;

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (OpenPoseBuild b : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    cases.push_back({b, 5, {{12, 20}}, 96, 160});                      // OpenPose's 8x
    cases.push_back({b, 3, {{7, 11}}, 53, 90});                        // not a tile multiple
    cases.push_back({b, 4, {{12, 20}, {9, 15}, {6, 10}}, 96, 160});    // three scales
    cases.push_back({b, 2, {{1, 1}}, 5, 3});                           // one source pixel
    cases.push_back({b, 2, {{2, 3}}, 2, 3});                           // same size
    cases.push_back({b, 3, {{30, 26}}, 13, 17});                       // shrinking
  }
  return cases;
}

TEST(SparsePostprocessTest, BoundsHoldEveryValue) {
  std::mt19937 rng(7);
  for (const Case& c : Cases()) {
    const ResizePlan plan = MakePlan(c);
    for (int style = 0; style < 3 * kStyles; ++style) {
      const auto src = MakeSources(plan, style % kStyles, &rng);
      const std::vector<float> full = FullResize(plan, src);
      const std::array<float, 3> decided_below = {0.05f, -INFINITY, INFINITY};
      SparseImage sparse(plan, src, decided_below[style / kStyles]);
      const UpsampledMaps& maps = sparse.maps;
      const std::vector<const float*>& image = sparse.image;
      const std::vector<float>& bounds = sparse.bounds;
      const int64_t plane = maps.bounds_plane();
      for (int ch = 0; ch < c.channels; ++ch) {
        maps.StartChannel(image.data(), ch, &sparse.workspace.rows);
        for (int i = 0; i < maps.tile_rows(); ++i) {
          for (int j = 0; j < maps.tile_cols(); ++j) {
            const size_t tile = static_cast<size_t>(i) * maps.tile_cols() + j;
            const float hi = bounds[tile * c.channels + ch];
            const float lo = bounds[plane + tile * c.channels + ch];
            ASSERT_LE(lo, hi);
            float most = -INFINITY;  // the tile's largest value; NaN where one is NaN

            for (int y = maps.grid_y().Begin(i); y < maps.grid_y().End(i); ++y) {
              for (int x = maps.grid_x().Begin(j); x < maps.grid_x().End(j); ++x) {
                const float v = full[(static_cast<size_t>(y) * c.target_w + x) * c.channels + ch];
                // The exact values too (Value and Rect).
                const float point = maps.Value(image.data(), ch, y, x);
                ASSERT_TRUE(Same(point, v)) << y << "," << x << "," << ch << ": " << point << " "
                                            << v;
                if (ch + 1 < c.channels) {  // two adjacent channels (a limb's PAFs) at once
                  float first = 0.f, second = 0.f;
                  maps.Values(image.data(), ch, ch + 1, y, x, &first, &second);
                  const float next = full[(static_cast<size_t>(y) * c.target_w + x) * c.channels +
                                          ch + 1];
                  ASSERT_TRUE(Same(first, v)) << y << "," << x << "," << ch;
                  ASSERT_TRUE(Same(second, next)) << y << "," << x << "," << ch;
                }
                most = std::isnan(v) || std::isnan(most) ? NAN : std::max(most, v);
                if (!std::isfinite(v)) {
                  ASSERT_EQ(hi, INFINITY);
                  ASSERT_EQ(lo, -INFINITY);
                } else {
                  ASSERT_LE(v, hi) << "style " << style << " at " << y << "," << x;
                  ASSERT_GE(v, lo) << "style " << style << " at " << y << "," << x;
                }
              }
            }
            // TileExceeds: exactly whether a value is above the threshold or NaN, also at
            // the tile's largest value and just below it (a value off by an ulp shows).
            UpsampledMaps::ChannelRows* rows = &sparse.workspace.rows;
            for (float t : {0.05f, -0.5f}) {
              ASSERT_EQ(maps.TileExceeds(rows, i, j, t), std::isnan(most) || most > t)
                  << "style " << style << " tile " << i << "," << j << " threshold " << t;
              // ExceedingBox: inside the tile, and every value above t (or NaN) inside it.
              const UpsampledMaps::Box box = maps.ExceedingBox(rows, i, j, t);
              if (box.empty()) continue;
              ASSERT_GE(box.y0, maps.grid_y().Begin(i));
              ASSERT_LE(box.y1, maps.grid_y().End(i));
              ASSERT_GE(box.x0, maps.grid_x().Begin(j));
              ASSERT_LE(box.x1, maps.grid_x().End(j));
              for (int y = maps.grid_y().Begin(i); y < maps.grid_y().End(i); ++y) {
                for (int x = maps.grid_x().Begin(j); x < maps.grid_x().End(j); ++x) {
                  const float v =
                      full[(static_cast<size_t>(y) * c.target_w + x) * c.channels + ch];
                  if (!(v <= t)) {
                    ASSERT_TRUE(box.y0 <= y && y < box.y1 && box.x0 <= x && x < box.x1)
                        << "style " << style << " at " << y << "," << x << " threshold " << t;
                  }
                }
              }
            }
            if (std::isfinite(most)) {
              ASSERT_FALSE(maps.TileExceeds(rows, i, j, most)) << i << "," << j;
              ASSERT_TRUE(maps.TileExceeds(rows, i, j, std::nextafter(most, -INFINITY)))
                  << i << "," << j;
            } else if (std::isnan(most)) {
              ASSERT_TRUE(maps.TileExceeds(rows, i, j, INFINITY)) << i << "," << j;
            } else if (most == INFINITY) {
              ASSERT_TRUE(maps.TileExceeds(rows, i, j, FLT_MAX)) << i << "," << j;
            }
          }
        }
      }
    }
  }
}

TEST(SparsePostprocessTest, BoundsOfBlocksOfTileRowsHoldEveryValue) {
  // The fused op spreads TileBounds over threads in blocks of tile rows; each block decides on
  // its own first row whether it is noise (the signed bounds alone below it). Blocks of 1, 2
  // and 3 rows, noisy and clean maps, NaN / inf / 1e30 included, both builds, 1 and 3 scales.
  std::mt19937 rng(11);
  for (OpenPoseBuild build : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    for (const Case& c : {Case{build, 3, {{23, 41}}, 184, 328},
                          Case{build, 2, {{12, 20}, {9, 15}, {6, 10}}, 96, 160}}) {
      const ResizePlan plan = MakePlan(c);
      for (int style : {0, 2, 4, 5}) {
        const auto src = MakeSources(plan, style, &rng);
        const std::vector<float> full = FullResize(plan, src);
        const UpsampledMaps maps(plan);
        std::vector<const float*> image;
        for (const auto& one : src) image.push_back(one.data());
        const std::vector<float> below(plan.channels, 0.05f);
        const int64_t plane = maps.bounds_plane();
        for (int block = 1; block <= 3; ++block) {
          std::vector<float> bounds(2 * plane, NAN), scratch;
          for (int i = 0; i < maps.tile_rows(); i += block) {
            maps.TileBounds(image.data(), i, std::min(maps.tile_rows(), i + block), below.data(),
                            bounds.data(), &scratch);
          }
          for (int i = 0; i < maps.tile_rows(); ++i) {
            for (int j = 0; j < maps.tile_cols(); ++j) {
              for (int ch = 0; ch < c.channels; ++ch) {
                const size_t at =
                    (static_cast<size_t>(i) * maps.tile_cols() + j) * c.channels + ch;
                const float hi = bounds[at], lo = bounds[plane + at];
                for (int y = maps.grid_y().Begin(i); y < maps.grid_y().End(i); ++y) {
                  for (int x = maps.grid_x().Begin(j); x < maps.grid_x().End(j); ++x) {
                    const float v =
                        full[(static_cast<size_t>(y) * c.target_w + x) * c.channels + ch];
                    if (std::isfinite(v)) {
                      ASSERT_LE(v, hi) << "style " << style << " block " << block << " at " << y
                                       << "," << x << "," << ch;
                      ASSERT_GE(v, lo) << "style " << style << " block " << block << " at " << y
                                       << "," << x << "," << ch;
                    } else {
                      ASSERT_EQ(hi, INFINITY) << "style " << style << " block " << block;
                      ASSERT_EQ(lo, -INFINITY) << "style " << style << " block " << block;
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

TEST(SparsePostprocessTest, NoiseCostsFewTiles) {
  // Blobs over N(0, 0.02) noise, OpenPose's 8x upsampling: the bounds' point. The bound passes
  // the 0.05 threshold on some tiles (not on all, as a bound on |value| did), and only a few of
  // those hold a value above it, which TileExceeds finds.
  std::mt19937 rng(3);
  for (OpenPoseBuild build : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    const ResizePlan plan = MakePlan({build, 6, {{46, 82}}, 368, 656});
    const auto src = MakeSources(plan, 4, &rng);
    const std::vector<float> full = FullResize(plan, src);
    SparseImage sparse(plan, src, -INFINITY);
    const UpsampledMaps& maps = sparse.maps;
    int tiles = 0, cheap = 0, exceeds = 0, above = 0;
    for (int ch = 0; ch < plan.channels; ++ch) {
      maps.StartChannel(sparse.image.data(), ch, &sparse.workspace.rows);
      for (int i = 0; i < maps.tile_rows(); ++i) {
        for (int j = 0; j < maps.tile_cols(); ++j) {
          ++tiles;
          float most = -INFINITY;
          for (int y = maps.grid_y().Begin(i); y < maps.grid_y().End(i); ++y) {
            for (int x = maps.grid_x().Begin(j); x < maps.grid_x().End(j); ++x) {
              most = std::max(most, full[(static_cast<size_t>(y) * 656 + x) * plan.channels + ch]);
            }
          }
          above += most > 0.05f;
          if (sparse.bounds[(static_cast<size_t>(i) * maps.tile_cols() + j) * plan.channels + ch] >
              0.05f) {
            ++cheap;
            exceeds += maps.TileExceeds(&sparse.workspace.rows, i, j, 0.05f);
          }
        }
      }
    }
    // Measured: GPU build 30% and 6% of the tiles; CPU build (Keys' cubic overshoots more) 48%
    // and 7%. A bound on |value| passed on all of them; with tiles cut at multiples of 16
    // pixels instead of where the source cells change (TileGrid), the bound on 51% and 73%.
    const bool gpu = build == OpenPoseBuild::kGpu;
    EXPECT_LT(cheap, tiles * (gpu ? 0.4 : 0.6)) << cheap << " of " << tiles;
    EXPECT_EQ(exceeds, above);  // every tile above 0.05 passes the bound (BoundsHoldEveryValue)
    EXPECT_GT(above, 0);
    EXPECT_LT(above, cheap / 3);
  }
}

TEST(SparsePostprocessTest, TilesCoverEachAxisOnceCutWhereTheSourceCellsChange) {
  // OpenPose's 8x upsampling: a tile's edges where the taps change, so a full tile covers 2
  // source cells and reads 5 sources per axis (cut at multiples of 16: 3 cells, 6 sources).
  for (OpenPoseBuild build : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    for (const Case& c : {Case{build, 1, {{46, 82}}, 368, 656}, Case{build, 1, {{5, 7}}, 19, 33},
                          Case{build, 1, {{46, 82}, {23, 41}}, 368, 656}}) {
      const ResizePlan plan = MakePlan(c);
      const UpsampledMaps maps(plan);
      for (const UpsampledMaps::TileGrid* grid : {&maps.grid_y(), &maps.grid_x()}) {
        ASSERT_LT(grid->shift, UpsampledMaps::kTile);
        int next = 0;
        for (int j = 0; j < grid->count; ++j) {
          ASSERT_EQ(grid->Begin(j), next);
          ASSERT_LT(grid->Begin(j), grid->End(j));
          ASSERT_LE(grid->End(j) - grid->Begin(j), UpsampledMaps::kTile);
          for (int d = grid->Begin(j); d < grid->End(j); ++d) ASSERT_EQ(grid->Of(d), j);
          next = grid->End(j);
        }
        ASSERT_EQ(next, grid->length);
      }
      if (c.sizes[0].first == 46) {
        // Source row of target row y: (y + 0.5) / 8 - 0.5 changes at y = 8k + 4.
        EXPECT_EQ((maps.grid_y().Begin(1)) % 8, 4);
        EXPECT_EQ((maps.grid_x().Begin(1)) % 8, 4);
      }
    }
  }
}

TEST(SparsePostprocessTest, TileExceedsOnAConstantMapOnlyWhereItReadsANaN) {
  // Every value of a constant map is that constant, within the cubic's float rounding: no tile
  // exceeds it by more, every tile exceeds less. A NaN in one source exceeds every threshold in
  // the tiles that read it, and only there.
  for (OpenPoseBuild build : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    const ResizePlan plan = MakePlan({build, 2, {{46, 82}}, 368, 656});
    std::vector<std::vector<float>> src = {std::vector<float>(46 * 82 * 2, 0.3f)};
    src[0][(20 * 82 + 40) * 2 + 1] = NAN;
    SparseImage sparse(plan, src, -INFINITY);
    const UpsampledMaps& maps = sparse.maps;
    // Whether a coordinate of tile j of `grid` has `source` among its taps.
    auto reads = [&](const UpsampledMaps::TileGrid& grid, int j, int source, int source_length,
                     float scale) {
      for (int d = grid.Begin(j); d < grid.End(j); ++d) {
        int32_t index[4];
        float weight[4];
        if (build == OpenPoseBuild::kGpu) {
          GpuBuildTaps(d, source_length, scale, index);
        } else {
          CpuBuildTaps(d, source_length, grid.length, index, weight);
        }
        if (std::find(index, index + 4, source) != index + 4) return true;
      }
      return false;
    };
    for (int ch = 0; ch < 2; ++ch) {
      maps.StartChannel(sparse.image.data(), ch, &sparse.workspace.rows);
      for (int i = 0; i < maps.tile_rows(); ++i) {
        for (int j = 0; j < maps.tile_cols(); ++j) {
          UpsampledMaps::ChannelRows* rows = &sparse.workspace.rows;
          const bool nan = ch == 1 && reads(maps.grid_y(), i, 20, 46, plan.scales[0].scale_y) &&
                           reads(maps.grid_x(), j, 40, 82, plan.scales[0].scale_x);
          ASSERT_EQ(maps.TileExceeds(rows, i, j, 0.3f * (1 + 1e-5f)), nan) << i << "," << j;
          ASSERT_EQ(maps.TileExceeds(rows, i, j, INFINITY), nan) << i << "," << j;
          ASSERT_TRUE(maps.TileExceeds(rows, i, j, 0.3f * (1 - 1e-5f))) << i << "," << j;
        }
      }
    }
  }
}

TEST(SparsePostprocessTest, RectEqualsTheFullMaps) {
  std::mt19937 rng(8);
  for (const Case& c : Cases()) {
    const ResizePlan plan = MakePlan(c);
    const auto src = MakeSources(plan, 2, &rng);
    const std::vector<float> full = FullResize(plan, src);
    const UpsampledMaps maps(plan);
    std::vector<const float*> image;
    for (const auto& s : src) image.push_back(s.data());
    UpsampledMaps::ChannelRows rows;
    std::uniform_int_distribution<int> ry(0, c.target_h - 1), rx(0, c.target_w - 1);
    for (int trial = 0; trial < 60; ++trial) {
      int y0 = ry(rng), y1 = ry(rng), x0 = rx(rng), x1 = rx(rng);
      if (y0 > y1) std::swap(y0, y1);
      if (x0 > x1) std::swap(x0, x1);
      ++y1;
      ++x1;
      const int ch = (trial / 4) % c.channels;
      std::vector<float> out(static_cast<size_t>(y1 - y0) * (x1 - x0));
      // Started anew, or reusing the rows of earlier rectangles of the same channel.
      if (trial % 3 == 0 || ch != rows.channel) maps.StartChannel(image.data(), ch, &rows);
      maps.Rect(&rows, y0, y1, x0, x1, out.data(), x1 - x0);
      for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) {
          const float want = full[(static_cast<size_t>(y) * c.target_w + x) * c.channels + ch];
          const float got = out[static_cast<size_t>(y - y0) * (x1 - x0) + (x - x0)];
          ASSERT_TRUE(Same(got, want)) << y << "," << x << ": " << got << " " << want;
        }
      }
    }
  }
}

TEST(SparsePostprocessTest, ValuesAtEqualsTheFullMaps) {
  // ValuesAt reads a limb's two adjacent channels two points at once (its own copy of Values'
  // arithmetic in 8-lane vectors), other channel pairs one at a time; RowValuesAt from the
  // channels' horizontal rows: every point of odd and even counts, with NaN / inf specks
  // (style 2) and +-1e30 / subnormals (style 5).
  std::mt19937 rng(11);
  for (const Case& c : Cases()) {
    const ResizePlan plan = MakePlan(c);
    for (int style : {2, 5}) {
      const auto src = MakeSources(plan, style, &rng);
      const std::vector<float> full = FullResize(plan, src);
      const UpsampledMaps maps(plan);
      std::vector<const float*> image;
      for (const auto& s : src) image.push_back(s.data());
      std::uniform_int_distribution<int> ry(0, c.target_h - 1), rx(0, c.target_w - 1);
      UpsampledMaps::ChannelRows limb_rows[2];
      for (int n = 1; n <= 9; ++n) {
        for (int c0 = 0; c0 < c.channels; ++c0) {
          const int c1 = (c0 + 1 + n % 2) % c.channels;  // adjacent or not (or the same)
          std::vector<int32_t> ys(n), xs(n);
          for (int k = 0; k < n; ++k) {
            ys[k] = ry(rng);
            xs[k] = rx(rng);
          }
          std::vector<float> v0(n), v1(n);
          maps.ValuesAt(image.data(), c0, c1, ys.data(), xs.data(), n, v0.data(), v1.data());
          for (int k = 0; k < n; ++k) {
            const size_t at = (static_cast<size_t>(ys[k]) * c.target_w + xs[k]) * c.channels;
            ASSERT_TRUE(Same(v0[k], full[at + c0])) << "n " << n << " point " << k;
            ASSERT_TRUE(Same(v1[k], full[at + c1])) << "n " << n << " point " << k;
          }
          if (plan.scales.size() != 1) continue;
          // RowValuesAt: the same from the two channels' horizontal rows.
          for (int e = 0; e < 2; ++e) {
            maps.StartChannel(image.data(), e == 0 ? c0 : c1, &limb_rows[e]);
            maps.AllRows(&limb_rows[e]);
          }
          std::fill(v0.begin(), v0.end(), 7.f);
          std::fill(v1.begin(), v1.end(), 7.f);
          maps.RowValuesAt(limb_rows[0], limb_rows[1], ys.data(), xs.data(), n, v0.data(),
                           v1.data());
          for (int k = 0; k < n; ++k) {
            const size_t at = (static_cast<size_t>(ys[k]) * c.target_w + xs[k]) * c.channels;
            ASSERT_TRUE(Same(v0[k], full[at + c0])) << "rows, n " << n << " point " << k;
            ASSERT_TRUE(Same(v1[k], full[at + c1])) << "rows, n " << n << " point " << k;
          }
        }
      }
    }
  }
}

TEST(SparsePostprocessTest, RowPeaksIsTheInteriorPeakTest) {
  // RowPeaks (AVX2 where the CPU has it), its SSE2 and scalar versions against the 9
  // comparisons, on rows of quantised values (ties, plateaus, the threshold itself), NaN, inf
  // and -0, every start and end in a 40-column window and limits up to the rows' last column.
  std::mt19937 rng(12);
  constexpr int kWidth = 40;
  std::uniform_int_distribution<int> level(0, 5);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int trial = 0; trial < 200; ++trial) {
    std::array<std::vector<float>, 3> rows;
    for (auto& r : rows) {
      r.resize(kWidth);
      for (float& v : r) {
        const float p = u(rng);
        v = p < 0.03f ? NAN : (p < 0.05f ? INFINITY : (p < 0.07f ? -0.f : level(rng) * 0.05f));
      }
    }
    const float threshold = trial % 4 == 0 ? -0.5f : 0.05f;
    for (int x0 = 1; x0 < kWidth - 1; x0 += 3) {
      for (int x1 = x0; x1 < kWidth - 1; ++x1) {
        const int limit = std::min(kWidth - 1, x1 + trial % 11);
        std::vector<int32_t> want;
        for (int x = x0; x < x1; ++x) {
          const float v = rows[1][x];
          bool peak = v > threshold;
          for (int dy = 0; dy < 3; ++dy) {
            for (int dx = -1; dx <= 1; ++dx) {
              if (dy != 1 || dx != 0) peak = peak && v > rows[dy][x + dx];
            }
          }
          if (peak) want.push_back(x);
        }
        std::vector<int32_t> got(kWidth), scalar(kWidth);
        got.resize(RowPeaks(rows[0].data(), rows[1].data(), rows[2].data(), x0, x1, limit,
                            threshold, got.data()));
        scalar.resize(RowPeaksScalar(rows[0].data(), rows[1].data(), rows[2].data(), x0, x1,
                                     threshold, scalar.data()));
        ASSERT_EQ(got, want) << "trial " << trial << " [" << x0 << ", " << x1 << ")";
        ASSERT_EQ(scalar, want) << "trial " << trial << " [" << x0 << ", " << x1 << ")";
#if defined(__x86_64__)
        std::vector<int32_t> sse2(kWidth);
        sse2.resize(RowPeaksSse2(rows[0].data(), rows[1].data(), rows[2].data(), x0, x1, limit,
                                 threshold, sse2.data()));
        ASSERT_EQ(sse2, want) << "trial " << trial << " [" << x0 << ", " << x1 << ")";
#endif
      }
    }
  }
}

TEST(SparsePostprocessTest, NmsAndPafScoresEqualTheDenseOps) {
  std::mt19937 rng(9);
  int peaks_seen = 0;
  for (const Case& c : Cases()) {
    const ResizePlan plan = MakePlan(c);
    for (int style = 0; style < kStyles; ++style) {
      for (float threshold : {0.05f, 0.1f, 0.f, -0.25f, 1.f}) {
        if (c.build == OpenPoseBuild::kCpu && threshold < 0) continue;  // refused by the op
        const auto src = MakeSources(plan, style, &rng);
        const std::vector<float> full = FullResize(plan, src);
        SparseImage sparse(plan, src);
        const UpsampledMaps& maps = sparse.maps;
        const std::vector<const float*>& image = sparse.image;
        const std::vector<float>& bounds = sparse.bounds;
        SparseWorkspace& ws = sparse.workspace;
        NmsParams p;
        p.threshold = threshold;
        p.build = c.build;
        p.offset_x = 0.25f;
        p.offset_y = 0.75f;
        for (int max_peaks : {127, 2}) {
          p.max_peaks = max_peaks;
          const int m3 = max_peaks * 3;
          std::vector<float> want(static_cast<size_t>(c.channels) * m3), got(want.size(), 7.f);
          std::vector<int32_t> want_n(c.channels), got_n(c.channels, -1);
          NmsImage(full.data(), NhwcLayout(c.target_h, c.target_w, c.channels), 0, c.channels,
                   p, want.data(), want_n.data());
          for (int ch = 0; ch < c.channels; ++ch) {
            Poison(plan, &ws);
            SparseNmsChannel(maps, image.data(), bounds.data(), ch, p, got.data() + ch * m3,
                             &got_n[ch], &ws);
            peaks_seen += got_n[ch];
          }
          ASSERT_EQ(got_n, want_n) << "threshold " << threshold << " style " << style;
          ASSERT_EQ(std::memcmp(got.data(), want.data(), sizeof(float) * got.size()), 0);
          if (max_peaks != 127) continue;
          // Limbs between every pair of channels, x/y PAFs from the same maps.
          std::vector<int32_t> pairs, paf;
          for (int a = 0; a < c.channels; ++a) {
            for (int b = 0; b < c.channels; ++b) {
              pairs.insert(pairs.end(), {a, b});
              paf.insert(paf.end(), {b, (a + 1) % c.channels});
            }
          }
          const int num_pairs = static_cast<int>(pairs.size() / 2);
          int64_t k = 1;
          for (int n : want_n) k = std::max<int64_t>(k, n);
          // (inter_threshold, inter_min_above_threshold): OpenPose's, below 0, and the failure
          // counts that reject a pair at 1 to never (the fraction's ends 0 and 1 included).
          const std::pair<float, float> thresholds[] = {
              {0.05f, 0.95f}, {-0.5f, 0.95f}, {0.3f, 0.5f}, {0.05f, 0.f}, {0.05f, 1.f}};
          for (const auto& [inter, inter_min] : thresholds) {
            PafScoreParams pp;
            pp.inter_threshold = inter;
            pp.inter_min_above_threshold = inter_min;
            pp.nms_threshold = threshold;
            std::vector<float> dense(num_pairs * k * k), sparse(dense.size(), 7.f);
            ScorePairs(full.data(), NhwcLayout(c.target_h, c.target_w, c.channels), want.data(),
                       want_n.data(), max_peaks, k, pairs.data(), paf.data(), pp, 0, num_pairs,
                       dense.data());
            // Samples from the net output, and from the limbs' horizontal rows (one scale).
            for (int64_t rows_from : {std::numeric_limits<int64_t>::max(), int64_t{0}}) {
              for (int l = 0; l < num_pairs; ++l) {
                SparseScoreLimb(maps, image.data(), bounds.data(), want.data(), want_n.data(),
                                max_peaks, k, pairs.data(), paf.data(), pp, l,
                                sparse.data() + l * k * k, &ws, rows_from);
              }
              ASSERT_EQ(std::memcmp(sparse.data(), dense.data(), sizeof(float) * dense.size()),
                        0)
                  << "inter_threshold " << inter << " rows_from " << rows_from;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(peaks_seen, 500);  // the cases do find peaks
}

TEST(SparsePostprocessTest, OneImageOfTheFusedOpEqualsTheDenseOps) {
  // SparsePeaksAndPafScores, the per-image work of OpenPose>PeaksAndPafScores, on one thread and
  // in uneven blocks run backwards (each with a fresh, poisoned workspace): the dense NMS and
  // PAF scores either way; a ParallelFor that fails stops it.
  std::mt19937 rng(21);
  int checked = 0;
  for (const Case& c : Cases()) {
    const ResizePlan plan = MakePlan(c);
    for (int style : {0, 2, 3, 4, 5}) {
      const auto src = MakeSources(plan, style, &rng);
      const std::vector<float> full = FullResize(plan, src);
      SparseImage sparse(plan, src);
      const int parts = std::max(1, c.channels - 1);  // the last channel: PAFs only
      NmsParams p;
      p.build = c.build;
      p.offset_x = 0.5f;
      p.offset_y = 0.25f;
      p.max_peaks = 9;
      const int m3 = p.max_peaks * 3;
      std::vector<float> want(static_cast<size_t>(c.channels) * m3);
      std::vector<int32_t> want_n(c.channels);
      NmsImage(full.data(), NhwcLayout(c.target_h, c.target_w, c.channels), 0, parts, p,
               want.data(), want_n.data());
      std::vector<int32_t> pairs, paf;
      for (int a = 0; a < parts; ++a) {
        pairs.insert(pairs.end(), {a, (a + 1) % parts});
        paf.insert(paf.end(), {c.channels - 1, a});
      }
      SparseLimbs limbs;
      limbs.num_pairs = static_cast<int>(pairs.size() / 2);
      limbs.pairs = pairs.data();
      limbs.paf_channels = paf.data();
      limbs.params.nms_threshold = p.threshold;
      int64_t k = 0;
      for (int i = 0; i < parts; ++i) k = std::max<int64_t>(k, want_n[i]);
      std::vector<float> dense(limbs.num_pairs * k * k);
      ScorePairs(full.data(), NhwcLayout(c.target_h, c.target_w, c.channels), want.data(),
                 want_n.data(), p.max_peaks, k, pairs.data(), paf.data(), limbs.params, 0,
                 limbs.num_pairs, dense.data());

      const ParallelFor blocks = [&](int64_t units, int64_t, const SparseBlockFn& fn) {
        for (int64_t end = units; end > 0;) {
          const int64_t begin = std::max<int64_t>(0, end - 1 - end % 3);
          SparseWorkspace ws;
          Poison(plan, &ws);
          fn(begin, end, &ws);
          end = begin;
        }
        return true;
      };
      for (const ParallelFor& parallel : {ParallelFor(SerialFor), blocks}) {
        std::vector<float> bounds(sparse.bounds.size(), NAN), peaks(want.size(), 7.f), scores;
        std::vector<int32_t> counts(c.channels, -1);
        int64_t got_k = -1;
        ASSERT_TRUE(SparsePeaksAndPafScores(sparse.maps, sparse.image.data(), bounds.data(), p,
                                            parts, limbs, peaks.data(), counts.data(), &scores,
                                            &got_k, parallel));
        ASSERT_EQ(got_k, k);
        ASSERT_EQ(std::vector<int32_t>(counts.begin(), counts.begin() + parts),
                  std::vector<int32_t>(want_n.begin(), want_n.begin() + parts));
        ASSERT_EQ(std::memcmp(peaks.data(), want.data(), sizeof(float) * parts * m3), 0);
        ASSERT_EQ(scores.size(), dense.size());
        ASSERT_TRUE(dense.empty() ||  // (memcmp must not see the null data() of empty vectors)
                    std::memcmp(scores.data(), dense.data(), sizeof(float) * dense.size()) == 0);
        checked += k > 0;
      }
      int calls = 0;
      const ParallelFor fails_second = [&](int64_t units, int64_t cost, const SparseBlockFn& fn) {
        return ++calls < 2 && SerialFor(units, cost, fn);
      };
      std::vector<float> bounds(sparse.bounds.size()), peaks(want.size()), scores;
      std::vector<int32_t> counts(c.channels);
      int64_t got_k = -1;
      EXPECT_FALSE(SparsePeaksAndPafScores(sparse.maps, sparse.image.data(), bounds.data(), p,
                                           parts, limbs, peaks.data(), counts.data(), &scores,
                                           &got_k, fails_second));
      EXPECT_EQ(calls, 2);
      EXPECT_EQ(got_k, -1);  // stopped before the PAF stage
    }
  }
  EXPECT_GT(checked, 20);  // most cases find peaks
}

}  // namespace
}  // namespace openpose_tf
