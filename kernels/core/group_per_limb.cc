// OpenPose's CPU-build grouping, greedy per limb (bodyPartConnectorBase.cpp: createPeopleVector),
// docs/algorithms.md#cpu-build-grouping. The model's rules come as data (GroupingRules).
#include <algorithm>
#include <tuple>
#include <vector>

#include "kernels/core/people.h"

namespace openpose_tf {
namespace {

// One side of the limb has no peaks: each peak of `part` starts a person, unless the rules
// deduplicate and some person already holds it (OpenPose's MPI code does not check).
void AddLonePeaks(const Topology& t, const GroupingRules& rules, const PeakSet& peaks, int part,
                  std::vector<Person>* people) {
  for (int k = 1; k <= peaks.counts[part]; ++k) {
    bool held = false;
    if (rules.dedup_lone_peaks) {
      for (const Person& p : *people) held = held || p.slot[part] == k;
    }
    if (held) continue;
    Person p;
    p.slot.assign(t.num_parts, 0);
    p.slot[part] = k;
    p.count = 1;
    p.score = peaks.score(part, k);
    people->push_back(std::move(p));
  }
}

struct Connection {
  int a;  // 1-based
  int b;
  float score;
};

// All candidates with score > 1e-6, sorted by (score, a, b) descending, matched greedily one to
// one until min(#A, #B) connections are made.
std::vector<Connection> MatchLimb(const PairScores& scores, int limb, int count_a, int count_b) {
  std::vector<std::tuple<double, int, int>> all;
  for (int a = 1; a <= count_a; ++a) {
    scores.ForEachCandidate(limb, a - 1, count_b,
                            [&](int b, float s) { all.emplace_back(s, a, b + 1); });
  }
  std::sort(all.begin(), all.end(), std::greater<std::tuple<double, int, int>>());
  std::vector<Connection> connections;
  std::vector<char> used_a(count_a, 0), used_b(count_b, 0);
  const int wanted = std::min(count_a, count_b);
  for (const auto& [score, a, b] : all) {
    if (used_a[a - 1] || used_b[b - 1]) continue;
    connections.push_back({a, b, static_cast<float>(score)});
    if (static_cast<int>(connections.size()) == wanted) break;
    used_a[a - 1] = used_b[b - 1] = 1;
  }
  return connections;
}

}  // namespace

std::vector<Person> GroupPerLimb(const Topology& t, const GroupingRules& rules,
                                 const PeakSet& peaks, const PairScores& scores) {
  std::vector<Person> people;
  for (int l = 0; l < t.num_pairs; ++l) {
    const int part_a = t.pairs[2 * l];
    const int part_b = t.pairs[2 * l + 1];
    const int count_a = peaks.counts[part_a];
    const int count_b = peaks.counts[part_b];
    if (count_a == 0 || count_b == 0) {
      if (count_a == 0) {
        AddLonePeaks(t, rules, peaks, part_b, &people);
      } else {
        AddLonePeaks(t, rules, peaks, part_a, &people);
      }
      continue;
    }
    const std::vector<Connection> connections = MatchLimb(scores, l, count_a, count_b);
    for (const Connection& c : connections) {
      const float score_a = peaks.score(part_a, c.a);
      const float score_b = peaks.score(part_b, c.b);
      if (l == 0) {
        people.push_back(PairPerson(t.num_parts, part_a, c.a, part_b, c.b,
                                    score_a + score_b + c.score));
      } else if (rules.ear_limb[l]) {
        // OpenPose's ear rule: fill only (count and score unchanged), in every matching person.
        for (Person& p : people) {
          if (p.slot[part_a] == c.a && p.slot[part_b] == 0) {
            p.slot[part_b] = c.b;
          } else if (p.slot[part_b] == c.b && p.slot[part_a] == 0) {
            p.slot[part_a] = c.a;
          }
        }
      } else {
        // The first person holding A gets B (overwriting any B it had); else a new person.
        auto holder = std::find_if(people.begin(), people.end(),
                                   [&](const Person& p) { return p.slot[part_a] == c.a; });
        if (holder != people.end()) {
          holder->slot[part_b] = c.b;
          ++holder->count;
          holder->score += score_b + c.score;
        } else {
          people.push_back(PairPerson(t.num_parts, part_a, c.a, part_b, c.b,
                                      score_a + score_b + c.score));
        }
      }
    }
  }
  return people;
}

}  // namespace openpose_tf
