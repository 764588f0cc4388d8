// Shape-function helpers shared by the op registrations.
#ifndef OPENPOSE_TF_OPS_SHAPE_HELPERS_H_
#define OPENPOSE_TF_OPS_SHAPE_HELPERS_H_

#include <string>

#include "tensorflow/core/framework/shape_inference.h"

namespace openpose_tf {
namespace shape_fns {

// Checks a 4-D map input (rank 4, no known zero H, W or C; N may be 0) and returns its N, H, W,
// C handles whatever the data format.
absl::Status MapDims(tensorflow::shape_inference::InferenceContext* c, int input,
                     const std::string& name, bool nchw,
                     tensorflow::shape_inference::DimensionHandle* n,
                     tensorflow::shape_inference::DimensionHandle* h,
                     tensorflow::shape_inference::DimensionHandle* w,
                     tensorflow::shape_inference::DimensionHandle* ch);

// Inputs [0, num_scales): net outputs [N, h_s, w_s, C] (MapDims each) with the same N and C;
// returns those N and C handles.
absl::Status NetOutputDims(tensorflow::shape_inference::InferenceContext* c, int num_scales,
                           tensorflow::shape_inference::DimensionHandle* n,
                           tensorflow::shape_inference::DimensionHandle* ch);

// The inputs of ResizeAndMerge and of the ops that read net outputs as it does: num_scales (the
// attr) net outputs (NetOutputDims), then target_size [2] and scale_ratios [num_scales].
absl::Status ResizeInputs(tensorflow::shape_inference::InferenceContext* c, int* num_scales,
                          tensorflow::shape_inference::DimensionHandle* n,
                          tensorflow::shape_inference::DimensionHandle* ch);

// The channel_begin / channel_end attrs (end -1: to the last channel) applied to the channel
// dimension `ch` of input `name`: checks the range against a known C and replaces `ch` with the
// range's size (unknown when end is -1 and C is).
absl::Status ChannelRange(tensorflow::shape_inference::InferenceContext* c,
                          const std::string& name,
                          tensorflow::shape_inference::DimensionHandle* ch);

// Reads the data_format attr ("NHWC" or "NCHW").
absl::Status IsNchw(tensorflow::shape_inference::InferenceContext* c, bool* nchw);

// Requires input `input` to be a scalar (or of unknown shape).
absl::Status ScalarInput(tensorflow::shape_inference::InferenceContext* c, int input,
                         const std::string& name);

// Requires input `input` to be a vector of `length` values (or of unknown shape).
absl::Status VectorInput(tensorflow::shape_inference::InferenceContext* c, int input,
                         const std::string& name, int64_t length, const std::string& meaning);

}  // namespace shape_fns
}  // namespace openpose_tf

#endif  // OPENPOSE_TF_OPS_SHAPE_HELPERS_H_
