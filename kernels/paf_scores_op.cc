// Kernels of OpenPose>PafScores: validate (connector_args), then score every candidate limb with
// kernels/core/paf_score, sharded over (image, limb) (CPU), or with the CUDA launcher
// kernels/paf_scores_op_gpu (GPU, built with --config=cuda). The peaks and their counts stay in
// host memory on both: the output's shape and the checks need them, and they are small.
#include <string>

#include "kernels/connector_args.h"
#include "kernels/core/paf_score.h"
#include "kernels/map_input.h"
#include "ops/errors.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

#if GOOGLE_CUDA
#include "kernels/paf_scores_op_gpu.h"
#endif

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

// kOnCuda: the device the kernel runs on.
template <bool kOnCuda>
class PafScoresOp : public OpKernel {
 public:
  explicit PafScoresOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadTopology(ctx, /*with_paf_indices=*/true, &topology_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("inter_min_above_threshold",
                                     &params_.inter_min_above_threshold));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("inter_threshold", &params_.inter_threshold));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("nms_threshold", &params_.nms_threshold));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("channel_begin", &channel_begin_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& pafs = ctx->input(0);
    MapLayout full, layout;  // layout: the 2L PAF channels from channel_begin, read in place
    int64_t first_channel = 0;
    OP_REQUIRES_OK(ctx, GetMapLayout("pafs", pafs, false, &full));
    const int num_pairs = topology_.num_pairs();
    OP_REQUIRES(ctx, full.channels == channel_begin_ + 2 * num_pairs,
                InvalidArgument("pafs must have ",
                                channel_begin_ ? std::to_string(channel_begin_) + " + " : "",
                                "2L = ", channel_begin_ + 2 * num_pairs, " channels (", num_pairs,
                                " limbs", channel_begin_ ? " after the first channels" : "",
                                "), got shape ", pafs.shape().DebugString()));
    OP_REQUIRES_OK(ctx, SelectChannels("pafs", full, channel_begin_,
                                       channel_begin_ + 2 * num_pairs, &layout, &first_channel));
    const int64_t batch = pafs.dim_size(0);
    PeakInput in;
    OP_REQUIRES_OK(ctx, ReadPeaks(ctx->input(1), ctx->input(2), batch, "pafs",
                                  topology_.num_parts, &in));
    const int64_t k = in.max_count;
    OP_REQUIRES_OK(ctx, CheckPairScoreCount(batch, num_pairs, k));
    Tensor* pair_scores = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({batch, num_pairs, k, k}),
                                             &pair_scores));
    if (pair_scores->NumElements() == 0) return;

    float* out = pair_scores->flat<float>().data();
    const float* paf_data = pafs.flat<float>().data() + first_channel;
    const float* peak_data = ctx->input(1).flat<float>().data();
    const int num_parts = topology_.num_parts;
    if constexpr (kOnCuda) {
#if GOOGLE_CUDA
      PafScoresHostInput host;
      host.batch = batch;
      host.num_parts = num_parts;
      host.num_pairs = num_pairs;
      host.max_peaks = in.max_peaks;
      host.k = k;
      host.peaks = peak_data;
      host.counts = in.counts.data();
      host.pairs = topology_.pairs.data();
      host.paf_indices = topology_.paf_indices.data();
      Tensor scratch;
      OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_INT8,
                                             TensorShape({PafScoresScratchBytes(host)}),
                                             &scratch));
      const int status = LaunchPafScores(OpStream(ctx), paf_data, layout, host, params_,
                                         scratch.flat<int8_t>().data(), out);
      OP_REQUIRES(ctx, status == 0,
                  absl::InternalError(absl::StrCat(
                      "OpenPose>PafScores: CUDA launch failed (error ", status, ")")));
#endif
      return;
    }
    const int64_t peaks_per_image = static_cast<int64_t>(num_parts) * in.max_peaks * 3;
    auto score = [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end; ++u) {
        const int64_t n = u / num_pairs;
        const int l = static_cast<int>(u % num_pairs);
        ScorePairs(paf_data + n * layout.image_size(), layout, peak_data + n * peaks_per_image,
                   in.counts.data() + n * num_parts, in.max_peaks, k, topology_.pairs.data(),
                   topology_.paf_indices.data(), params_, l, l + 1, out + n * num_pairs * k * k);
      }
    };
    OP_REQUIRES_OK(ctx, ShardUnits(ctx, "OpenPose>PafScores", batch * num_pairs,
                                   200 * k * k + 100, score));
  }

 private:
  ConnectorTopology topology_;
  PafScoreParams params_;
  int channel_begin_ = 0;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>PafScores").Device(tensorflow::DEVICE_CPU),
                        PafScoresOp<false>);
#if GOOGLE_CUDA
REGISTER_KERNEL_BUILDER(Name("OpenPose>PafScores")
                            .Device(tensorflow::DEVICE_GPU)
                            .HostMemory("peaks")
                            .HostMemory("peak_counts"),
                        PafScoresOp<true>);
#endif

}  // namespace tf_glue
}  // namespace openpose_tf
