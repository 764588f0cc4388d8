// Registration of OpenPose>FixedPointWarp: OpenCV's fixed-point warpAffine for OpenPose's input
// scaling and its hand and face crops (python/openpose_tf/graph_warp.py builds the coordinates
// and weight tables).
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace openpose_tf {

using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;
using tensorflow::shape_inference::ShapeHandle;

REGISTER_OP("OpenPose>FixedPointWarp")
    .Input("images: uint8")
    .Input("image_index: int32")
    .Input("xs: int32")
    .Input("ys: int32")
    .Input("weights: int32")
    .Output("warped: uint8")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle images, index, xs, ys, weights;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, &images));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 1, &index));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 2, &xs));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(3), 2, &ys));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(4), 3, &weights));
      DimensionHandle k;
      TF_RETURN_IF_ERROR(c->Merge(c->Dim(index, 0), c->Dim(xs, 0), &k));
      TF_RETURN_IF_ERROR(c->Merge(k, c->Dim(ys, 0), &k));
      c->set_output(0, c->MakeShape({k, c->Dim(ys, 1), c->Dim(xs, 1), c->Dim(images, 3)}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
OpenCV's fixed-point warpAffine (INTER_LINEAR or INTER_CUBIC, BORDER_CONSTANT 0) for warps whose
source row depends only on the destination row and the source column only on the destination
one (OpenPose's input scaling, its hand and face crops). K warped images, exactly as OpenCV
computes them:

  warped[k, y, x, c] = saturate((sum_{i,j} src(Y0 + i, X0 + j, c) * w[i][j] + 2^14) >> 15)

with X = xs[k, x], Y = ys[k, y] source coordinates in 1/32 pixel, X0 = (X >> 5) - (T/2 - 1)
(likewise Y0), w = weights[(Y & 31) * 32 + (X & 31)], src = images[image_index[k]], 0 outside it.

images: [N, H, W, C] uint8.
image_index: [K] int32, the image each warp reads, in [0, N).
xs: [K, w] int32 source columns in 1/32 pixel.
ys: [K, h] int32 source rows in 1/32 pixel.
weights: [1024, T, T] int32, OpenCV's 2-D interpolation table (initInterTab2D), T = 2 (linear) or
  4 (cubic).
warped: [K, h, w, C] uint8.
)doc");

}  // namespace openpose_tf
