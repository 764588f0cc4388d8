// CPU kernel of OpenPose>AssemblePeople: validates (connector_args), groups people per image with
// one of OpenPose's two groupings (kernels/core/people.h), filters them and writes the outputs.
#include <string>
#include <vector>

#include "kernels/connector_args.h"
#include "kernels/core/people.h"
#include "kernels/map_input.h"
#include "ops/errors.h"
#include "ops/op_messages.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

class AssemblePeopleOp : public OpKernel {
 public:
  explicit AssemblePeopleOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadTopology(ctx, /*with_paf_indices=*/false, &topology_));
    OP_REQUIRES_OK(ctx, ReadOpenPoseBuild(ctx, &build_));
    std::string model_name;
    bool cpu_build_supported = true;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("model_name", &model_name));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("cpu_build_supported", &cpu_build_supported));
    // As OpenPose's CPU connector (createPeopleVector), which supports only some body models.
    OP_REQUIRES(ctx, build_ == OpenPoseBuild::kGpu || cpu_build_supported,
                Unimplemented("the CPU-build connector (", VariantName(true),
                              ") does not support ", model_name, ", as in OpenPose; use ",
                              VariantName(false)));
    std::vector<int32_t> ear_limbs;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("ear_limbs", &ear_limbs));
    rules_.ear_limb.assign(topology_.num_pairs(), 0);
    for (int32_t l : ear_limbs) {
      OP_REQUIRES(ctx, l >= 0 && l < topology_.num_pairs(),
                  InvalidArgument("ear_limbs must be limb indices in [0, L) = [0, ",
                                  topology_.num_pairs(), "), got ", l));
      rules_.ear_limb[l] = 1;
    }
    OP_REQUIRES_OK(ctx, ctx->GetAttr("dedup_lone_peaks", &rules_.dedup_lone_peaks));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("foot_parts", &filter_.foot_parts));
    for (int32_t part : filter_.foot_parts) {
      OP_REQUIRES(ctx, part >= 0 && part < topology_.num_parts,
                  InvalidArgument("foot_parts must be part indices in [0, P) = [0, ",
                                  topology_.num_parts, "), got ", part));
    }
    OP_REQUIRES_OK(ctx, ctx->GetAttr("min_subset_cnt", &filter_.min_subset_cnt));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("min_subset_score", &filter_.min_subset_score));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("maximize_positives", &filter_.maximize_positives));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& peaks = ctx->input(0);
    const Tensor& pair_scores = ctx->input(2);
    const int num_parts = topology_.num_parts;
    const int num_pairs = topology_.num_pairs();
    const int64_t batch = peaks.dims() >= 1 ? peaks.dim_size(0) : -1;
    PeakInput in;
    OP_REQUIRES_OK(ctx, ReadPeaks(peaks, ctx->input(1), batch, "peaks", num_parts, &in));
    OP_REQUIRES(ctx,
                pair_scores.dims() == 4 && pair_scores.dim_size(0) == batch &&
                    pair_scores.dim_size(1) == num_pairs &&
                    pair_scores.dim_size(2) == pair_scores.dim_size(3) &&
                    pair_scores.dim_size(2) >= in.max_count,
                InvalidArgument("pair_scores must have shape [N,L,K,K] with N = ", batch,
                                ", L = ", num_pairs, ", K >= ", in.max_count,
                                " (the largest peak count), as OpenPose>PafScores returns; got ",
                                pair_scores.shape().DebugString()));
    std::vector<float> factors;
    OP_REQUIRES_OK(ctx, ReadScaleFactor(ctx->input(3), batch, &factors));
    OP_REQUIRES_OK(ctx, CheckScaledPeaks(peaks, in, factors));

    // Group and filter each image; a failed allocation is reported, never thrown.
    const Topology topology{num_parts, num_pairs, topology_.pairs.data()};
    const int64_t k = batch > 0 ? pair_scores.dim_size(2) : 0;
    const float* peak_data = peaks.flat<float>().data();
    const int64_t peaks_per_image = static_cast<int64_t>(num_parts) * in.max_peaks * 3;
    auto image_peaks = [&](int64_t n) {
      return PeakSet{peak_data + n * peaks_per_image, in.counts.data() + n * num_parts,
                     in.max_peaks};
    };
    std::vector<std::vector<Person>> people(batch);
    std::vector<std::vector<int>> kept(batch);
    OP_REQUIRES_OK(ctx, ShardUnits(
                            ctx, "OpenPose>AssemblePeople (grouping people)", batch,
                            50 * num_pairs * k * k + 1000, [&](int64_t begin, int64_t end) {
                              for (int64_t n = begin; n < end; ++n) {
                                const PeakSet set = image_peaks(n);
                                const PairScores scores{
                                    pair_scores.flat<float>().data() + n * num_pairs * k * k, k};
                                people[n] = build_ == OpenPoseBuild::kGpu
                                                ? GroupGlobalSort(topology, set, scores)
                                                : GroupPerLimb(topology, rules_, set, scores);
                                kept[n] = FilterPeople(people[n], filter_);
                              }
                            }));

    int64_t total = 0;
    for (const auto& kk : kept) total += static_cast<int64_t>(kk.size());
    Tensor *keypoints = nullptr, *person_scores = nullptr, *per_image = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({total, num_parts, 3}), &keypoints));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({total}), &person_scores));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, TensorShape({batch}), &per_image));
    int64_t row = 0;
    for (int64_t n = 0; n < batch; ++n) {
      WritePeople(people[n], kept[n], topology, image_peaks(n), factors[n],
                  keypoints->flat<float>().data() + row * num_parts * 3,
                  person_scores->flat<float>().data() + row);
      per_image->vec<int64_t>()(n) = static_cast<int64_t>(kept[n].size());
      row += static_cast<int64_t>(kept[n].size());
    }
  }

 private:
  ConnectorTopology topology_;
  OpenPoseBuild build_ = OpenPoseBuild::kGpu;
  GroupingRules rules_;
  FilterParams filter_;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>AssemblePeople").Device(tensorflow::DEVICE_CPU),
                        AssemblePeopleOp);
#if GOOGLE_CUDA
// The grouping is sequential and its inputs are small: on a GPU device it runs this same CPU code
// on host-memory tensors (as OpenPose groups people on the CPU), so a graph placed on the GPU
// needs no soft placement.
REGISTER_KERNEL_BUILDER(Name("OpenPose>AssemblePeople")
                            .Device(tensorflow::DEVICE_GPU)
                            .HostMemory("peaks")
                            .HostMemory("peak_counts")
                            .HostMemory("pair_scores")
                            .HostMemory("scale_factor")
                            .HostMemory("keypoints")
                            .HostMemory("scores")
                            .HostMemory("people_per_image"),
                        AssemblePeopleOp);
#endif

}  // namespace tf_glue
}  // namespace openpose_tf
