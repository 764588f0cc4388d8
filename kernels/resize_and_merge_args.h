// Input validation of OpenPose>ResizeAndMerge, shared by its CPU and GPU kernels: every message
// in one place, and the core's ResizePlan derived from validated sizes only.
#ifndef OPENPOSE_TF_KERNELS_RESIZE_AND_MERGE_ARGS_H_
#define OPENPOSE_TF_KERNELS_RESIZE_AND_MERGE_ARGS_H_

#include <cstdint>

#include "kernels/core/resize_and_merge.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

namespace openpose_tf {
namespace tf_glue {

// Checks net_outputs (same N and C, H, W, C > 0), target_size, scale_ratios (positive, finite
// and, for the GPU build, consistent with the maps' sizes), the output's and the workspace's
// element counts (below 2^31), and fills `plan`, `batch` and `workspace`. `materialised` false
// (the sparse path, which never holds the output or the workspace) skips those two counts.
absl::Status ReadResizeAndMerge(const tensorflow::OpInputList& net_outputs,
                                const tensorflow::Tensor& target_size,
                                const tensorflow::Tensor& scale_ratios, OpenPoseBuild build,
                                int64_t* batch, ResizePlan* plan, ResizeWorkspace* workspace,
                                bool materialised = true);

}  // namespace tf_glue
}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_RESIZE_AND_MERGE_ARGS_H_
