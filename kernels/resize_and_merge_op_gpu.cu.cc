// CUDA kernel of OpenPose's resizeAndMerge: one thread per output element (NHWC, so a warp reads
// consecutive channels). Per scale it evaluates the 4 tap rows' horizontal cubic, then the
// vertical one, exactly the values of the CPU's HorizontalPass/VerticalPass (the same inline
// functions in the same order, no FMA contraction), then merges the scales as OpenPose does.
#include <cuda_runtime.h>

#include <vector>

#include "kernels/resize_and_merge_op_gpu.h"

namespace openpose_tf {
namespace {

constexpr int kThreads = 256;

struct GpuScale {
  const float* data;  // [batch, height, width, C]
  ResizeScale geometry;
};

// Scale s's upsampled value at target (y, x), channel c of image n.
__device__ inline float ScaleValue(const GpuScale& scale, OpenPoseBuild build, int64_t n, int y,
                                   int x, int c, int channels, int target_h, int target_w) {
  const ResizeScale& g = scale.geometry;
  const int64_t row = static_cast<int64_t>(g.width) * channels;
  const float* image = scale.data + n * g.height * row + c;
  int32_t yi[4], xi[4];
  float wy[4], wx[4];
  const bool gpu = build == OpenPoseBuild::kGpu;
  if (gpu) {
    wy[0] = GpuBuildTaps(y, g.height, g.scale_y, yi);
    wx[0] = GpuBuildTaps(x, g.width, g.scale_x, xi);
  } else {
    CpuBuildTaps(y, g.height, target_h, yi, wy);
    CpuBuildTaps(x, g.width, target_w, xi, wx);
  }
  return TapValue(image, row, channels, yi, wy, xi, wx, build);
}

__global__ void ResizeAndMergeKernel(const GpuScale* scales, int num_scales, OpenPoseBuild build,
                                     int target_h, int target_w, int channels, int64_t total,
                                     float* out) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += stride) {
    const int c = static_cast<int>(e % channels);
    const int64_t pixel = e / channels;
    const int x = static_cast<int>(pixel % target_w);
    const int64_t image_row = pixel / target_w;
    const int y = static_cast<int>(image_row % target_h);
    const int64_t n = image_row / target_h;
    float v = 0.f;
    for (int s = 0; s < num_scales; ++s) {
      v = MergeScale(v, ScaleValue(scales[s], build, n, y, x, c, channels, target_h, target_w),
                     s, num_scales, build);
    }
    v = MergeEnd(v, num_scales, build);
    out[e] = v;
  }
}

}  // namespace

int64_t ResizeScratchBytes(int num_scales) {
  return static_cast<int64_t>(num_scales) * static_cast<int64_t>(sizeof(GpuScale));
}

int LaunchResizeAndMerge(cudaStream_t stream, const ResizePlan& plan, const float* const* sources,
                         int64_t batch, void* scratch, float* out) {
  const int num_scales = static_cast<int>(plan.scales.size());
  const int64_t total = batch * plan.target_height * plan.target_width * plan.channels;
  if (total == 0 || num_scales == 0) return 0;
  std::vector<GpuScale> table(num_scales);
  for (int s = 0; s < num_scales; ++s) table[s] = GpuScale{sources[s], plan.scales[s]};
  GpuScale* device_table = static_cast<GpuScale*>(scratch);
  // From pageable memory: the copy has read `table` when it returns, so it may go out of scope.
  cudaError_t status = cudaMemcpyAsync(device_table, table.data(), ResizeScratchBytes(num_scales),
                                       cudaMemcpyHostToDevice, stream);
  if (status != cudaSuccess) return static_cast<int>(status);
  // Enough blocks to fill any current GPU; the grid-stride loop covers the rest.
  const int64_t needed = (total + kThreads - 1) / kThreads;
  const unsigned int blocks = static_cast<unsigned int>(needed < 65536 ? needed : 65536);
  ResizeAndMergeKernel<<<blocks, kThreads, 0, stream>>>(device_table, num_scales, plan.build,
                                                        plan.target_height, plan.target_width,
                                                        plan.channels, total, out);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace openpose_tf
