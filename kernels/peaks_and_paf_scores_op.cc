// Kernel of OpenPose>PeaksAndPafScores (CPU): validate as ResizeAndMerge, Nms and PafScores do,
// then per image kernels/core/sparse_postprocess's SparsePeaksAndPafScores (the tile bounds, the
// sparse NMS, the sparse PAF scores) with its work spread over the intra-op thread pool, and
// the pair scores laid out as OpenPose>PafScores'. Memory: one image's bounds (2/256 of its
// upsampled maps) and the pair scores; nothing of full resolution.
#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/connector_args.h"
#include "kernels/core/sparse_postprocess.h"
#include "kernels/map_input.h"
#include "kernels/nms_args.h"
#include "kernels/resize_and_merge_args.h"
#include "ops/errors.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpInputList;
using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

namespace {

// ShardUnits with a workspace of its own for each block.
absl::Status ShardWithWorkspace(
    OpKernelContext* ctx, int64_t units, int64_t cost_per_unit,
    const std::function<void(int64_t, int64_t, SparseWorkspace*)>& fn) {
  return ShardUnits(ctx, "OpenPose>PeaksAndPafScores", units, cost_per_unit,
                    [&](int64_t begin, int64_t end) {
                      SparseWorkspace workspace;
                      fn(begin, end, &workspace);
                    });
}

}  // namespace

class PeaksAndPafScoresOp : public OpKernel {
 public:
  explicit PeaksAndPafScoresOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadOpenPoseBuild(ctx, &build_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("max_peaks", &max_peaks_));
    OP_REQUIRES(ctx, max_peaks_ >= 1, InvalidArgument("max_peaks must be >= 1, got ", max_peaks_));
    OP_REQUIRES_OK(ctx, ReadTopology(ctx, /*with_paf_indices=*/true, &topology_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("paf_channel_begin", &paf_begin_));
    OP_REQUIRES(ctx, paf_begin_ >= topology_.num_parts,
                InvalidArgument("paf_channel_begin must be >= num_parts (", topology_.num_parts,
                                "), got ", paf_begin_));
    for (int32_t c : topology_.paf_indices) paf_channels_.push_back(paf_begin_ + c);
    OP_REQUIRES_OK(ctx, ctx->GetAttr("inter_min_above_threshold",
                                     &paf_params_.inter_min_above_threshold));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("inter_threshold", &paf_params_.inter_threshold));
  }

  void Compute(OpKernelContext* ctx) override {
    OpInputList inputs;
    int64_t batch = 0;
    ResizePlan plan;
    OP_REQUIRES_OK(ctx, ReadSparseInputs(ctx, build_, &inputs, &batch, &plan));
    const int num_scales = inputs.size();
    const int num_pairs = topology_.num_pairs();
    const int num_parts = topology_.num_parts;
    OP_REQUIRES(ctx, plan.channels == paf_begin_ + 2 * num_pairs,
                InvalidArgument("net_outputs must have ", paf_begin_ + 2 * num_pairs,
                                " channels (", num_parts, " parts, ", paf_begin_ - num_parts,
                                " background, ", 2 * num_pairs, " PAFs), got shape ",
                                inputs[0].shape().DebugString()));
    NmsParams nms;
    std::vector<float> offsets;
    OP_REQUIRES_OK(ctx, ReadNmsParams(ctx->input(num_scales + 2), ctx->input(num_scales + 3),
                                      batch, build_, max_peaks_, &nms, &offsets));
    PafScoreParams paf = paf_params_;
    paf.nms_threshold = nms.threshold;

    OP_REQUIRES_OK(ctx, CheckTileBoundsSize(plan));
    std::shared_ptr<const UpsampledMaps> upsampled;  // its tap tables grow with target_size
    OP_REQUIRES_OK(ctx, CatchAllocation("OpenPose>PeaksAndPafScores",
                                        [&] { upsampled = MapsFor(plan); }));
    const UpsampledMaps& maps = *upsampled;
    Tensor* peaks = nullptr;
    Tensor* counts = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({batch, num_parts, max_peaks_, 3}),
                                             &peaks));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({batch, num_parts}), &counts));
    Tensor bounds;
    OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_FLOAT,
                                           TensorShape({batch ? 2 * maps.bounds_plane() : 0}),
                                           &bounds));
    const int64_t peaks_per_image = static_cast<int64_t>(num_parts) * max_peaks_ * 3;
    std::vector<std::vector<float>> scores(batch);  // per image: L x k_n x k_n
    std::vector<int64_t> ks(batch, 0);
    SparseLimbs limbs;
    limbs.num_pairs = num_pairs;
    limbs.pairs = topology_.pairs.data();
    limbs.paf_channels = paf_channels_.data();
    limbs.params = paf;
    for (int64_t n = 0; n < batch; ++n) {
      const std::vector<const float*> image = ImageScales(inputs, plan, n);
      NmsParams image_nms = nms;
      image_nms.offset_x = offsets[2 * n];
      image_nms.offset_y = offsets[2 * n + 1];
      absl::Status sharded;  // a failed block of the intra-op pool
      const ParallelFor on_pool = [&](int64_t units, int64_t cost, const SparseBlockFn& fn) {
        sharded.Update(ShardWithWorkspace(ctx, units, cost, fn));
        return sharded.ok();
      };
      OP_REQUIRES_OK(ctx, CatchAllocation("OpenPose>PeaksAndPafScores", [&] {
                       SparsePeaksAndPafScores(maps, image.data(), bounds.flat<float>().data(),
                                               image_nms, num_parts, limbs,
                                               peaks->flat<float>().data() + n * peaks_per_image,
                                               counts->flat<int32_t>().data() + n * num_parts,
                                               &scores[n], &ks[n], on_pool);
                     }));
      OP_REQUIRES_OK(ctx, sharded);
    }
    // OpenPose>PafScores' layout: K the largest count of the batch, -1 past each image's counts.
    const int64_t k = batch ? *std::max_element(ks.begin(), ks.end()) : 0;
    OP_REQUIRES_OK(ctx, CheckPairScoreCount(batch, num_pairs, k));
    Tensor* pair_scores = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, TensorShape({batch, num_pairs, k, k}),
                                             &pair_scores));
    float* out = pair_scores->flat<float>().data();
    std::fill(out, out + pair_scores->NumElements(), -1.f);
    for (int64_t n = 0; n < batch; ++n) {
      const int64_t kn = ks[n];
      for (int64_t l = 0; l < num_pairs; ++l) {
        for (int64_t a = 0; a < kn; ++a) {
          const float* from = scores[n].data() + (l * kn + a) * kn;
          std::copy(from, from + kn, out + ((n * num_pairs + l) * k + a) * k);
        }
      }
    }
  }

 private:
  // The plan's taps and tile classes, kept from the last call: building them takes about 50 us
  // at 368x656 (up to 5% of a call), and the plan stays the same from call to call.
  std::shared_ptr<const UpsampledMaps> MapsFor(const ResizePlan& plan) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (maps_ != nullptr && maps_->plan() == plan) return maps_;
    }
    auto maps = std::make_shared<const UpsampledMaps>(plan);
    std::lock_guard<std::mutex> lock(mu_);
    maps_ = maps;
    return maps;
  }

  OpenPoseBuild build_ = OpenPoseBuild::kGpu;
  int max_peaks_ = 127;
  ConnectorTopology topology_;
  int paf_begin_ = 0;
  std::vector<int32_t> paf_channels_;  // absolute channels of the net output
  PafScoreParams paf_params_;
  std::mutex mu_;  // guards maps_ (Compute may run on several threads at once)
  std::shared_ptr<const UpsampledMaps> maps_;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>PeaksAndPafScores")
                            .Device(tensorflow::DEVICE_CPU)
                            .HostMemory("target_size")
                            .HostMemory("scale_ratios"),
                        PeaksAndPafScoresOp);

}  // namespace tf_glue
}  // namespace openpose_tf
