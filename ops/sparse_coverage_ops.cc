// Registration of OpenPose>SparseCoverage: how much of the upsampled maps the sparse NMS of
// OpenPose>PeaksAndPafScores computes (a diagnostic: its speed follows these fractions).
#include "ops/errors.h"
#include "ops/shape_helpers.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace openpose_tf {

using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;

REGISTER_OP("OpenPose>SparseCoverage")
    .Input("net_outputs: num_scales * float")
    .Input("target_size: int32")
    .Input("scale_ratios: float")
    .Input("threshold: float")
    .Output("coverage: float")
    .Attr("num_scales: int >= 1")
    .Attr("openpose_build: {'gpu', 'cpu'} = 'gpu'")
    .Attr("channel_begin: int >= 0")
    .Attr("channel_end: int >= 1")
    .SetShapeFn([](InferenceContext* c) {
      int num_scales = 0;
      DimensionHandle n, ch;
      TF_RETURN_IF_ERROR(shape_fns::ResizeInputs(c, &num_scales, &n, &ch));
      TF_RETURN_IF_ERROR(shape_fns::ScalarInput(c, num_scales + 2, "threshold"));
      c->set_output(0, c->MakeShape({n, c->MakeDim(2)}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
How much of the upsampled maps OpenPose>PeaksAndPafScores' sparse NMS computes, per image: of
the area of channels [channel_begin, channel_end) of ResizeAndMerge(net_outputs, target_size,
scale_ratios), the fractions in tiles (16x16 pixels) that pass (0) the tile bound, (1) their
own values too (these are computed with a ring and peak-tested; a value above `threshold` is in
each). A diagnostic: the op's time follows these fractions. CPU only.

coverage: [N, 2] float.
)doc");

}  // namespace openpose_tf
