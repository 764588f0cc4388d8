// Kernel of OpenPose>FixedPointWarp (CPU): validate, allocate, shard the rows over the intra-op
// threads, run kernels/core/fixed_point_warp. Rows are independent: the result does not depend on
// the thread count.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/core/fixed_point_warp.h"
#include "kernels/map_input.h"
#include "ops/errors.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
constexpr int32_t kMaxWeight = 1 << 16;  // 16 taps x 255 x 2^16 < 2^31

absl::Status CheckInputs(const Tensor& images, const Tensor& index, const Tensor& xs,
                         const Tensor& ys, const Tensor& weights) {
  if (images.dims() != 4) {
    return InvalidArgument("FixedPointWarp: images must be [N, H, W, C] uint8, got shape ",
                           images.shape().DebugString());
  }
  for (int d = 1; d < 4; ++d) {
    if (images.dim_size(d) > kMaxInt) {
      return InvalidArgument("FixedPointWarp: image dimensions must be below 2^31, got ",
                             images.shape().DebugString());
    }
  }
  if (index.dims() != 1 || xs.dims() != 2 || ys.dims() != 2 ||
      xs.dim_size(0) != index.dim_size(0) || ys.dim_size(0) != index.dim_size(0)) {
    return InvalidArgument(
        "FixedPointWarp: image_index must be [K], xs [K, w] and ys [K, h] with one K, got ",
        index.shape().DebugString(), ", ", xs.shape().DebugString(), " and ",
        ys.shape().DebugString());
  }
  if (xs.dim_size(1) > kMaxInt || ys.dim_size(1) > kMaxInt) {
    return InvalidArgument("FixedPointWarp: the output size must be below 2^31, got ",
                           xs.dim_size(1), "x", ys.dim_size(1));
  }
  const int64_t taps = weights.dims() == 3 ? weights.dim_size(1) : 0;
  if (weights.dims() != 3 || weights.dim_size(0) != kWarpFractions * kWarpFractions ||
      (taps != 2 && taps != 4) || weights.dim_size(2) != taps) {
    return InvalidArgument(
        "FixedPointWarp: weights must be OpenCV's [1024, T, T] table with T = 2 (linear) or 4 "
        "(cubic), got shape ",
        weights.shape().DebugString());
  }
  // OpenCV's tables are int16; this bound keeps every sum of 16 taps within int32.
  const auto table = weights.flat<int32_t>();
  for (int64_t i = 0; i < table.size(); ++i) {
    if (table(i) < -kMaxWeight || table(i) > kMaxWeight) {
      return InvalidArgument("FixedPointWarp: weights must lie in [-", kMaxWeight, ", ",
                             kMaxWeight, "] (OpenCV's tables are int16), got ", table(i));
    }
  }
  const auto image_of = index.flat<int32_t>();
  for (int64_t k = 0; k < image_of.size(); ++k) {
    if (image_of(k) < 0 || image_of(k) >= images.dim_size(0)) {
      return InvalidArgument("FixedPointWarp: image_index[", k, "] = ", image_of(k),
                             " is not an image of the batch of ", images.dim_size(0));
    }
  }
  return absl::OkStatus();
}

}  // namespace

class FixedPointWarpOp : public OpKernel {
 public:
  explicit FixedPointWarpOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& images = ctx->input(0);
    const Tensor& index = ctx->input(1);
    const Tensor& xs = ctx->input(2);
    const Tensor& ys = ctx->input(3);
    const Tensor& weights = ctx->input(4);
    OP_REQUIRES_OK(ctx, CheckInputs(images, index, xs, ys, weights));
    const int64_t count = index.dim_size(0);
    const int out_h = static_cast<int>(ys.dim_size(1));
    const int out_w = static_cast<int>(xs.dim_size(1));
    const int channels = static_cast<int>(images.dim_size(3));
    Tensor* warped = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({count, out_h, out_w, channels}),
                                             &warped));
    if (warped->NumElements() == 0) return;
    const WarpImage first{images.flat<uint8_t>().data(), static_cast<int>(images.dim_size(1)),
                          static_cast<int>(images.dim_size(2)), channels};
    const int64_t image_size = int64_t{first.height} * first.width * channels;
    const int64_t out_size = int64_t{out_h} * out_w * channels;
    const int32_t* image_of = index.flat<int32_t>().data();
    const int32_t* x_fixed = xs.flat<int32_t>().data();
    const int32_t* y_fixed = ys.flat<int32_t>().data();
    const int32_t* table = weights.flat<int32_t>().data();
    const int taps = static_cast<int>(weights.dim_size(1));
    uint8_t* out = warped->flat<uint8_t>().data();
    // Units of work: a row of one warp.
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end;) {
        const int64_t k = u / out_h;
        const int row = static_cast<int>(u % out_h);
        const int row_end = static_cast<int>(std::min<int64_t>(out_h, row + (end - u)));
        WarpImage image = first;
        image.pixels += image_of[k] * image_size;
        FixedPointWarpRows(image, x_fixed + k * out_w, out_w, y_fixed + k * out_h, table, taps,
                           row, row_end, out + k * out_size);
        u += row_end - row;
      }
    };
    const int64_t cost_per_row = int64_t{out_w} * channels * taps * taps * 2;
    OP_REQUIRES_OK(ctx, ShardUnits(ctx, "OpenPose>FixedPointWarp", count * out_h, cost_per_row,
                                   work));
  }
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>FixedPointWarp").Device(tensorflow::DEVICE_CPU),
                        FixedPointWarpOp);

}  // namespace tf_glue
}  // namespace openpose_tf
