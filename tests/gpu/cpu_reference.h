// The CPU cores run over whole batches: the references the standalone GPU tests compare with,
// and the synthetic maps they draw.
#ifndef OPENPOSE_TF_TESTS_GPU_CPU_REFERENCE_H_
#define OPENPOSE_TF_TESTS_GPU_CPU_REFERENCE_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "kernels/core/nms.h"
#include "kernels/core/paf_score.h"
#include "kernels/core/resize_and_merge.h"

namespace openpose_tf {
namespace testing {

// Bitwise equality, NaN equal to NaN. On a mismatch prints the first differing index.
inline bool SameBits(const std::vector<float>& got, const std::vector<float>& want,
                     const char* what) {
  if (got.size() != want.size()) {
    std::printf("%s: %zu values, want %zu\n", what, got.size(), want.size());
    return false;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const bool same = std::isnan(got[i]) ? std::isnan(want[i])
                                         : (got[i] == want[i] && std::signbit(got[i]) ==
                                                                     std::signbit(want[i]));
    if (!same) {
      std::printf("%s: first difference at %zu: got %.9g, want %.9g\n", what, i, got[i],
                  want[i]);
      return false;
    }
  }
  return true;
}

// `count` values quantised to `levels` steps in [0, 1): exact ties and plateaus happen often.
inline std::vector<float> QuantisedRandom(std::mt19937* rng, int64_t count, int levels) {
  std::uniform_int_distribution<int> level(0, levels - 1);
  std::vector<float> v(count);
  for (float& x : v) x = static_cast<float>(level(*rng)) / levels;
  return v;
}

// ResizeAndMerge on the CPU core: sources[s] is scale s's [batch, h_s, w_s, C].
inline std::vector<float> ResizeAndMergeCpu(const ResizePlan& plan,
                                            const std::vector<std::vector<float>>& sources,
                                            int64_t batch) {
  ResizeWorkspace size;
  ResizeWorkspaceSize(plan, &size);
  std::vector<int32_t> index(size.index_count);
  std::vector<float> floats(size.float_count);
  const ResizeBuffers buffers = PrepareResize(plan, index.data(), floats.data());
  const int64_t image_out = static_cast<int64_t>(plan.target_height) * plan.target_width *
                            plan.channels;
  std::vector<float> out(batch * image_out);
  for (int64_t n = 0; n < batch; ++n) {
    for (size_t s = 0; s < plan.scales.size(); ++s) {
      const int64_t image_in = static_cast<int64_t>(plan.scales[s].height) *
                               plan.scales[s].width * plan.channels;
      HorizontalPass(plan, buffers, static_cast<int>(s), sources[s].data() + n * image_in, 0,
                     plan.scales[s].height);
    }
    VerticalPass(plan, buffers, 0, plan.target_height, out.data() + n * image_out);
  }
  return out;
}

// NMS on the CPU core; offsets: (x, y) per image. peaks [batch, C, M, 3], counts [batch, C].
// `maps` points at channel 0 of `layout` (which may be a ChannelRange view).
inline void NmsCpu(const float* maps, int64_t batch, const MapLayout& layout, NmsParams params,
                   const std::vector<float>& offsets, std::vector<float>* peaks,
                   std::vector<int32_t>* counts) {
  const int64_t image_peaks = static_cast<int64_t>(layout.channels) * params.max_peaks * 3;
  peaks->assign(batch * image_peaks, -7.f);  // NmsImage must overwrite every value
  counts->assign(batch * layout.channels, -7);
  for (int64_t n = 0; n < batch; ++n) {
    params.offset_x = offsets[2 * n];
    params.offset_y = offsets[2 * n + 1];
    NmsImage(maps + n * layout.image_size(), layout, 0, layout.channels, params,
             peaks->data() + n * image_peaks, counts->data() + n * layout.channels);
  }
}

}  // namespace testing
}  // namespace openpose_tf

#endif  // OPENPOSE_TF_TESTS_GPU_CPU_REFERENCE_H_
