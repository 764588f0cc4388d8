// Kernels of OpenPose>Maximum: validate, allocate, and run kernels/core/maximum (CPU) or the
// CUDA launcher kernels/maximum_op_gpu (GPU, built with --config=cuda).
#include "kernels/core/maximum.h"
#include "kernels/map_input.h"
#include "ops/errors.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

#if GOOGLE_CUDA
#include "kernels/maximum_op_gpu.h"
#include "xla/stream_executor/stream.h"
#endif

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

class MaximumOp : public OpKernel {
 public:
  explicit MaximumOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadDataFormat(ctx, &nchw_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& heatmaps = ctx->input(0);
    MapLayout layout;
    OP_REQUIRES_OK(ctx, GetMapLayout("heatmaps", heatmaps, nchw_, &layout));
    const int64_t batch = heatmaps.dim_size(0);
    const int channels = layout.channels;
    Tensor* maxima = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({batch, channels, 3}), &maxima));

    const float* in = heatmaps.flat<float>().data();
    float* out = maxima->flat<float>().data();
    ForEachChannelBlock(ctx, batch, channels, 3 * layout.height * int64_t{layout.width},
                        [&](int64_t n, int c_begin, int c_end) {
                          MaximumImage(in + n * layout.image_size(), layout, c_begin, c_end,
                                       out + n * channels * 3);
                        });
  }

 private:
  bool nchw_ = false;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>Maximum").Device(tensorflow::DEVICE_CPU), MaximumOp);

#if GOOGLE_CUDA
class MaximumGpuOp : public OpKernel {
 public:
  explicit MaximumGpuOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadDataFormat(ctx, &nchw_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& heatmaps = ctx->input(0);
    MapLayout layout;
    OP_REQUIRES_OK(ctx, GetMapLayout("heatmaps", heatmaps, nchw_, &layout));
    const int64_t batch = heatmaps.dim_size(0);
    Tensor* maxima = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({batch, layout.channels, 3}),
                                             &maxima));
    // The op's own stream, never the default one.
    auto stream = reinterpret_cast<cudaStream_t>(
        ctx->op_device_context()->stream()->platform_specific_handle().stream);
    const int status = LaunchMaximum(stream, heatmaps.flat<float>().data(), batch, layout,
                                     maxima->flat<float>().data());
    OP_REQUIRES(ctx, status == 0,
                absl::InternalError(absl::StrCat("OpenPose>Maximum: CUDA launch failed (error ",
                                                 status, ")")));
  }

 private:
  bool nchw_ = false;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>Maximum").Device(tensorflow::DEVICE_GPU), MaximumGpuOp);
#endif  // GOOGLE_CUDA

}  // namespace tf_glue
}  // namespace openpose_tf
