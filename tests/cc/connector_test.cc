// Core connector pieces (docs/algorithms.md#body-part-connector): PafScore (#paf-line-score),
// GroupGlobalSort / GroupPerLimb (#gpu-build-grouping, #cpu-build-grouping), FilterPeople
// (#filtering-people).
#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/core/paf_score.h"
#include "kernels/core/people.h"

namespace openpose_tf {
namespace {

constexpr int kH = 40;
constexpr int kW = 60;

// A field with the same vector everywhere; one channel per component, [H][W].
struct Field {
  std::vector<float> x, y;
  Field(float vx, float vy) : x(kH * kW, vx), y(kH * kW, vy) {}
  float Score(float ax, float ay, float bx, float by, PafScoreParams p = {}) const {
    return PafScore(x.data(), y.data(), kW, 1, kH, kW, ax, ay, bx, by, p);
  }
};

TEST(PafScoreTest, AlignedFieldScoresItsProjection) {
  EXPECT_FLOAT_EQ(Field(1, 0).Score(5, 5, 30, 5), 1.f);
  EXPECT_FLOAT_EQ(Field(0.6f, 0.8f).Score(5, 5, 30, 5), 0.6f);
  EXPECT_EQ(Field(-1, 0).Score(5, 5, 30, 5), 0.f);  // against the field: rejected
}

TEST(PafScoreTest, StrictFractionOfSamplesInFloat32) {
  // d = 20 px -> N = round(sqrt(100)) = 10 samples. Make exactly 9 pass: 9/10 > 0.9f is false
  // in float32, the boundary docs/algorithms.md#precision warns about.
  Field f(1, 0);
  for (int y = 0; y < kH; ++y) f.x[y * kW + 14] = 0;  // sample m = 4 lands on x = 14
  PafScoreParams p;
  p.inter_min_above_threshold = 0.9f;
  EXPECT_EQ(f.Score(10, 5, 30, 5, p), 0.f);
  p.inter_min_above_threshold = 0.89f;
  EXPECT_FLOAT_EQ(f.Score(10, 5, 30, 5, p), 1.f);  // the mean of the 9 that count
}

TEST(PafScoreTest, SampleCountAndEndpointExcluded) {
  // Only the endpoint B's column has a field: never sampled, so the limb is rejected.
  Field f(0, 0);
  for (int y = 0; y < kH; ++y) f.x[y * kW + 30] = 1;
  EXPECT_EQ(f.Score(10, 5, 30, 5), 0.f);
}

TEST(PafScoreTest, ClosePairRescueAndCoincidentPeaks) {
  PafScoreParams p;
  p.nms_threshold = 0.05f;
  // sqrt(40*60)/150 = 0.327 px: closer peaks with no field score nms_threshold + 1e-6.
  EXPECT_FLOAT_EQ(Field(0, 0).Score(5, 5, 5.3f, 5, p), static_cast<float>(0.05f + 1e-6));
  EXPECT_EQ(Field(0, 0).Score(5, 5, 5.4f, 5, p), 0.f);
  EXPECT_EQ(Field(1, 0).Score(5, 5, 5, 5, p), 0.f);  // coincident: never connected
}

TEST(PafScoreTest, NonFiniteInputsAreDefined) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Field(1, 0).Score(nan, 5, 30, 5), 0.f);
  EXPECT_EQ(Field(1, 0).Score(5, 5, inf, 5), 0.f);
  EXPECT_EQ(Field(nan, nan).Score(5, 5, 30, 5), 0.f);  // NaN samples never count
  // Far outside the map: samples clamp to the border, no out-of-bounds read.
  EXPECT_FLOAT_EQ(Field(1, 0).Score(-1e6f, -1e6f, 1e6f, -1e6f), 1.f);
}

// Three parts 0-1-2 and two limbs (0,1), (1,2); peaks all scored 1.
struct Chain {
  std::vector<int32_t> pairs{0, 1, 1, 2};
  std::vector<float> peaks;
  std::vector<int32_t> counts;
  std::vector<float> scores;  // L x K x K with K = M here, -1 = no candidate
  int m;
  Chain(int max_peaks, std::vector<int32_t> c) : counts(c), m(max_peaks) {
    peaks.assign(3 * m * 3, 0.f);
    for (int i = 0; i < 3 * m; ++i) peaks[i * 3 + 2] = 1.f;
    scores.assign(2 * m * m, -1.f);
  }
  void Set(int limb, int a, int b, float s) { scores[(limb * m + a) * m + b] = s; }
  Topology topology() const { return {3, 2, pairs.data()}; }
  PeakSet set() const { return {peaks.data(), counts.data(), m}; }
  PairScores pair_scores() const { return {scores.data(), m}; }
  GroupingRules rules() const { return {std::vector<char>(2, 0), true}; }
};

TEST(GroupTest, GpuMergesDisjointPeopleAndSkipsConflicts) {
  // Limb 1 (1-2) scores higher, so {1,2} exists before limb 0 (0-1) attaches part 0 to it.
  Chain c(2, {1, 1, 1});
  c.Set(0, 0, 0, 0.5f);
  c.Set(1, 0, 0, 0.9f);
  std::vector<Person> people = GroupGlobalSort(c.topology(), c.set(), c.pair_scores());
  ASSERT_EQ(people.size(), 1u);
  EXPECT_EQ(people[0].slot, (std::vector<int32_t>{1, 1, 1}));
  EXPECT_EQ(people[0].count, 3);
  EXPECT_FLOAT_EQ(people[0].score, 1.f + 1.f + 0.9f + (1.f + 0.5f));
}

TEST(GroupTest, GpuMergeWithASelfLimbKeepsBothPeaksOwned) {
  // Limbs (0,0), (1,2), (0,1), (0,2), two peaks a part: the self limb makes a person of peaks
  // 1 and 2 of part 0 whose slot keeps peak 2; after that person merges into another, peak 1
  // must still belong to the merged one, so (0,2)'s candidate from peak 1 joins no one and the
  // second (1,2) candidate starts a second person.
  std::vector<int32_t> pairs{0, 0, 1, 2, 0, 1, 0, 2};
  std::vector<float> peaks(3 * 2 * 3, 1.f);
  std::vector<int32_t> counts{2, 2, 2};
  std::vector<float> scores(4 * 2 * 2, -1.f);
  auto set = [&](int limb, int a, int b, float s) { scores[(limb * 2 + a) * 2 + b] = s; };
  set(1, 0, 0, 0.9f);
  set(0, 0, 1, 0.8f);
  set(2, 1, 0, 0.7f);
  set(3, 0, 1, 0.6f);
  set(1, 1, 1, 0.5f);
  std::vector<Person> people =
      GroupGlobalSort({3, 4, pairs.data()}, {peaks.data(), counts.data(), 2}, {scores.data(), 2});
  ASSERT_EQ(people.size(), 2u);
  EXPECT_EQ(people[0].slot, (std::vector<int32_t>{2, 1, 1}));
  EXPECT_EQ(people[1].slot, (std::vector<int32_t>{0, 2, 2}));
}

TEST(GroupTest, GpuNeverMakesSingleKeypointPeople) {
  Chain c(2, {2, 0, 1});
  EXPECT_TRUE(GroupGlobalSort(c.topology(), c.set(), c.pair_scores()).empty());
}

TEST(GroupTest, CpuLonePeaksStartPeopleAndGreedyMatching) {
  Chain c(2, {2, 2, 0});
  // Limb 0: (a0,b1) 0.9 beats (a0,b0) 0.8 and (a1,b1) 0.7; a1 then takes b0.
  c.Set(0, 0, 0, 0.8f);
  c.Set(0, 0, 1, 0.9f);
  c.Set(0, 1, 1, 0.7f);
  c.Set(0, 1, 0, 0.6f);
  std::vector<Person> people = GroupPerLimb(c.topology(), c.rules(), c.set(), c.pair_scores());
  ASSERT_EQ(people.size(), 2u);  // limb 1 has no part-2 peaks: part-1 peaks are all held
  EXPECT_EQ(people[0].slot, (std::vector<int32_t>{1, 2, 0}));
  EXPECT_EQ(people[1].slot, (std::vector<int32_t>{2, 1, 0}));
}

TEST(GroupTest, RulesAreData) {
  // The same chain with and without the ear rule on limb 1 and with and without deduplication:
  // only the given rules apply, whatever the part count.
  Chain c(2, {1, 1, 1});
  c.Set(0, 0, 0, 0.5f);
  c.Set(1, 0, 0, 0.9f);
  GroupingRules ear = c.rules();
  ear.ear_limb[1] = 1;
  std::vector<Person> filled = GroupPerLimb(c.topology(), ear, c.set(), c.pair_scores());
  ASSERT_EQ(filled.size(), 1u);
  EXPECT_EQ(filled[0].slot, (std::vector<int32_t>{1, 1, 1}));
  EXPECT_EQ(filled[0].count, 2);  // the ear rule fills without counting
  std::vector<Person> plain = GroupPerLimb(c.topology(), c.rules(), c.set(), c.pair_scores());
  EXPECT_EQ(plain[0].count, 3);
  // Lone peaks of part 1 (limb 1 has no part-2 peaks): held ones are skipped only with dedup.
  Chain lone(2, {1, 1, 0});
  lone.Set(0, 0, 0, 0.5f);
  EXPECT_EQ(GroupPerLimb(lone.topology(), lone.rules(), lone.set(), lone.pair_scores()).size(), 1u);
  GroupingRules no_dedup = lone.rules();
  no_dedup.dedup_lone_peaks = false;
  EXPECT_EQ(GroupPerLimb(lone.topology(), no_dedup, lone.set(), lone.pair_scores()).size(), 2u);
}

TEST(FilterTest, FootRuleAndRetry) {
  Person feet;  // 25 parts: two feet + two others
  feet.slot.assign(25, 0);
  feet.slot[13] = feet.slot[14] = feet.slot[19] = feet.slot[21] = 1;
  feet.count = 4;
  feet.score = 4.f;
  FilterParams params;
  params.min_subset_cnt = 3;
  params.min_subset_score = 0.4f;
  params.foot_parts = {19, 20, 21, 22, 23, 24};
  // Dropped by the foot rule, then kept by the retry without it (4 >= 3, 1.0 >= 0.4).
  EXPECT_EQ(FilterPeople({feet}, params), (std::vector<int>{0}));
  Person body = feet;
  body.slot.assign(25, 1);
  body.count = 25;
  body.score = 25.f;
  EXPECT_EQ(FilterPeople({feet, body}, params), (std::vector<int>{1}));
  // maximize_positives: no foot rule.
  params.maximize_positives = true;
  EXPECT_EQ(FilterPeople({feet, body}, params), (std::vector<int>{0, 1}));
  // No foot parts (any other model): no foot rule, whatever the part count.
  params.maximize_positives = false;
  params.foot_parts.clear();
  EXPECT_EQ(FilterPeople({feet, body}, params), (std::vector<int>{0, 1}));
}

TEST(ScorePairsTest, OnlyTheCountsAreScoredAndIndexedInSixtyFourBits) {
  // K = 2 < M = 5: the output is L x K x K, -1 past the counts.
  std::vector<float> pafs(4 * 8 * 2, 0.f);
  for (int i = 0; i < 4 * 8; ++i) pafs[i * 2] = 1.f;  // x field
  const MapLayout layout = NhwcLayout(4, 8, 2);
  std::vector<float> peaks(2 * 5 * 3, 0.f);
  peaks[0] = 1.f;                 // part 0, peak 0 at (1, 1)
  peaks[1] = 1.f;
  peaks[5 * 3 + 0] = 6.f;         // part 1, peak 0 at (6, 1)
  peaks[5 * 3 + 1] = 1.f;
  const std::vector<int32_t> counts{1, 2}, pairs{0, 1}, paf_indices{0, 1};
  std::vector<float> out(4, 7.f);
  ScorePairs(pafs.data(), layout, peaks.data(), counts.data(), 5, 2, pairs.data(),
             paf_indices.data(), PafScoreParams{}, 0, 1, out.data());
  EXPECT_FLOAT_EQ(out[0], 1.f);  // (a0, b0): along the field
  EXPECT_EQ(out[2], -1.f);       // a1: past part 0's count
  EXPECT_EQ(out[3], -1.f);
  PairScores scores{out.data(), 2};
  EXPECT_FLOAT_EQ(scores.at(0, 0, 0), 1.f);
  // The flat index of a big K is formed in 64 bits: (1 * 50000 + 49999) * 50000 + 49999 > 2^31.
  PairScores big{nullptr, 50000};
  EXPECT_EQ(big.index(1, 49999, 49999), (int64_t{1} * 50000 + 49999) * 50000 + 49999);
}

}  // namespace
}  // namespace openpose_tf
