// Input validation of OpenPose>ResizeAndMerge, shared by its CPU and GPU kernels: every message
// in one place, and the core's ResizePlan derived from validated sizes only.
#ifndef OPENPOSE_TF_KERNELS_RESIZE_AND_MERGE_ARGS_H_
#define OPENPOSE_TF_KERNELS_RESIZE_AND_MERGE_ARGS_H_

#include <cstdint>
#include <vector>

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

// ReadResizeAndMerge for a kernel whose inputs start as ResizeAndMerge's (net_outputs,
// target_size, scale_ratios), without the output or workspace (the sparse path).
absl::Status ReadSparseInputs(tensorflow::OpKernelContext* ctx, OpenPoseBuild build,
                              tensorflow::OpInputList* net_outputs, int64_t* batch,
                              ResizePlan* plan);

// The sparse path's tile bounds (UpsampledMaps::TileBounds: 2 per tile and channel) for one
// image of `plan`: an error where they would pass 2^31-1 floats.
absl::Status CheckTileBoundsSize(const ResizePlan& plan);

// Image n of the validated net outputs: its per-scale [h_s, w_s, C] pointers.
std::vector<const float*> ImageScales(const tensorflow::OpInputList& net_outputs,
                                      const ResizePlan& plan, int64_t n);

}  // namespace tf_glue
}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_RESIZE_AND_MERGE_ARGS_H_
