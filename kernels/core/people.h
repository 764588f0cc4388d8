// Assembly of people from scored limb candidates (docs/algorithms.md#cpu-build-grouping to
// #keypoints-and-person-score): OpenPose's two grouping algorithms, the filter, and the output.
// Sequential and cheap; runs on the host.
#ifndef OPENPOSE_TF_KERNELS_CORE_PEOPLE_H_
#define OPENPOSE_TF_KERNELS_CORE_PEOPLE_H_

#include <cstdint>
#include <vector>

namespace openpose_tf {

// A person under construction: per part the 1-based index of its peak (0 = none), OpenPose's
// keypoint counter (which the CPU build's ear rule does not increment) and its summed score.
// (OpenPose stores the peak's flat score index; for one part the two orderings agree.)
struct Person {
  std::vector<int32_t> slot;
  int count = 0;
  float score = 0.f;
};

// A new person holding peak `a` of part_a and peak `b` of part_b (1-based), counter 2.
inline Person PairPerson(int num_parts, int part_a, int a, int part_b, int b, float score) {
  Person p;
  p.slot.assign(num_parts, 0);
  p.slot[part_a] = a;
  p.slot[part_b] = b;
  p.count = 2;
  p.score = score;
  return p;
}

// What the grouping reads: the topology and the peaks of one image.
struct Topology {
  int num_parts = 0;
  int num_pairs = 0;
  const int32_t* pairs = nullptr;  // 2L part indices
};

struct PeakSet {
  const float* peaks = nullptr;     // P x M x 3
  const int32_t* counts = nullptr;  // P
  int max_peaks = 0;                // M
  float score(int part, int slot) const {  // slot is 1-based
    return peaks[(static_cast<int64_t>(part) * max_peaks + slot - 1) * 3 + 2];
  }
};

// One image's ScorePairs output: L x K x K.
struct PairScores {
  const float* data = nullptr;
  int64_t k = 0;
  int64_t index(int limb, int a, int b) const {  // a, b 0-based, below the counts
    return (static_cast<int64_t>(limb) * k + a) * k + b;
  }
  float at(int limb, int a, int b) const { return data[index(limb, a, b)]; }
  // f(b, score) for each b < count_b with score(limb, a, b) > 1e-6 (OpenPose's test, in
  // double; no float lies between 1e-6f and 1e-6, so the float test is the same), in order.
  // Most scores are not (noisy maps: thousands of rejected pairs), so 8 at a time are skipped
  // by one test.
  template <class F>
  void ForEachCandidate(int limb, int a, int count_b, F f) const {
    const float* row = data + index(limb, a, 0);
    for (int b0 = 0; b0 < count_b; b0 += 8) {
      const int end = b0 + 8 < count_b ? b0 + 8 : count_b;
      bool any = false;
      for (int b = b0; b < end; ++b) any |= row[b] > 1e-6f;
      if (!any) continue;
      for (int b = b0; b < end; ++b) {
        if (row[b] > 1e-6f) f(b, row[b]);
      }
    }
  }
};

// The pose model's rules for OpenPose's CPU-build grouping, as data (pose_models.py says which
// model has which): limbs whose connections only fill empty slots (OpenPose's ear rule for COCO
// and BODY_25), and whether a lone peak that some person already holds is skipped (false for
// MPI, whose CPU code does not check).
struct GroupingRules {
  std::vector<char> ear_limb;  // L flags: OpenPose's ear rule applies to limb l
  bool dedup_lone_peaks = true;
};

// OpenPose's GPU-build grouping (pafPtrIntoVector + pafVectorIntoPeopleVector): all candidates
// with score > 1e-6 sorted together by (paf + 0.1*sA + 0.1*sB, paf, limb, a, b) descending, then
// incremental assignment with merging of disjoint people.
std::vector<Person> GroupGlobalSort(const Topology& topology, const PeakSet& peaks,
                                    const PairScores& scores);

// OpenPose's CPU-build grouping (createPeopleVector): limbs in model order, greedy one-to-one
// matching per limb, lone keypoints start people, fill-only limbs (the ear rule) and the lone-peak
// rule from `rules`.
std::vector<Person> GroupPerLimb(const Topology& topology, const GroupingRules& rules,
                                 const PeakSet& peaks, const PairScores& scores);

struct FilterParams {
  int min_subset_cnt = 3;
  float min_subset_score = 0.4f;
  bool maximize_positives = false;
  // OpenPose's foot rule (BODY_25, BODY_25B): these parts do not count, and a person holding one
  // of them with at most 4 other parts is dropped. Empty: no foot rule.
  std::vector<int32_t> foot_parts;
};

// OpenPose's removePeopleBelowThresholdsAndFillFaces: indices of the people kept, in order. The
// foot rule, and one retry without it when nobody survives.
std::vector<int> FilterPeople(const std::vector<Person>& people, const FilterParams& params);

// OpenPose's peopleVectorToPeopleArray for the kept people: keypoints K x 3 per person
// (x * scale, y * scale, score; missing parts 0) and score * (1 / (P + L)) per person.
void WritePeople(const std::vector<Person>& people, const std::vector<int>& kept,
                 const Topology& topology, const PeakSet& peaks, float scale_factor,
                 float* keypoints, float* scores);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_PEOPLE_H_
