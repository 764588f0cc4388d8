// Registration of OpenPose>WinogradInputTransform and OpenPose>WinogradOutputTransform: the two
// passes around the matrix products of a Winograd F(4x4, 3x3) convolution (openpose_tf/net's
// 3x3 convolutions on the CPU; kernels/core/winograd.h).
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace openpose_tf {

using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;
using tensorflow::shape_inference::ShapeHandle;

namespace {

// ceil((size + 2 pad - 2) / 4): the tiles along one side (unknown stays unknown).
absl::Status TilesAlong(InferenceContext* c, DimensionHandle size, int pad, DimensionHandle* out) {
  if (!c->ValueKnown(size)) {
    *out = c->UnknownDim();
    return absl::OkStatus();
  }
  const int64_t outputs = c->Value(size) + 2 * int64_t{pad} - 2;
  if (outputs < 1) {
    return absl::InvalidArgumentError(
        "WinogradInputTransform: the input is too small for a 3x3 convolution with this pad");
  }
  *out = c->MakeDim((outputs + 3) / 4);
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("OpenPose>WinogradInputTransform")
    .Input("input: float")
    .Attr("pad_h: int >= 0 = 1")
    .Attr("pad_w: int >= 0 = 1")
    .Output("tiles: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle input;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, &input));
      int pad_h, pad_w;
      TF_RETURN_IF_ERROR(c->GetAttr("pad_h", &pad_h));
      TF_RETURN_IF_ERROR(c->GetAttr("pad_w", &pad_w));
      DimensionHandle th, tw, per_image, tiles;
      TF_RETURN_IF_ERROR(TilesAlong(c, c->Dim(input, 1), pad_h, &th));
      TF_RETURN_IF_ERROR(TilesAlong(c, c->Dim(input, 2), pad_w, &tw));
      TF_RETURN_IF_ERROR(c->Multiply(th, tw, &per_image));
      TF_RETURN_IF_ERROR(c->Multiply(c->Dim(input, 0), per_image, &tiles));
      if (c->ValueKnown(tiles) && c->Value(tiles) % 2 == 0) {  // rounded up to odd
        TF_RETURN_IF_ERROR(c->Add(tiles, 1, &tiles));
      }
      c->set_output(0, c->MakeShape({36, tiles, c->Dim(input, 3)}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
The input pass of a Winograd F(4x4, 3x3) convolution (stride 1, no dilation, zero padding):
every 6x6 window of the padded input at a multiple of 4, transformed by B^T d B.

input: [N, H, W, C] float32 (NHWC).
pad_h, pad_w: Caffe's pad (zeros on each side); the convolution has Ho = H + 2 pad_h - 2 rows and
  Wo = W + 2 pad_w - 2 columns, both at least 1.
tiles: [36, T', C]: T = N * ceil(Ho / 4) * ceil(Wo / 4) tiles in row-major (n, tile row, tile
  column) order, then, if T is even, one tile of zeros (T' odd keeps the 36 rows of a tile out
  of each other's cache sets). Multiplied by the transformed weights G g G^T ([36, C, K]) it gives the
  products that WinogradOutputTransform takes.
)doc");

REGISTER_OP("OpenPose>WinogradOutputTransform")
    .Input("products: float")
    .Input("bias: float")
    .Input("negative_slope: float")
    .Input("output_size: int32")
    .Attr("activation: {'none', 'relu', 'prelu'} = 'none'")
    .Output("output: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle products, bias, slope, size, nhw, output;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 3, &products));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 1, &bias));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 1, &slope));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(3), 1, &size));
      DimensionHandle unused;
      TF_RETURN_IF_ERROR(c->WithValue(c->Dim(products, 0), 36, &unused));
      TF_RETURN_IF_ERROR(c->WithValue(c->Dim(size, 0), 3, &unused));
      TF_RETURN_IF_ERROR(c->MakeShapeFromShapeTensor(3, &nhw));
      TF_RETURN_IF_ERROR(c->Concatenate(nhw, c->Vector(c->Dim(products, 2)), &output));
      c->set_output(0, output);
      return absl::OkStatus();
    })
    .Doc(R"doc(
The output pass of a Winograd F(4x4, 3x3) convolution, with its bias and activation: every tile's
A^T m A (4x4 outputs), the outputs beyond Ho x Wo dropped.

products: [36, T', K] float32, the input pass's tiles times the transformed weights (T' as the
  input pass gives it: the tiles, and one more if their number is even, ignored).
bias: [K] float32, added to every output (zeros for none).
negative_slope: PReLU's slopes, [K] or [1] (one for all channels); read only by 'prelu'.
output_size: [3] int32: N, Ho, Wo (T = N * ceil(Ho / 4) * ceil(Wo / 4)).
activation: 'none', 'relu' (max(y, 0)) or 'prelu' (y > 0 ? y : slope * y, +0 for zeros, as
  Caffe's max(y, 0) + slope * min(y, 0)).
output: [N, Ho, Wo, K] float32 (NHWC).
)doc");

}  // namespace openpose_tf
