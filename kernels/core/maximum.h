// OpenPose's Maximum (maximumBase.cpp / maximumBase.cu), docs/algorithms.md#maximum: per channel,
// the integer position and value of the global maximum. No refinement, offset or threshold.
#ifndef OPENPOSE_TF_KERNELS_CORE_MAXIMUM_H_
#define OPENPOSE_TF_KERNELS_CORE_MAXIMUM_H_

#include "kernels/core/map_layout.h"

namespace openpose_tf {

// For channels [c_begin, c_end) of one image writes out[c] = (x, y, value) of the maximum.
// Ties: the first in raster order (smallest y*W + x), as cv::minMaxLoc and thrust::max_element.
// NaN values are skipped; an all-NaN channel gives (0, 0, NaN).
// out: Cx3 for the whole image.
void MaximumImage(const float* maps, const MapLayout& layout, int c_begin, int c_end,
                  float* out);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_MAXIMUM_H_
