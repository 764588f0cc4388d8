// OpenPose's NMS and PAF scoring straight from the network output, without the upsampled maps:
// the same results as NmsImage / ScorePairs on ResizeAndMerge's output, bit for bit, reading
// exact upsampled values (UpsampledMaps) only where they can matter:
// - NMS: a tile whose upper bound is <= the threshold holds no peak (a peak is > threshold);
//   where the bound (TileBounds) passes it only just, the tile's exact values (ExceedingBox)
//   show which of its 8x8 blocks hold a value above it (noise: none, or a few), so only the
//   other tiles, or those blocks' box (and a 1-pixel ring around them, for the neighbour test)
//   are computed and peak-tested, band by band of tile rows in raster order; each peak's 7x7
//   refinement window comes from that band where it lies inside, else is computed on its own.
//   The same IsPeakAt / RefinePeakAt as the dense NMS.
// - PAF scores: PafScoreWith with a sample that reads the two exact PAF values at the sample
//   pixel, unless the tile bounds prove u . PAF <= inter_threshold there (a sample that cannot
//   count), in which case it reads nothing. A row of pairs (one A) first reads sample 0, at A's
//   own pixel for every B (once), then each pair's first probe and, where the pair is still
//   open, its second and third, placed (and bound-tested) in vectors with PafScoreWith's
//   arithmetic; the pairs whose failures reject them (most wrong pairs of a crowd or of noise)
//   get its rejected score without its loop, and only the others go through it.
#ifndef OPENPOSE_TF_KERNELS_CORE_SPARSE_POSTPROCESS_H_
#define OPENPOSE_TF_KERNELS_CORE_SPARSE_POSTPROCESS_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "kernels/core/nms.h"
#include "kernels/core/paf_score.h"
#include "kernels/core/upsampled_maps.h"

namespace openpose_tf {

// One thread's buffers, kept across channels and limbs: nothing is allocated per pixel or peak.
struct SparseWorkspace {
  UpsampledMaps::ChannelRows rows;  // the channel's horizontal rows
  UpsampledMaps::ChannelRows limb_rows[2];  // a limb's two PAF channels' (SparseScoreLimb)
  std::vector<float> band;          // (kTile + 2) rows of the target width
  std::vector<int32_t> columns;     // a row's peaks (RowPeaks)
  std::vector<UpsampledMaps::Box> runs;      // a band's pixels to peak-test, in order
  std::vector<UpsampledMaps::Box> computed;  // and the values computed for them (+ a ring)
  std::vector<float> scratch;       // TileBounds'
};

// The columns x in [x0, x1) of `row` that pass IsPeakAt's strict interior test (v > threshold
// and v > each of its 8 neighbours in `up`, `row` and `down`; NaN: no), in order, into xs;
// returns how many. Reads the three rows at columns x0 - 1 .. max(x1, limit): on x86-64 8
// (AVX2) or 4 (SSE2) columns at a time while they end by `limit`, dropping what it reads past
// x1. RowPeaksScalar: the portable version (RowPeaks itself on other CPUs).
int RowPeaks(const float* up, const float* row, const float* down, int x0, int x1, int limit,
             float threshold, int32_t* xs);
int RowPeaksScalar(const float* up, const float* row, const float* down, int x0, int x1,
                   float threshold, int32_t* xs);
#if defined(__x86_64__)
// RowPeaks on x86-64 CPUs without AVX2: 4 columns at a time (SSE2, which all have).
int RowPeaksSse2(const float* up, const float* row, const float* down, int x0, int x1, int limit,
                 float threshold, int32_t* xs);
#endif

// TileBounds' decided_below for the sparse path: the NMS threshold for the part channels
// [0, num_parts), +inf for the others.
std::vector<float> SparseDecidedBelow(int channels, int num_parts, const NmsParams& nms);

// How the sparse NMS decides a tile (i, j) of channel c (started in `rows`): skipped because
// its bound or its own values show that no value exceeds `threshold`, or computed (`box`, where
// given: the whole tile, or where its own values show the ones above the threshold) with a ring
// and peak-tested.
enum class SparseStage { kBound, kValues, kComputed };
SparseStage SparseTileStage(const UpsampledMaps& maps, UpsampledMaps::ChannelRows* rows,
                            const float* bounds, int c, int i, int j, float threshold,
                            UpsampledMaps::Box* box = nullptr);

// NmsImage(ResizeAndMerge(image)) for channel c of the net output (its peaks land at index c
// there): peaks M x 3 of that channel (rows past the count zeroed) and its count.
// image: one image's net outputs per scale (UpsampledMaps::Rect); bounds: its TileBounds.
void SparseNmsChannel(const UpsampledMaps& maps, const float* const* image, const float* bounds,
                      int c, const NmsParams& params, float* peaks, int32_t* count,
                      SparseWorkspace* workspace);

// ScorePairs(ResizeAndMerge(image)) for limb l: pair_scores points at that limb's K x K block.
// paf_channels: 2L channels of the net output (limb l's x and y PAF at 2l and 2l+1); peaks,
// counts, max_peaks, k, pairs as ScorePairs. A limb with `rows_from` candidate pairs or more
// (noise: thousands of samples) reads its samples from its two channels' horizontal rows,
// computed first into `workspace` (one scale only): the vertical pass alone, 8 source values a
// sample instead of 32, after about 20 us a limb for the rows; and it reads them without the
// tile bounds' test (about the cost of such a sample, and noise leaves most samples open).
// Default: kLimbRowsPairs (30 noisy BODY_25 people 10-15% faster; 10 people about the
// break-even).
constexpr int64_t kLimbRowsPairs = 2000;
void SparseScoreLimb(const UpsampledMaps& maps, const float* const* image, const float* bounds,
                     const float* peaks, const int32_t* counts, int max_peaks, int64_t k,
                     const int32_t* pairs, const int32_t* paf_channels,
                     const PafScoreParams& params, int l, float* pair_scores,
                     SparseWorkspace* workspace, int64_t rows_from = kLimbRowsPairs);

// How the caller spreads work over threads: run fn(begin, end, workspace) over [0, units) in
// blocks, each with a workspace of its own (units are independent, so no result depends on the
// blocks). cost_per_unit: rough cycles of one unit. Returns false when a block failed (the
// caller keeps why, e.g. a failed allocation); the work then stops.
using SparseBlockFn = std::function<void(int64_t begin, int64_t end, SparseWorkspace* workspace)>;
using ParallelFor =
    std::function<bool(int64_t units, int64_t cost_per_unit, const SparseBlockFn& fn)>;

// A ParallelFor that runs everything on the calling thread, in one block.
bool SerialFor(int64_t units, int64_t cost_per_unit, const SparseBlockFn& fn);

// The connector's side of the fused op: L limbs, their part pairs (2L) and PAF channels (2L, of
// the net output), and the line-score thresholds.
struct SparseLimbs {
  int num_pairs = 0;
  const int32_t* pairs = nullptr;
  const int32_t* paf_channels = nullptr;
  PafScoreParams params;
};

// One image of OpenPose>PeaksAndPafScores, the three stages in order, each spread by
// parallel_for: every tile's bounds (into `bounds`: 2 x maps.bounds_plane() floats), the
// sparse NMS of the part channels [0, num_parts) (peaks: num_parts x M x 3, counts: num_parts;
// M = nms.max_peaks), then the sparse PAF score of every limb into `pair_scores`, resized to
// L x k x k with k (also returned in *k) the largest count. Returns false where parallel_for did.
bool SparsePeaksAndPafScores(const UpsampledMaps& maps, const float* const* image, float* bounds,
                             const NmsParams& nms, int num_parts, const SparseLimbs& limbs,
                             float* peaks, int32_t* counts, std::vector<float>* pair_scores,
                             int64_t* k, const ParallelFor& parallel_for);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_SPARSE_POSTPROCESS_H_
