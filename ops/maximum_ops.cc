// Registration of OpenPose>Maximum (OpenPose's maximumBase.cpp / .cu;
// docs/algorithms.md#maximum).
#include "ops/shape_helpers.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace openpose_tf {

using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;

REGISTER_OP("OpenPose>Maximum")
    .Input("heatmaps: float")
    .Output("maxima: float")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .SetShapeFn([](InferenceContext* c) {
      bool nchw = false;
      TF_RETURN_IF_ERROR(shape_fns::IsNchw(c, &nchw));
      DimensionHandle n, h, w, ch;
      TF_RETURN_IF_ERROR(shape_fns::MapDims(c, 0, "heatmaps", nchw, &n, &h, &w, &ch));
      c->set_output(0, c->MakeShape({n, ch, c->MakeDim(3)}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
OpenPose's Maximum (hand and face keypoints): per channel, the integer position and the value of
the global maximum; ties go to the first in raster order. No refinement, offset or threshold.
NaN values are skipped (an all-NaN channel gives (0, 0, NaN)).

heatmaps: [N, H, W, C] (or [N, C, H, W] with data_format="NCHW") float32 maps. Every channel is
  processed: slice off a background channel before calling.
maxima: [N, C, 3] rows (x, y, value).
data_format: "NHWC" (default) or "NCHW".
)doc");

}  // namespace openpose_tf
