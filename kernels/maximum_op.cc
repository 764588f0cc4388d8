// Kernels of OpenPose>Maximum: validate, allocate, and run kernels/core/maximum (CPU) or the
// CUDA launcher kernels/maximum_op_gpu (GPU, built with --config=cuda).
#include "kernels/core/maximum.h"
#include "kernels/map_input.h"
#include "ops/errors.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

#if GOOGLE_CUDA
#include "kernels/maximum_op_gpu.h"
#endif

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

// kOnCuda: the device the kernel runs on (not the OpenPose build, which Maximum does not have).
template <bool kOnCuda>
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
    if constexpr (kOnCuda) {
#if GOOGLE_CUDA
      const int status = LaunchMaximum(OpStream(ctx), in, batch, layout, out);
      OP_REQUIRES(ctx, status == 0,
                  absl::InternalError(absl::StrCat("OpenPose>Maximum: CUDA launch failed (error ",
                                                   status, ")")));
#endif
    } else {
      OP_REQUIRES_OK(ctx, ForEachChannelBlock(
                              ctx, "OpenPose>Maximum", batch, channels,
                              3 * layout.height * int64_t{layout.width},
                              [&](int64_t n, int c_begin, int c_end) {
                                MaximumImage(in + n * layout.image_size(), layout, c_begin,
                                             c_end, out + n * channels * 3);
                              }));
    }
  }

 private:
  bool nchw_ = false;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>Maximum").Device(tensorflow::DEVICE_CPU),
                        MaximumOp<false>);
#if GOOGLE_CUDA
REGISTER_KERNEL_BUILDER(Name("OpenPose>Maximum").Device(tensorflow::DEVICE_GPU),
                        MaximumOp<true>);
#endif

}  // namespace tf_glue
}  // namespace openpose_tf
