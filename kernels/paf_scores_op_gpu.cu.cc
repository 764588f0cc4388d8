// CUDA kernel of the connector's pair scores: one thread per (image, limb, a, b), each running
// PafScore (the CPU's function) on the limb's two PAF maps.
#include <cuda_runtime.h>

#include <cstring>
#include <vector>

#include "kernels/paf_scores_op_gpu.h"

namespace openpose_tf {
namespace {

constexpr int kThreads = 128;

// Where each host input lives in the scratch buffer (floats first, then int32s; both 4 bytes).
struct ScratchLayout {
  int64_t peaks = 0;  // element offsets in 4-byte units
  int64_t counts = 0;
  int64_t pairs = 0;
  int64_t paf_indices = 0;
  int64_t end = 0;
};

ScratchLayout LayOut(const PafScoresHostInput& in) {
  ScratchLayout s;
  s.counts = s.peaks + in.batch * in.num_parts * in.max_peaks * 3;
  s.pairs = s.counts + in.batch * in.num_parts;
  s.paf_indices = s.pairs + 2 * in.num_pairs;
  s.end = s.paf_indices + 2 * in.num_pairs;
  return s;
}

__global__ void PafScoresKernel(const float* pafs, MapLayout layout, const float* peaks,
                                const int32_t* counts, const int32_t* pairs,
                                const int32_t* paf_indices, int num_parts, int num_pairs,
                                int max_peaks, int k, PafScoreParams params, int total,
                                float* out) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= total) return;
  const int b = e % k;
  const int a = (e / k) % k;
  const int l = (e / (k * k)) % num_pairs;
  const int64_t n = e / (static_cast<int64_t>(k) * k * num_pairs);
  const int part_a = pairs[2 * l];
  const int part_b = pairs[2 * l + 1];
  const int32_t* image_counts = counts + n * num_parts;
  if (a >= image_counts[part_a] || b >= image_counts[part_b]) {
    out[e] = -1.f;
    return;
  }
  const float* image = pafs + n * layout.image_size();
  const float* image_peaks = peaks + n * num_parts * max_peaks * 3;
  const float* peak_a = image_peaks + (static_cast<int64_t>(part_a) * max_peaks + a) * 3;
  const float* peak_b = image_peaks + (static_cast<int64_t>(part_b) * max_peaks + b) * 3;
  out[e] = PafScore(image + paf_indices[2 * l] * layout.c_stride,
                    image + paf_indices[2 * l + 1] * layout.c_stride, layout.y_stride,
                    layout.x_stride, layout.height, layout.width, peak_a[0], peak_a[1],
                    peak_b[0], peak_b[1], params);
}

}  // namespace

int64_t PafScoresScratchBytes(const PafScoresHostInput& in) { return LayOut(in).end * 4; }

int LaunchPafScores(cudaStream_t stream, const float* pafs, const MapLayout& layout,
                    const PafScoresHostInput& in, const PafScoreParams& params, void* scratch,
                    float* out) {
  const int64_t total = in.batch * in.num_pairs * in.k * in.k;
  if (total == 0) return 0;
  if (total > 0x7fffffff) return static_cast<int>(cudaErrorInvalidConfiguration);
  const ScratchLayout s = LayOut(in);
  // Packed into one pageable buffer first: a copy from pageable memory has read its source when
  // it returns, while one straight from the peaks tensor (TensorFlow may put it in pinned memory)
  // could run after the op has returned and the tensor is gone.
  std::vector<int32_t> packed(s.end);
  std::memcpy(packed.data() + s.peaks, in.peaks, (s.counts - s.peaks) * 4);
  std::memcpy(packed.data() + s.counts, in.counts, (s.pairs - s.counts) * 4);
  std::memcpy(packed.data() + s.pairs, in.pairs, (s.paf_indices - s.pairs) * 4);
  std::memcpy(packed.data() + s.paf_indices, in.paf_indices, (s.end - s.paf_indices) * 4);
  const cudaError_t status = cudaMemcpyAsync(scratch, packed.data(), s.end * 4,
                                             cudaMemcpyHostToDevice, stream);
  if (status != cudaSuccess) return static_cast<int>(status);
  float* floats = static_cast<float*>(scratch);
  int32_t* ints = static_cast<int32_t*>(scratch);
  const unsigned int blocks = static_cast<unsigned int>((total + kThreads - 1) / kThreads);
  PafScoresKernel<<<blocks, kThreads, 0, stream>>>(
      pafs, layout, floats + s.peaks, ints + s.counts, ints + s.pairs, ints + s.paf_indices,
      in.num_parts, in.num_pairs, in.max_peaks, static_cast<int>(in.k), params,
      static_cast<int>(total), out);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace openpose_tf
