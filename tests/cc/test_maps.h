// Small helpers for hand-drawn and random maps in the C++ tests.
#ifndef OPENPOSE_TF_TESTS_CC_TEST_MAPS_H_
#define OPENPOSE_TF_TESTS_CC_TEST_MAPS_H_

#include <random>
#include <vector>

#include "kernels/core/map_layout.h"
#include "kernels/core/resize_and_merge.h"

namespace openpose_tf {
namespace testing {

// Channel-major maps [C][H][W] that the tests draw on; ToNhwc() gives the op's usual layout.
struct Maps {
  int c, h, w;
  std::vector<float> data;  // CxHxW
  Maps(int channels, int height, int width, float fill = 0.f)
      : c(channels), h(height), w(width), data(static_cast<size_t>(channels) * height * width, fill) {}
  float& at(int ch, int y, int x) { return data[(static_cast<size_t>(ch) * h + y) * w + x]; }
  float at(int ch, int y, int x) const { return data[(static_cast<size_t>(ch) * h + y) * w + x]; }
  std::vector<float> ToNhwc() const {
    std::vector<float> out(data.size());
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) out[(static_cast<size_t>(y) * w + x) * c + ch] = at(ch, y, x);
    return out;
  }
  MapLayout nhwc() const { return NhwcLayout(h, w, c); }
  MapLayout nchw() const { return NchwLayout(h, w, c); }
};

// Quantised random values in [0, 1) so that exact ties and plateaus happen often.
inline Maps RandomMaps(std::mt19937* rng, int channels, int height, int width, int levels) {
  Maps m(channels, height, width);
  std::uniform_int_distribution<int> level(0, levels - 1);
  for (float& v : m.data) v = static_cast<float>(level(*rng)) / levels;
  return m;
}

// The dense ResizeAndMerge of one image: each scale's source through HorizontalPass, then
// VerticalPass, in a caller-sized workspace. [TH, TW, C].
inline std::vector<float> RunResizePlan(const ResizePlan& plan,
                                        const std::vector<const float*>& sources) {
  ResizeWorkspace size;
  if (!ResizeWorkspaceSize(plan, &size)) return {};
  std::vector<int32_t> index(size.index_count);
  std::vector<float> floats(size.float_count);
  const ResizeBuffers buffers = PrepareResize(plan, index.data(), floats.data());
  for (size_t s = 0; s < sources.size(); ++s) {
    HorizontalPass(plan, buffers, static_cast<int>(s), sources[s], 0, plan.scales[s].height);
  }
  std::vector<float> out(static_cast<size_t>(plan.target_height) * plan.target_width *
                         plan.channels);
  VerticalPass(plan, buffers, 0, plan.target_height, out.data());
  return out;
}

}  // namespace testing
}  // namespace openpose_tf

#endif  // OPENPOSE_TF_TESTS_CC_TEST_MAPS_H_
