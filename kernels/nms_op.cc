// Kernels of OpenPose>Nms: validate, allocate, and run kernels/core/nms per image and channel
// block (CPU) or the CUDA launcher kernels/nms_op_gpu (GPU, built with --config=cuda). threshold
// and offset stay in host memory on both.
#include <vector>

#include "kernels/core/nms.h"
#include "kernels/map_input.h"
#include "kernels/nms_args.h"
#include "ops/errors.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

#if GOOGLE_CUDA
#include "kernels/nms_op_gpu.h"
#endif

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

// kOnCuda: the device the kernel runs on (not the OpenPose build: that is the attr).
template <bool kOnCuda>
class NmsOp : public OpKernel {
 public:
  explicit NmsOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("max_peaks", &max_peaks_));
    OP_REQUIRES(ctx, max_peaks_ >= 1,
                InvalidArgument("max_peaks must be >= 1, got ", max_peaks_));
    OP_REQUIRES_OK(ctx, ReadOpenPoseBuild(ctx, &build_));
    OP_REQUIRES_OK(ctx, ReadDataFormat(ctx, &nchw_));
    OP_REQUIRES_OK(ctx, ReadChannelRange(ctx, &channel_begin_, &channel_end_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& heatmaps = ctx->input(0);
    MapLayout full, layout;  // layout: the channels asked for, read in place
    int64_t first_channel = 0;
    OP_REQUIRES_OK(ctx, GetMapLayout("heatmaps", heatmaps, nchw_, &full));
    OP_REQUIRES_OK(ctx, SelectChannels("heatmaps", full, channel_begin_, channel_end_, &layout,
                                       &first_channel));
    const int64_t batch = heatmaps.dim_size(0);
    NmsParams params;
    std::vector<float> offsets;  // (x, y) per image
    OP_REQUIRES_OK(ctx, ReadNmsParams(ctx->input(1), ctx->input(2), batch, build_, max_peaks_,
                                      &params, &offsets));

    const int channels = layout.channels;
    Tensor* peaks = nullptr;
    Tensor* counts = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({batch, channels, max_peaks_, 3}),
                                             &peaks));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({batch, channels}), &counts));

    const float* in = heatmaps.flat<float>().data() + first_channel;
    float* out = peaks->flat<float>().data();
    int32_t* out_counts = counts->flat<int32_t>().data();
    if constexpr (kOnCuda) {
#if GOOGLE_CUDA
      Tensor scratch;
      OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_INT8,
                                             TensorShape({NmsScratchBytes(batch)}), &scratch));
      const int status = LaunchNms(OpStream(ctx), in, batch, layout, params, offsets.data(),
                                   scratch.flat<int8_t>().data(), out, out_counts);
      OP_REQUIRES(ctx, status == 0,
                  absl::InternalError(absl::StrCat("OpenPose>Nms: CUDA launch failed (error ",
                                                   status, ")")));
#endif
      return;
    }
    const int64_t image_peaks = static_cast<int64_t>(channels) * max_peaks_ * 3;
    OP_REQUIRES_OK(ctx, ForEachChannelBlock(
                            ctx, "OpenPose>Nms", batch, channels,
                            12 * layout.height * int64_t{layout.width},
                            [&](int64_t n, int c_begin, int c_end) {
                              NmsParams image = params;
                              image.offset_x = offsets[2 * n];
                              image.offset_y = offsets[2 * n + 1];
                              NmsImage(in + n * layout.image_size(), layout, c_begin, c_end,
                                       image, out + n * image_peaks, out_counts + n * channels);
                            }));
  }

 private:
  int max_peaks_ = 127;
  OpenPoseBuild build_ = OpenPoseBuild::kGpu;
  bool nchw_ = false;
  int channel_begin_ = 0;
  int channel_end_ = -1;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>Nms").Device(tensorflow::DEVICE_CPU), NmsOp<false>);
#if GOOGLE_CUDA
REGISTER_KERNEL_BUILDER(Name("OpenPose>Nms")
                            .Device(tensorflow::DEVICE_GPU)
                            .HostMemory("threshold")
                            .HostMemory("offset"),
                        NmsOp<true>);
#endif

}  // namespace tf_glue
}  // namespace openpose_tf
