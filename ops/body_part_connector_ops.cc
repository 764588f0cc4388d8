// Registration of OpenPose>BodyPartConnector (spec section 4).
#include "ops/errors.h"
#include "ops/shape_helpers.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace openpose_tf {

using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;
using tensorflow::shape_inference::ShapeHandle;

REGISTER_OP("OpenPose>BodyPartConnector")
    .Input("pafs: float")
    .Input("peaks: float")
    .Input("peak_counts: int32")
    .Input("scale_factor: float")
    .Output("keypoints: float")
    .Output("scores: float")
    .Output("people_per_image: int64")
    .Attr("pairs: list(int)")
    .Attr("paf_indices: list(int)")
    .Attr("model_name: string = 'custom'")
    .Attr("openpose_build: {'gpu', 'cpu'} = 'gpu'")
    .Attr("inter_min_above_threshold: float")
    .Attr("inter_threshold: float")
    .Attr("min_subset_cnt: int")
    .Attr("min_subset_score: float")
    .Attr("nms_threshold: float")
    .Attr("maximize_positives: bool = false")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle n, h, w, ch;
      TF_RETURN_IF_ERROR(shape_fns::MapDims(c, 0, "pafs", false, &n, &h, &w, &ch));
      ShapeHandle peaks = c->input(1);
      DimensionHandle parts = c->UnknownDim();
      if (c->RankKnown(peaks)) {
        if (c->Rank(peaks) != 4) {
          return InvalidArgument("peaks must be 4-D [N,P,M,3], got ", c->DebugString(peaks));
        }
        parts = c->Dim(peaks, 1);
      }
      ShapeHandle counts = c->input(2);
      if (c->RankKnown(counts) && c->Rank(counts) != 2) {
        return InvalidArgument("peak_counts must be 2-D [N,P], got ", c->DebugString(counts));
      }
      c->set_output(0, c->MakeShape({c->UnknownDim(), parts, c->MakeDim(3)}));
      c->set_output(1, c->Vector(c->UnknownDim()));
      c->set_output(2, c->Vector(n));
      return absl::OkStatus();
    })
    .Doc(R"doc(
OpenPose's body part connector: people from heatmap peaks and Part Affinity Fields.

Outputs are flat over the batch: image n's people are rows people_per_image[:n].sum() onwards
(the Python wrapper returns RaggedTensors).

pafs: [N, H, W, 2L] the PAF channels of the resized net output, in network order.
peaks: [N, P, M, 3] and peak_counts: [N, P], as returned by OpenPose>Nms (offset applied).
scale_factor: scalar or [N]; keypoint x and y are multiplied by it (OpenPose: scaleNetToOutput).
keypoints: [T, P, 3] (x, y, score) per person, missing parts (0, 0, 0), people in OpenPose's order.
scores: [T] OpenPose's person score (summed peak and PAF scores times 1 / (P + L)).
people_per_image: [N].
pairs: 2L part indices, limb l joins parts pairs[2l] -> pairs[2l+1].
paf_indices: 2L channels of pafs, limb l's x and y PAF maps.
model_name: the pose model, for the CPU build's model checks ("custom" for other topologies).
openpose_build: "gpu" (OpenPose's CUDA-build grouping) or "cpu" (its CPU-build grouping).
)doc");

}  // namespace openpose_tf
