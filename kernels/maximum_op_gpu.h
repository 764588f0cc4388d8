// CUDA launcher of OpenPose's Maximum (maximumBase.cu), framework-free: raw device pointers and
// a stream, so it builds and is tested without TensorFlow (tests/gpu).
#ifndef OPENPOSE_TF_KERNELS_MAXIMUM_OP_GPU_H_
#define OPENPOSE_TF_KERNELS_MAXIMUM_OP_GPU_H_

#include <cstdint>

#include "kernels/core/map_layout.h"

typedef struct CUstream_st* cudaStream_t;  // CUDA's own typedef: no CUDA include needed here

namespace openpose_tf {

// maps: device pointer to `batch` images of `layout` (NHWC or NCHW), image n at
// maps + n * layout.image_size(). out: device [batch, C, 3] (x, y, value), the same result as
// MaximumImage (first maximum in raster order, NaN skipped, all-NaN -> (0, 0, NaN)).
// Returns the cudaError_t of the launch (0 = success). Nothing is launched when batch == 0.
int LaunchMaximum(cudaStream_t stream, const float* maps, int64_t batch, const MapLayout& layout,
                  float* out);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_MAXIMUM_OP_GPU_H_
