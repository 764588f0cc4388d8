// Input validation of the connector ops (OpenPose>PafScores, OpenPose>AssemblePeople), shared by
// their CPU and GPU kernels: every message in one place, sizes checked in 64 bits.
#ifndef OPENPOSE_TF_KERNELS_CONNECTOR_ARGS_H_
#define OPENPOSE_TF_KERNELS_CONNECTOR_ARGS_H_

#include <cstdint>
#include <vector>

#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

namespace openpose_tf {
namespace tf_glue {

// The limbs and the part count, read once in a kernel's constructor.
struct ConnectorTopology {
  std::vector<int32_t> pairs;        // 2L part indices, each in [0, num_parts)
  std::vector<int32_t> paf_indices;  // 2L PAF channels, each in [0, 2L) (PafScores only)
  int num_parts = 0;
  int num_pairs() const { return static_cast<int>(pairs.size() / 2); }
};
absl::Status ReadTopology(tensorflow::OpKernelConstruction* ctx, bool with_paf_indices,
                          ConnectorTopology* topology);

// peaks [N, P, M, 3] with N = batch (taken from the input named batch_from) and P = num_parts;
// peak_counts [N, P] of int32 or int64, each in [0, M] (checked before narrowing), and the counted
// rows' x, y finite. Returns the counts as int32 and the largest one.
struct PeakInput {
  int64_t batch = 0;
  int max_peaks = 0;  // M
  int max_count = 0;  // K
  std::vector<int32_t> counts;
};
absl::Status ReadPeaks(const tensorflow::Tensor& peaks, const tensorflow::Tensor& counts,
                       int64_t batch, const char* batch_from, int num_parts, PeakInput* input);

// [N, L, K, K] pair scores: checks that the element count fits in int32 (the CUDA kernels).
absl::Status CheckPairScoreCount(int64_t batch, int num_pairs, int64_t k);

// scale_factor: a scalar or [N], each finite and > 0. Returns one value per image.
absl::Status ReadScaleFactor(const tensorflow::Tensor& scale, int64_t batch,
                             std::vector<float>* factors);

// Every counted peak's x and y times its image's scale factor (the keypoint) must be finite.
absl::Status CheckScaledPeaks(const tensorflow::Tensor& peaks, const PeakInput& input,
                              const std::vector<float>& factors);

}  // namespace tf_glue
}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CONNECTOR_ARGS_H_
