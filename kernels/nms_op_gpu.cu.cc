// CUDA kernel of OpenPose's NMS: one block per (image, channel) walks the map in raster-order
// chunks. Each thread tests a few consecutive pixels (IsPeak), a block-wide prefix sum of the
// per-thread counts gives every peak its row, and RefinePeak fills it; the walk stops once M
// peaks are written. So the rows come out in raster order with the first M kept, as NmsImage.
#include <cuda_runtime.h>

#include <vector>

#include "kernels/nms_op_gpu.h"

namespace openpose_tf {
namespace {

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr int kPixelsPerThread = 4;  // consecutive raster pixels per thread and chunk
constexpr int64_t kChunk = static_cast<int64_t>(kThreads) * kPixelsPerThread;

// Exclusive prefix sum of `value` over the block's threads (in thread order); *total: the sum.
__device__ int BlockExclusiveScan(int value, int* total) {
  __shared__ int warp_sums[kWarps];
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  int inclusive = value;
  for (int d = 1; d < 32; d *= 2) {
    const int other = __shfl_up_sync(0xffffffffu, inclusive, d);
    if (lane >= d) inclusive += other;
  }
  if (lane == 31) warp_sums[warp] = inclusive;
  __syncthreads();
  if (warp == 0) {
    int sum = lane < kWarps ? warp_sums[lane] : 0;
    for (int d = 1; d < 32; d *= 2) {
      const int other = __shfl_up_sync(0xffffffffu, sum, d);
      if (lane >= d) sum += other;
    }
    if (lane < kWarps) warp_sums[lane] = sum;  // inclusive sums of the warps
  }
  __syncthreads();
  const int before_warp = warp > 0 ? warp_sums[warp - 1] : 0;
  *total = warp_sums[kWarps - 1];
  __syncthreads();  // warp_sums is reused by the next call
  return before_warp + inclusive - value;
}

__global__ void NmsKernel(const float* maps, MapLayout layout, NmsParams params,
                          const float* offsets, float* peaks, int32_t* counts) {
  const int channels = layout.channels;
  const int64_t n = blockIdx.x / channels;
  const int c = static_cast<int>(blockIdx.x % channels);
  const float* map = maps + n * layout.image_size() + c * layout.c_stride;
  const int h = layout.height;
  const int w = layout.width;
  const int64_t pixels = static_cast<int64_t>(h) * w;
  const int max_peaks = params.max_peaks;
  float* out = peaks + static_cast<int64_t>(blockIdx.x) * max_peaks * 3;
  const float offset_x = offsets[2 * n];
  const float offset_y = offsets[2 * n + 1];
  int found = 0;  // the same in every thread: peaks written so far
  for (int64_t chunk = 0; chunk < pixels && found < max_peaks; chunk += kChunk) {
    const int64_t first = chunk + static_cast<int64_t>(threadIdx.x) * kPixelsPerThread;
    unsigned int hits = 0;  // bit j: pixel first + j is a peak
    for (int j = 0; j < kPixelsPerThread; ++j) {
      const int64_t i = first + j;
      if (i >= pixels) break;
      const int y = static_cast<int>(i / w);
      const int x = static_cast<int>(i - static_cast<int64_t>(y) * w);
      if (IsPeak(map, layout.y_stride, layout.x_stride, h, w, x, y, params.threshold,
                 params.build)) {
        hits |= 1u << j;
      }
    }
    int total = 0;
    int row = found + BlockExclusiveScan(__popc(hits), &total);
    for (int j = 0; j < kPixelsPerThread && row < max_peaks; ++j) {
      if (!(hits & (1u << j))) continue;
      const int64_t i = first + j;
      const int y = static_cast<int>(i / w);
      const int x = static_cast<int>(i - static_cast<int64_t>(y) * w);
      RefinePeak(map, layout.y_stride, layout.x_stride, h, w, x, y, offset_x, offset_y,
                 out + static_cast<int64_t>(row) * 3);
      ++row;
    }
    found += total;
  }
  const int count = found < max_peaks ? found : max_peaks;
  for (int64_t k = static_cast<int64_t>(count) * 3 + threadIdx.x; k < max_peaks * 3LL;
       k += kThreads) {
    out[k] = 0.f;
  }
  if (threadIdx.x == 0) counts[blockIdx.x] = count;
}

}  // namespace

int64_t NmsScratchBytes(int64_t batch) { return batch * 2 * static_cast<int64_t>(sizeof(float)); }

int LaunchNms(cudaStream_t stream, const float* maps, int64_t batch, const MapLayout& layout,
              const NmsParams& params, const float* host_offsets, void* scratch, float* peaks,
              int32_t* counts) {
  const int64_t blocks = batch * layout.channels;
  if (blocks == 0) return 0;
  if (blocks > 0x7fffffff) return static_cast<int>(cudaErrorInvalidConfiguration);
  float* offsets = static_cast<float*>(scratch);
  // Through a pageable copy: the copy has read it when cudaMemcpyAsync returns, whatever memory
  // the caller's offsets live in (see LaunchPafScores).
  const std::vector<float> staged(host_offsets, host_offsets + 2 * batch);
  cudaError_t status = cudaMemcpyAsync(offsets, staged.data(), NmsScratchBytes(batch),
                                       cudaMemcpyHostToDevice, stream);
  if (status != cudaSuccess) return static_cast<int>(status);
  NmsKernel<<<static_cast<unsigned int>(blocks), kThreads, 0, stream>>>(maps, layout, params,
                                                                          offsets, peaks, counts);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace openpose_tf
