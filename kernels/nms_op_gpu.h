// CUDA launcher of OpenPose's NMS (nmsBase.cu), framework-free: raw device pointers and a stream,
// so it builds and is tested without TensorFlow (tests/gpu). The peak test and the 7x7
// refinement are kernels/core/nms.h's host/device functions: CPU and GPU agree bit for bit.
#ifndef OPENPOSE_TF_KERNELS_NMS_OP_GPU_H_
#define OPENPOSE_TF_KERNELS_NMS_OP_GPU_H_

#include <cstdint>

#include "kernels/core/map_layout.h"
#include "kernels/core/nms.h"

typedef struct CUstream_st* cudaStream_t;  // CUDA's own typedef: no CUDA include needed here

namespace openpose_tf {

// Device scratch bytes LaunchNms needs for `batch` images (their offsets).
int64_t NmsScratchBytes(int64_t batch);

// maps: device pointer to `batch` images of `layout` (NHWC or NCHW). params: threshold, build and
// max_peaks (its offsets are ignored); host_offsets: host (x, y) per image, copied on `stream`
// into `scratch` (NmsScratchBytes). Outputs, device: peaks [batch, C, M, 3] in raster order with
// the rows past each count zeroed, counts [batch, C] (capped at M): NmsImage's results.
// One block per (image, channel). Returns the cudaError_t (0 = success); nothing is launched
// when batch * C == 0.
int LaunchNms(cudaStream_t stream, const float* maps, int64_t batch, const MapLayout& layout,
              const NmsParams& params, const float* host_offsets, void* scratch, float* peaks,
              int32_t* counts);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_NMS_OP_GPU_H_
