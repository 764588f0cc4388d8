#include "kernels/core/paf_score.h"

namespace openpose_tf {

void ScorePairs(const float* pafs, const MapLayout& layout, const float* peaks,
                const int32_t* counts, int max_peaks, int64_t k, const int32_t* pairs,
                const int32_t* paf_indices, const PafScoreParams& params, int l_begin, int l_end,
                float* pair_scores) {
  const int64_t k2 = k * k;
  for (int l = l_begin; l < l_end; ++l) {
    float* scores = pair_scores + l * k2;
    for (int64_t i = 0; i < k2; ++i) scores[i] = -1.f;
    const int part_a = pairs[2 * l];
    const int part_b = pairs[2 * l + 1];
    const float* paf_x = pafs + paf_indices[2 * l] * layout.c_stride;
    const float* paf_y = pafs + paf_indices[2 * l + 1] * layout.c_stride;
    const float* peaks_a = peaks + static_cast<int64_t>(part_a) * max_peaks * 3;
    const float* peaks_b = peaks + static_cast<int64_t>(part_b) * max_peaks * 3;
    for (int64_t a = 0; a < counts[part_a]; ++a) {
      for (int64_t b = 0; b < counts[part_b]; ++b) {
        scores[a * k + b] =
            PafScore(paf_x, paf_y, layout.y_stride, layout.x_stride, layout.height, layout.width,
                     peaks_a[3 * a], peaks_a[3 * a + 1], peaks_b[3 * b], peaks_b[3 * b + 1],
                     params);
      }
    }
  }
}

}  // namespace openpose_tf
