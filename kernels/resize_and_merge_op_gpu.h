// CUDA launcher of OpenPose's resizeAndMerge (resizeAndMergeBase.cu), framework-free: raw device
// pointers and a stream, so it builds and is tested without TensorFlow (tests/gpu). The taps and
// weights are kernels/core/resize_and_merge.h's host/device functions and the arithmetic follows
// the CPU passes' order, so CPU and GPU agree bit for bit in both OpenPose builds.
#ifndef OPENPOSE_TF_KERNELS_RESIZE_AND_MERGE_OP_GPU_H_
#define OPENPOSE_TF_KERNELS_RESIZE_AND_MERGE_OP_GPU_H_

#include <cstdint>

#include "kernels/core/resize_and_merge.h"

typedef struct CUstream_st* cudaStream_t;  // CUDA's own typedef: no CUDA include needed here

namespace openpose_tf {

// Device scratch bytes LaunchResizeAndMerge needs for `num_scales` scales (their placements and
// source pointers: any number of scales, no per-call cudaMalloc).
int64_t ResizeScratchBytes(int num_scales);

// sources: host array of plan.scales.size() device pointers, scale s's net output
// [batch, h_s, w_s, C] (NHWC). out: device [batch, TH, TW, C], VerticalPass's result for every
// image. The scale table is copied on `stream` into `scratch` (ResizeScratchBytes). Returns the
// cudaError_t (0 = success); nothing is launched for an empty output.
int LaunchResizeAndMerge(cudaStream_t stream, const ResizePlan& plan, const float* const* sources,
                         int64_t batch, void* scratch, float* out);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_RESIZE_AND_MERGE_OP_GPU_H_
