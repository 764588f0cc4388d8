#include "ops/errors.h"
#include "ops/shape_helpers.h"

#include <string>
#include <vector>

#include "ops/op_messages.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace openpose_tf {
namespace shape_fns {

using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;
using tensorflow::shape_inference::ShapeHandle;

namespace {

std::vector<int64_t> KnownDims(InferenceContext* c, ShapeHandle s) {
  std::vector<int64_t> dims;
  for (int i = 0; i < c->Rank(s); ++i) dims.push_back(c->Value(c->Dim(s, i)));
  return dims;
}

}  // namespace

absl::Status ChannelRange(InferenceContext* c, const std::string& name, DimensionHandle* ch) {
  int begin = 0, end = -1;
  TF_RETURN_IF_ERROR(c->GetAttr("channel_begin", &begin));
  TF_RETURN_IF_ERROR(c->GetAttr("channel_end", &end));
  const bool known = c->ValueKnown(*ch);
  const int64_t channels = known ? c->Value(*ch) : -1;
  const int64_t stop = end == -1 ? channels : end;
  if ((end != -1 && end <= begin) || (known && (begin >= stop || stop > channels))) {
    return InvalidArgument("channels [", begin, ", ", end, ") do not lie in ", name, "'s ",
                           known ? std::to_string(channels) : std::string("?"), " channels");
  }
  *ch = stop >= 0 ? c->MakeDim(stop - begin) : c->UnknownDim();
  return absl::OkStatus();
}

absl::Status IsNchw(InferenceContext* c, bool* nchw) {
  std::string data_format;
  TF_RETURN_IF_ERROR(c->GetAttr("data_format", &data_format));
  *nchw = data_format == "NCHW";
  return absl::OkStatus();
}

absl::Status NetOutputDims(InferenceContext* c, int num_scales, DimensionHandle* n,
                           DimensionHandle* ch) {
  *n = c->UnknownDim();
  *ch = c->UnknownDim();
  for (int s = 0; s < num_scales; ++s) {
    const std::string name = "net_outputs[" + std::to_string(s) + "]";
    DimensionHandle ns, hs, ws, cs;
    TF_RETURN_IF_ERROR(MapDims(c, s, name, false, &ns, &hs, &ws, &cs));
    if (!c->Merge(*n, ns, n).ok() || !c->Merge(*ch, cs, ch).ok()) {
      return InvalidArgument(name, " must have the N and C of net_outputs[0], got shape ",
                             c->DebugString(c->input(s)), " vs ", c->DebugString(c->input(0)));
    }
  }
  return absl::OkStatus();
}

absl::Status ResizeInputs(InferenceContext* c, int* num_scales, DimensionHandle* n,
                          DimensionHandle* ch) {
  TF_RETURN_IF_ERROR(c->GetAttr("num_scales", num_scales));
  TF_RETURN_IF_ERROR(NetOutputDims(c, *num_scales, n, ch));
  TF_RETURN_IF_ERROR(VectorInput(c, *num_scales, "target_size", 2, "(H, W)"));
  return VectorInput(c, *num_scales + 1, "scale_ratios", *num_scales, "(one per scale)");
}

absl::Status MapDims(InferenceContext* c, int input, const std::string& name, bool nchw,
                     DimensionHandle* n, DimensionHandle* h, DimensionHandle* w,
                     DimensionHandle* ch) {
  ShapeHandle s = c->input(input);
  if (!c->RankKnown(s)) {
    *n = *h = *w = *ch = c->UnknownDim();
    return absl::OkStatus();
  }
  const std::vector<int64_t> dims = KnownDims(c, s);
  if (dims.size() != 4) return InvalidArgument(RankMessage(name, nchw, dims));
  for (int i = 1; i < 4; ++i) {
    if (dims[i] == 0) return InvalidArgument(EmptyMessage(name, nchw, dims));
  }
  *n = c->Dim(s, 0);
  *h = c->Dim(s, nchw ? 2 : 1);
  *w = c->Dim(s, nchw ? 3 : 2);
  *ch = c->Dim(s, nchw ? 1 : 3);
  return absl::OkStatus();
}

absl::Status ScalarInput(InferenceContext* c, int input, const std::string& name) {
  ShapeHandle s = c->input(input);
  if (c->RankKnown(s) && c->Rank(s) != 0) {
    return InvalidArgument(name, " must be a scalar, got shape ",
                           DimsString(KnownDims(c, s)));
  }
  return absl::OkStatus();
}

absl::Status VectorInput(InferenceContext* c, int input, const std::string& name,
                         int64_t length, const std::string& meaning) {
  ShapeHandle s = c->input(input);
  if (c->RankKnown(s) && (c->Rank(s) != 1 || (c->ValueKnown(c->Dim(s, 0)) &&
                                               c->Value(c->Dim(s, 0)) != length))) {
    return InvalidArgument(VectorMessage(name, length, meaning), c->DebugString(s));
  }
  return absl::OkStatus();
}

}  // namespace shape_fns
}  // namespace openpose_tf
