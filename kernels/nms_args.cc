#include "kernels/nms_args.h"

#include <cmath>

#include "ops/errors.h"
#include "ops/op_messages.h"

namespace openpose_tf {
namespace tf_glue {

absl::Status ReadNmsParams(const tensorflow::Tensor& threshold, const tensorflow::Tensor& offset,
                           int64_t batch, OpenPoseBuild build, int max_peaks, NmsParams* params,
                           std::vector<float>* offsets) {
  if (threshold.dims() != 0) {
    return InvalidArgument("threshold must be a scalar, got shape ",
                           threshold.shape().DebugString());
  }
  params->threshold = threshold.scalar<float>()();
  if (std::isnan(params->threshold)) {
    return InvalidArgument("threshold must not be NaN");
  }
  // OpenPose's CPU build refuses thresholds outside [0, 1] (nmsBase.cpp, nmsCpu).
  if (build == OpenPoseBuild::kCpu && !(params->threshold >= 0.f && params->threshold <= 1.f)) {
    return InvalidArgument("threshold must be in [0, 1] with ", VariantName(true),
                           " (as OpenPose's CPU build), got ", params->threshold);
  }
  // One (x, y) for the whole batch, or one per image (images at different scales).
  const bool shared = offset.dims() == 1 && offset.dim_size(0) == 2;
  const bool per_image =
      offset.dims() == 2 && offset.dim_size(0) == batch && offset.dim_size(1) == 2;
  if (!shared && !per_image) {
    return InvalidArgument("offset must have shape [2] (x, y) or [N,2] = [", batch, ",2], got ",
                           offset.shape().DebugString());
  }
  const float* data = offset.flat<float>().data();
  for (int64_t n = 0; n < batch; ++n) {
    const float x = shared ? data[0] : data[2 * n];
    const float y = shared ? data[1] : data[2 * n + 1];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      return InvalidArgument("offset must be finite, got (", x, ", ", y, ")");
    }
    offsets->push_back(x);
    offsets->push_back(y);
  }
  params->max_peaks = max_peaks;
  params->build = build;
  return absl::OkStatus();
}

}  // namespace tf_glue
}  // namespace openpose_tf
