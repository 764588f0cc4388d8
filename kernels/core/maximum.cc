#include "kernels/core/maximum.h"

#include <cstdint>
#include <limits>
#include <vector>

namespace openpose_tf {

void MaximumImage(const float* maps, const MapLayout& layout, int c_begin, int c_end,
                  float* out) {
  const int n = c_end - c_begin;
  if (n <= 0) return;
  // Best index per channel; -1 until a non-NaN value is seen.
  std::vector<int64_t> best_index(n, -1);
  std::vector<float> best_value(n, -std::numeric_limits<float>::infinity());
  int64_t index = 0;
  // y, x, c order: one pass over NHWC memory; strict > keeps the first maximum in raster order.
  for (int y = 0; y < layout.height; ++y) {
    for (int x = 0; x < layout.width; ++x, ++index) {
      const float* pixel = maps + y * layout.y_stride + x * layout.x_stride;
      for (int i = 0; i < n; ++i) {
        const float v = pixel[(c_begin + i) * layout.c_stride];
        if (v > best_value[i] || (best_index[i] < 0 && v == v)) {
          best_value[i] = v;
          best_index[i] = index;
        }
      }
    }
  }
  for (int i = 0; i < n; ++i) {
    float* o = out + static_cast<int64_t>(c_begin + i) * 3;
    if (best_index[i] < 0) {
      o[0] = 0.f;
      o[1] = 0.f;
      o[2] = std::numeric_limits<float>::quiet_NaN();
    } else {
      o[0] = static_cast<float>(best_index[i] % layout.width);
      o[1] = static_cast<float>(best_index[i] / layout.width);
      o[2] = best_value[i];
    }
  }
}

}  // namespace openpose_tf
