// Registration of OpenPose>PeaksAndPafScores: net outputs -> peaks and pair scores, the fused,
// sparse equivalent of ResizeAndMerge -> Nms (parts) -> PafScores (PAFs), without the upsampled
// maps (kernels/core/sparse_postprocess.h).
#include <cstdint>
#include <vector>

#include "ops/errors.h"
#include "ops/shape_helpers.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace openpose_tf {

using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;

REGISTER_OP("OpenPose>PeaksAndPafScores")
    .Input("net_outputs: num_scales * float")
    .Input("target_size: int32")
    .Input("scale_ratios: float")
    .Input("threshold: float")
    .Input("offset: float")
    .Output("peaks: float")
    .Output("peak_counts: int32")
    .Output("pair_scores: float")
    .Attr("num_scales: int >= 1")
    .Attr("openpose_build: {'gpu', 'cpu'} = 'gpu'")
    .Attr("max_peaks: int >= 1 = 127")
    .Attr("pairs: list(int)")
    .Attr("paf_indices: list(int)")
    .Attr("num_parts: int >= 1")
    .Attr("paf_channel_begin: int >= 1")
    .Attr("inter_min_above_threshold: float")
    .Attr("inter_threshold: float")
    .SetShapeFn([](InferenceContext* c) {
      int num_scales = 0, num_parts = 0, max_peaks = 0, paf_begin = 0;
      std::vector<int32_t> pairs;
      TF_RETURN_IF_ERROR(c->GetAttr("num_parts", &num_parts));
      TF_RETURN_IF_ERROR(c->GetAttr("max_peaks", &max_peaks));
      TF_RETURN_IF_ERROR(c->GetAttr("paf_channel_begin", &paf_begin));
      TF_RETURN_IF_ERROR(c->GetAttr("pairs", &pairs));
      const int64_t limbs = static_cast<int64_t>(pairs.size() / 2);
      DimensionHandle n, ch;
      TF_RETURN_IF_ERROR(shape_fns::ResizeInputs(c, &num_scales, &n, &ch));
      if (c->ValueKnown(ch) && c->Value(ch) != paf_begin + 2 * limbs) {
        return InvalidArgument("net_outputs must have ", paf_begin + 2 * limbs, " channels (",
                               num_parts, " parts, ", paf_begin - num_parts, " background, ",
                               2 * limbs, " PAFs), got shape ", c->DebugString(c->input(0)));
      }
      TF_RETURN_IF_ERROR(shape_fns::ScalarInput(c, num_scales + 2, "threshold"));
      c->set_output(0, c->MakeShape({n, c->MakeDim(num_parts), c->MakeDim(max_peaks),
                                     c->MakeDim(3)}));
      c->set_output(1, c->MakeShape({n, c->MakeDim(num_parts)}));
      c->set_output(2, c->MakeShape({n, c->MakeDim(limbs), c->UnknownDim(), c->UnknownDim()}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
OpenPose's peaks and limb scores straight from the network output, without the upsampled maps:
the same three outputs, bit for bit, as OpenPose>ResizeAndMerge (net_outputs, target_size,
scale_ratios), then OpenPose>Nms on its first num_parts channels (threshold, offset, max_peaks),
then OpenPose>PafScores on its channels from paf_channel_begin (nms_threshold = threshold). Exact
upsampled values are computed only where they can change a result: near values above the
threshold and at the limbs' sample points (tiles are skipped by a bound on their values). CPU
only; feed its outputs to OpenPose>AssemblePeople.

net_outputs: num_scales tensors [N, h_s, w_s, C], C = paf_channel_begin + 2L.
target_size, scale_ratios: as OpenPose>ResizeAndMerge.
threshold, offset: as OpenPose>Nms; threshold is also the close-pair rescue of PafScores.
peaks, peak_counts: as OpenPose>Nms, [N, num_parts, max_peaks, 3] and [N, num_parts].
pair_scores: as OpenPose>PafScores, [N, L, K, K].
openpose_build: Python's `variant`, in every stage.
pairs, paf_indices, num_parts, inter_min_above_threshold, inter_threshold: as OpenPose>PafScores
  (paf_indices count from paf_channel_begin).
paf_channel_begin: the first PAF channel (OpenPose: P + 1 with a background channel).
)doc");

}  // namespace openpose_tf
