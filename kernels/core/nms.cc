#include "kernels/core/nms.h"

#include <algorithm>
#include <cstring>

namespace openpose_tf {

void NmsImage(const float* maps, const MapLayout& layout, int c_begin, int c_end,
              const NmsParams& params, float* peaks, int32_t* counts) {
  const int h = layout.height;
  const int w = layout.width;
  const int64_t row_stride = static_cast<int64_t>(params.max_peaks) * 3;
  for (int c = c_begin; c < c_end; ++c) {
    std::memset(peaks + c * row_stride, 0, sizeof(float) * row_stride);
    counts[c] = 0;
  }
  // Both variants only ever accept pixels in rows/columns 0..H-1 whose test reads neighbours
  // through bounds checks (CPU ring) or inside the interior, so scanning every pixel is safe.
  // Scanning y, then x, then c keeps the NHWC input in cache and emits each channel's peaks in
  // raster order.
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = c_begin; c < c_end; ++c) {
        if (counts[c] >= params.max_peaks) continue;
        const float* map = maps + c * layout.c_stride;
        if (!IsPeak(map, layout.y_stride, layout.x_stride, h, w, x, y, params.threshold,
                    params.build)) {
          continue;
        }
        float* row = peaks + c * row_stride + static_cast<int64_t>(counts[c]) * 3;
        RefinePeak(map, layout.y_stride, layout.x_stride, h, w, x, y, params.offset_x,
                   params.offset_y, row);
        ++counts[c];
      }
    }
  }
}

}  // namespace openpose_tf
