// GPU PafScores (kernels/paf_scores_op_gpu.cu.cc) against the CPU core's ScorePairs, bit for bit:
// random PAFs and peaks (close pairs, peaks on and past the map's edge, non-finite peaks), up to
// 127 peaks in every part, both layouts. Built by `make gpu-test` with nvcc alone.
#include <cuda_runtime.h>

#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/paf_scores_op_gpu.h"
#include "tests/gpu/cpu_reference.h"
#include "tests/gpu/gpu_check.h"

namespace openpose_tf {
namespace {

struct Case {
  int64_t batch = 1;
  MapLayout layout;           // of one image's PAFs (2L channels)
  int num_parts = 0;
  int max_peaks = 127;
  std::vector<int32_t> pairs;        // 2L
  std::vector<int32_t> paf_indices;  // 2L
  std::vector<float> pafs;
  std::vector<float> peaks;     // [batch, P, M, 3]
  std::vector<int32_t> counts;  // [batch, P]
};

bool Check(const Case& c, const std::string& what) {
  const int num_pairs = static_cast<int>(c.pairs.size() / 2);
  int64_t k = 0;
  for (int32_t count : c.counts) k = count > k ? count : k;
  PafScoreParams params;
  const int64_t image_out = num_pairs * k * k;
  std::vector<float> want(c.batch * image_out);
  const int64_t image_peaks = static_cast<int64_t>(c.num_parts) * c.max_peaks * 3;
  for (int64_t n = 0; n < c.batch; ++n) {
    ScorePairs(c.pafs.data() + n * c.layout.image_size(), c.layout,
               c.peaks.data() + n * image_peaks, c.counts.data() + n * c.num_parts, c.max_peaks,
               k, c.pairs.data(), c.paf_indices.data(), params, 0, num_pairs,
               want.data() + n * image_out);
  }
  PafScoresHostInput in;
  in.batch = c.batch;
  in.num_parts = c.num_parts;
  in.num_pairs = num_pairs;
  in.max_peaks = c.max_peaks;
  in.k = k;
  in.peaks = c.peaks.data();
  in.counts = c.counts.data();
  in.pairs = c.pairs.data();
  in.paf_indices = c.paf_indices.data();
  DeviceBuffer pafs(c.pafs);
  DeviceArray<int8_t> scratch(PafScoresScratchBytes(in));
  DeviceBuffer out(std::vector<float>(want.size(), 99.f));
  if (LaunchPafScores(nullptr, pafs.data(), c.layout, in, params, scratch.data(), out.data()) !=
      0) {
    std::printf("%s: launch failed\n", what.c_str());
    return false;
  }
  return testing::SameBits(out.ToHost(), want, what.c_str());
}

// A random case: peaks spread over (and a little past) the map, some in close pairs.
Case RandomCase(std::mt19937* rng, int64_t batch, int h, int w, int num_parts, int num_pairs,
                int max_count, bool nchw) {
  Case c;
  c.batch = batch;
  c.layout = nchw ? NchwLayout(h, w, 2 * num_pairs) : NhwcLayout(h, w, 2 * num_pairs);
  c.num_parts = num_parts;
  for (int l = 0; l < num_pairs; ++l) {
    c.pairs.push_back(static_cast<int32_t>((*rng)() % num_parts));
    c.pairs.push_back(static_cast<int32_t>((*rng)() % num_parts));
    c.paf_indices.push_back(2 * l + 1);  // swapped x/y channels: any order is allowed
    c.paf_indices.push_back(2 * l);
  }
  c.pafs = testing::QuantisedRandom(rng, batch * c.layout.image_size(), 64);
  for (float& v : c.pafs) v = 2.f * v - 0.6f;  // mostly positive: many limbs pass
  std::uniform_real_distribution<float> px(-2.f, w + 1.f), py(-2.f, h + 1.f);
  c.peaks.assign(batch * num_parts * c.max_peaks * 3, 0.f);
  for (float* p = c.peaks.data(); p < c.peaks.data() + c.peaks.size(); p += 3) {
    p[0] = px(*rng);
    p[1] = py(*rng);
    p[2] = 0.5f;
    if ((*rng)() % 4 == 0 && p > c.peaks.data()) {  // close to the previous peak
      p[0] = p[-3] + 0.5f;
      p[1] = p[-2] - 0.25f;
    }
  }
  for (int64_t i = 0; i < batch * num_parts; ++i) {
    c.counts.push_back(static_cast<int32_t>((*rng)() % (max_count + 1)));
  }
  return c;
}

}  // namespace
}  // namespace openpose_tf

int main() {
  using namespace openpose_tf;  // NOLINT: a test's main
  testing::GpuTestRun run("paf_scores_gpu_test");
  std::mt19937 rng(4);
  for (int trial = 0; trial < 30; ++trial) {
    const int h = 1 + static_cast<int>(rng() % 120), w = 1 + static_cast<int>(rng() % 200);
    const int parts = 1 + static_cast<int>(rng() % 25), pairs = 1 + static_cast<int>(rng() % 26);
    const Case c = RandomCase(&rng, 1 + trial % 3, h, w, parts, pairs, 1 + trial % 12, trial % 2);
    run.Expect(Check(c, "random"), "random PAFs and peaks");
  }
  // BODY_25's sizes with 127 peaks in every part.
  Case full = RandomCase(&rng, 1, 368, 656, 25, 26, 127, false);
  for (int32_t& count : full.counts) count = 127;
  run.Expect(Check(full, "127 peaks per part"), "127 peaks in every part");
  // Non-finite peaks are never connected; infinite PAF values give a rejected limb.
  Case odd = RandomCase(&rng, 2, 30, 40, 4, 5, 6, false);
  const float inf = std::numeric_limits<float>::infinity();
  odd.peaks[0] = std::numeric_limits<float>::quiet_NaN();
  odd.peaks[4] = inf;
  for (int i = 0; i < 50; ++i) odd.pafs[rng() % odd.pafs.size()] = i % 2 ? inf : -inf;
  run.Expect(Check(odd, "NaN/inf"), "non-finite peaks and PAFs");
  Case none = RandomCase(&rng, 2, 10, 10, 3, 2, 0, false);  // K = 0: an empty output
  run.Expect(Check(none, "no peaks"), "no peaks launches nothing");
  return run.Finish();
}
