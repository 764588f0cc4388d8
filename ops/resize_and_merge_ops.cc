// Registration of OpenPose>ResizeAndMerge (OpenPose's resizeAndMergeBase.cpp / .cu;
// docs/algorithms.md#resizeandmerge).
#include "ops/errors.h"
#include "ops/shape_helpers.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace openpose_tf {

using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;
using tensorflow::shape_inference::ShapeHandle;

REGISTER_OP("OpenPose>ResizeAndMerge")
    .Input("net_outputs: num_scales * float")
    .Input("target_size: int32")
    .Input("scale_ratios: float")
    .Output("heatmaps: float")
    .Attr("num_scales: int >= 1")
    .Attr("openpose_build: {'gpu', 'cpu'} = 'gpu'")
    .SetShapeFn([](InferenceContext* c) {
      int num_scales = 0;
      DimensionHandle n, ch;
      TF_RETURN_IF_ERROR(shape_fns::ResizeInputs(c, &num_scales, &n, &ch));
      ShapeHandle hw;
      TF_RETURN_IF_ERROR(c->MakeShapeFromShapeTensor(num_scales, &hw));
      if (c->RankKnown(hw)) {
        for (int i = 0; i < 2; ++i) {
          if (c->ValueKnown(c->Dim(hw, i)) && c->Value(c->Dim(hw, i)) <= 0) {
            return InvalidArgument("target_size must be positive, got ", c->DebugString(hw));
          }
        }
      }
      c->set_output(0, c->MakeShape({n, c->Dim(hw, 0), c->Dim(hw, 1), ch}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
OpenPose's resizeAndMerge: upsamples each scale's network output to `target_size` with
OpenPose's bicubic interpolation and averages the scales (per image; never across the batch).

net_outputs: num_scales tensors [N, h_s, w_s, C], the same N and C.
target_size: [2] (H, W) of the output.
scale_ratios: [num_scales] OpenPose's scaleInputToNetInputs (used by openpose_build="gpu" to place
  each scale, and then checked against the maps' sizes: a ratio that would make the target read
  more than 3 pixels past a map's edge is an error; OpenPose's CPU build ignores them).
heatmaps: [N, H, W, C].
openpose_build: Python's `variant`: "gpu" reproduces OpenPose's CUDA build (Catmull-Rom, a = -0.5, each scale placed by
  its ratio); "cpu" its CPU build (cv::resize INTER_CUBIC, Keys A = -0.75, each scale stretched to
  the target).
)doc");

}  // namespace openpose_tf
