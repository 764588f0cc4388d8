#include "kernels/core/sparse_postprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace openpose_tf {
namespace {

// Rows [row0, ...) of a buffer with `stride` floats per row, addressed by image coordinates.
struct BufferMap {
  const float* data;
  int row0;
  int col0;
  int64_t stride;
  float operator()(int y, int x) const { return data[(y - row0) * stride + (x - col0)]; }
};

constexpr int kWindow = 7;  // RefinePeak's window

// Where more than 1 / kAllRowsBelow of the tiles of every kSampleEvery-th tile row of a channel
// pass their bound (noise), the sparse NMS computes all of its horizontal rows first
// (UpsampledMaps::AllRows): 5% faster on noise of 0.02 than tile by tile as needed, and slower
// where fewer tiles pass (a clean person: 1.5x). Sampled, because the count itself cost clean
// maps 2%.
constexpr int kSampleEvery = 4;
constexpr int64_t kAllRowsBelow = 4;

// IsPeakAt's strict interior test of row[x] (v > threshold and v > each of its 8 neighbours in
// `up`, `row` and `down`; NaN: no).
inline bool InteriorPeak(const float* up, const float* row, const float* down, int x,
                         float threshold) {
  const float v = row[x];
  return (v > threshold) & (v > up[x - 1]) & (v > up[x]) & (v > up[x + 1]) & (v > row[x - 1]) &
         (v > row[x + 1]) & (v > down[x - 1]) & (v > down[x]) & (v > down[x + 1]);
}

}  // namespace

int RowPeaksScalar(const float* up, const float* row, const float* down, int x0, int x1,
                   float threshold, int32_t* xs) {
  int n = 0;
  for (int x = x0; x < x1; ++x) {
    xs[n] = x;
    n += InteriorPeak(up, row, down, x, threshold);
  }
  return n;
}

namespace {

#if defined(__x86_64__)
// v > p[0..7] lane by lane (false for NaN).
__attribute__((target("avx2"))) inline __m256 Above(__m256 v, const float* p) {
  return _mm256_cmp_ps(v, _mm256_loadu_ps(p), _CMP_GT_OQ);
}
// RowPeaks with AVX2: 8 columns at a time while they end by `limit` (lanes past x1 read what
// the rows hold there and are dropped), the rest one by one; a vector's 9 tests become a bit
// mask, almost always 0, so nothing is stored per column and the only branch is well
// predicted. (A branch that skipped the 8 neighbour tests where no value passes the threshold
// cost crowds 5%: in a person's tile it goes either way.)
__attribute__((target("avx2"))) int RowPeaks8(const float* up, const float* row,
                                              const float* down, int x0, int x1, int limit,
                                              float threshold, int32_t* xs) {
  const __m256 t = _mm256_set1_ps(threshold);
  int n = 0;
  int x = x0;
  for (; x < x1 && x + 8 <= limit; x += 8) {
    const __m256 v = _mm256_loadu_ps(row + x);
    const __m256 m = _mm256_and_ps(
        _mm256_and_ps(_mm256_and_ps(_mm256_cmp_ps(v, t, _CMP_GT_OQ), Above(v, up + x - 1)),
                      _mm256_and_ps(Above(v, up + x), Above(v, up + x + 1))),
        _mm256_and_ps(_mm256_and_ps(Above(v, row + x - 1), Above(v, row + x + 1)),
                      _mm256_and_ps(_mm256_and_ps(Above(v, down + x - 1), Above(v, down + x)),
                                    Above(v, down + x + 1))));
    unsigned bits = static_cast<unsigned>(_mm256_movemask_ps(m));
    if (x + 8 > x1) bits &= (1u << (x1 - x)) - 1;
    for (; bits != 0; bits &= bits - 1) xs[n++] = x + __builtin_ctz(bits);
  }
  return n + RowPeaksScalar(up, row, down, x, x1, threshold, xs + n);
}
// v > p[0..3] lane by lane (false for NaN).
inline __m128 Above4(__m128 v, const float* p) { return _mm_cmpgt_ps(v, _mm_loadu_ps(p)); }
#endif

}  // namespace

#if defined(__x86_64__)
// (RowPeaks8's loop with 4-lane SSE2 operations: one template over both would need the AVX2
// target attribute on one instantiation only, which GCC cannot express.)
int RowPeaksSse2(const float* up, const float* row, const float* down, int x0, int x1, int limit,
                 float threshold, int32_t* xs) {
  const __m128 t = _mm_set1_ps(threshold);
  int n = 0;
  int x = x0;
  for (; x < x1 && x + 4 <= limit; x += 4) {
    const __m128 v = _mm_loadu_ps(row + x);
    const __m128 m = _mm_and_ps(
        _mm_and_ps(_mm_and_ps(_mm_cmpgt_ps(v, t), Above4(v, up + x - 1)),
                   _mm_and_ps(Above4(v, up + x), Above4(v, up + x + 1))),
        _mm_and_ps(_mm_and_ps(Above4(v, row + x - 1), Above4(v, row + x + 1)),
                   _mm_and_ps(_mm_and_ps(Above4(v, down + x - 1), Above4(v, down + x)),
                              Above4(v, down + x + 1))));
    unsigned bits = static_cast<unsigned>(_mm_movemask_ps(m));
    if (x + 4 > x1) bits &= (1u << (x1 - x)) - 1;
    for (; bits != 0; bits &= bits - 1) xs[n++] = x + __builtin_ctz(bits);
  }
  return n + RowPeaksScalar(up, row, down, x, x1, threshold, xs + n);
}
#endif

int RowPeaks(const float* up, const float* row, const float* down, int x0, int x1, int limit,
             float threshold, int32_t* xs) {
#if defined(__x86_64__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2 ? RowPeaks8(up, row, down, x0, x1, limit, threshold, xs)
              : RowPeaksSse2(up, row, down, x0, x1, limit, threshold, xs);
#else
  (void)limit;
  return RowPeaksScalar(up, row, down, x0, x1, threshold, xs);
#endif
}

std::vector<float> SparseDecidedBelow(int channels, int num_parts, const NmsParams& nms) {
  std::vector<float> below(channels, INFINITY);
  std::fill(below.begin(), below.begin() + std::min(num_parts, channels), nms.threshold);
  return below;
}

SparseStage SparseTileStage(const UpsampledMaps& maps, UpsampledMaps::ChannelRows* rows,
                            const float* bounds, int c, int i, int j, float threshold,
                            UpsampledMaps::Box* box) {
  const float bound =
      bounds[(static_cast<int64_t>(i) * maps.tile_cols() + j) * maps.plan().channels + c];
  if (bound <= threshold) return SparseStage::kBound;
  // A bound far above the threshold comes from values there (a person): computed. One near it
  // mostly comes from noise: the tile's own values (a fraction of the band's work, which adds a
  // ring and the peak tests) show whether one passes it, and where.
  const float near = threshold > 0.f ? UpsampledMaps::kNearThreshold * threshold : threshold;
  UpsampledMaps::Box found{maps.grid_y().Begin(i), maps.grid_y().End(i), maps.grid_x().Begin(j),
                           maps.grid_x().End(j)};
  if (bound <= near) {
    found = maps.ExceedingBox(rows, i, j, threshold);
    if (found.empty()) return SparseStage::kValues;
  }
  if (box != nullptr) *box = found;
  return SparseStage::kComputed;
}

void SparseNmsChannel(const UpsampledMaps& maps, const float* const* image, const float* bounds,
                      int c, const NmsParams& params, float* peaks, int32_t* count,
                      SparseWorkspace* workspace) {
  constexpr int kTile = UpsampledMaps::kTile;
  const int h = maps.height();
  const int w = maps.width();
  const int nt = maps.tile_cols();
  const UpsampledMaps::TileGrid& gx = maps.grid_x();
  const int channels = maps.plan().channels;
  std::memset(peaks, 0, sizeof(float) * 3 * params.max_peaks);
  *count = 0;
  workspace->band.resize(static_cast<size_t>(kTile + 2) * w);
  workspace->columns.resize(w);
  float* band = workspace->band.data();
  int32_t* columns = workspace->columns.data();
  std::vector<UpsampledMaps::Box>& runs = workspace->runs;
  std::vector<UpsampledMaps::Box>& computed = workspace->computed;
  UpsampledMaps::ChannelRows* rows = &workspace->rows;
  maps.StartChannel(image, c, rows);
  // Noise: most tiles pass their bound, and most of the channel's horizontal rows are needed.
  {
    int64_t open = 0, sampled = 0;
    for (int i = 0; i < maps.tile_rows(); i += kSampleEvery) {
      const float* tile_bounds = bounds + static_cast<int64_t>(i) * nt * channels + c;
      for (int j = 0; j < nt; ++j) {
        open += tile_bounds[static_cast<int64_t>(j) * channels] > params.threshold;
      }
      sampled += nt;
    }
    if (open * kAllRowsBelow > sampled) maps.AllRows(rows);
  }
  float window[kWindow * kWindow];
  // Refines the peak at (x, y) into the next row; false once M peaks are found. `band` holds
  // the values of `in` (the peak's run and its ring), its first row that of the tile row's
  // band, max(0, y0 - 1).
  auto add_peak = [&](int x, int y, const UpsampledMaps::Box& in) {
    const int wy0 = std::max(0, y - 3), wy1 = std::min(h, y + 4);
    const int wx0 = std::max(0, x - 3), wx1 = std::min(w, x + 4);
    float* out = peaks + 3 * static_cast<int64_t>(*count);
    if (in.y0 <= wy0 && wy1 <= in.y1 && in.x0 <= wx0 && wx1 <= in.x1) {
      // Its window is in the band (most peaks of a person: 3 pixels from its edge or more).
      const int band_y0 = std::max(0, maps.grid_y().Begin(maps.grid_y().Of(y)) - 1);
      RefinePeakAt(BufferMap{band, band_y0, 0, w}, h, w, x, y, params.offset_x, params.offset_y,
                   out);
    } else {
      // Computed on its own (the same values: Rect's).
      maps.Rect(rows, wy0, wy1, wx0, wx1, window, kWindow);
      RefinePeakAt(BufferMap{window, wy0, wx0, kWindow}, h, w, x, y, params.offset_x,
                   params.offset_y, out);
    }
    return ++*count < params.max_peaks;
  };
  for (int i = 0; i < maps.tile_rows(); ++i) {
    // Runs of pixels that may be above the threshold (NaN bounds included), in boxes: a tile
    // past its bound and past its own values (whose horizontal rows Rect reuses) gives the box
    // of its values above it (noise: a few pixels) or, far above it, the whole tile; boxes
    // that meet at the edge between two tiles join into one (a person's tiles).
    runs.clear();
    const float* tile_bounds = bounds + static_cast<int64_t>(i) * nt * channels + c;
    for (int j = 0; j < nt; ++j) {
      // (SparseTileStage's first test, inline: it skips almost every tile of most maps.)
      if (tile_bounds[static_cast<int64_t>(j) * channels] <= params.threshold) continue;
      UpsampledMaps::Box box;
      if (SparseTileStage(maps, rows, bounds, c, i, j, params.threshold, &box) !=
          SparseStage::kComputed) {
        continue;
      }
      if (!runs.empty() && runs.back().x1 == box.x0 && box.x0 == gx.Begin(j)) {
        UpsampledMaps::Box& run = runs.back();
        run.x1 = box.x1;
        run.y0 = std::min(run.y0, box.y0);
        run.y1 = std::max(run.y1, box.y1);
      } else {
        runs.push_back(box);
      }
    }
    if (runs.empty()) continue;
    const int y0 = maps.grid_y().Begin(i);
    const int y1 = maps.grid_y().End(i);
    const int ya = std::max(0, y0 - 1);  // the band's first row
    // Each run's values and their 1-pixel ring (`computed`), into the band.
    int y_first = y1, y_end = y0;
    computed.clear();
    for (const UpsampledMaps::Box& run : runs) {
      const UpsampledMaps::Box ring{std::max(0, run.y0 - 1), std::min(h, run.y1 + 1),
                                    std::max(0, run.x0 - 1), std::min(w, run.x1 + 1)};
      maps.Rect(rows, ring.y0, ring.y1, ring.x0, ring.x1,
                band + static_cast<int64_t>(ring.y0 - ya) * w + ring.x0, w);
      computed.push_back(ring);
      y_first = std::min(y_first, run.y0);
      y_end = std::max(y_end, run.y1);
    }
    const BufferMap map{band, ya, 0, w};
    // Interior columns (2 .. w-3: strict in both builds) of the runs' span. RowPeaks reads
    // whole vectors past a run's end while they end inside the span (the band holds stale
    // values there, whose lanes it drops).
    const int span_begin = std::max(runs.front().x0, 2);
    const int span_end = std::min(runs.back().x1, w - 2);
    for (int y = y_first; y < y_end; ++y) {
      const bool inner_row = 2 <= y && y < h - 2 && span_begin < span_end;
      const float* row = band + static_cast<int64_t>(y - ya) * w;
      for (size_t r = 0; r < runs.size(); ++r) {
        const UpsampledMaps::Box& run = runs[r];
        if (y < run.y0 || y >= run.y1) continue;
        const int x_begin = run.x0, x_end = run.x1;
        auto add = [&](int x) { return add_peak(x, y, computed[r]); };
        const int in_begin = inner_row ? std::min(x_end, std::max(x_begin, 2)) : x_end;
        const int in_end = inner_row ? std::max(in_begin, std::min(x_end, w - 2)) : x_end;
        for (int x = x_begin; x < in_begin; ++x) {
          if (IsPeakAt(map, h, w, x, y, params.threshold, params.build) && !add(x)) return;
        }
        const int found = in_begin < in_end
                              ? RowPeaks(row - w, row, row + w, in_begin, in_end, span_end,
                                         params.threshold, columns)
                              : 0;
        for (int k = 0; k < found; ++k) {
          if (!add(columns[k])) return;
        }
        for (int x = in_end; x < x_end; ++x) {
          if (IsPeakAt(map, h, w, x, y, params.threshold, params.build) && !add(x)) return;
        }
      }
    }
  }
}

namespace {

constexpr int kPairBlock = 64;

// Whether the tile bounds prove ux * paf_x + uy * paf_y <= threshold at a sample of the tile
// whose bounds start at b (hi plane; lo `plane` floats on): each term at most u times the
// interval end on u's side, with a margin far above the float rounding of the sum (a NaN or inf
// end, or a NaN u, never proves it).
inline bool PafBoundFails(const float* b, int64_t plane, int cx, int cy, float ux, float uy,
                          float threshold) {
  const float hx = b[cx], lx = b[plane + cx], hy = b[cy], ly = b[plane + cy];
  const float tx = ux >= 0.f ? ux * hx : ux * lx;
  const float ty = uy >= 0.f ? uy * hy : uy * ly;
  const float margin = 1e-4f * (std::fabs(ux) * std::max(std::fabs(hx), std::fabs(lx)) +
                                std::fabs(uy) * std::max(std::fabs(hy), std::fabs(ly)));
  return tx + ty + margin <= threshold;
}

// PafScoreWith's first probe (PafProbe 0) of the pairs (A, B_b), b < nb, with its arithmetic:
// for each pair its unit vector, steps, sample count, the probe's pixel and whether the tile
// bounds prove that it cannot count; how many known failures reject the pair, and its score
// then. Loops without branches, so that they run as vectors over the pairs. (ScoreLimb adds
// sample 0, `first`, and the second and third probes of the pairs still open, [1] and [2].)
struct PairProbes {
  float ux[kPairBlock], uy[kPairBlock], step_x[kPairBlock], step_y[kPairBlock],
      first[kPairBlock];
  int32_t n[kPairBlock], px[3][kPairBlock], py[3][kPairBlock], bound_fails[3][kPairBlock];
  // How many failures reject the pair (PafRejects): 1 to 4, 5 where the four samples read
  // here (sample 0 and three probes) never do; 0: a pair that PafScoreWith scores 0 at once (a
  // non-finite peak, or coincident ones).
  int32_t reject_at[kPairBlock];
  float rejected[kPairBlock];  // PafScoreWith's score of the pair when rejected
};

// The largest sample count of 5..25 that `failures` failures reject (4: none). PafRejects holds
// for every count up to it, and for more failures: (n - failures) / n grows with n and falls
// with failures, and float rounding keeps that order.
int RejectedUpTo(int failures, const PafScoreParams& p) {
  int upto = 4;
  for (int n = 5; n <= 25; ++n) {
    if (PafRejects(n, failures, p)) upto = n;
  }
  return upto;
}

// Probe `probe`'s pixel of pair b and whether the tile bounds prove that it cannot count
// (bounds: null, not tested).
inline void PlaceProbe(const float* bounds, int64_t plane, int nt, int channels,
                       const UpsampledMaps::TileGrid& gx, const UpsampledMaps::TileGrid& gy,
                       int cx, int cy, int h, int w, float ax, float ay, float threshold,
                       int probe, int b, PairProbes* out) {
  const int m = PafProbe(out->n[b], probe);
  const int px = RoundClamp(ax + m * out->step_x[b], w - 1);
  const int py = RoundClamp(ay + m * out->step_y[b], h - 1);
  out->px[probe][b] = px;
  out->py[probe][b] = py;
  if (bounds == nullptr) {
    out->bound_fails[probe][b] = 0;
    return;
  }
  const int at = (gy.Of(py) * nt + gx.Of(px)) * channels;
  out->bound_fails[probe][b] =
      PafBoundFails(bounds + at, plane, cx, cy, out->ux[b], out->uy[b], threshold);
}

// Returns how many pairs the first probe may count for (not proved to fail; finite).
// upto[f - 1]: RejectedUpTo(f), f = 1..4.
OPENPOSE_SIMD_CLONES int ProbePairs(const float* bounds, int64_t plane, int nt, int channels,
                                    const UpsampledMaps::TileGrid& gx,
                                    const UpsampledMaps::TileGrid& gy, int cx, int cy, int h,
                                    int w, float ax, float ay, const float* xs, const float* ys,
                                    int nb, const PafScoreParams& p, const int* upto,
                                    PairProbes* out) {
  const float close = PafCloseDistance(h, w);
  const float rescued = PafRejectedScoreWithin(0.f, close, p);
  // (Locals: no aliasing.)
  const int upto1 = upto[0], upto2 = upto[1], upto3 = upto[2], upto4 = upto[3];
  for (int b = 0; b < nb; ++b) {
    const float dx = xs[b] - ax;
    const float dy = ys[b] - ay;
    const int n = PafSampleCount(dx, dy);
    const float norm = std::sqrt(dx * dx + dy * dy);
    out->n[b] = n;
    out->ux[b] = dx / norm;
    out->uy[b] = dy / norm;
    out->step_x[b] = dx / n;
    out->step_y[b] = dy / n;
    const bool finite = (dx - dx == 0.f) & (dy - dy == 0.f) & (ax - ax == 0.f) &
                        (ay - ay == 0.f) & (norm > 1e-6);
    out->reject_at[b] =
        finite ? 1 + (n > upto1) + (n > upto2) + (n > upto3) + (n > upto4) : 0;
    out->rejected[b] = finite & (norm < close) ? rescued : 0.f;  // PafRejectedScore
  }
  // (Two loops, so that each is compiled for its case: the test or none.)
  if (bounds == nullptr) {
    for (int b = 0; b < nb; ++b) {
      PlaceProbe(nullptr, plane, nt, channels, gx, gy, cx, cy, h, w, ax, ay, p.inter_threshold,
                 0, b, out);
    }
  } else {
    for (int b = 0; b < nb; ++b) {
      PlaceProbe(bounds, plane, nt, channels, gx, gy, cx, cy, h, w, ax, ay, p.inter_threshold,
                 0, b, out);
    }
  }
  int open = 0;
  for (int b = 0; b < nb; ++b) open += (out->reject_at[b] != 0) & (out->bound_fails[0][b] ^ 1);
  return open;
}

}  // namespace

namespace {

// SparseScoreLimb with its samples from the net output, or from the limb's two channels'
// horizontal rows (kFromRows: `rows`, all there).
template <bool kFromRows>
void ScoreLimb(const UpsampledMaps& maps, const float* const* image, const float* bounds,
               const float* peaks, const int32_t* counts, int max_peaks, int64_t k,
               const int32_t* pairs, const int32_t* paf_channels, const PafScoreParams& params,
               int l, float* pair_scores, const UpsampledMaps::ChannelRows* rows) {
  const int part_a = pairs[2 * l];
  const int part_b = pairs[2 * l + 1];
  const int cx = paf_channels[2 * l];
  const int cy = paf_channels[2 * l + 1];
  const int nt = maps.tile_cols();
  const int channels = maps.plan().channels;
  const float threshold = params.inter_threshold;
  const int64_t plane = maps.bounds_plane();
  auto values_at = [&](const int32_t* ys, const int32_t* xs, int n, float* v0, float* v1) {
    if constexpr (kFromRows) {
      maps.RowValuesAt(rows[0], rows[1], ys, xs, n, v0, v1);
    } else {
      maps.ValuesAt(image, cx, cy, ys, xs, n, v0, v1);
    }
  };
  // The rows' samples cost about what the bounds' test does (noise: most pass it): no test.
  const float* probe_bounds = kFromRows ? nullptr : bounds;
  auto sample = [&](int py, int px, float ux, float uy) {
    if constexpr (!kFromRows) {
      const float* b = bounds + (static_cast<int64_t>(maps.grid_y().Of(py)) * nt +
                                 maps.grid_x().Of(px)) * channels;
      if (PafBoundFails(b, plane, cx, cy, ux, uy, threshold)) return -INFINITY;
    }
    float paf_x = 0.f, paf_y = 0.f;
    if constexpr (kFromRows) {
      maps.RowValuesAt(rows[0], rows[1], &py, &px, 1, &paf_x, &paf_y);
    } else {
      maps.Values(image, cx, cy, py, px, &paf_x, &paf_y);
    }
    return ux * paf_x + uy * paf_y;
  };
  const int h = maps.height(), w = maps.width();
  const float* peaks_a = peaks + static_cast<int64_t>(part_a) * max_peaks * 3;
  const float* peaks_b = peaks + static_cast<int64_t>(part_b) * max_peaks * 3;
  float xs[kPairBlock], ys[kPairBlock];
  PairProbes q;
  const int upto[4] = {RejectedUpTo(1, params), RejectedUpTo(2, params),
                       RejectedUpTo(3, params), RejectedUpTo(4, params)};
  int32_t open_at[kPairBlock], open_y[kPairBlock], open_x[kPairBlock];
  float paf_x[kPairBlock], paf_y[kPairBlock];
  for (int b0 = 0; b0 < counts[part_b]; b0 += kPairBlock) {
    const int nb = std::min(kPairBlock, counts[part_b] - b0);
    for (int i = 0; i < nb; ++i) {
      xs[i] = peaks_b[3 * (b0 + i)];
      ys[i] = peaks_b[3 * (b0 + i) + 1];
    }
    for (int64_t a = 0; a < counts[part_a]; ++a) {
      const float ax = peaks_a[3 * a], ay = peaks_a[3 * a + 1];
      const int open_first =
          ProbePairs(probe_bounds, plane, nt, channels, maps.grid_x(), maps.grid_y(), cx, cy, h,
                     w, ax, ay, xs, ys, nb, params, upto, &q);
      // PafScoreWith's own first steps, in another order: a pair whose known failures (sample
      // 0, then its probes one by one) reject it gets the rejected score without its loop (most
      // pairs of a crowd or of noise, many by the bounds alone). The samples the bounds leave
      // open are read together (one values_at each), samples that the pair's
      // PafScoreWith would read anyway before deciding (which fail decides it, in any order).
      // Sample 0 of every pair of the row lies at A's own pixel (A + 0 * step): its two PAF
      // values, read once, decide it for all of them. A wrong pair from a part found in the
      // noise fails it (the PAF there is noise), and then one more failure may reject it. Read
      // where the bounds leave two first probes open or more (else it saves nothing: clean maps).
      int32_t a0y = RoundClamp(ay, h - 1), a0x = RoundClamp(ax, w - 1);
      const bool first_known = open_first >= 2;
      int32_t failures[kPairBlock];
      if (first_known) {
        float a0_paf_x = 0.f, a0_paf_y = 0.f;
        values_at(&a0y, &a0x, 1, &a0_paf_x, &a0_paf_y);
        for (int i = 0; i < nb; ++i) {
          // PafSample's arithmetic (a NaN value: not counting, as there).
          q.first[i] = q.ux[i] * a0_paf_x + q.uy[i] * a0_paf_y;
          failures[i] = !(q.first[i] > threshold);
        }
      } else {
        std::fill(failures, failures + nb, 0);
      }
      // The first probe, read where the failures so far do not reject the pair. (A failure the
      // bounds prove is one too; the probes are distinct samples of the pair, and of sample 0.)
      float value[3][kPairBlock];
      // Reads the `open` samples of probe `probe` listed in open_at / open_y / open_x, and
      // counts their failures.
      auto read_open = [&](int probe, int open) {
        values_at(open_y, open_x, open, paf_x, paf_y);
        for (int o = 0; o < open; ++o) {
          const int i = open_at[o];
          value[probe][i] = q.ux[i] * paf_x[o] + q.uy[i] * paf_y[o];
          failures[i] += !(value[probe][i] > threshold);
        }
      };
      int32_t asked[kPairBlock];
      for (int i = 0; i < nb; ++i) {
        asked[i] = (failures[i] < q.reject_at[i]) & (q.bound_fails[0][i] ^ 1);
        value[0][i] = -INFINITY;  // the sample's, where the bounds rule it out
        failures[i] += q.bound_fails[0][i];
      }
      // Without branches (whether a probe is open is as good as random): every pair is
      // written, the open ones kept.
      int open = 0;
      for (int i = 0; i < nb; ++i) {
        open_at[open] = i;
        open_y[open] = q.py[0][i];
        open_x[open] = q.px[0][i];
        open += asked[i];
      }
      read_open(0, open);
      // The pairs still open (few in noise), and their second and third probes (each rejects
      // most of the wrong pairs that reach it: in a batch, not in PafScoreWith's loop).
      int left[kPairBlock];
      int still = 0;
      for (int i = 0; i < nb; ++i) {
        left[still] = i;
        still += failures[i] < q.reject_at[i];
      }
      for (int probe = 1; probe < 3; ++probe) {
        open = 0;
        for (int o = 0; o < still; ++o) {
          const int i = left[o];
          PlaceProbe(probe_bounds, plane, nt, channels, maps.grid_x(), maps.grid_y(), cx, cy, h,
                     w, ax, ay, threshold, probe, i, &q);
          value[probe][i] = -INFINITY;
          open_at[open] = i;
          open_y[open] = q.py[probe][i];
          open_x[open] = q.px[probe][i];
          open += q.bound_fails[probe][i] ^ 1;
          failures[i] += q.bound_fails[probe][i];
        }
        read_open(probe, open);
        int kept = 0;
        for (int o = 0; o < still; ++o) {
          const int i = left[o];
          left[kept] = i;
          kept += failures[i] < q.reject_at[i];
        }
        still = kept;
      }
      // Every pair gets its rejected score; the ones still open are overwritten.
      float* row = pair_scores + a * k + b0;
      std::copy(q.rejected, q.rejected + nb, row);
      for (int o = 0; o < still; ++o) {
        const int i = left[o];
        // PafScoreWith reads the probes first: they are not read again (all three were placed
        // for every pair still open), nor sample 0. (Their values used q.ux / q.uy, which equal the
        // ux / uy PafScoreWith passes bit for bit: the same dx, sqrt and division; the
        // rejections above rely on that too.)
        auto read = [&](int py, int px, float ux, float uy) {
          if (first_known && py == a0y && px == a0x) return q.first[i];
          for (int probe = 0; probe < 3; ++probe) {
            if (q.py[probe][i] == py && q.px[probe][i] == px) return value[probe][i];
          }
          return sample(py, px, ux, uy);
        };
        row[i] = PafScoreWith(read, h, w, ax, ay, xs[i], ys[i], params);
      }
    }
  }
}

}  // namespace

void SparseScoreLimb(const UpsampledMaps& maps, const float* const* image, const float* bounds,
                     const float* peaks, const int32_t* counts, int max_peaks, int64_t k,
                     const int32_t* pairs, const int32_t* paf_channels,
                     const PafScoreParams& params, int l, float* pair_scores,
                     SparseWorkspace* workspace, int64_t rows_from) {
  std::fill(pair_scores, pair_scores + k * k, -1.f);
  // Many pairs (noise): the two channels' horizontal rows first, then each sample from them.
  const int64_t candidates = int64_t{counts[pairs[2 * l]]} * counts[pairs[2 * l + 1]];
  if (maps.plan().scales.size() == 1 && candidates >= rows_from) {
    UpsampledMaps::ChannelRows* rows = workspace->limb_rows;
    for (int e = 0; e < 2; ++e) maps.StartChannel(image, paf_channels[2 * l + e], &rows[e]);
    maps.AllRows(&rows[0], &rows[1]);
    ScoreLimb<true>(maps, image, bounds, peaks, counts, max_peaks, k, pairs, paf_channels,
                    params, l, pair_scores, rows);
  } else {
    ScoreLimb<false>(maps, image, bounds, peaks, counts, max_peaks, k, pairs, paf_channels,
                     params, l, pair_scores, nullptr);
  }
}

bool SerialFor(int64_t units, int64_t /*cost_per_unit*/, const SparseBlockFn& fn) {
  SparseWorkspace workspace;
  if (units > 0) fn(0, units, &workspace);
  return true;
}

bool SparsePeaksAndPafScores(const UpsampledMaps& maps, const float* const* image, float* bounds,
                             const NmsParams& nms, int num_parts, const SparseLimbs& limbs,
                             float* peaks, int32_t* counts, std::vector<float>* pair_scores,
                             int64_t* k, const ParallelFor& parallel_for) {
  const ResizePlan& plan = maps.plan();
  const int64_t tile_row_cost = 40 * int64_t{maps.tile_cols()} * plan.channels;
  // A tile whose |value| bound is at most the NMS threshold on every part channel needs no other
  // (its parts hold no peak; the PAFs' samples then use [-B, B]).
  const std::vector<float> decided_below = SparseDecidedBelow(plan.channels, num_parts, nms);
  if (!parallel_for(maps.tile_rows(), tile_row_cost,
                    [&](int64_t begin, int64_t end, SparseWorkspace* ws) {
                      maps.TileBounds(image, static_cast<int>(begin), static_cast<int>(end),
                                      decided_below.data(), bounds, &ws->scratch);
                    })) {
    return false;
  }
  const int64_t peaks_per_part = static_cast<int64_t>(nms.max_peaks) * 3;
  const int64_t part_cost = 20 * int64_t{plan.target_height} * plan.target_width;
  if (!parallel_for(num_parts, part_cost, [&](int64_t begin, int64_t end, SparseWorkspace* ws) {
        for (int64_t c = begin; c < end; ++c) {
          SparseNmsChannel(maps, image, bounds, static_cast<int>(c), nms,
                           peaks + c * peaks_per_part, counts + c, ws);
        }
      })) {
    return false;
  }
  int64_t kk = 0;
  for (int c = 0; c < num_parts; ++c) kk = std::max<int64_t>(kk, counts[c]);
  *k = kk;
  pair_scores->resize(static_cast<size_t>(limbs.num_pairs * kk * kk));
  float* scores = pair_scores->data();
  return parallel_for(limbs.num_pairs, 300 * kk * kk + 100,
                      [&](int64_t begin, int64_t end, SparseWorkspace* ws) {
                        for (int64_t l = begin; l < end; ++l) {
                          SparseScoreLimb(maps, image, bounds, peaks, counts, nms.max_peaks, kk,
                                          limbs.pairs, limbs.paf_channels, limbs.params,
                                          static_cast<int>(l), scores + l * kk * kk, ws);
                        }
                      });
}

}  // namespace openpose_tf
