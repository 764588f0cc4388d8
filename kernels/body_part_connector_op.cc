// CPU kernel of OpenPose>BodyPartConnector: validates, scores all candidate limbs in parallel
// (kernels/core/paf_score), then groups people per image (kernels/core/people).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/core/paf_score.h"
#include "kernels/core/people.h"
#include "kernels/map_input.h"
#include "ops/errors.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/util/work_sharder.h"

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

class BodyPartConnectorOp : public OpKernel {
 public:
  explicit BodyPartConnectorOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    std::vector<int32_t> pairs, paf_indices;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("pairs", &pairs));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("paf_indices", &paf_indices));
    OP_REQUIRES(ctx, !pairs.empty() && pairs.size() % 2 == 0 && pairs.size() == paf_indices.size(),
                InvalidArgument("pairs and paf_indices must hold 2 entries per limb, got ",
                                pairs.size(), " and ", paf_indices.size()));
    pairs_ = pairs;
    paf_indices_ = paf_indices;
    for (int32_t v : paf_indices_) {
      OP_REQUIRES(ctx, v >= 0 && v < static_cast<int>(paf_indices_.size()),
                  InvalidArgument("paf_indices must lie in [0, 2L) = [0, ", paf_indices_.size(),
                                  "), got ", v));
    }
    for (int32_t v : pairs_) {
      OP_REQUIRES(ctx, v >= 0, InvalidArgument("pairs must be part indices >= 0, got ", v));
      max_part_ = std::max(max_part_, v);
    }
    std::string model_name;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("model_name", &model_name));
    OP_REQUIRES_OK(ctx, ReadVariant(ctx, &variant_));
    // As OpenPose's CPU connector (createPeopleVector), which supports only these body models.
    OP_REQUIRES(ctx, variant_ == Variant::kGpu || model_name != "BODY_25B",
                Unimplemented("the CPU-build connector (variant=\"cpu\") does not support ",
                              model_name, ", as in OpenPose; use variant=\"gpu\""));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("inter_min_above_threshold",
                                     &score_params_.inter_min_above_threshold));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("inter_threshold", &score_params_.inter_threshold));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("nms_threshold", &score_params_.nms_threshold));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("min_subset_cnt", &filter_params_.min_subset_cnt));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("min_subset_score", &filter_params_.min_subset_score));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("maximize_positives", &filter_params_.maximize_positives));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& pafs = ctx->input(0);
    const Tensor& peaks = ctx->input(1);
    const Tensor& counts = ctx->input(2);
    const Tensor& scale = ctx->input(3);
    MapLayout layout;
    OP_REQUIRES_OK(ctx, GetMapLayout("pafs", pafs, false, &layout));
    const int num_pairs = static_cast<int>(pairs_.size() / 2);
    OP_REQUIRES(ctx, layout.channels == 2 * num_pairs,
                InvalidArgument("pafs must have 2L = ", 2 * num_pairs, " channels (", num_pairs,
                                " limbs), got shape ", pafs.shape().DebugString()));
    const int64_t batch = pafs.dim_size(0);
    OP_REQUIRES(ctx,
                peaks.dims() == 4 && peaks.dim_size(0) == batch && peaks.dim_size(2) >= 1 &&
                    peaks.dim_size(3) == 3 && peaks.dim_size(1) > max_part_,
                InvalidArgument("peaks must have shape [N,P,M,3] with N = ", batch,
                                " (pafs), P > ", max_part_, " (the largest part in pairs), M >= 1"
                                ", got ", peaks.shape().DebugString()));
    const int num_parts = static_cast<int>(peaks.dim_size(1));
    const int max_peaks = static_cast<int>(peaks.dim_size(2));
    OP_REQUIRES(ctx,
                counts.dims() == 2 && counts.dim_size(0) == batch &&
                    counts.dim_size(1) == num_parts,
                InvalidArgument("peak_counts must have shape [N,P] = [", batch, ",", num_parts,
                                "], got ", counts.shape().DebugString()));
    const int32_t* count_data = counts.flat<int32_t>().data();
    for (int64_t i = 0; i < counts.NumElements(); ++i) {
      OP_REQUIRES(ctx, count_data[i] >= 0 && count_data[i] <= max_peaks,
                  InvalidArgument("peak_counts must lie in [0, M] = [0, ", max_peaks, "], got ",
                                  count_data[i], " at flat index ", i));
    }
    OP_REQUIRES(ctx, scale.dims() == 0 || (scale.dims() == 1 && scale.dim_size(0) == batch),
                InvalidArgument("scale_factor must be a scalar or have shape [N] = [", batch,
                                "], got ", scale.shape().DebugString()));

    // 1. Score every candidate limb: [N, L, M, M], sharded over (image, limb).
    const int64_t m2 = static_cast<int64_t>(max_peaks) * max_peaks;
    Tensor pair_scores;
    OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_FLOAT,
                                           TensorShape({batch * num_pairs * m2}), &pair_scores));
    float* scores_data = pair_scores.flat<float>().data();
    const float* paf_data = pafs.flat<float>().data();
    const float* peak_data = peaks.flat<float>().data();
    const int64_t peaks_per_image = static_cast<int64_t>(num_parts) * max_peaks * 3;
    auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
    auto score = [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end; ++u) {
        const int64_t n = u / num_pairs;
        const int l = static_cast<int>(u % num_pairs);
        ScorePairs(paf_data + n * layout.image_size(), layout, peak_data + n * peaks_per_image,
                   count_data + n * num_parts, max_peaks, pairs_.data(), paf_indices_.data(),
                   score_params_, l, l + 1, scores_data + n * num_pairs * m2);
      }
    };
    tensorflow::Shard(workers->num_threads, workers->workers, batch * num_pairs, 200 * m2, score);

    // 2. Group people per image.
    std::vector<std::vector<Person>> people(batch);
    std::vector<std::vector<int>> kept(batch);
    const Topology topology{num_parts, num_pairs, pairs_.data()};
    auto group = [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const PeakSet set{peak_data + n * peaks_per_image, count_data + n * num_parts, max_peaks};
        const float* s = scores_data + n * num_pairs * m2;
        people[n] = variant_ == Variant::kGpu ? GroupGpu(topology, set, s)
                                              : GroupCpu(topology, set, s);
        kept[n] = FilterPeople(people[n], num_parts, filter_params_);
      }
    };
    tensorflow::Shard(workers->num_threads, workers->workers, batch, 50 * num_pairs * m2, group);

    // 3. Outputs, flat over the batch.
    int64_t total = 0;
    for (const auto& k : kept) total += static_cast<int64_t>(k.size());
    Tensor *keypoints = nullptr, *person_scores = nullptr, *per_image = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({total, num_parts, 3}), &keypoints));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({total}), &person_scores));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, TensorShape({batch}), &per_image));
    int64_t row = 0;
    for (int64_t n = 0; n < batch; ++n) {
      const float factor = scale.dims() == 0 ? scale.scalar<float>()() : scale.vec<float>()(n);
      const PeakSet set{peak_data + n * peaks_per_image, count_data + n * num_parts, max_peaks};
      WritePeople(people[n], kept[n], topology, set, factor,
                  keypoints->flat<float>().data() + row * num_parts * 3,
                  person_scores->flat<float>().data() + row);
      per_image->vec<int64_t>()(n) = static_cast<int64_t>(kept[n].size());
      row += static_cast<int64_t>(kept[n].size());
    }
  }

 private:
  std::vector<int32_t> pairs_;
  std::vector<int32_t> paf_indices_;
  int32_t max_part_ = 0;
  Variant variant_ = Variant::kGpu;
  PafScoreParams score_params_;
  FilterParams filter_params_;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>BodyPartConnector").Device(tensorflow::DEVICE_CPU),
                        BodyPartConnectorOp);

}  // namespace tf_glue
}  // namespace openpose_tf
