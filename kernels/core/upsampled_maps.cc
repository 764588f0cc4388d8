#include "kernels/core/upsampled_maps.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace openpose_tf {
namespace {

// Relative and absolute margins of the bounds: float rounding moves a computed value by at most
// a few dozen units in the last place of its terms' magnitudes (1e-5 is ~170 of them), and by at
// most a few subnormal steps in absolute terms (1e-30 is far above).
constexpr double kRelativeMargin = 1e-5;
constexpr float kAbsoluteMargin = 1e-30f;
// The |value| bound's final margin also covers the rounding of its own sums (hundreds of terms).
constexpr float kFinalMargin = 1.001f;

// The real weights of one coordinate's 4 taps (GPU build: Catmull-Rom's polynomial at t; CPU
// build: the stored Keys weights) and the rounding allowance of its float evaluation per unit of
// max |tap value|: Catmull-Rom's polynomial errs by a few ulps of its terms' magnitudes, at most
// (4|t|^3 + 6t^2 + |t| + 1) max |v| per tap; a Keys sum by a few ulps of sum |w| max |v|.
double TapWeights(OpenPoseBuild build, const float* weight, double* w /* 4 */) {
  if (build == OpenPoseBuild::kCpu) {
    double sum = 0;
    for (int k = 0; k < 4; ++k) {
      w[k] = weight[k];
      sum += std::fabs(w[k]);
    }
    return kRelativeMargin * 4 * std::max(1.0, sum);
  }
  const double t = *weight;
  const double t2 = t * t, t3 = t2 * t, a = std::fabs(t);
  w[0] = -0.5 * t3 + t2 - 0.5 * t;
  w[1] = 1.5 * t3 - 2.5 * t2 + 1;
  w[2] = -1.5 * t3 + 2 * t2 + 0.5 * t;
  w[3] = 0.5 * t3 - 0.5 * t2;
  return kRelativeMargin * 4 * (4 * a * a * a + 6 * a * a + a + 1);
}

// Each tap's |weight| plus its share of the rounding allowance (the |value| bound's weights).
void TapMagnitudes(OpenPoseBuild build, const float* weight, double* out /* 4 */) {
  double w[4];
  const double allowance = TapWeights(build, weight, w) / 4;
  for (int k = 0; k < 4; ++k) out[k] = std::fabs(w[k]) + allowance;
}

// Source values larger than this in magnitude count as not finite: the interpolation's float
// terms can overflow to inf or NaN from finite values near the float maximum, which no finite
// bound would hold. Its terms reach about 350 times the largest source over both passes at the
// farthest the GPU build may read past a map's edge (t up to 3: kPlacementTolerance, in
// kernels/resize_and_merge_args.cc; a larger tolerance needs a smaller cap), 1e35 keeps them
// 10x below the float maximum. (The scales' sum may still overflow: the bounds' sums then do
// too, rounding being monotone.)
constexpr float kLargestFinite = 1e35f;

// |v|, with NaN (and values past kLargestFinite) as inf (a NaN must make its tiles' bounds
// infinite, and max() would drop it).
inline float Magnitude(float v) {
  const float m = std::fabs(v);
  return m <= kLargestFinite ? m : INFINITY;
}

// max / min by value (std::max returns a reference, which keeps GCC from vectorising).
inline float Max(float a, float b) { return a < b ? b : a; }
inline float Min(float a, float b) { return b < a ? b : a; }

// The intervals of the values one class interpolates (header: Bounds), element by element e <
// n, from its 4 taps' values, each within [lo_k[e], hi_k[e]], into [out_lo[e], out_hi[e]]
// (kMerge: widening those). kExact: exact values (lo_k = hi_k, read from lo_k), where a NaN or
// inf gives [-inf, inf]; otherwise intervals whose ends are never NaN (+-inf pass through the
// arithmetic below as they should).
// kStandard: 4 distinct taps, the middle two positive (all but the borders). Branch-free: runs
// as vectors over the channels.
template <bool kExact, bool kStandard, bool kMerge>
OPENPOSE_SIMD_CLONES void ClassIntervalsOf(
    const float* __restrict l0, const float* __restrict l1, const float* __restrict l2,
    const float* __restrict l3, const float* __restrict h0, const float* __restrict h1,
    const float* __restrict h2, const float* __restrict h3, const bool* pos, bool has_neg,
    float spread, float slack, int64_t n, float* __restrict out_lo, float* __restrict out_hi) {
  // +inf for a positive tap, -inf for the others.
  const float c0 = pos[0] ? INFINITY : -INFINITY, c1 = pos[1] ? INFINITY : -INFINITY;
  const float c2 = pos[2] ? INFINITY : -INFINITY, c3 = pos[3] ? INFINITY : -INFINITY;
  const float neg_spread = has_neg ? spread : 0.f;
  for (int64_t e = 0; e < n; ++e) {
    // "+ 0.f" (not folded: it turns -0 into +0, harmless here) makes each a computed value: GCC
    // turns a max of two loads into a load from a selected address, which it cannot vectorise.
    const float a0 = l0[e] + 0.f, a1 = l1[e] + 0.f, a2 = l2[e] + 0.f, a3 = l3[e] + 0.f;
    const float b0 = kExact ? a0 : h0[e] + 0.f, b1 = kExact ? a1 : h1[e] + 0.f;
    const float b2 = kExact ? a2 : h2[e] + 0.f, b3 = kExact ? a3 : h3[e] + 0.f;
    float pos_hi, pos_lo, neg_hi, neg_lo;
    if (kStandard) {
      pos_hi = Max(b1, b2);
      pos_lo = Min(a1, a2);
      neg_hi = Max(b0, b3);
      neg_lo = Min(a0, a3);
    } else {
      // Every tap is positive or not (negative or zero: "neg"); a set left empty gives -inf /
      // inf, which drops out of the maxima and minima. A tap leaves a set by a min or max with
      // an infinity (Min(v, c0) is v where tap 0 is positive, -inf where not): arithmetic that
      // GCC runs as vectors, where selects on the loop's constants made it branch on scalars.
      // (Only a NaN would tell the two apart: interval ends are never NaN, and a NaN value
      // makes an exact class [-inf, inf] below.)
      pos_hi = Max(Max(Min(b0, c0), Min(b1, c1)), Max(Min(b2, c2), Min(b3, c3)));
      pos_lo = Min(Min(Max(a0, -c0), Max(a1, -c1)), Min(Max(a2, -c2), Max(a3, -c3)));
      neg_hi = Max(Max(Min(b0, -c0), Min(b1, -c1)), Max(Min(b2, -c2), Min(b3, -c3)));
      neg_lo = Min(Min(Max(a0, c0), Max(a1, c1)), Min(Max(a2, c2), Max(a3, c3)));
    }
    // max |tap| (every tap is in one of the two sets; an empty one gives -inf).
    const float m = Max(Max(pos_hi, -pos_lo), Max(neg_hi, -neg_lo));
    const float allowance = slack * m;
    // Max(0, NaN) is 0: without negative taps, inf - inf (an infinite interval end) drops out.
    float hi = pos_hi + neg_spread * Max(0.f, pos_hi - neg_lo) + allowance;
    float lo = pos_lo - neg_spread * Max(0.f, neg_hi - pos_lo) - allowance;
    if (kExact) {
      const float sum = (a0 + a1) + (a2 + a3);  // NaN where a value is NaN or inf
      const bool finite = (sum - sum == 0.f) & (m <= kLargestFinite);
      hi = finite ? hi : INFINITY;
      lo = finite ? lo : -INFINITY;
    }
    out_hi[e] = kMerge ? Max(out_hi[e], hi) : hi;
    out_lo[e] = kMerge ? Min(out_lo[e], lo) : lo;
  }
}

// A standard class's taps: positive in the middle.
constexpr bool kStandardSigns[4] = {false, true, true, false};

// Whether some lane of a comparison's result is set.
typedef int32_t LaneFlags __attribute__((vector_size(32)));
inline bool AnyLane(LaneFlags f) {
  uint64_t q[4];
  std::memcpy(q, &f, sizeof(q));
  return (q[0] | q[1] | q[2] | q[3]) != 0;
}

// 8 floats as one vector, read and written unaligned.
typedef float Lanes __attribute__((vector_size(32)));
constexpr int kLanes = 8;
inline Lanes LoadLanes(const float* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void StoreLanes(Lanes v, float* p) { std::memcpy(p, &v, sizeof(v)); }

// Whether a standard class (spread, slack) interpolates, along its axis, values at most `limit`
// in every lane from the exact values v0..v3 of its taps: ClassIntervalsOf's upper end, as
// vectors. False in a lane with a NaN or inf value (its min and max may drop a NaN; the sum
// keeps it), or one past kLargestFinite (whose interpolation may overflow).
inline bool AtMost(Lanes v0, Lanes v1, Lanes v2, Lanes v3, float spread, float slack,
                   Lanes limit) {
  auto max = [](Lanes a, Lanes b) { return a < b ? b : a; };
  auto min = [](Lanes a, Lanes b) { return b < a ? b : a; };
  const Lanes pos_hi = max(v1, v2), neg_lo = min(v0, v3);
  const Lanes m = max(max(pos_hi, -min(v1, v2)), max(max(v0, v3), -neg_lo));
  const Lanes hi = pos_hi + spread * max(Lanes{}, pos_hi - neg_lo) + slack * m + kAbsoluteMargin;
  const Lanes sum = (v0 + v1) + (v2 + v3);
  return !AnyLane(~((hi <= limit) & (sum - sum == Lanes{}) & (m <= Lanes{} + kLargestFinite)));
}

// f(at) for the starts of 8 values covering [0, n), n >= 8: 0, 8, 16, ... and n - 8 last, which
// overlaps the one before where n is not a multiple of 8 (for work that may see a value twice:
// an assignment, a min or max). GCC's own scalar remainder cost as much as the vectors on a
// band's rows (a tile's 16 values and its ring's 2).
template <class F>
__attribute__((always_inline)) inline void OverLanes(int n, F f) {
  const int last = n - kLanes;
  for (int i = 0;; i += kLanes) {
    const int at = std::min(i, last);
    f(at);
    if (at == last) break;
  }
}

// The 8 x 8 transpose of rows r[0..7] in place (lane i of r[m] becomes lane m of r[i]).
__attribute__((always_inline)) inline void Transpose8(Lanes* r) {
  typedef int32_t Pattern __attribute__((vector_size(32)));
  const Pattern low = {0, 8, 1, 9, 4, 12, 5, 13}, high = {2, 10, 3, 11, 6, 14, 7, 15};
  const Pattern pairs_low = {0, 1, 8, 9, 4, 5, 12, 13}, pairs_high = {2, 3, 10, 11, 6, 7, 14, 15};
  const Pattern halves_low = {0, 1, 2, 3, 8, 9, 10, 11};
  const Pattern halves_high = {4, 5, 6, 7, 12, 13, 14, 15};
  Lanes t[8], u[8];
  for (int k = 0; k < 4; ++k) {
    t[2 * k] = __builtin_shuffle(r[2 * k], r[2 * k + 1], low);
    t[2 * k + 1] = __builtin_shuffle(r[2 * k], r[2 * k + 1], high);
  }
  for (int k = 0; k < 2; ++k) {
    u[4 * k] = __builtin_shuffle(t[4 * k], t[4 * k + 2], pairs_low);
    u[4 * k + 1] = __builtin_shuffle(t[4 * k], t[4 * k + 2], pairs_high);
    u[4 * k + 2] = __builtin_shuffle(t[4 * k + 1], t[4 * k + 3], pairs_low);
    u[4 * k + 3] = __builtin_shuffle(t[4 * k + 1], t[4 * k + 3], pairs_high);
  }
  for (int k = 0; k < 4; ++k) {
    r[k] = __builtin_shuffle(u[k], u[k + 4], halves_low);
    r[k + 4] = __builtin_shuffle(u[k], u[k + 4], halves_high);
  }
}

// ClassIntervalsOf for one class, writing its intervals: exact values at taps[k] (lo = hi) or
// intervals.
struct TapValues {
  const float* lo[4];
  const float* hi[4];
};
template <bool kExact>
inline void ClassIntervals(const TapValues& t, const bool* pos, bool has_neg, bool standard,
                           float spread, float slack, int64_t n, float* out_lo, float* out_hi) {
  if (standard) {
    ClassIntervalsOf<kExact, true, false>(t.lo[0], t.lo[1], t.lo[2], t.lo[3], t.hi[0], t.hi[1],
                                          t.hi[2], t.hi[3], pos, has_neg, spread, slack, n,
                                          out_lo, out_hi);
  } else {
    ClassIntervalsOf<kExact, false, false>(t.lo[0], t.lo[1], t.lo[2], t.lo[3], t.hi[0],
                                           t.hi[1], t.hi[2], t.hi[3], pos, has_neg, spread,
                                           slack, n, out_lo, out_hi);
  }
}

// Whether some v[e] lies in [low[e], high[e]] (branch-free, as vectors).
OPENPOSE_SIMD_CLONES bool AnyWithin(const float* v, const float* low, const float* high, int n) {
  int any = 0;
  for (int e = 0; e < n; ++e) any |= (v[e] >= low[e]) & (v[e] <= high[e]);
  return any != 0;
}

// out = the union of out and [lo, hi], element by element (copy: out = [lo, hi]).
OPENPOSE_SIMD_CLONES void Widen(const float* __restrict lo, const float* __restrict hi,
                                int64_t n, bool copy, float* __restrict out_lo,
                                float* __restrict out_hi) {
  if (copy) {
    std::copy(lo, lo + n, out_lo);
    std::copy(hi, hi + n, out_hi);
    return;
  }
  for (int64_t e = 0; e < n; ++e) {
    out_lo[e] = Min(out_lo[e], lo[e]);
    out_hi[e] = Max(out_hi[e], hi[e]);
  }
}

// out[e] = sum over k < n_rows of rows[k][e] * w[k], e < n: one pass (the rows' values read
// once, out written once), with the counts of a tile's sources (4-6) unrolled.
template <int kRows>
inline void WeightedSumOf(const float* const* rows, const float* w, int64_t n, float* out) {
  for (int64_t e = 0; e < n; ++e) {
    float sum = rows[0][e] * w[0];
    for (int k = 1; k < kRows; ++k) sum += rows[k][e] * w[k];
    out[e] = sum;
  }
}
OPENPOSE_SIMD_CLONES void WeightedSum(const float* const* rows, const float* w, int n_rows,
                                      int64_t n, float* out) {
  switch (n_rows) {
    case 4: return WeightedSumOf<4>(rows, w, n, out);
    case 5: return WeightedSumOf<5>(rows, w, n, out);
    case 6: return WeightedSumOf<6>(rows, w, n, out);
    default:
      for (int64_t e = 0; e < n; ++e) out[e] = rows[0][e] * w[0];
      for (int k = 1; k < n_rows; ++k) {
        for (int64_t e = 0; e < n; ++e) out[e] += rows[k][e] * w[k];
      }
  }
}

}  // namespace

UpsampledMaps::UpsampledMaps(const ResizePlan& plan) : plan_(plan) {
  for (const ResizeScale& s : plan.scales) {
    x_.push_back(MakeAxis(s.width, plan.target_width, s.scale_x, &grid_x_));
    FindBlocks(&x_.back(), plan.target_width);
    y_.push_back(MakeAxis(s.height, plan.target_height, s.scale_y, &grid_y_));
  }
  row_offset_.push_back(0);
  done_offset_.push_back(0);
  for (const ResizeScale& s : plan.scales) {
    row_offset_.push_back(row_offset_.back() + static_cast<int64_t>(s.height) * plan.target_width);
    done_offset_.push_back(done_offset_.back() + static_cast<int64_t>(s.height) * grid_x_.count);
  }
}

// The shift of the tiling whose tiles read the fewest sources in all (ties: the smallest), from
// one scale's taps (4 per coordinate, non-decreasing).
UpsampledMaps::TileGrid UpsampledMaps::ChooseGrid(const std::vector<int32_t>& index,
                                                  int length) {
  TileGrid best;
  int64_t fewest = -1;
  for (int shift = 0; shift < kTile && shift < length; ++shift) {
    TileGrid grid{length, shift, (length + shift + kTile - 1) / kTile};
    int64_t sources = 0;
    for (int j = 0; j < grid.count; ++j) {
      sources += index[4 * static_cast<size_t>(grid.End(j) - 1) + 3] -
                 index[4 * static_cast<size_t>(grid.Begin(j))] + 1;
    }
    if (fewest < 0 || sources < fewest) {
      fewest = sources;
      best = grid;
    }
  }
  return best;
}

UpsampledMaps::Axis UpsampledMaps::MakeAxis(int source_length, int target_length, float scale,
                                            TileGrid* grid) const {
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
  if (grid->count == 0) *grid = ChooseGrid(axis.index, target_length);
  for (int j = 0; j < grid->count; ++j) {
    const int begin = grid->Begin(j), end = grid->End(j);
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
    axis.tile_first.push_back(first);
    axis.tile_last.push_back(last);
    // W of each source in [first, last] for the |value| bound: the largest over the tile's
    // coordinates of the summed tap magnitudes it gives that source; never 0 (inf * W is inf).
    std::vector<double> w(last - first + 1, 0.0), at(w.size());
    for (int d = begin; d < end; ++d) {
      double taps[4];
      TapMagnitudes(plan_.build, &axis.weight[per_tap * static_cast<size_t>(d)], taps);
      std::fill(at.begin(), at.end(), 0.0);
      for (int k = 0; k < 4; ++k) at[axis.index[4 * static_cast<size_t>(d) + k] - first] += taps[k];
      for (size_t i = 0; i < w.size(); ++i) w[i] = std::max(w[i], at[i]);
    }
    axis.tile_weights.push_back(static_cast<int64_t>(axis.weight_bound.size()));
    for (double v : w) {
      axis.weight_bound.push_back(std::max(1e-30f, static_cast<float>(v * (1 + kRelativeMargin))));
    }
  }
  axis.tile_runs.push_back(static_cast<int32_t>(axis.run_start.size()));
  // Classes over the whole axis (one that straddles two tiles is evaluated once for both), and
  // each tile's: those that hold one of its coordinates.
  AddClasses(&axis, 0, target_length);
  for (int j = 0, q = 0; j < grid->count; ++j) {
    const int begin = grid->Begin(j), end = grid->End(j);
    while (axis.class_end[q] <= begin) ++q;
    int last = q;
    while (last + 1 < static_cast<int>(axis.classes.size()) && axis.class_begin[last + 1] < end) {
      ++last;
    }
    axis.tile_classes.push_back(q);
    axis.tile_classes_end.push_back(last + 1);
  }
  return axis;
}

// Blocks of 8 runs of 8 coordinates, run i's taps run 0's plus i, with the same weights (the
// x axis only: Horizontal's).
void UpsampledMaps::FindBlocks(Axis* axis_pointer, int target_length) const {
  Axis& axis = *axis_pointer;
  const size_t per_tap = plan_.build == OpenPoseBuild::kGpu ? 1 : 4;
  const int num_runs = static_cast<int>(axis.run_start.size());
  axis.block_at.assign(num_runs, 0);
  auto run_end = [&](int q) { return q + 1 < num_runs ? axis.run_start[q + 1] : target_length; };
  for (int q = 0; q + kLanes <= num_runs; ++q) {
    const int d0 = axis.run_start[q];
    bool block = true;
    for (int i = 0; block && i < kLanes; ++i) {
      const int di = axis.run_start[q + i];
      block = di == d0 + kLanes * i && run_end(q + i) == di + kLanes;
      for (int k = 0; block && k < 4; ++k) {
        block = axis.index[4 * static_cast<size_t>(di) + k] ==
                axis.index[4 * static_cast<size_t>(d0) + k] + i;
      }
      // The same bits (memcmp: a -0 weight is not a +0 one), all 8 coordinates at once.
      block = block && std::memcmp(axis.weight.data() + per_tap * static_cast<size_t>(di),
                                   axis.weight.data() + per_tap * static_cast<size_t>(d0),
                                   sizeof(float) * per_tap * kLanes) == 0;
    }
    axis.block_at[q] = block;
    axis.has_blocks |= block;
  }
}

// The tap classes of coordinates [begin, end): a new class where the taps change or a source's
// summed weight changes sign (a weight of exactly 0 fits either sign).
void UpsampledMaps::AddClasses(Axis* axis, int begin, int end) const {
  const int per_tap = plan_.build == OpenPoseBuild::kGpu ? 1 : 4;
  TapClass current{};
  int class_begin = begin;
  int sign[4] = {0, 0, 0, 0};  // the class's sign of each distinct source, by its first tap
  double spread = 0, slack = 0;
  auto close = [&] {
    // A tap repeating its predecessor's source shares its (summed) sign; with no positive
    // source (weights that sum to 1 have one) every tap counts as positive.
    int source_sign[4];
    bool any_pos = false;
    for (int k = 0; k < 4; ++k) {
      source_sign[k] = k > 0 && current.tap[k] == current.tap[k - 1] ? source_sign[k - 1]
                                                                      : sign[k];
      any_pos |= source_sign[k] > 0;
    }
    bool has_neg = false;
    for (int k = 0; k < 4; ++k) {
      current.pos[k] = source_sign[k] > 0 || !any_pos;
      has_neg |= !current.pos[k];
    }
    current.has_neg = has_neg;
    current.standard = current.pos[1] && current.pos[2] && !current.pos[0] && !current.pos[3] &&
                       current.tap[0] < current.tap[1] && current.tap[1] < current.tap[2] &&
                       current.tap[2] < current.tap[3];
    // Never 0: 0 * inf (an infinite tap) would be NaN.
    current.spread = std::max(1e-30f, static_cast<float>(spread * (1 + kRelativeMargin)));
    current.slack = static_cast<float>(slack);
    if (current.standard) {
      axis->standard_spread = std::max(axis->standard_spread, current.spread);
      axis->standard_slack = std::max(axis->standard_slack, current.slack);
    }
    axis->classes.push_back(current);
  };
  auto close_at = [&](int d) {
    close();
    axis->class_begin.push_back(class_begin);
    axis->class_end.push_back(d);
    class_begin = d;
  };
  for (int d = begin; d < end; ++d) {
    const int32_t* index = &axis->index[4 * static_cast<size_t>(d)];
    double w[4];
    const double allowance =
        TapWeights(plan_.build, &axis->weight[per_tap * static_cast<size_t>(d)], w);
    // Summed per distinct source (taps are non-decreasing), on the source's first tap.
    double sum[4] = {0, 0, 0, 0};
    for (int k = 0, first = 0; k < 4; ++k) {
      if (k > 0 && index[k] != index[k - 1]) first = k;
      sum[first] += w[k];
    }
    int here[4];
    double negative = 0;
    for (int k = 0; k < 4; ++k) {
      here[k] = sum[k] > 0 ? 1 : (sum[k] < 0 ? -1 : 0);
      if (sum[k] < 0) negative -= sum[k];
    }
    bool fits = d > begin && std::equal(index, index + 4, current.tap);
    for (int k = 0; fits && k < 4; ++k) fits = sign[k] * here[k] >= 0;
    if (!fits) {
      if (d > begin) close_at(d);
      std::copy(index, index + 4, current.tap);
      std::fill(sign, sign + 4, 0);
      spread = slack = 0;
    }
    for (int k = 0; k < 4; ++k) {
      if (here[k] != 0) sign[k] = here[k];
    }
    spread = std::max(spread, negative);
    slack = std::max(slack, allowance);
  }
  close_at(end);
}

void UpsampledMaps::StartChannel(const float* const* image, int c, ChannelRows* rows) const {
  rows->image = image;
  rows->channel = c;
  rows->rows.resize(row_offset_.back());
  rows->done.assign(done_offset_.back(), 0);
  rows->all_done = false;
  rows->terms.resize(3 * static_cast<size_t>(plan_.target_width));
}

// HorizontalPass's arithmetic for tile columns [j, j_end) of one row, a run of coordinates with
// the same taps at a time: its 4 source values are read once and the run's cubics (which differ
// only in their weights) run as one vector; over many tiles, blocks of 8 runs (FindBlocks) run
// as 8 vectors over the runs.
OPENPOSE_SIMD_CLONES void UpsampledMaps::Horizontal(ChannelRows* rows, int s, int r, int j,
                                                    int j_end, bool line_there) const {
  const Axis& ax = x_[s];
  const int channels = plan_.channels;
  const int end = grid_x_.End(j_end - 1);
  const float* src = rows->image[s] +
                     static_cast<int64_t>(r) * plan_.scales[s].width * channels + rows->channel;
  float* h = rows->rows.data() + row_offset_[s] + static_cast<int64_t>(r) * plan_.target_width;
  const bool gpu = plan_.build == OpenPoseBuild::kGpu;
  const size_t length = ax.weight.size() / 4;  // CPU build: ax.planar's stride
  const int32_t q_end = ax.tile_runs[j_end];
  // A row's sources, contiguous, for the blocks of 8 runs below (many tiles: AllRows).
  const float* line = nullptr;
  if (ax.has_blocks && j_end - j >= 4) {
    const int width = plan_.scales[s].width;
    if (!line_there) {
      rows->line.resize(width);
      for (int x = 0; x < width; ++x) rows->line[x] = src[static_cast<int64_t>(x) * channels];
    }
    line = rows->line.data();
  }
  // The tiles' runs follow each other: a run ends where the next starts (or at the last end).
  for (int32_t q = ax.tile_runs[j]; q < q_end; ++q) {
    const int d0 = ax.run_start[q];
    if (line != nullptr && ax.block_at[q] && q + kLanes <= q_end) {
      // 8 runs whose taps differ by 1 source from one to the next, with the same weights
      // (upsampling 8x): lane i is run q + i, so each tap's sources are one vector; the 8
      // positions of a run, one vector each, transposed into the runs' rows.
      const int32_t* idx = &ax.index[4 * static_cast<size_t>(d0)];
      const Lanes v0 = LoadLanes(line + idx[0]), v1 = LoadLanes(line + idx[1]);
      const Lanes v2 = LoadLanes(line + idx[2]), v3 = LoadLanes(line + idx[3]);
      Lanes at[kLanes];  // at[m] lane i: run q + i's m-th coordinate
      if (gpu) {
        const CatmullRomTerms<Lanes> k = CatmullRomTermsOf(v0, v1, v2, v3);
        for (int m = 0; m < kLanes; ++m) {
          at[m] = CatmullRomAt(k.cubic, k.square, k.linear, v1, ax.weight[d0 + m]);
        }
      } else {
        const float* w = &ax.planar[d0];
        for (int m = 0; m < kLanes; ++m) {
          at[m] = KeysSumOf(v0, v1, v2, v3, w[m], w[m + length], w[m + 2 * length],
                            w[m + 3 * length]);
        }
      }
      Transpose8(at);
      for (int i = 0; i < kLanes; ++i) StoreLanes(at[i], h + d0 + kLanes * i);
      q += kLanes - 1;
      continue;
    }
    const int d1 = q + 1 < q_end ? ax.run_start[q + 1] : end;
    const int32_t* idx = &ax.index[4 * static_cast<size_t>(d0)];
    const float v0 = src[static_cast<int64_t>(idx[0]) * channels];
    const float v1 = src[static_cast<int64_t>(idx[1]) * channels];
    const float v2 = src[static_cast<int64_t>(idx[2]) * channels];
    const float v3 = src[static_cast<int64_t>(idx[3]) * channels];
    if (d1 - d0 == kLanes) {
      // A whole run (all but a border's), as one vector: GCC's own loop spends more on its
      // checks and remainder than on 8 values.
      if (gpu) {
        const CatmullRomTerms<float> k = CatmullRomTermsOf(v0, v1, v2, v3);
        StoreLanes(CatmullRomAt(k.cubic, k.square, k.linear, v1, LoadLanes(&ax.weight[d0])),
                   h + d0);
      } else {
        const float* w = &ax.planar[d0];
        StoreLanes(KeysSumOf(v0, v1, v2, v3, LoadLanes(w), LoadLanes(w + length),
                             LoadLanes(w + 2 * length), LoadLanes(w + 3 * length)),
                   h + d0);
      }
    } else if (gpu) {
      const float* t = ax.weight.data();
      for (int d = d0; d < d1; ++d) h[d] = CatmullRom(v0, v1, v2, v3, t[d]);
    } else {
      const float* w0 = ax.planar.data();
      const float *w1 = w0 + length, *w2 = w1 + length, *w3 = w2 + length;
      for (int d = d0; d < d1; ++d) h[d] = KeysSum(v0, v1, v2, v3, w0[d], w1[d], w2[d], w3[d]);
    }
  }
  uint8_t* done = &rows->done[done_offset_[s] + static_cast<int64_t>(r) * grid_x_.count];
  if (j_end == j + 1) {
    done[j] = 1;  // (std::fill would call memset for one byte: the common case)
  } else {
    std::memset(done + j, 1, j_end - j);
  }
}

void UpsampledMaps::MissingRows(ChannelRows* rows, int s, int r, int j_begin, int j_end) const {
  if (rows->all_done) return;  // (noisy channels: no search for what is all there)
  const uint8_t* done = &rows->done[done_offset_[s] + static_cast<int64_t>(r) * grid_x_.count];
  for (int j = j_begin; j < j_end;) {  // runs of tile columns not yet computed, one call each
    if (done[j]) {
      ++j;
      continue;
    }
    int end = j + 1;
    while (end < j_end && !done[end]) ++end;
    Horizontal(rows, s, r, j, end);
    j = end;
  }
}

void UpsampledMaps::AllRows(ChannelRows* rows) const {
  for (int s = 0; s < static_cast<int>(plan_.scales.size()); ++s) {
    for (int r = 0; r < plan_.scales[s].height; ++r) MissingRows(rows, s, r, 0, grid_x_.count);
  }
  rows->all_done = true;
}

void UpsampledMaps::AllRows(ChannelRows* rows0, ChannelRows* rows1) const {
  const bool paired = rows1->channel == rows0->channel + 1 && rows0->image == rows1->image &&
                      x_[0].has_blocks && grid_x_.count >= 4 && plan_.scales.size() == 1 &&
                      std::none_of(rows0->done.begin(), rows0->done.end(), [](uint8_t d) {
                        return d != 0;
                      }) &&
                      std::none_of(rows1->done.begin(), rows1->done.end(), [](uint8_t d) {
                        return d != 0;
                      });
  if (!paired) {
    AllRows(rows0);
    AllRows(rows1);
    return;
  }
  // Adjacent channels share the cache lines of the NHWC source: each source row is read once
  // for both (Horizontal's strided copy was a third of its time).
  const int width = plan_.scales[0].width;
  const int channels = plan_.channels;
  rows0->line.resize(width);
  rows1->line.resize(width);
  for (int r = 0; r < plan_.scales[0].height; ++r) {
    const float* src = rows0->image[0] + static_cast<int64_t>(r) * width * channels +
                       rows0->channel;
    for (int x = 0; x < width; ++x) {
      rows0->line[x] = src[static_cast<int64_t>(x) * channels];
      rows1->line[x] = src[static_cast<int64_t>(x) * channels + 1];
    }
    Horizontal(rows0, 0, r, 0, grid_x_.count, /*line_there=*/true);
    Horizontal(rows1, 0, r, 0, grid_x_.count, /*line_there=*/true);
  }
  rows0->all_done = rows1->all_done = true;
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
      MissingRows(cache, s, r, grid_x_.Of(x0), grid_x_.Of(x1 - 1) + 1);
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
      if (gpu && s == 0 && nx >= kLanes) {
        // Catmull-Rom's three coefficients depend on the 4 rows, not on t: once per run of
        // rows with the same taps (8 rows upsampling 8x), then each row's polynomial, 9
        // operations a value instead of 24 (CatmullRomOf's, split), 8 values at a time.
        float* cubic = cache->terms.data();
        float* square = cubic + tw;
        float* linear = square + tw;
        if (y == y0 || !std::equal(idx, idx + 4, idx - 4)) {
          OverLanes(nx, [&](int at) {
            const CatmullRomTerms<Lanes> k = CatmullRomTermsOf(
                LoadLanes(h0 + at), LoadLanes(h1 + at), LoadLanes(h2 + at), LoadLanes(h3 + at));
            StoreLanes(k.cubic, cubic + at);
            StoreLanes(k.square, square + at);
            StoreLanes(k.linear, linear + at);
          });
        }
        const float t = ay.weight[y];
        OverLanes(nx, [&](int at) {
          const Lanes v = CatmullRomAt(LoadLanes(cubic + at), LoadLanes(square + at),
                                       LoadLanes(linear + at), LoadLanes(h1 + at), t);
          StoreLanes(num_scales == 1 ? v : 0.f + v, o + at);
        });
      } else if (!gpu && s == 0 && nx > kLanes && nx % kLanes != 0) {
        // Keys' sums, 8 at a time (GCC's own loop where nx is a multiple of 8).
        const float* w = &ay.weight[4 * static_cast<size_t>(y)];
        OverLanes(nx, [&](int at) {
          StoreLanes(KeysSumOf(LoadLanes(h0 + at), LoadLanes(h1 + at), LoadLanes(h2 + at),
                               LoadLanes(h3 + at), w[0], w[1], w[2], w[3]),
                     o + at);
        });
      } else if (gpu) {
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

void UpsampledMaps::RowValuesAt(const ChannelRows& rows0, const ChannelRows& rows1,
                                const int32_t* ys, const int32_t* xs, int n, float* v0,
                                float* v1) const {
  // Rect's single-scale arithmetic (its scalar path) at each point.
  const Axis& ay = y_[0];
  const bool gpu = plan_.build == OpenPoseBuild::kGpu;
  const int64_t tw = plan_.target_width;
  const float* a = rows0.rows.data();
  const float* b = rows1.rows.data();
  // The two channels as the two lanes of one vector (the same operations lane by lane).
  typedef float Two __attribute__((vector_size(8)));
  for (int i = 0; i < n; ++i) {
    const int32_t* idx = &ay.index[4 * static_cast<size_t>(ys[i])];
    const int64_t x = xs[i];
    const int64_t r0 = idx[0] * tw + x, r1 = idx[1] * tw + x, r2 = idx[2] * tw + x,
                  r3 = idx[3] * tw + x;
    const Two t0 = {a[r0], b[r0]}, t1 = {a[r1], b[r1]}, t2 = {a[r2], b[r2]},
              t3 = {a[r3], b[r3]};
    Two v;
    if (gpu) {
      v = CatmullRomOf(t0, t1, t2, t3, ay.weight[ys[i]]);
    } else {
      const float* w = &ay.weight[4 * static_cast<size_t>(ys[i])];
      v = KeysSumOf(t0, t1, t2, t3, w[0], w[1], w[2], w[3]);
    }
    v0[i] = v[0];
    v1[i] = v[1];
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
  ValuesOf(image, c0, c1, y, x, v0, v1);
}

OPENPOSE_SIMD_CLONES void UpsampledMaps::ValuesAt(const float* const* image, int c0, int c1,
                                                  const int32_t* ys, const int32_t* xs, int n,
                                                  float* v0, float* v1) const {
  int i = 0;
#if OPENPOSE_PAIRS_AT
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (c1 == c0 + 1 && avx2) i = PairsAt(image, c0, ys, xs, n, v0, v1);
#endif
  for (; i < n; ++i) ValuesOf(image, c0, c1, ys[i], xs[i], v0 + i, v1 + i);
}

#if OPENPOSE_PAIRS_AT
namespace {
typedef float Oct __attribute__((vector_size(32)));
typedef int32_t OctIndex __attribute__((vector_size(32)));
typedef float Four __attribute__((vector_size(16)));
// (a, b) as one 8-lane vector.
OPENPOSE_AVX2 inline Oct PairOf(__m128 a, __m128 b) {
  return __builtin_shufflevector(reinterpret_cast<Four>(a), reinterpret_cast<Four>(b), 0, 1, 2,
                                 3, 4, 5, 6, 7);
}
// The 2 floats at p, then the 2 at q.
OPENPOSE_AVX2 inline __m128 Load2(const float* p, const float* q) {
  return _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), reinterpret_cast<const __m64*>(p)),
                      reinterpret_cast<const __m64*>(q));
}
}  // namespace

// Two points at once: ValuesOf's 4-lane vectors of one point side by side in 8 lanes (point A
// in lanes 0-3, B in 4-7), each half with its own point's weights: the same float operations
// lane by lane, half the instructions (with AVX2 only: a CPU without it splits the 8 lanes and
// their shuffles, which cost noisy maps 10-60%). ValuesOf's arithmetic written again: change
// one, change both; tests compare both with the full maps.
OPENPOSE_AVX2 int UpsampledMaps::PairsAt(const float* const* image, int c0, const int32_t* ys,
                                         const int32_t* xs, int n, float* v0, float* v1) const {
  const int num_scales = static_cast<int>(plan_.scales.size());
  const int channels = plan_.channels;
  const bool gpu = plan_.build == OpenPoseBuild::kGpu;
  const size_t per_tap = gpu ? 1 : 4;
  int i = 0;
  for (; i + 2 <= n; i += 2) {
    Oct o = {};
    for (int s = 0; s < num_scales; ++s) {
      const int64_t row_stride = static_cast<int64_t>(plan_.scales[s].width) * channels;
      const int32_t* xi[2];
      const float* wx[2];
      const float* wy[2];
      const float* a[2][4];
      for (int p = 0; p < 2; ++p) {
        xi[p] = &x_[s].index[4 * static_cast<size_t>(xs[i + p])];
        wx[p] = &x_[s].weight[per_tap * xs[i + p]];
        wy[p] = &y_[s].weight[per_tap * ys[i + p]];
        const int32_t* yi = &y_[s].index[4 * static_cast<size_t>(ys[i + p])];
        for (int k = 0; k < 4; ++k) a[p][k] = image[s] + c0 + yi[k] * row_stride;
      }
      Oct low[4], high[4];  // per tap column: rows 0-1, rows 2-3 (A, then B)
      for (int k = 0; k < 4; ++k) {
        const int64_t at = static_cast<int64_t>(xi[0][k]) * channels;
        const int64_t bt = static_cast<int64_t>(xi[1][k]) * channels;
        low[k] = PairOf(Load2(a[0][0] + at, a[0][1] + at), Load2(a[1][0] + bt, a[1][1] + bt));
        high[k] =
            PairOf(Load2(a[0][2] + at, a[0][3] + at), Load2(a[1][2] + bt, a[1][3] + bt));
      }
      const OctIndex upper = {2, 3, 2, 3, 6, 7, 6, 7};
      Oct v;
      if (gpu) {
        const Oct tx = {wx[0][0], wx[0][0], wx[0][0], wx[0][0],
                        wx[1][0], wx[1][0], wx[1][0], wx[1][0]};
        const Oct ty = {wy[0][0], wy[0][0], wy[0][0], wy[0][0],
                        wy[1][0], wy[1][0], wy[1][0], wy[1][0]};
        const CatmullRomTerms<Oct> l = CatmullRomTermsOf(low[0], low[1], low[2], low[3]);
        const CatmullRomTerms<Oct> h = CatmullRomTermsOf(high[0], high[1], high[2], high[3]);
        const Oct rows01 = CatmullRomAt(l.cubic, l.square, l.linear, low[1], tx);
        const Oct rows23 = CatmullRomAt(h.cubic, h.square, h.linear, high[1], tx);
        const Oct r1 = __builtin_shuffle(rows01, upper), r3 = __builtin_shuffle(rows23, upper);
        const CatmullRomTerms<Oct> c = CatmullRomTermsOf(rows01, r1, rows23, r3);
        v = CatmullRomAt(c.cubic, c.square, c.linear, r1, ty);
      } else {
        // Weight k of A in lanes 0-3 and of B in 4-7: one in-lane shuffle of both points'
        // 4 weights.
        const Oct wx8 = PairOf(_mm_loadu_ps(wx[0]), _mm_loadu_ps(wx[1]));
        const Oct wy8 = PairOf(_mm_loadu_ps(wy[0]), _mm_loadu_ps(wy[1]));
        Oct wxk[4], wyk[4];
        for (int k = 0; k < 4; ++k) {
          const OctIndex spread = {k, k, k, k, 4 + k, 4 + k, 4 + k, 4 + k};
          wxk[k] = __builtin_shuffle(wx8, spread);
          wyk[k] = __builtin_shuffle(wy8, spread);
        }
        const Oct rows01 = KeysSumOf(low[0], low[1], low[2], low[3], wxk[0], wxk[1], wxk[2],
                                     wxk[3]);
        const Oct rows23 = KeysSumOf(high[0], high[1], high[2], high[3], wxk[0], wxk[1],
                                     wxk[2], wxk[3]);
        const Oct r1 = __builtin_shuffle(rows01, upper), r3 = __builtin_shuffle(rows23, upper);
        v = KeysSumOf(rows01, r1, rows23, r3, wyk[0], wyk[1], wyk[2], wyk[3]);
      }
      o = MergeScale(o, v, s, num_scales, plan_.build);
    }
    o = MergeEnd(o, num_scales, plan_.build);
    v0[i] = o[0];
    v1[i] = o[1];
    v0[i + 1] = o[4];
    v1[i + 1] = o[5];
  }
  return i;
}
#endif

__attribute__((always_inline)) inline void UpsampledMaps::ValuesOf(
    const float* const* image, int c0, int c1, int y, int x, float* v0, float* v1) const {
  const int num_scales = static_cast<int>(plan_.scales.size());
  const int channels = plan_.channels;
  const bool gpu = plan_.build == OpenPoseBuild::kGpu;
  const size_t per_tap = gpu ? 1 : 4;
  float o[2] = {0.f, 0.f};
  // Scale s's taps at (y, x): weights along x and y, and channel c0's 4 source rows.
  struct Taps {
    const int32_t* xi;
    const float* wx;
    const float* wy;
    const float* a[4];
  };
  auto taps_of = [&](int s) {
    Taps t;
    t.xi = &x_[s].index[4 * static_cast<size_t>(x)];
    t.wx = &x_[s].weight[per_tap * x];
    t.wy = &y_[s].weight[per_tap * y];
    const int32_t* yi = &y_[s].index[4 * static_cast<size_t>(y)];
    const int64_t row_stride = static_cast<int64_t>(plan_.scales[s].width) * channels;
    for (int k = 0; k < 4; ++k) t.a[k] = image[s] + c0 + yi[k] * row_stride;
    return t;
  };
#if defined(__SSE2__)
  if (c1 == c0 + 1) {
    // A limb's x and y PAF: each source pixel's pair is one 8-byte load. Lanes (tap row k,
    // channel e) at 2k + e, rows 0-1 in one 4-lane vector and rows 2-3 in another; the same
    // cubic on each lane, then the vertical one on the lanes of each row.
    typedef float Quad __attribute__((vector_size(16)));
    typedef int32_t QuadIndex __attribute__((vector_size(16)));
    for (int s = 0; s < num_scales; ++s) {
      const Taps t = taps_of(s);
      const int32_t* xi = t.xi;
      const float *wx = t.wx, *wy = t.wy;
      const float* const* a = t.a;
      Quad low[4], high[4];  // per tap column: rows 0-1, rows 2-3
      for (int i = 0; i < 4; ++i) {
        const int64_t at = static_cast<int64_t>(xi[i]) * channels;
        const __m128 zero = _mm_setzero_ps();
        low[i] = reinterpret_cast<Quad>(_mm_loadh_pi(
            _mm_loadl_pi(zero, reinterpret_cast<const __m64*>(a[0] + at)),
            reinterpret_cast<const __m64*>(a[1] + at)));
        high[i] = reinterpret_cast<Quad>(_mm_loadh_pi(
            _mm_loadl_pi(zero, reinterpret_cast<const __m64*>(a[2] + at)),
            reinterpret_cast<const __m64*>(a[3] + at)));
      }
      const Quad rows01 =
          gpu ? CatmullRomOf(low[0], low[1], low[2], low[3], wx[0])
              : KeysSumOf(low[0], low[1], low[2], low[3], wx[0], wx[1], wx[2], wx[3]);
      const Quad rows23 =
          gpu ? CatmullRomOf(high[0], high[1], high[2], high[3], wx[0])
              : KeysSumOf(high[0], high[1], high[2], high[3], wx[0], wx[1], wx[2], wx[3]);
      const QuadIndex upper = {2, 3, 2, 3};
      const Quad r1 = __builtin_shuffle(rows01, upper), r3 = __builtin_shuffle(rows23, upper);
      const Quad v = gpu ? CatmullRomOf(rows01, r1, rows23, r3, wy[0])
                         : KeysSumOf(rows01, r1, rows23, r3, wy[0], wy[1], wy[2], wy[3]);
      o[0] = MergeScale(o[0], v[0], s, num_scales, plan_.build);
      o[1] = MergeScale(o[1], v[1], s, num_scales, plan_.build);
    }
    *v0 = MergeEnd(o[0], num_scales, plan_.build);
    *v1 = MergeEnd(o[1], num_scales, plan_.build);
    return;
  }
#endif
  for (int s = 0; s < num_scales; ++s) {
    const Taps t = taps_of(s);
    const int32_t* xi = t.xi;
    const float *wx = t.wx, *wy = t.wy;
    const float* const* a = t.a;  // channel c0's tap rows; c1's are c1 - c0 further
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

void UpsampledMaps::TileBounds(const float* const* image, int row_begin, int row_end,
                               const float* decided_below, float* bounds,
                               std::vector<float>* scratch) const {
  const int channels = plan_.channels;
  const int nt = grid_x_.count;
  // The tiles the |value| bound leaves open; the signed bounds for those, over the band at once
  // where most are (noise), else over each tile row's runs of them.
  std::vector<uint8_t> open(static_cast<size_t>(row_end - row_begin) * nt);
  // Per channel: B opens a tile when within [low, high] (the conditions above, as one test).
  std::vector<float> low(channels), high(channels);
  for (int c = 0; c < channels; ++c) {
    const float d = decided_below[c];
    low[c] = d == d ? d : -INFINITY;
    high[c] = d == d && d > 0.f ? kNearThreshold * d : INFINITY;
  }
  int64_t count = 0;
  auto count_open = [&](int begin, int end) {
    for (int i = begin; i < end; ++i) {
      for (int j = 0; j < nt; ++j) {
        open[static_cast<size_t>(i - row_begin) * nt + j] =
            AnyWithin(bounds + (static_cast<int64_t>(i) * nt + j) * channels, low.data(),
                      high.data(), channels);
        count += open[static_cast<size_t>(i - row_begin) * nt + j];
      }
    }
  };
  // Noise shows on the first tile row already: then the signed bounds of every tile, without
  // B on the others (the signed bounds hold alone; B rarely narrows them there).
  MagnitudeBounds(image, row_begin, row_begin + 1, bounds, scratch);
  count_open(row_begin, row_begin + 1);
  if (row_end - row_begin > 1 && 10 * count > 7 * static_cast<int64_t>(nt)) {
    SignedBounds(image, row_begin, row_end, 0, nt, channels, row_begin + 1, bounds, scratch);
    return;
  }
  if (row_end - row_begin > 1) {
    MagnitudeBounds(image, row_begin + 1, row_end, bounds, scratch);
    count_open(row_begin + 1, row_end);
  }
  if (count == 0) return;
  if (10 * count > 7 * static_cast<int64_t>(open.size())) {
    SignedBounds(image, row_begin, row_end, 0, nt, channels, row_end, bounds, scratch);
    return;
  }
  // Runs of open tiles: only the channels that decide (the others keep [-B, B]).
  int deciding = 0;
  for (int c = 0; c < channels; ++c) {
    if (decided_below[c] < INFINITY) deciding = c + 1;
  }
  for (int i = row_begin; i < row_end; ++i) {
    const uint8_t* row = &open[static_cast<size_t>(i - row_begin) * nt];
    for (int j = 0; j < nt;) {
      if (!row[j]) {
        ++j;
        continue;
      }
      int end = j;
      while (end < nt && row[end]) ++end;
      SignedBounds(image, i, i + 1, j, end, deciding, i + 1, bounds, scratch);
      j = end;
    }
  }
}

OPENPOSE_SIMD_CLONES void UpsampledMaps::MagnitudeBounds(const float* const* image,
                                                         int row_begin, int row_end,
                                                         float* bounds,
                                                         std::vector<float>* scratch) const {
  const int channels = plan_.channels;
  const int nt = grid_x_.count;
  const int num_scales = static_cast<int>(plan_.scales.size());
  float* hi_begin = bounds + static_cast<int64_t>(row_begin) * nt * channels;
  float* lo_begin = hi_begin + bounds_plane();
  const int64_t count = static_cast<int64_t>(row_end - row_begin) * nt * channels;
  // A tile row's bounds, [tile column][channel], and a source row's sums over each tile's
  // columns in the same layout: the sum along y is one long loop over a tile row (scale 0
  // writes the bounds, the others add to them).
  const int64_t row_size = static_cast<int64_t>(nt) * channels;
  for (int s = 0; s < num_scales; ++s) {
    const Axis& ax = x_[s];
    const Axis& ay = y_[s];
    const int width = plan_.scales[s].width;
    // The sums of the source rows a tile row reads, kept in a ring while the tile rows move
    // down (tile_first and tile_last never decrease): working memory that stays in the cache,
    // each source row's |v| and sums computed once.
    const int ring = ay.MostSources(row_begin, row_end);
    const size_t needed = static_cast<size_t>(ring + 1) * row_size +
                          static_cast<size_t>(width) * channels;
    if (scratch->size() < needed) scratch->resize(needed);
    float* sums = scratch->data();
    float* magnitudes = sums + static_cast<size_t>(ring) * row_size;  // one source row's |v|
    const int64_t row_stride = static_cast<int64_t>(width) * channels;
    // The rows WeightedSum adds: as many as a tile's sources along either axis.
    std::vector<const float*> columns(std::max(ring, ax.MostSources(0, nt)));
    int next = ay.tile_first[row_begin];  // the next source row to sum
    for (int i = row_begin; i < row_end; ++i) {
      for (; next <= ay.tile_last[i]; ++next) {
        const float* src = image[s] + next * row_stride;
        for (int64_t e = 0; e < row_stride; ++e) magnitudes[e] = Magnitude(src[e]);
        float* m_row = sums + static_cast<int64_t>(next % ring) * row_size;
        for (int j = 0; j < nt; ++j) {
          const int first = ax.tile_first[j];
          const int n_cols = ax.tile_last[j] - first + 1;
          for (int k = 0; k < n_cols; ++k) {
            columns[k] = magnitudes + static_cast<int64_t>(first + k) * channels;
          }
          WeightedSum(columns.data(), &ax.weight_bound[ax.tile_weights[j]], n_cols, channels,
                      m_row + static_cast<int64_t>(j) * channels);
        }
      }
      const int n_rows = ay.tile_last[i] - ay.tile_first[i] + 1;
      for (int k = 0; k < n_rows; ++k) {
        columns[k] = sums + static_cast<int64_t>((ay.tile_first[i] + k) % ring) * row_size;
      }
      float* b = hi_begin + static_cast<int64_t>(i - row_begin) * row_size;
      if (s == 0) {
        WeightedSum(columns.data(), &ay.weight_bound[ay.tile_weights[i]], n_rows, row_size, b);
      } else {
        float* one = sums + static_cast<size_t>(ring) * row_size + width * channels;
        WeightedSum(columns.data(), &ay.weight_bound[ay.tile_weights[i]], n_rows, row_size,
                    one);
        for (int64_t e = 0; e < row_size; ++e) b[e] += one[e];
      }
    }
  }
  // The merge divides the sum of the scales by their count.
  const float factor = kFinalMargin / static_cast<float>(num_scales);
  for (int64_t e = 0; e < count; ++e) {
    hi_begin[e] = hi_begin[e] * factor + kAbsoluteMargin;
    lo_begin[e] = -hi_begin[e];
  }
}

OPENPOSE_SIMD_CLONES void UpsampledMaps::SignedBounds(const float* const* image, int row_begin,
                                                      int row_end, int col_begin, int col_end,
                                                      int used, int fresh_begin, float* bounds,
                                                      std::vector<float>* scratch) const {
  // `channels`: the channels computed, [0, used), the stride of the working rows; `stride`: the
  // net output's and the bounds'.
  const int stride = plan_.channels;
  const int channels = used;
  const int nt = grid_x_.count;
  const int nj = col_end - col_begin;
  const int num_scales = static_cast<int>(plan_.scales.size());
  const int64_t plane = bounds_plane();
  const size_t row_size = static_cast<size_t>(nj) * channels;
  const int64_t count = static_cast<int64_t>(row_end - row_begin) * row_size;
  // Working memory, in the cache: per scale, the intervals of the source rows the current tile
  // row reads over each tile's columns (`upper`, `lower`: [tile column][channel] rows, in a ring
  // while the tile rows move down: tile_first and tile_last never decrease); one source row's
  // standard class intervals by their first tap ([tap][channel]) and the others' by class; one
  // row class's intervals over the tile columns and their union over a tile row. Several scales
  // add up their tile rows' intervals and magnitudes over the whole rectangle.
  int ring = 1;
  size_t classes_needed = 0, width_needed = 0;
  for (int s = 0; s < num_scales; ++s) {
    ring = std::max(ring, y_[s].MostSources(row_begin, row_end));
    classes_needed = std::max(classes_needed, x_[s].classes.size());
    width_needed = std::max<size_t>(width_needed, plan_.scales[s].width);
  }
  const int64_t summed = num_scales > 1 ? count : 0;
  const size_t needed = 2 * static_cast<size_t>(ring) * row_size +
                        2 * (width_needed + classes_needed) * channels + 4 * row_size +
                        3 * static_cast<size_t>(summed);
  if (scratch->size() < needed) scratch->resize(needed);
  float* upper = scratch->data();
  float* lower = upper + ring * row_size;
  float* slide_lo = lower + ring * row_size;
  float* slide_hi = slide_lo + width_needed * channels;
  float* class_lo = slide_hi + width_needed * channels;
  float* class_hi = class_lo + classes_needed * channels;
  float* one_lo = class_hi + classes_needed * channels;
  float* one_hi = one_lo + row_size;
  float* tile_lo = one_hi + row_size;
  float* tile_hi = tile_lo + row_size;
  float* sum_lo = tile_hi + row_size;
  float* sum_hi = sum_lo + summed;
  float* magnitude = sum_hi + summed;
  // Tile row i's intervals of scale s (tile_lo, tile_hi) into the bounds: summed over the
  // scales as the merge sums them, with the magnitudes for its rounding (several scales), then
  // after the last scale merged and intersected with the bounds already there (both hold; from
  // fresh_begin on, there are none).
  auto finish_row = [&](int s, int i) {
    if (num_scales > 1) {
      const int64_t at = static_cast<int64_t>(i - row_begin) * row_size;
      for (size_t e = 0; e < row_size; ++e) {
        const float m = Max(std::fabs(tile_hi[e]), std::fabs(tile_lo[e]));
        sum_hi[at + e] = s == 0 ? tile_hi[e] : sum_hi[at + e] + tile_hi[e];
        sum_lo[at + e] = s == 0 ? tile_lo[e] : sum_lo[at + e] + tile_lo[e];
        magnitude[at + e] = s == 0 ? m : magnitude[at + e] + m;
      }
      if (s + 1 < num_scales) return;
    }
    // The merge: the sum times 1 / S (or / S), with its rounding.
    const float inverse = 1.f / static_cast<float>(num_scales);
    const bool fresh = i >= fresh_begin;
    const int64_t from_row = static_cast<int64_t>(i - row_begin) * row_size;
    for (int j = col_begin; j < col_end; ++j) {
      float* hi_out = bounds + (static_cast<int64_t>(i) * nt + j) * stride;
      float* lo_out = hi_out + plane;
      const int64_t from = static_cast<int64_t>(j - col_begin) * channels;
      for (int c = 0; c < channels; ++c) {
        float hi = tile_hi[from + c], lo = tile_lo[from + c];
        if (num_scales > 1) {
          const float allowance =
              static_cast<float>(kRelativeMargin) * magnitude[from_row + from + c];
          hi = sum_hi[from_row + from + c] * inverse + allowance;
          lo = sum_lo[from_row + from + c] * inverse - allowance;
        }
        hi_out[c] = fresh ? hi + kAbsoluteMargin : Min(hi_out[c], hi + kAbsoluteMargin);
        lo_out[c] = fresh ? lo - kAbsoluteMargin : Max(lo_out[c], lo - kAbsoluteMargin);
      }
    }
  };
  for (int s = 0; s < num_scales; ++s) {
    const Axis& ax = x_[s];
    const Axis& ay = y_[s];
    const int width = plan_.scales[s].width;
    const int64_t row_stride = static_cast<int64_t>(width) * stride;
    // The column classes of the rectangle, and the first taps of its standard ones (evaluated
    // at once when every channel is: their values are then one strided view of the row).
    const int qx_begin = ax.tile_classes[col_begin];
    const int qx_end = ax.tile_classes_end[col_end - 1];
    const bool slide = channels == stride;
    int a_first = width, a_last = -1;
    for (int q = qx_begin; q < qx_end; ++q) {
      if (!ax.classes[q].standard || !slide) continue;
      a_first = std::min(a_first, ax.classes[q].tap[0]);
      a_last = std::max(a_last, ax.classes[q].tap[0]);
    }
    // Source row r's intervals over each tile column, into its ring slot.
    auto source_row = [&](int r) {
      const float* src = image[s] + r * row_stride;
      float* lo_row = lower + (r % ring) * row_size;
      float* hi_row = upper + (r % ring) * row_size;
      // Every standard class at once, by its first tap a (taps a .. a+3 are the values a*C + e
      // .. (a+3)*C + e: one long vector loop), with the axis's largest spread and allowance; the
      // others one by one.
      if (a_first <= a_last) {
        const float* at = src + static_cast<int64_t>(a_first) * channels;
        ClassIntervalsOf<true, true, false>(at, at + channels, at + 2 * channels,
                                            at + 3 * channels, at, at, at, at, kStandardSigns,
                                            true, ax.standard_spread, ax.standard_slack,
                                            static_cast<int64_t>(a_last - a_first + 1) * channels,
                                            slide_lo, slide_hi);
      }
      for (int q = qx_begin; q < qx_end; ++q) {
        const TapClass& k = ax.classes[q];
        if (k.standard && slide) continue;
        TapValues taps;
        for (int t = 0; t < 4; ++t) taps.lo[t] = taps.hi[t] = src + k.tap[t] * stride;
        ClassIntervals<true>(taps, k.pos, k.has_neg, k.standard, k.spread, k.slack, channels,
                             class_lo + (q - qx_begin) * channels,
                             class_hi + (q - qx_begin) * channels);
      }
      // Each tile column's union of its classes.
      for (int j = col_begin; j < col_end; ++j) {
        const size_t at = static_cast<size_t>(j - col_begin) * channels;
        for (int q = ax.tile_classes[j]; q < ax.tile_classes_end[j]; ++q) {
          const TapClass& k = ax.classes[q];
          const bool slid = k.standard && slide;
          const float* lo = slid ? slide_lo + (k.tap[0] - a_first) * channels
                                 : class_lo + (q - qx_begin) * channels;
          const float* hi = slid ? slide_hi + (k.tap[0] - a_first) * channels
                                 : class_hi + (q - qx_begin) * channels;
          Widen(lo, hi, channels, q == ax.tile_classes[j], lo_row + at, hi_row + at);
        }
      }
    };
    int next = ay.tile_first[row_begin];  // the next source row to compute
    for (int i = row_begin; i < row_end; ++i) {
      for (; next <= ay.tile_last[i]; ++next) source_row(next);
      // Each row class of the tile row over its tile columns (its 4 tap rows are ring slots),
      // widened into the tile row (a class across two tile rows: computed for each).
      for (int q = ay.tile_classes[i]; q < ay.tile_classes_end[i]; ++q) {
        const TapClass& k = ay.classes[q];
        TapValues taps;
        for (int t = 0; t < 4; ++t) {
          taps.lo[t] = lower + (k.tap[t] % ring) * row_size;
          taps.hi[t] = upper + (k.tap[t] % ring) * row_size;
        }
        const bool first = q == ay.tile_classes[i];
        ClassIntervals<false>(taps, k.pos, k.has_neg, k.standard, k.spread, k.slack,
                              static_cast<int64_t>(row_size), first ? tile_lo : one_lo,
                              first ? tile_hi : one_hi);
        if (!first) Widen(one_lo, one_hi, row_size, false, tile_lo, tile_hi);
      }
      finish_row(s, i);
    }
  }
}

OPENPOSE_SIMD_CLONES UpsampledMaps::Box UpsampledMaps::ExceedingBox(ChannelRows* rows, int i,
                                                                    int j,
                                                                    float threshold) const {
  const int y0 = grid_y_.Begin(i), y1 = grid_y_.End(i);
  const int x0 = grid_x_.Begin(j), nx = grid_x_.End(j) - x0;
  // The box grows over the values found above the threshold (or NaN); empty: none.
  Box box{y1, y0, x0 + nx, x0};
  auto add = [&box](int y, int x_first, int x_last) {
    box.y0 = std::min(box.y0, y);
    box.y1 = std::max(box.y1, y + 1);
    box.x0 = std::min(box.x0, x_first);
    box.x1 = std::max(box.x1, x_last + 1);
  };
  if (plan_.scales.size() != 1 || nx < kLanes) {
    // Several scales to merge, or a border tile narrower than a vector: Rect's values.
    float tile[kTile * kTile];
    Rect(rows, y0, y1, x0, x0 + nx, tile, kTile);
    for (int y = 0; y < y1 - y0; ++y) {
      for (int x = 0; x < nx; ++x) {
        if (!(tile[y * kTile + x] <= threshold)) add(y0 + y, x0 + x, x0 + x);
      }
    }
    return box.y0 < box.y1 ? box : Box{};
  }
  const Axis& ay = y_[0];
  // (One tile column: MissingRows' run search cost noisy maps 2-3% here, on every open tile.)
  for (int r = ay.tile_first[i]; r <= ay.tile_last[i] && !rows->all_done; ++r) {
    if (!rows->done[done_offset_[0] + static_cast<int64_t>(r) * grid_x_.count + j]) {
      Horizontal(rows, 0, r, j, j + 1);
    }
  }
  // Rect's arithmetic (its single-scale paths: the same operations, so the same values; change
  // one, change both), compared as they are made instead of stored: a lane is set where a
  // value is > threshold or NaN.
  const Lanes limit = Lanes{} + threshold;
  const int tw = plan_.target_width;
  const float* base = rows->rows.data() + row_offset_[0] + x0;
  const bool gpu = plan_.build == OpenPoseBuild::kGpu;
  // The tile's rows class by class (the same taps, the same weight signs).
  for (int q = ay.tile_classes[i]; q < ay.tile_classes_end[i]; ++q) {
    const TapClass& k = ay.classes[q];
    const int y = std::max(y0, ay.class_begin[q]), end = std::min(y1, ay.class_end[q]);
    if (y >= end) continue;
    const float* h0 = base + static_cast<int64_t>(k.tap[0]) * tw;
    const float* h1 = base + static_cast<int64_t>(k.tap[1]) * tw;
    const float* h2 = base + static_cast<int64_t>(k.tap[2]) * tw;
    const float* h3 = base + static_cast<int64_t>(k.tap[3]) * tw;
    // First the class's bound over these columns' exact horizontal values (ClassIntervalsOf's
    // upper end along y, standard classes): 8 columns none of whose values can pass skip the
    // rows' values (noise: most of a tile's).
    const bool bounded = k.standard;
    // (Inlined: a lambda is not cloned for AVX2 with the function around it.)
    OverLanes(nx, [&](int at) __attribute__((always_inline)) {
      const Lanes v0 = LoadLanes(h0 + at), v1 = LoadLanes(h1 + at);
      const Lanes v2 = LoadLanes(h2 + at), v3 = LoadLanes(h3 + at);
      if (bounded && AtMost(v0, v1, v2, v3, k.spread, k.slack, limit)) return;
      LaneFlags above = {};
      if (gpu) {
        const CatmullRomTerms<Lanes> terms = CatmullRomTermsOf(v0, v1, v2, v3);
        for (int r = y; r < end; ++r) {
          above |=
              ~(CatmullRomAt(terms.cubic, terms.square, terms.linear, v1, ay.weight[r]) <= limit);
        }
      } else {
        for (int r = y; r < end; ++r) {
          const float* w = &ay.weight[4 * static_cast<size_t>(r)];
          above |= ~(KeysSumOf(v0, v1, v2, v3, w[0], w[1], w[2], w[3]) <= limit);
        }
      }
      // The block (the class's rows, these 8 columns) where a value passed: one test a block,
      // not a row, nor a lane (each cost more than the values it saved computing).
      if (AnyLane(above)) {
        add(y, x0 + at, x0 + at + kLanes - 1);
        add(end - 1, x0 + at, x0 + at + kLanes - 1);
      }
    });
  }
  return box.y0 < box.y1 ? box : Box{};
}

}  // namespace openpose_tf
