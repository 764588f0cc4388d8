// Registration of OpenPose>Nms (OpenPose's nmsBase.cpp / .cu; docs/algorithms.md#nms).
#include "ops/errors.h"
#include "ops/op_messages.h"
#include "ops/shape_helpers.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace openpose_tf {

using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;

namespace {

// offset: [2] for the whole batch, or [N, 2] per image.
absl::Status OffsetShape(InferenceContext* c, DimensionHandle n) {
  tensorflow::shape_inference::ShapeHandle s = c->input(2);
  if (!c->RankKnown(s)) return absl::OkStatus();
  const bool pair =
      c->Rank(s) == 1 && (!c->ValueKnown(c->Dim(s, 0)) || c->Value(c->Dim(s, 0)) == 2);
  const bool per_image =
      c->Rank(s) == 2 && (!c->ValueKnown(c->Dim(s, 1)) || c->Value(c->Dim(s, 1)) == 2) &&
      (!c->ValueKnown(c->Dim(s, 0)) || !c->ValueKnown(n) || c->Value(c->Dim(s, 0)) == c->Value(n));
  if (!pair && !per_image) {
    return InvalidArgument("offset must have shape [2] (x, y) or [N,2] = [",
                           c->DebugString(n), ",2], got ", c->DebugString(s));
  }
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("OpenPose>Nms")
    .Input("heatmaps: float")
    .Input("threshold: float")
    .Input("offset: float")
    .Output("peaks: float")
    .Output("peak_counts: int32")
    .Attr("max_peaks: int >= 1 = 127")
    .Attr("openpose_build: {'gpu', 'cpu'} = 'gpu'")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("channel_begin: int >= 0 = 0")
    .Attr("channel_end: int >= -1 = -1")
    .SetShapeFn([](InferenceContext* c) {
      bool nchw = false;
      TF_RETURN_IF_ERROR(shape_fns::IsNchw(c, &nchw));
      DimensionHandle n, h, w, ch;
      TF_RETURN_IF_ERROR(shape_fns::MapDims(c, 0, "heatmaps", nchw, &n, &h, &w, &ch));
      TF_RETURN_IF_ERROR(shape_fns::ChannelRange(c, "heatmaps", &ch));
      TF_RETURN_IF_ERROR(shape_fns::ScalarInput(c, 1, "threshold"));
      TF_RETURN_IF_ERROR(OffsetShape(c, n));
      int max_peaks = 0;
      TF_RETURN_IF_ERROR(c->GetAttr("max_peaks", &max_peaks));
      c->set_output(0, c->MakeShape({n, ch, c->MakeDim(max_peaks), c->MakeDim(3)}));
      c->set_output(1, c->MakeShape({n, ch}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
OpenPose's non-maximum suppression: the peaks of each heatmap channel.

A peak is a pixel above `threshold` that beats its 8 neighbours (border rules per `variant`). Its
position is refined to the score-weighted mean over the 7x7 window (pixels with score > 0), plus
`offset`. Per channel, the first `max_peaks` peaks in raster order (y, then x) are kept.

heatmaps: [N, H, W, C] (or [N, C, H, W] with data_format="NCHW") float32 maps.
threshold: scalar; a peak's value must be strictly above it. NaN is rejected.
offset: [2] (x, y) added to every refined position (OpenPose: 0.5 / scaleNetToOutput), or [N, 2]
  one per image (a batch of images at different scales).
peaks: [N, C, max_peaks, 3] rows (x, y, score) in raster order; rows past the count are 0. A
  position is always finite: where the weighted mean is not (no positive pixel in the window,
  infinite or near-FLT_MAX values), the integer position plus offset is reported.
peak_counts: [N, C] number of valid rows per channel.
max_peaks: M, the most peaks kept per channel (OpenPose: 127).
openpose_build: Python's `variant`: "gpu" reproduces OpenPose's CUDA build (strict test, 1-pixel border excluded); "cpu" its
  CPU build (non-strict test on the ring next to the border, where cv::resize makes twin maxima;
  OpenPose's CPU build also requires 0 <= threshold <= 1).
data_format: "NHWC" (default) or "NCHW".
channel_begin, channel_end: the channels [begin, end) of heatmaps to find peaks in (end -1: to the
  last), read in place: C above is end - begin. OpenPose's parts are [0, P) of the net output.
)doc");

}  // namespace openpose_tf
