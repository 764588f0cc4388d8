// One image through SparsePeaksAndPafScores on the calling thread, as a C function: what
// benchmarks/ab_sparse.py builds from two versions of kernels/core and calls in turn. The plan
// is the fused op's for one scale upsampled 8x (OpenPose's 368x656 from a 46x82 net output).
#include <cstdint>
#include <vector>

#include "kernels/core/resize_and_merge.h"
#include "kernels/core/sparse_postprocess.h"

using openpose_tf::GpuBuildScale;
using openpose_tf::NmsParams;
using openpose_tf::OpenPoseBuild;
using openpose_tf::ResizePlan;
using openpose_tf::ResizeScale;
using openpose_tf::SparseLimbs;
using openpose_tf::UpsampledMaps;

// net_output: [h, w, channels] NHWC; pairs, paf: 2 x num_pairs (parts, absolute PAF channels).
// Returns a checksum of the peaks and pair scores (equal between two versions that agree).
extern "C" double ab_sparse_run(const float* net_output, int h, int w, int channels, int gpu,
                                int num_parts, float nms_threshold, float inter_min_above,
                                float inter_threshold, int num_pairs, const int32_t* pairs,
                                const int32_t* paf) {
  ResizePlan plan;
  plan.build = gpu ? OpenPoseBuild::kGpu : OpenPoseBuild::kCpu;
  plan.target_height = 8 * h;
  plan.target_width = 8 * w;
  plan.channels = channels;
  ResizeScale scale;
  scale.height = h;
  scale.width = w;
  scale.scale_x = GpuBuildScale(plan.target_width, w, 1.f, 1.f);
  scale.scale_y = GpuBuildScale(plan.target_height, h, 1.f, 1.f);
  plan.scales.push_back(scale);
  const UpsampledMaps maps(plan);
  // Kept from call to call, as TensorFlow's allocator keeps the op's temporary: a new 0.6 MB
  // vector each call would add its page faults and zeroing (up to a third of a small call).
  static thread_local std::vector<float> bounds;
  bounds.resize(2 * maps.bounds_plane());
  NmsParams nms;
  nms.threshold = nms_threshold;
  nms.build = plan.build;
  SparseLimbs limbs;
  limbs.num_pairs = num_pairs;
  limbs.pairs = pairs;
  limbs.paf_channels = paf;
  limbs.params.inter_min_above_threshold = inter_min_above;
  limbs.params.inter_threshold = inter_threshold;
  limbs.params.nms_threshold = nms_threshold;
  std::vector<float> peaks(static_cast<size_t>(num_parts) * nms.max_peaks * 3);
  std::vector<int32_t> counts(num_parts);
  std::vector<float> scores;
  int64_t k = 0;
  const float* image[1] = {net_output};
  openpose_tf::SparsePeaksAndPafScores(maps, image, bounds.data(), nms, num_parts, limbs,
                                       peaks.data(), counts.data(), &scores, &k,
                                       openpose_tf::SerialFor);
  double sum = static_cast<double>(k);
  for (size_t i = 0; i < peaks.size(); ++i) sum += peaks[i] * static_cast<double>(i % 7 + 1);
  for (size_t i = 0; i < scores.size(); ++i) sum += scores[i] * static_cast<double>(i % 5 + 1);
  return sum;
}
