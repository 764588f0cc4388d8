// PAF line score of candidate limbs (OpenPose's getScoreAB / process in bodyPartConnectorBase),
// docs/algorithms.md#paf-line-score: the dense, parallel part of the body part connector.
#ifndef OPENPOSE_TF_KERNELS_CORE_PAF_SCORE_H_
#define OPENPOSE_TF_KERNELS_CORE_PAF_SCORE_H_

#include <cmath>
#include <cstdint>

#include "kernels/core/map_layout.h"

namespace openpose_tf {

struct PafScoreParams {
  float inter_threshold = 0.05f;            // a sample counts if u . PAF > this (strict)
  float inter_min_above_threshold = 0.95f;  // fraction of samples that must count (strict)
  float nms_threshold = 0.05f;              // the close-pair rescue scores nms_threshold + 1e-6
};

// OpenPose's positiveIntRound (int(v + 0.5f)) followed by its clamp to [0, hi]. Defined for
// every float: NaN and v <= 0 give 0, v >= hi gives hi (OpenPose's cast would be undefined).
// Branch-free, so that loops over pairs run as vectors (SparseScoreLimb).
OPENPOSE_HOST_DEVICE inline int RoundClamp(float v, int hi) {
  const bool inside = (v > 0.f) & (v < static_cast<float>(hi));  // NaN: outside
  const int r = static_cast<int>((inside ? v : 0.f) + 0.5f);
  return inside ? (r < hi ? r : hi) : (v > 0.f ? hi : 0);
}

// The pieces of PafScoreWith below, shared with the sparse path's vectorised first probes.
// N, the samples of a limb from A to A + (dx, dy): clamp(round(sqrt(5 * max(|dx|, |dy|))), 5, 25)
// (25 for NaN).
OPENPOSE_HOST_DEVICE inline int PafSampleCount(float dx, float dy) {
  const float dmax = fabsf(dx) > fabsf(dy) ? fabsf(dx) : fabsf(dy);
  const float root = sqrtf(5 * dmax);
  const int rounded = static_cast<int>((root < 25.f ? root : 25.f) + 0.5f);
  return rounded < 5 ? 5 : rounded;
}
// The sample read k-th (k < 3) of N: the middle, then the quarters (for a wrong pair, the samples
// farthest from both peaks, usually in the background).
OPENPOSE_HOST_DEVICE inline int PafProbe(int n, int k) {
  return k == 0 ? n / 2 : (k == 1 ? n / 4 : (3 * n) / 4);
}
// Whether `failures` of the N samples not counting reject the limb (more than
// inter_min_above_threshold of them must count).
OPENPOSE_HOST_DEVICE inline bool PafRejects(int n, int failures, const PafScoreParams& p) {
  return !(static_cast<float>(n - failures) / static_cast<float>(n) >
           p.inter_min_above_threshold);
}
// The score of a rejected limb of length `norm` in an h x w map: the close-pair rescue (peaks
// closer than PafCloseDistance) or 0.
OPENPOSE_HOST_DEVICE inline float PafCloseDistance(int h, int w) {
  return sqrtf(static_cast<float>(static_cast<int64_t>(w) * h)) / 150;
}
OPENPOSE_HOST_DEVICE inline float PafRejectedScoreWithin(float norm, float close,
                                                         const PafScoreParams& p) {
  return norm < close ? static_cast<float>(p.nms_threshold + 1e-6) : 0.f;
}
OPENPOSE_HOST_DEVICE inline float PafRejectedScore(float norm, int h, int w,
                                                   const PafScoreParams& p) {
  return PafRejectedScoreWithin(norm, PafCloseDistance(h, w), p);
}

// Score of the limb from (ax, ay) to (bx, by), peak positions in map pixels with the NMS offset,
// in an h x w map. `sample(py, px, ux, uy)` returns ux * paf_x + uy * paf_y at the integer pixel
// (px, py) in that float order (PafSample), or any value <= inter_threshold (e.g. -inf) where the
// caller has proved that the sample cannot count.
// N = clamp(round(sqrt(5 * max(|dx|, |dy|))), 5, 25) samples at A + m * (d / N), m = 0..N-1
// (B excluded), each rounded and clamped into the map. Returns the mean of the samples above
// inter_threshold if more than inter_min_above_threshold of them are (0 if that mean is not
// finite); else, for peaks closer than
// sqrt(W*H)/150, nms_threshold + 1e-6 (the "very close keypoints" rescue); else 0 (rejected).
// float32 throughout, in OpenPose's order.
// Not in OpenPose, the same result: samples are visited middle and quarters first and the walk
// stops as soon as too many have failed for the limb to be accepted. Which samples count decides
// acceptance, the rejected branch depends on the distance alone, and an accepted limb's mean is
// summed in sample order.
template <class Sample>
OPENPOSE_HOST_DEVICE inline float PafScoreWith(const Sample& sample, int h, int w, float ax,
                                               float ay, float bx, float by,
                                               const PafScoreParams& p) {
  const float dx = bx - ax;
  const float dy = by - ay;
  // Non-finite peaks (from NaN/inf maps) are never connected.
  if (!(dx - dx == 0.f) || !(dy - dy == 0.f) || !(ax - ax == 0.f) || !(ay - ay == 0.f)) return 0.f;
  const int n = PafSampleCount(dx, dy);
  const float norm = sqrtf(dx * dx + dy * dy);
  if (!(norm > 1e-6)) return 0.f;  // coincident peaks
  const float ux = dx / norm;
  const float uy = dy / norm;
  const float step_x = dx / n;
  const float step_y = dy / n;
  float scores[25];
  bool rejected = false;
  int failures = 0;
  // Probes first (PafProbe), then the rest in order.
  uint32_t visited = 0;
  for (int k = 0; k < n + 3 && !rejected; ++k) {
    const int m = k < 3 ? PafProbe(n, k) : k - 3;
    if (visited & (1u << m)) continue;
    visited |= 1u << m;
    const int px = RoundClamp(ax + m * step_x, w - 1);
    const int py = RoundClamp(ay + m * step_y, h - 1);
    scores[m] = sample(py, px, ux, uy);
    if (!(scores[m] > p.inter_threshold)) {
      ++failures;
      rejected = PafRejects(n, failures, p);  // the same test as below
    }
  }
  if (!rejected) {
    float sum = 0.f;
    int count = 0;
    for (int m = 0; m < n; ++m) {
      if (scores[m] > p.inter_threshold) {
        sum += scores[m];
        ++count;
      }
    }
    if (!PafRejects(n, n - count, p)) {
      const float mean = sum / static_cast<float>(count);
      // Not in OpenPose: infinite PAF values (or sums that overflow) would give an infinite
      // score and infinite person scores; such a limb is rejected instead.
      return mean - mean == 0.f ? mean : 0.f;
    }
  }
  return PafRejectedScore(norm, h, w, p);
}

// The sample of two strided PAF maps (element (y, x) at [y * ys + x * xs]).
struct PafSample {
  const float* paf_x;
  const float* paf_y;
  int64_t ys;
  int64_t xs;
  OPENPOSE_HOST_DEVICE float operator()(int py, int px, float ux, float uy) const {
    const int64_t at = py * ys + px * xs;
    return ux * paf_x[at] + uy * paf_y[at];
  }
};

OPENPOSE_HOST_DEVICE inline float PafScore(const float* paf_x, const float* paf_y, int64_t ys,
                                           int64_t xs, int h, int w, float ax, float ay, float bx,
                                           float by, const PafScoreParams& p) {
  return PafScoreWith(PafSample{paf_x, paf_y, ys, xs}, h, w, ax, ay, bx, by, p);
}

// Scores every candidate pair of limbs [l_begin, l_end) of one image.
// pafs:        one image's PAF maps ([H, W, 2L] or any layout), limb l's maps at channels
//              paf_indices[2l] (x) and paf_indices[2l+1] (y).
// peaks:       P x M x 3 (x, y, score); counts: P, each in [0, min(M, K)].
// pairs:       2L part indices (A, B) per limb.
// pair_scores: L x K x K (K: the largest count, not M, so the work and the memory follow the
//              peaks found); [l][a][b] = PafScore(A_a, B_b), -1 where a or b is past the count.
void ScorePairs(const float* pafs, const MapLayout& layout, const float* peaks,
                const int32_t* counts, int max_peaks, int64_t k, const int32_t* pairs,
                const int32_t* paf_indices, const PafScoreParams& params, int l_begin, int l_end,
                float* pair_scores);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_PAF_SCORE_H_
