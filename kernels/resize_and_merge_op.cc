// Kernels of OpenPose>ResizeAndMerge: validate (resize_and_merge_args), then either allocate the
// core's workspace through TensorFlow and run the two separable passes of kernels/core on the
// intra-op thread pool, one image at a time (CPU), or run the CUDA launcher
// kernels/resize_and_merge_op_gpu on the op's stream (GPU, built with --config=cuda).
#include <vector>

#include "kernels/core/resize_and_merge.h"
#include "kernels/map_input.h"
#include "kernels/resize_and_merge_args.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

#if GOOGLE_CUDA
#include "kernels/resize_and_merge_op_gpu.h"
#endif

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpInputList;
using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

// kOnCuda: the device the kernel runs on (not the OpenPose build: that is the attr).
template <bool kOnCuda>
class ResizeAndMergeOp : public OpKernel {
 public:
  explicit ResizeAndMergeOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadOpenPoseBuild(ctx, &build_));
  }

  void Compute(OpKernelContext* ctx) override {
    OpInputList inputs;
    OP_REQUIRES_OK(ctx, ctx->input_list("net_outputs", &inputs));
    const int num_scales = inputs.size();
    int64_t batch = 0;
    ResizePlan plan;
    ResizeWorkspace size;
    OP_REQUIRES_OK(ctx, ReadResizeAndMerge(inputs, ctx->input(num_scales),
                                           ctx->input(num_scales + 1), build_, &batch, &plan,
                                           &size));
    Tensor* output = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({batch, plan.target_height,
                                                             plan.target_width, plan.channels}),
                                             &output));
    if (batch == 0) return;
    if constexpr (kOnCuda) {
#if GOOGLE_CUDA
      Tensor scratch;
      OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_INT8,
                                             TensorShape({ResizeScratchBytes(num_scales)}),
                                             &scratch));
      std::vector<const float*> sources;
      for (int s = 0; s < num_scales; ++s) sources.push_back(inputs[s].flat<float>().data());
      const int status = LaunchResizeAndMerge(OpStream(ctx), plan, sources.data(), batch,
                                              scratch.flat<int8_t>().data(),
                                              output->flat<float>().data());
      OP_REQUIRES(ctx, status == 0,
                  absl::InternalError(absl::StrCat(
                      "OpenPose>ResizeAndMerge: CUDA launch failed (error ", status, ")")));
#endif
      return;
    }
    Tensor index, floats;
    OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_INT32, TensorShape({size.index_count}),
                                           &index));
    OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_FLOAT, TensorShape({size.float_count}),
                                           &floats));
    const ResizeBuffers buffers =
        PrepareResize(plan, index.flat<int32_t>().data(), floats.flat<float>().data());

    int64_t source_rows = 0;
    for (const ResizeScale& s : plan.scales) source_rows += s.height;
    const int64_t row_size = static_cast<int64_t>(plan.target_width) * plan.channels;
    for (int64_t n = 0; n < batch; ++n) {
      // Pass 1: one unit per source row of every scale.
      auto horizontal = [&](int64_t begin, int64_t end) {
        for (int64_t u = begin; u < end; ++u) {
          int s = 0;
          int64_t row = u;
          while (row >= plan.scales[s].height) row -= plan.scales[s++].height;
          const int64_t image = static_cast<int64_t>(plan.scales[s].height) *
                                plan.scales[s].width * plan.channels;
          HorizontalPass(plan, buffers, s, inputs[s].flat<float>().data() + n * image,
                         static_cast<int>(row), static_cast<int>(row) + 1);
        }
      };
      OP_REQUIRES_OK(ctx, ShardUnits(ctx, "OpenPose>ResizeAndMerge", source_rows, 20 * row_size,
                                     horizontal));
      // Pass 2: one unit per target row.
      float* out = output->flat<float>().data() + n * plan.target_height * row_size;
      auto vertical = [&](int64_t begin, int64_t end) {
        VerticalPass(plan, buffers, static_cast<int>(begin), static_cast<int>(end), out);
      };
      OP_REQUIRES_OK(ctx, ShardUnits(ctx, "OpenPose>ResizeAndMerge", plan.target_height,
                                     20 * num_scales * row_size, vertical));
    }
  }

 private:
  OpenPoseBuild build_ = OpenPoseBuild::kGpu;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>ResizeAndMerge")
                            .Device(tensorflow::DEVICE_CPU)
                            .HostMemory("target_size")
                            .HostMemory("scale_ratios"),
                        ResizeAndMergeOp<false>);
#if GOOGLE_CUDA
REGISTER_KERNEL_BUILDER(Name("OpenPose>ResizeAndMerge")
                            .Device(tensorflow::DEVICE_GPU)
                            .HostMemory("target_size")
                            .HostMemory("scale_ratios"),
                        ResizeAndMergeOp<true>);
#endif

}  // namespace tf_glue
}  // namespace openpose_tf
