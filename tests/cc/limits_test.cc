// The core under hostile inputs: sizes near the int32 limits, extreme and non-finite values and
// parameters, random rules. Run under ASan + UBSan (float-cast-overflow included) by
// `make test-asan`: any out-of-bounds access, overflow or undefined cast fails the run.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/core/nms.h"
#include "kernels/core/paf_score.h"
#include "kernels/core/people.h"
#include "kernels/core/resize_and_merge.h"
#include "tests/cc/test_maps.h"

namespace openpose_tf {
namespace {

constexpr int kIntMax = std::numeric_limits<int32_t>::max();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kFloatMax = std::numeric_limits<float>::max();

float Extreme(std::mt19937* rng) {
  static const float kValues[] = {0.f, -0.f, 1.f, -1.f, 0.5f, 1e-38f, kFloatMax, -kFloatMax,
                                  kInf, -kInf, kNan, 1e30f, -1e30f, 3e9f};
  return kValues[(*rng)() % (sizeof(kValues) / sizeof(kValues[0]))];
}

TEST(LimitsTest, TapsAtTheEdgesOfInt32) {
  int32_t idx[4];
  float w[4];
  for (int source : {1, 2, 3, kIntMax - 1, kIntMax}) {
    for (int d : {0, 1, kIntMax / 2, kIntMax - 2, kIntMax - 1}) {
      for (float scale : {1e-30f, 1e-3f, 1.f, 8.f, 1e30f, kInf, kNan, -1.f}) {
        GpuBuildTaps(d, source, scale, idx);
        for (int k = 0; k < 4; ++k) ASSERT_TRUE(idx[k] >= 0 && idx[k] < source);
      }
      for (int target : {d + 1, kIntMax}) {
        if (d >= target) continue;
        CpuBuildTaps(d, source, target, idx, w);
        for (int k = 0; k < 4; ++k) ASSERT_TRUE(idx[k] >= 0 && idx[k] < source);
      }
    }
  }
}

TEST(LimitsTest, RoundClampIsDefinedForEveryFloat) {
  for (float v : {-kInf, -kFloatMax, -1.f, -0.5f, 0.f, 0.49f, 0.5f, 3e9f, kFloatMax, kInf, kNan}) {
    for (int hi : {0, 1, 5, kIntMax}) {
      const int r = RoundClamp(v, hi);
      ASSERT_TRUE(r >= 0 && r <= hi) << v << " " << hi;
    }
  }
}

TEST(LimitsTest, MisplacementCheckTakesAnyScale) {
  ResizePlan plan;
  plan.target_height = kIntMax;
  plan.target_width = 1;
  plan.channels = 1;
  for (float scale : {1e-30f, 1e30f, kInf, kNan, -1.f, 0.f}) {
    plan.scales = {ResizeScale{1, 1, 1.f, 1.f}, ResizeScale{kIntMax, 1, scale, scale}};
    int axis = 0;
    float end = 0.f;
    FirstMisplacedScale(plan, 3.f, &axis, &end);  // defined: no UB, any answer
  }
}

TEST(LimitsTest, NmsPositionsStayFiniteOnHostileMaps) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    const int h = 1 + static_cast<int>(rng() % 12), w = 1 + static_cast<int>(rng() % 12);
    testing::Maps m(2, h, w);
    for (float& v : m.data) v = rng() % 3 ? Extreme(&rng) : static_cast<float>(rng() % 7) / 7;
    NmsParams p;
    p.threshold = rng() % 2 ? -kFloatMax : Extreme(&rng);
    if (std::isnan(p.threshold)) p.threshold = 0.f;  // refused before the core
    p.offset_x = rng() % 2 ? 0.5f : 1e30f;
    p.offset_y = -1e30f;
    p.max_peaks = 1 + static_cast<int>(rng() % 5);
    p.build = rng() % 2 ? OpenPoseBuild::kGpu : OpenPoseBuild::kCpu;
    const std::vector<float> nhwc = m.ToNhwc();
    std::vector<float> peaks(2 * p.max_peaks * 3);
    std::vector<int32_t> counts(2);
    NmsImage(nhwc.data(), m.nhwc(), 0, 2, p, peaks.data(), counts.data());
    for (int c = 0; c < 2; ++c) {
      ASSERT_TRUE(counts[c] >= 0 && counts[c] <= p.max_peaks);
      for (int k = 0; k < counts[c]; ++k) {
        ASSERT_TRUE(std::isfinite(peaks[(c * p.max_peaks + k) * 3]));
        ASSERT_TRUE(std::isfinite(peaks[(c * p.max_peaks + k) * 3 + 1]));
      }
    }
  }
}

TEST(LimitsTest, ConnectorOnRandomScoresCountsAndRules) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const int parts = 2 + static_cast<int>(rng() % 6);
    const int limbs = 1 + static_cast<int>(rng() % 8);
    const int m = 1 + static_cast<int>(rng() % 40);
    std::vector<int32_t> pairs(2 * limbs), counts(parts);
    for (int32_t& p : pairs) p = static_cast<int32_t>(rng() % parts);
    int k = 0;
    for (int32_t& c : counts) k = std::max<int>(k, c = static_cast<int32_t>(rng() % (m + 1)));
    std::vector<float> peaks(static_cast<size_t>(parts) * m * 3);
    for (float& v : peaks) v = rng() % 4 ? static_cast<float>(rng() % 50) : Extreme(&rng);
    std::vector<float> scores(static_cast<size_t>(limbs) * k * k);
    for (float& v : scores) v = rng() % 3 ? static_cast<float>(rng() % 100) / 100 : Extreme(&rng);
    // PafScore on a small field with the peaks as they are (also non-finite ones).
    std::vector<float> field(6 * 7 * 2);
    for (float& v : field) v = rng() % 5 ? 0.5f : Extreme(&rng);
    for (int i = 0; i + 5 < static_cast<int>(peaks.size()); i += 6) {
      const float s = PafScore(field.data(), field.data() + 1, 14, 2, 6, 7, peaks[i],
                               peaks[i + 1], peaks[i + 3], peaks[i + 4], PafScoreParams{});
      ASSERT_TRUE(s == -1.f || (s >= 0.f && std::isfinite(s))) << s;
    }
    const Topology topology{parts, limbs, pairs.data()};
    const PeakSet set{peaks.data(), counts.data(), m};
    const PairScores pair_scores{scores.data(), k};
    GroupingRules rules;
    rules.ear_limb.resize(limbs);
    for (char& e : rules.ear_limb) e = static_cast<char>(rng() % 2);
    rules.dedup_lone_peaks = rng() % 2;
    FilterParams filter;
    filter.foot_parts = {static_cast<int32_t>(rng() % parts)};
    filter.min_subset_cnt = static_cast<int>(rng() % 4);
    filter.maximize_positives = rng() % 2;
    for (int variant = 0; variant < 2; ++variant) {
      const std::vector<Person> people = variant ? GroupPerLimb(topology, rules, set, pair_scores)
                                                 : GroupGlobalSort(topology, set, pair_scores);
      for (const Person& p : people) {
        for (int part = 0; part < parts; ++part) {
          ASSERT_TRUE(p.slot[part] >= 0 && p.slot[part] <= counts[part]);
        }
      }
      const std::vector<int> kept = FilterPeople(people, filter);
      std::vector<float> keypoints(kept.size() * parts * 3), person_scores(kept.size());
      WritePeople(people, kept, topology, set, 2.f, keypoints.data(), person_scores.data());
    }
  }
}

}  // namespace
}  // namespace openpose_tf
