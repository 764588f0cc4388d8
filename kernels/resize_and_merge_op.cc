// CPU kernel of OpenPose>ResizeAndMerge: validates, then runs the two separable passes of
// kernels/core/resize_and_merge on the intra-op thread pool, one image at a time.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/core/resize_and_merge.h"
#include "kernels/map_input.h"
#include "ops/errors.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/util/work_sharder.h"

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpInputList;
using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

class ResizeAndMergeOp : public OpKernel {
 public:
  explicit ResizeAndMergeOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadVariant(ctx, &variant_));
  }

  void Compute(OpKernelContext* ctx) override {
    OpInputList inputs;
    OP_REQUIRES_OK(ctx, ctx->input_list("net_outputs", &inputs));
    const int num_scales = inputs.size();
    std::vector<MapLayout> layouts(num_scales);
    for (int s = 0; s < num_scales; ++s) {
      const std::string name = "net_outputs[" + std::to_string(s) + "]";
      OP_REQUIRES_OK(ctx, GetMapLayout(name, inputs[s], false, &layouts[s]));
      OP_REQUIRES(ctx,
                  inputs[s].dim_size(0) == inputs[0].dim_size(0) &&
                      layouts[s].channels == layouts[0].channels,
                  InvalidArgument(name, " must have the N and C of net_outputs[0], got shape ",
                                  inputs[s].shape().DebugString(), " vs ",
                                  inputs[0].shape().DebugString()));
    }
    int target_h = 0, target_w = 0;
    OP_REQUIRES_OK(ctx, ReadTargetSize(ctx->input(num_scales), &target_h, &target_w));
    std::vector<float> ratios;
    OP_REQUIRES_OK(ctx, ReadRatios(ctx->input(num_scales + 1), num_scales, &ratios));

    const int64_t batch = inputs[0].dim_size(0);
    const int channels = layouts[0].channels;
    const int64_t row_size = static_cast<int64_t>(target_w) * channels;
    const int64_t out_elements = batch * target_h * row_size;
    // The CUDA kernels index with int: refuse what would overflow there too.
    OP_REQUIRES(ctx, out_elements <= std::numeric_limits<int32_t>::max(),
                InvalidArgument("output [N,H,W,C] = [", batch, ",", target_h, ",", target_w, ",",
                                channels, "] has ", out_elements,
                                " elements, more than 2^31-1"));
    Tensor* output = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(
                            0, TensorShape({batch, target_h, target_w, channels}), &output));

    // Taps per scale (OpenPose's scaleWidth/scaleHeight for the GPU build).
    std::vector<AxisTaps> x_taps(num_scales), y_taps(num_scales);
    int64_t scratch_rows = 0;
    for (int s = 0; s < num_scales; ++s) {
      const MapLayout& l = layouts[s];
      if (variant_ == Variant::kGpu) {
        const float ratio = ratios[s] / ratios[0];
        const float scale_w = static_cast<float>(target_w) / layouts[0].width / ratio;
        const float scale_h = static_cast<float>(target_h) / layouts[0].height / ratio;
        x_taps[s] = GpuAxisTaps(l.width, target_w, scale_w);
        y_taps[s] = GpuAxisTaps(l.height, target_h, scale_h);
      } else {
        x_taps[s] = CpuAxisTaps(l.width, target_w);
        y_taps[s] = CpuAxisTaps(l.height, target_h);
      }
      scratch_rows += l.height;
    }
    Tensor scratch;
    OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_FLOAT,
                                           TensorShape({scratch_rows * row_size}), &scratch));
    std::vector<float*> rows(num_scales);
    rows[0] = scratch.flat<float>().data();
    for (int s = 1; s < num_scales; ++s) rows[s] = rows[s - 1] + layouts[s - 1].height * row_size;

    auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
    for (int64_t n = 0; n < batch; ++n) {
      // Pass 1: one unit per source row of every scale.
      auto horizontal = [&](int64_t begin, int64_t end) {
        for (int64_t u = begin; u < end; ++u) {
          int s = 0;
          int64_t row = u;
          while (row >= layouts[s].height) row -= layouts[s++].height;
          const float* src = inputs[s].flat<float>().data() + n * layouts[s].image_size();
          HorizontalPass(src, layouts[s].width, channels, x_taps[s], variant_,
                         static_cast<int>(row), static_cast<int>(row) + 1, rows[s]);
        }
      };
      tensorflow::Shard(workers->num_threads, workers->workers, scratch_rows, 20 * row_size,
                        horizontal);
      // Pass 2: one unit per target row.
      float* out = output->flat<float>().data() + n * target_h * row_size;
      auto vertical = [&](int64_t begin, int64_t end) {
        VerticalPass(rows.data(), y_taps.data(), num_scales, target_w, channels, variant_,
                     static_cast<int>(begin), static_cast<int>(end), out);
      };
      tensorflow::Shard(workers->num_threads, workers->workers, target_h,
                        20 * num_scales * row_size, vertical);
    }
  }

 private:
  static absl::Status ReadTargetSize(const Tensor& t, int* h, int* w) {
    TF_RETURN_IF_ERROR(CheckVector("target_size", t, 2, "(H, W)"));
    const auto v = t.vec<int32_t>();
    if (v(0) <= 0 || v(1) <= 0) {
      return InvalidArgument("target_size must be positive, got [", v(0), ",", v(1), "]");
    }
    *h = v(0);
    *w = v(1);
    return absl::OkStatus();
  }

  static absl::Status ReadRatios(const Tensor& t, int num_scales, std::vector<float>* ratios) {
    TF_RETURN_IF_ERROR(CheckVector("scale_ratios", t, num_scales, "(one per scale)"));
    for (int s = 0; s < num_scales; ++s) {
      const float r = t.vec<float>()(s);
      if (!(r > 0.f) || !std::isfinite(r)) {
        return InvalidArgument("scale_ratios must be positive and finite, got ", r,
                               " at index ", s);
      }
      ratios->push_back(r);
    }
    return absl::OkStatus();
  }

  Variant variant_ = Variant::kGpu;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>ResizeAndMerge")
                            .Device(tensorflow::DEVICE_CPU)
                            .HostMemory("target_size")
                            .HostMemory("scale_ratios"),
                        ResizeAndMergeOp);

}  // namespace tf_glue
}  // namespace openpose_tf
