// Registration of OpenPose's body part connector (bodyPartConnectorBase.cpp / .cu;
// docs/algorithms.md#body-part-connector) as two ops:
//   OpenPose>PafScores       pafs + peaks -> pair scores [N, L, K, K] (dense; the GPU-able part)
//   OpenPose>AssemblePeople  peaks + pair scores -> people (sequential; CPU only, as OpenPose)
#include <cstdint>
#include <vector>

#include "ops/errors.h"
#include "ops/shape_helpers.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace openpose_tf {

using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;
using tensorflow::shape_inference::ShapeHandle;

namespace {

// peaks [N, P, M, 3] with P = num_parts, and peak_counts [N, P]: checks what is known.
absl::Status PeakShapes(InferenceContext* c, int peaks_input, DimensionHandle* n) {
  int num_parts = 0;
  TF_RETURN_IF_ERROR(c->GetAttr("num_parts", &num_parts));
  ShapeHandle peaks = c->input(peaks_input);
  if (c->RankKnown(peaks)) {
    const DimensionHandle p = c->Dim(peaks, 1);
    const DimensionHandle three = c->Dim(peaks, 3);
    if (c->Rank(peaks) != 4 || (c->ValueKnown(p) && c->Value(p) != num_parts) ||
        (c->ValueKnown(three) && c->Value(three) != 3)) {
      return InvalidArgument("peaks must have shape [N,P,M,3] with P = ", num_parts,
                             " (the pose model's parts), got ", c->DebugString(peaks));
    }
    const DimensionHandle peaks_n = c->Dim(peaks, 0);
    if (c->ValueKnown(*n) && c->ValueKnown(peaks_n) && c->Value(*n) != c->Value(peaks_n)) {
      return InvalidArgument("peaks must have shape [N,P,M,3] with N = ", c->Value(*n),
                             " (pafs), got ", c->DebugString(peaks));
    }
    if (!c->ValueKnown(*n)) *n = peaks_n;
  }
  ShapeHandle counts = c->input(peaks_input + 1);
  if (c->RankKnown(counts) && c->Rank(counts) != 2) {
    return InvalidArgument("peak_counts must be 2-D [N,P], got ", c->DebugString(counts));
  }
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("OpenPose>PafScores")
    .Input("pafs: float")
    .Input("peaks: float")
    .Input("peak_counts: Tcounts")
    .Output("pair_scores: float")
    .Attr("Tcounts: {int32, int64} = DT_INT32")
    .Attr("pairs: list(int)")
    .Attr("paf_indices: list(int)")
    .Attr("num_parts: int >= 1")
    .Attr("inter_min_above_threshold: float")
    .Attr("inter_threshold: float")
    .Attr("nms_threshold: float")
    .Attr("channel_begin: int >= 0 = 0")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle n, h, w, ch;
      TF_RETURN_IF_ERROR(shape_fns::MapDims(c, 0, "pafs", false, &n, &h, &w, &ch));
      TF_RETURN_IF_ERROR(PeakShapes(c, 1, &n));
      std::vector<int32_t> pairs;
      TF_RETURN_IF_ERROR(c->GetAttr("pairs", &pairs));
      const int64_t limbs = static_cast<int64_t>(pairs.size() / 2);
      c->set_output(0, c->MakeShape({n, c->MakeDim(limbs), c->UnknownDim(), c->UnknownDim()}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
The dense half of OpenPose's body part connector: the PAF line score of every candidate limb
(docs/algorithms.md#paf-line-score), for OpenPose>AssemblePeople.

pafs: [N, H, W, channel_begin + 2L]: the PAF channels of the resized net output, in network order,
  from channel channel_begin (read in place: the whole net output can be passed).
peaks: [N, P, M, 3] and peak_counts: [N, P] (int32 or int64), as returned by OpenPose>Nms.
pair_scores: [N, L, K, K], K the largest count in peak_counts (not M: the work and the memory
  follow the peaks found). [n, l, a, b] scores peak a of limb l's part A with peak b of its part B;
  -1 where a or b is past that part's count; 0 for a rejected limb.
pairs: 2L part indices, limb l joins parts pairs[2l] -> pairs[2l+1].
paf_indices: 2L channels of pafs, limb l's x and y PAF maps.
num_parts: P, the pose model's part count (peaks must have exactly P parts).
inter_min_above_threshold, inter_threshold: OpenPose's line-score thresholds.
nms_threshold: the close-pair rescue scores nms_threshold + 1e-6.
channel_begin: the first PAF channel of pafs (OpenPose's net output: P + 1 with a background).
)doc");

REGISTER_OP("OpenPose>AssemblePeople")
    .Input("peaks: float")
    .Input("peak_counts: Tcounts")
    .Input("pair_scores: float")
    .Input("scale_factor: float")
    .Output("keypoints: float")
    .Output("scores: float")
    .Output("people_per_image: int64")
    .Attr("Tcounts: {int32, int64} = DT_INT32")
    .Attr("pairs: list(int)")
    .Attr("num_parts: int >= 1")
    .Attr("openpose_build: {'gpu', 'cpu'} = 'gpu'")
    .Attr("ear_limbs: list(int) = []")
    .Attr("dedup_lone_peaks: bool = true")
    .Attr("foot_parts: list(int) = []")
    .Attr("cpu_build_supported: bool = true")
    .Attr("model_name: string = 'custom'")
    .Attr("min_subset_cnt: int")
    .Attr("min_subset_score: float")
    .Attr("maximize_positives: bool = false")
    .SetShapeFn([](InferenceContext* c) {
      DimensionHandle n = c->UnknownDim();
      TF_RETURN_IF_ERROR(PeakShapes(c, 0, &n));
      int num_parts = 0;
      TF_RETURN_IF_ERROR(c->GetAttr("num_parts", &num_parts));
      c->set_output(0, c->MakeShape({c->UnknownDim(), c->MakeDim(num_parts), c->MakeDim(3)}));
      c->set_output(1, c->Vector(c->UnknownDim()));
      c->set_output(2, c->Vector(n));
      return absl::OkStatus();
    })
    .Doc(R"doc(
The sequential half of OpenPose's body part connector: people from peaks and the pair scores of
OpenPose>PafScores (docs/algorithms.md#body-part-connector). CPU only, as in OpenPose.

Outputs are flat over the batch: image n's people are rows people_per_image[:n].sum() onwards
(the Python wrapper returns RaggedTensors).

peaks: [N, P, M, 3] and peak_counts: [N, P], as given to OpenPose>PafScores.
pair_scores: [N, L, K, K] from OpenPose>PafScores (K at least the largest count).
scale_factor: scalar or [N], finite and > 0; keypoint x and y are multiplied by it (OpenPose:
  scaleNetToOutput).
keypoints: [T, P, 3] (x, y, score) per person, missing parts (0, 0, 0), people in OpenPose's order.
scores: [T] OpenPose's person score (summed peak and PAF scores times 1 / (P + L)).
people_per_image: [N].
openpose_build: Python's `variant`: "gpu" (OpenPose's CUDA-build grouping: one global sort) or
  "cpu" (its CPU-build grouping: greedy per limb).
ear_limbs: limbs whose connections only fill empty slots in the CPU-build grouping (OpenPose's
  ear rule: COCO and BODY_25).
dedup_lone_peaks: CPU build: a lone peak that a person already holds does not start another
  person (false for MPI, as in OpenPose).
foot_parts: parts that do not count towards min_subset_cnt; a person holding one with at most 4
  other parts is dropped (OpenPose's foot rule: BODY_25, BODY_25B).
cpu_build_supported: false where OpenPose's CPU build has no connector for the model (BODY_25B):
  openpose_build="cpu" is then Unimplemented.
model_name: the pose model's name, for messages only.
)doc");

}  // namespace openpose_tf
