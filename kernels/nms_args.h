// Input validation of NMS's threshold and offset, shared by OpenPose>Nms and the fused
// OpenPose>PeaksAndPafScores (CPU and GPU kernels): every message in one place.
#ifndef OPENPOSE_TF_KERNELS_NMS_ARGS_H_
#define OPENPOSE_TF_KERNELS_NMS_ARGS_H_

#include <cstdint>
#include <vector>

#include "kernels/core/nms.h"
#include "tensorflow/core/framework/tensor.h"

namespace openpose_tf {
namespace tf_glue {

// threshold: a scalar, not NaN, in [0, 1] for the CPU build (as OpenPose's nmsCpu); offset: [2]
// for the batch or [N, 2] per image, finite. Fills params (threshold, max_peaks, build) and
// offsets ((x, y) per image).
absl::Status ReadNmsParams(const tensorflow::Tensor& threshold, const tensorflow::Tensor& offset,
                           int64_t batch, OpenPoseBuild build, int max_peaks, NmsParams* params,
                           std::vector<float>* offsets);

}  // namespace tf_glue
}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_NMS_ARGS_H_
