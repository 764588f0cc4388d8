// CUDA kernel of OpenPose's Maximum: one block per (image, channel), a strided scan per thread,
// then a shared-memory reduction that keeps the smallest raster index among equal maxima.
#include <cuda_runtime.h>

#include <cmath>

#include "kernels/maximum_op_gpu.h"

namespace openpose_tf {
namespace {

constexpr int kThreads = 256;

// (value, index) with index -1 = nothing seen. Larger value wins; ties go to the smaller index.
__device__ inline void Keep(float v, int64_t i, float* best, int64_t* best_i) {
  if (i < 0) return;
  if (*best_i < 0 || v > *best || (v == *best && i < *best_i)) {
    *best = v;
    *best_i = i;
  }
}

__global__ void MaximumKernel(const float* maps, MapLayout layout, float* out) {
  __shared__ float values[kThreads];
  __shared__ int64_t indices[kThreads];
  const int channels = layout.channels;
  const int64_t n = blockIdx.x / channels;
  const int c = static_cast<int>(blockIdx.x % channels);
  const float* image = maps + n * layout.image_size() + c * layout.c_stride;
  const int64_t pixels = static_cast<int64_t>(layout.height) * layout.width;
  float best = 0.f;
  int64_t best_i = -1;
  for (int64_t i = threadIdx.x; i < pixels; i += kThreads) {
    const int y = static_cast<int>(i / layout.width);
    const int x = static_cast<int>(i % layout.width);
    const float v = image[y * layout.y_stride + x * layout.x_stride];
    if (v == v) Keep(v, i, &best, &best_i);  // NaN skipped
  }
  values[threadIdx.x] = best;
  indices[threadIdx.x] = best_i;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) {
      float v = values[threadIdx.x];
      int64_t i = indices[threadIdx.x];
      Keep(values[threadIdx.x + stride], indices[threadIdx.x + stride], &v, &i);
      values[threadIdx.x] = v;
      indices[threadIdx.x] = i;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    float* o = out + blockIdx.x * 3;
    if (indices[0] < 0) {
      o[0] = 0.f;
      o[1] = 0.f;
      o[2] = nanf("");
    } else {
      o[0] = static_cast<float>(indices[0] % layout.width);
      o[1] = static_cast<float>(indices[0] / layout.width);
      o[2] = values[0];
    }
  }
}

}  // namespace

int LaunchMaximum(cudaStream_t stream, const float* maps, int64_t batch, const MapLayout& layout,
                  float* out) {
  const int64_t blocks = batch * layout.channels;
  if (blocks == 0) return 0;
  if (blocks > 0x7fffffff) return static_cast<int>(cudaErrorInvalidConfiguration);
  MaximumKernel<<<static_cast<unsigned int>(blocks), kThreads, 0, stream>>>(maps, layout, out);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace openpose_tf
