// OpenPose's removePeopleBelowThresholdsAndFillFaces and peopleVectorToPeopleArray
// (docs/algorithms.md#filtering-people, #keypoints-and-person-score), body parts only. Which parts
// are feet is the caller's (the pose model's) data.
#include <cstddef>
#include <vector>

#include "kernels/core/people.h"

namespace openpose_tf {
namespace {

std::vector<int> FilterOnce(const std::vector<Person>& people, const FilterParams& params,
                            bool maximize_positives) {
  std::vector<int> kept;
  for (size_t i = 0; i < people.size(); ++i) {
    const Person& p = people[i];
    int count = p.count;
    if (!maximize_positives && !params.foot_parts.empty()) {
      int feet = 0;
      for (int32_t part : params.foot_parts) feet += p.slot[part] > 0;
      if (feet > 0) {
        count -= feet;
        if (count <= 4) continue;
      }
    }
    if (count >= params.min_subset_cnt &&
        p.score / static_cast<float>(count) >= params.min_subset_score) {
      kept.push_back(static_cast<int>(i));
    }
  }
  return kept;
}

}  // namespace

std::vector<int> FilterPeople(const std::vector<Person>& people, const FilterParams& params) {
  std::vector<int> kept = FilterOnce(people, params, params.maximize_positives);
  // Nobody survived: retry once without the foot rule (thresholds unchanged).
  if (kept.empty() && !params.maximize_positives) kept = FilterOnce(people, params, true);
  return kept;
}

void WritePeople(const std::vector<Person>& people, const std::vector<int>& kept,
                 const Topology& t, const PeakSet& peaks, float scale_factor, float* keypoints,
                 float* scores) {
  // OpenPose multiplies by the float reciprocal (oneOverNumberBodyPartsAndPAFs), not divides.
  const float inverse = 1 / static_cast<float>(t.num_parts + t.num_pairs);
  for (size_t i = 0; i < kept.size(); ++i) {
    const Person& p = people[kept[i]];
    float* out = keypoints + static_cast<int64_t>(i) * t.num_parts * 3;
    for (int part = 0; part < t.num_parts; ++part) {
      float* kp = out + part * 3;
      const int slot = p.slot[part];
      if (slot > 0) {
        const float* peak = peaks.peaks + (static_cast<int64_t>(part) * peaks.max_peaks + slot - 1) * 3;
        kp[0] = peak[0] * scale_factor;
        kp[1] = peak[1] * scale_factor;
        kp[2] = peak[2];
      } else {
        kp[0] = kp[1] = kp[2] = 0.f;
      }
    }
    scores[i] = p.score * inverse;
  }
}

}  // namespace openpose_tf
