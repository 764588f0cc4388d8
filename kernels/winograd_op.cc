// Kernels of OpenPose>WinogradInputTransform and OpenPose>WinogradOutputTransform (CPU):
// validate, allocate, shard the tiles over the intra-op threads, run kernels/core/winograd.
// Tiles are independent: the result does not depend on the thread count.
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "kernels/core/winograd.h"
#include "kernels/map_input.h"
#include "ops/errors.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/util/overflow.h"

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

namespace {

// Sizes below 2^30 keep every index of the core (int and int64 products) in range.
constexpr int64_t kLimit = int64_t{1} << 30;

// TensorShape(dims) aborts the process on overflow: build it with a status instead.
absl::Status Shape(const char* op, std::initializer_list<int64_t> dims, TensorShape* shape) {
  absl::Status status = TensorShape::BuildTensorShape(dims, shape);
  if (!status.ok()) {
    return InvalidArgument(op, ": the output would be too large (", status.message(), ")");
  }
  return absl::OkStatus();
}

// N * tiles_h * tiles_w, or an error where that overflows int64 (g.Tiles() is then safe).
absl::Status CheckTiles(const char* op, const WinogradGeometry& g) {
  const int64_t per_image = tensorflow::MultiplyWithoutOverflow(g.TilesH(), g.TilesW());
  if (per_image < 0 || tensorflow::MultiplyWithoutOverflow(g.batch, per_image) < 0) {
    return InvalidArgument(op, ": too many tiles for ", g.batch, " images of ", g.OutHeight(),
                           "x", g.OutWidth(), " outputs");
  }
  return absl::OkStatus();
}

}  // namespace

class WinogradInputTransformOp : public OpKernel {
 public:
  explicit WinogradInputTransformOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("pad_h", &pad_h_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("pad_w", &pad_w_));
    OP_REQUIRES(ctx, pad_h_ < (1 << 20) && pad_w_ < (1 << 20),
                InvalidArgument("WinogradInputTransform: pad must be below 2^20, got ", pad_h_,
                                ", ", pad_w_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& input = ctx->input(0);
    OP_REQUIRES(ctx, input.dims() == 4,
                InvalidArgument("WinogradInputTransform: input must be [N, H, W, C] float32, "
                                "got shape ",
                                input.shape().DebugString()));
    for (int d = 1; d < 4; ++d) {
      OP_REQUIRES(ctx, input.dim_size(d) < kLimit,
                  InvalidArgument("WinogradInputTransform: H, W and C must be below 2^30, got ",
                                  input.shape().DebugString()));
    }
    const WinogradGeometry g{input.dim_size(0), static_cast<int>(input.dim_size(1)),
                             static_cast<int>(input.dim_size(2)), pad_h_, pad_w_};
    OP_REQUIRES(ctx, g.OutHeight() >= 1 && g.OutWidth() >= 1,
                InvalidArgument("WinogradInputTransform: a 3x3 convolution with pad (", pad_h_,
                                ", ", pad_w_, ") needs at least ", std::max(1, 3 - 2 * pad_h_),
                                "x", std::max(1, 3 - 2 * pad_w_), " pixels (HxW), got ",
                                g.height, "x", g.width));
    OP_REQUIRES_OK(ctx, CheckTiles("WinogradInputTransform", g));
    const int channels = static_cast<int>(input.dim_size(3));
    Tensor* tiles = nullptr;
    const int64_t stride = WinogradTileStride(g.Tiles());
    TensorShape shape;
    OP_REQUIRES_OK(ctx, Shape("WinogradInputTransform", {kWinogradPoints, stride, channels},
                              &shape));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, shape, &tiles));
    if (tiles->NumElements() == 0) return;
    const float* in = input.flat<float>().data();
    float* out = tiles->flat<float>().data();
    OP_REQUIRES_OK(ctx, ShardUnits(ctx, "OpenPose>WinogradInputTransform", stride,
                                   int64_t{channels} * kWinogradPoints * 8,
                                   [&](int64_t begin, int64_t end) {
                                     WinogradInputTiles(g, channels, in, begin, end, out);
                                   }));
  }

 private:
  int pad_h_, pad_w_;
};

class WinogradOutputTransformOp : public OpKernel {
 public:
  explicit WinogradOutputTransformOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    std::string activation;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("activation", &activation));
    activation_ = activation == "relu"    ? WinogradActivation::kRelu
                  : activation == "prelu" ? WinogradActivation::kPrelu
                                          : WinogradActivation::kNone;
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& products = ctx->input(0);
    const Tensor& bias = ctx->input(1);
    const Tensor& slope = ctx->input(2);
    const Tensor& size = ctx->input(3);
    OP_REQUIRES(ctx, products.dims() == 3 && products.dim_size(0) == kWinogradPoints,
                InvalidArgument("WinogradOutputTransform: products must be [36, T, K] float32, "
                                "got shape ",
                                products.shape().DebugString()));
    OP_REQUIRES(ctx, products.dim_size(2) < kLimit,
                InvalidArgument("WinogradOutputTransform: K must be below 2^30, got ",
                                products.dim_size(2)));
    const int channels = static_cast<int>(products.dim_size(2));
    OP_REQUIRES_OK(ctx, CheckVector("WinogradOutputTransform: bias", bias, channels,
                                    "one per output channel"));
    const bool prelu = activation_ == WinogradActivation::kPrelu;
    OP_REQUIRES(ctx, !prelu || (slope.dims() == 1 && (slope.dim_size(0) == channels ||
                                                      slope.dim_size(0) == 1)),
                InvalidArgument("WinogradOutputTransform: negative_slope must be [", channels,
                                "] or [1] for 'prelu', got shape ", slope.shape().DebugString()));
    OP_REQUIRES(ctx, size.dims() == 1 && size.dim_size(0) == 3,
                InvalidArgument("WinogradOutputTransform: output_size must be [3] (N, Ho, Wo), "
                                "got shape ",
                                size.shape().DebugString()));
    const auto nhw = size.flat<int32_t>();
    OP_REQUIRES(ctx, nhw(0) >= 0 && nhw(1) >= 1 && nhw(2) >= 1 && nhw(1) < kLimit &&
                         nhw(2) < kLimit,
                InvalidArgument("WinogradOutputTransform: output_size must be N >= 0 and "
                                "1 <= Ho, Wo < 2^30, got ",
                                nhw(0), ", ", nhw(1), ", ", nhw(2)));
    // A geometry whose output is Ho x Wo (pad 1: input of the output's size).
    const WinogradGeometry g{nhw(0), nhw(1), nhw(2), 1, 1};
    OP_REQUIRES_OK(ctx, CheckTiles("WinogradOutputTransform", g));
    OP_REQUIRES(ctx, WinogradTileStride(g.Tiles()) == products.dim_size(1),
                InvalidArgument("WinogradOutputTransform: ", products.dim_size(1),
                                " tiles given, output_size ", nhw(0), "x", nhw(1), "x", nhw(2),
                                " has ", g.Tiles(), " (", WinogradTileStride(g.Tiles()),
                                " with the padding tile)"));
    Tensor* output = nullptr;
    TensorShape shape;
    OP_REQUIRES_OK(ctx, Shape("WinogradOutputTransform", {nhw(0), nhw(1), nhw(2), channels},
                              &shape));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, shape, &output));
    if (output->NumElements() == 0) return;
    const WinogradEpilogue epilogue{bias.flat<float>().data(),
                                    prelu ? slope.flat<float>().data() : nullptr,
                                    prelu && slope.dim_size(0) == channels, activation_};
    const float* m = products.flat<float>().data();
    float* out = output->flat<float>().data();
    OP_REQUIRES_OK(ctx, ShardUnits(ctx, "OpenPose>WinogradOutputTransform", g.Tiles(),
                                   int64_t{channels} * kWinogradPoints * 6,
                                   [&](int64_t begin, int64_t end) {
                                     WinogradOutputTiles(g, channels, m, epilogue, begin, end,
                                                         out);
                                   }));
  }

 private:
  WinogradActivation activation_;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>WinogradInputTransform").Device(tensorflow::DEVICE_CPU),
                        WinogradInputTransformOp);
REGISTER_KERNEL_BUILDER(Name("OpenPose>WinogradOutputTransform").Device(tensorflow::DEVICE_CPU),
                        WinogradOutputTransformOp);

}  // namespace tf_glue
}  // namespace openpose_tf
