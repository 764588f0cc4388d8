// OpenPose's GPU-build grouping, one global sort over all limbs (bodyPartConnectorBase.cpp:
// pafPtrIntoVector, pafVectorIntoPeopleVector), docs/algorithms.md#gpu-build-grouping. Any
// topology; no model rule applies.
#include <algorithm>
#include <limits>
#include <tuple>
#include <vector>

#include "kernels/core/people.h"

namespace openpose_tf {
namespace {

struct Candidate {
  float total;  // paf + 0.1f*sA + 0.1f*sB: only for sorting
  float paf;
  int limb;
  int a;  // 1-based peak indices
  int b;
};

std::vector<Candidate> SortedCandidates(const Topology& t, const PeakSet& peaks,
                                        const PairScores& scores) {
  std::vector<Candidate> candidates;
  for (int l = 0; l < t.num_pairs; ++l) {
    const int part_a = t.pairs[2 * l];
    const int part_b = t.pairs[2 * l + 1];
    for (int a = 0; a < peaks.counts[part_a]; ++a) {
      scores.ForEachCandidate(l, a, peaks.counts[part_b], [&](int b, float paf) {
        float total = paf + 0.1f * peaks.score(part_a, a + 1) + 0.1f * peaks.score(part_b, b + 1);
        // A NaN peak score (NaN maps) sorts last: std::sort needs a strict weak order.
        if (total != total) total = -std::numeric_limits<float>::infinity();
        candidates.push_back({total, paf, l, a + 1, b + 1});
      });
    }
  }
  // std::greater on the whole tuple: ties broken by paf, then larger limb, a, b.
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& x, const Candidate& y) {
    return std::tie(x.total, x.paf, x.limb, x.a, x.b) > std::tie(y.total, y.paf, y.limb, y.a, y.b);
  });
  return candidates;
}

}  // namespace

std::vector<Person> GroupGlobalSort(const Topology& t, const PeakSet& peaks,
                                    const PairScores& scores) {
  const int64_t m = scores.k;  // every peak index is below the counts, so below K
  std::vector<Person> people;
  std::vector<char> deleted;
  // assigned[part * K + peak - 1]: the person holding that peak, or -1.
  std::vector<int> assigned(static_cast<size_t>(t.num_parts) * m, -1);
  // A limb from a part to itself (any topology is accepted) makes a new person of two peaks of
  // one part, of which its slot keeps the second: the merge below then scans the whole table.
  bool self_limb = false;
  for (int l = 0; l < t.num_pairs; ++l) self_limb |= t.pairs[2 * l] == t.pairs[2 * l + 1];
  for (const Candidate& c : SortedCandidates(t, peaks, scores)) {
    const int part_a = t.pairs[2 * c.limb];
    const int part_b = t.pairs[2 * c.limb + 1];
    int& a_person = assigned[static_cast<size_t>(part_a) * m + c.a - 1];
    int& b_person = assigned[static_cast<size_t>(part_b) * m + c.b - 1];
    if (a_person < 0 && b_person < 0) {
      // 1. A new person {A, B}.
      a_person = b_person = static_cast<int>(people.size());
      people.push_back(PairPerson(t.num_parts, part_a, c.a, part_b, c.b,
                                  peaks.score(part_a, c.a) + peaks.score(part_b, c.b) + c.paf));
      deleted.push_back(0);
    } else if (a_person < 0 || b_person < 0) {
      // 2./3. One end is someone's: add the other end if that person lacks that part.
      const bool a_known = a_person >= 0;
      Person& p = people[a_known ? a_person : b_person];
      const int other_part = a_known ? part_b : part_a;
      const int other_slot = a_known ? c.b : c.a;
      if (p.slot[other_part] == 0) {
        p.slot[other_part] = other_slot;
        ++p.count;
        p.score += peaks.score(other_part, other_slot) + c.paf;
        (a_known ? b_person : a_person) = a_known ? a_person : b_person;
      }
    } else if (a_person == b_person) {
      // 4. A redundant limb within one person: only the score grows.
      people[a_person].score += c.paf;
    } else {
      // 5. Two people: merge the higher index into the lower one if they share no part.
      const int p1 = std::min(a_person, b_person);
      const int p2 = std::max(a_person, b_person);
      Person& first = people[p1];
      const Person& second = people[p2];
      bool disjoint = true;
      for (int part = 0; part < t.num_parts && disjoint; ++part) {
        disjoint = !(first.slot[part] > 0 && second.slot[part] > 0);
      }
      if (!disjoint) continue;
      // The peaks p2 holds are exactly its slots (a peak is assigned to a person when, and only
      // when, it fills that person's slot; not so with a self limb): those, not the whole
      // table, change owner.
      for (int part = 0; part < t.num_parts; ++part) {
        if (second.slot[part] > 0 && !self_limb) {
          assigned[static_cast<size_t>(part) * m + second.slot[part] - 1] = p1;
        }
        if (first.slot[part] == 0) first.slot[part] = second.slot[part];
      }
      if (self_limb) {
        for (int& owner : assigned) {
          if (owner == p2) owner = p1;
        }
      }
      first.count += second.count;
      first.score += second.score + c.paf;
      deleted[p2] = 1;
    }
  }
  std::vector<Person> kept;
  for (size_t i = 0; i < people.size(); ++i) {
    if (!deleted[i]) kept.push_back(std::move(people[i]));
  }
  return kept;
}

}  // namespace openpose_tf
