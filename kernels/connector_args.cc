#include "kernels/connector_args.h"

#include <cmath>
#include <limits>

#include "ops/errors.h"

namespace openpose_tf {
namespace tf_glue {

using tensorflow::Tensor;

namespace {

// Calls check(image, part, row) for every counted peak row (x, y, score) until it fails.
template <typename Check>
absl::Status ForEachCountedPeak(const Tensor& peaks, const PeakInput& input, const Check& check) {
  const float* rows = peaks.flat<float>().data();
  const int64_t parts = input.batch ? static_cast<int64_t>(input.counts.size()) / input.batch : 0;
  for (int64_t i = 0; i < static_cast<int64_t>(input.counts.size()); ++i) {
    for (int k = 0; k < input.counts[i]; ++k) {
      TF_RETURN_IF_ERROR(check(i / parts, i % parts, k, rows + (i * input.max_peaks + k) * 3));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadTopology(tensorflow::OpKernelConstruction* ctx, bool with_paf_indices,
                          ConnectorTopology* t) {
  TF_RETURN_IF_ERROR(ctx->GetAttr("pairs", &t->pairs));
  TF_RETURN_IF_ERROR(ctx->GetAttr("num_parts", &t->num_parts));
  if (t->pairs.empty() || t->pairs.size() % 2 != 0) {
    return InvalidArgument("pairs must hold 2 part indices per limb, got ", t->pairs.size());
  }
  for (int32_t v : t->pairs) {
    if (v < 0 || v >= t->num_parts) {
      return InvalidArgument("pairs must be part indices in [0, P) = [0, ", t->num_parts,
                             "), got ", v);
    }
  }
  if (!with_paf_indices) return absl::OkStatus();
  TF_RETURN_IF_ERROR(ctx->GetAttr("paf_indices", &t->paf_indices));
  if (t->paf_indices.size() != t->pairs.size()) {
    return InvalidArgument("pairs and paf_indices must hold 2 entries per limb, got ",
                           t->pairs.size(), " and ", t->paf_indices.size());
  }
  for (int32_t v : t->paf_indices) {
    if (v < 0 || v >= static_cast<int>(t->paf_indices.size())) {
      return InvalidArgument("paf_indices must lie in [0, 2L) = [0, ", t->paf_indices.size(),
                             "), got ", v);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadPeaks(const Tensor& peaks, const Tensor& counts, int64_t batch,
                       const char* batch_from, int num_parts, PeakInput* input) {
  if (peaks.dims() != 4 || peaks.dim_size(0) != batch || peaks.dim_size(1) != num_parts ||
      peaks.dim_size(2) < 1 || peaks.dim_size(3) != 3 ||
      peaks.dim_size(2) > std::numeric_limits<int32_t>::max()) {
    return InvalidArgument("peaks must have shape [N,P,M,3] with N = ", batch, " (", batch_from,
                           "), P = ", num_parts, " (the pose model's parts), 1 <= M < 2^31, got ",
                           peaks.shape().DebugString());
  }
  if (counts.dims() != 2 || counts.dim_size(0) != batch || counts.dim_size(1) != num_parts) {
    return InvalidArgument("peak_counts must have shape [N,P] = [", batch, ",", num_parts,
                           "], got ", counts.shape().DebugString());
  }
  input->batch = batch;
  input->max_peaks = static_cast<int>(peaks.dim_size(2));
  input->max_count = 0;
  input->counts.resize(counts.NumElements());
  const bool wide = counts.dtype() == tensorflow::DT_INT64;
  for (int64_t i = 0; i < counts.NumElements(); ++i) {
    const int64_t c = wide ? counts.flat<int64_t>()(i) : counts.flat<int32_t>()(i);
    if (c < 0 || c > input->max_peaks) {
      return InvalidArgument("peak_counts must lie in [0, M] = [0, ", input->max_peaks,
                             "], got ", c, " at flat index ", i);
    }
    input->counts[i] = static_cast<int32_t>(c);
    if (c > input->max_count) input->max_count = static_cast<int>(c);
  }
  // Counted peaks need finite positions (ops.nms never reports others): a keypoint is a peak
  // position times scale_factor, so a NaN or inf here would reach the output as is.
  return ForEachCountedPeak(peaks, *input, [](int64_t n, int64_t p, int k, const float* row) {
    if (std::isfinite(row[0]) && std::isfinite(row[1])) return absl::OkStatus();
    return InvalidArgument("peaks must have finite x and y in the counted rows, got (", row[0],
                           ", ", row[1], ") at [", n, ",", p, ",", k, "]");
  });
}

absl::Status CheckPairScoreCount(int64_t batch, int num_pairs, int64_t k) {
  // k <= 2^31 and num_pairs < 2^31, so each product below is checked before it can overflow.
  const int64_t limit = std::numeric_limits<int32_t>::max();
  const int64_t per_image = k == 0 ? 0 : (k > limit / k ? limit + 1 : k * k);
  if (per_image > limit || (per_image > 0 && num_pairs > limit / per_image) ||
      (per_image * num_pairs > 0 && batch > limit / (per_image * num_pairs))) {
    return InvalidArgument("pair scores [N,L,K,K] = [", batch, ",", num_pairs, ",", k, ",", k,
                           "] would exceed 2^31-1 elements: too many peaks (K, the largest ",
                           "count in peak_counts); raise the NMS threshold or lower max_peaks");
  }
  return absl::OkStatus();
}

absl::Status CheckScaledPeaks(const Tensor& peaks, const PeakInput& input,
                              const std::vector<float>& factors) {
  return ForEachCountedPeak(peaks, input, [&](int64_t n, int64_t, int, const float* row) {
    const float factor = factors[n];
    if (std::isfinite(row[0] * factor) && std::isfinite(row[1] * factor)) {
      return absl::OkStatus();
    }
    return InvalidArgument("peak (", row[0], ", ", row[1], ") times scale_factor ", factor,
                           " overflows float32 (image ", n, ")");
  });
}

absl::Status ReadScaleFactor(const Tensor& scale, int64_t batch, std::vector<float>* factors) {
  if (!(scale.dims() == 0 || (scale.dims() == 1 && scale.dim_size(0) == batch))) {
    return InvalidArgument("scale_factor must be a scalar or have shape [N] = [", batch,
                           "], got ", scale.shape().DebugString());
  }
  for (int64_t n = 0; n < batch; ++n) {
    const float f = scale.dims() == 0 ? scale.scalar<float>()() : scale.vec<float>()(n);
    if (!(f > 0.f) || !std::isfinite(f)) {
      return InvalidArgument("scale_factor must be finite and > 0, got ", f, " for image ", n);
    }
    factors->push_back(f);
  }
  return absl::OkStatus();
}

}  // namespace tf_glue
}  // namespace openpose_tf
