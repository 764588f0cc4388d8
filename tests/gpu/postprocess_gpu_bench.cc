// Micro-benchmark of the CUDA post-processing kernels on the standard case: BODY_25 net output
// 46x82x78 -> 368x656, 10 synthetic people, batch 1 and 32, both OpenPose builds. Each stage's
// time is the median of 100 runs timed by CUDA events: ResizeAndMerge (all 78 channels), NMS on
// the 25 body-part channels and PafScores over the 52 PAF channels, both read in place in the
// resized maps (ChannelRange, as the ops do). Prints a Markdown table.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

#include "kernels/nms_op_gpu.h"
#include "kernels/paf_scores_op_gpu.h"
#include "kernels/resize_and_merge_op_gpu.h"
#include "tests/gpu/gpu_check.h"

namespace openpose_tf {
namespace {

constexpr int kNetH = 46, kNetW = 82, kParts = 25, kLimbs = 26;
constexpr int kChannels = kParts + 1 + 2 * kLimbs;  // 78: parts, background, PAFs
constexpr int kH = 368, kW = 656, kPeople = 10, kMaxPeaks = 127;
constexpr double kCopyBandwidth = 4.3e12;  // bytes/s, the H200's measured device copy rate

// 10 people: each part a Gaussian blob near the person's centre, PAFs a constant field.
std::vector<float> NetOutput(int batch) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> cx(8.f, kNetW - 8.f), cy(8.f, kNetH - 8.f);
  std::vector<float> maps(static_cast<size_t>(batch) * kNetH * kNetW * kChannels, 0.f);
  for (int n = 0; n < batch; ++n) {
    float* image = maps.data() + static_cast<size_t>(n) * kNetH * kNetW * kChannels;
    for (int person = 0; person < kPeople; ++person) {
      const float x0 = cx(rng), y0 = cy(rng);
      for (int p = 0; p < kParts; ++p) {
        const float px = x0 + 3.f * std::cos(p * 0.7f), py = y0 + 4.f * std::sin(p * 0.5f);
        for (int y = 0; y < kNetH; ++y)
          for (int x = 0; x < kNetW; ++x) {
            const float d2 = (x - px) * (x - px) + (y - py) * (y - py);
            float& v = image[(y * kNetW + x) * kChannels + p];
            v = std::max(v, std::exp(-d2 / 2.f));
          }
      }
    }
    for (int i = 0; i < kNetH * kNetW; ++i)
      for (int c = kParts + 1; c < kChannels; ++c) image[i * kChannels + c] = 0.3f;
  }
  return maps;
}

// Median milliseconds of 100 timed runs of fn (after 3 warm-up runs).
float MedianMs(const std::function<void()>& fn) {
  cudaEvent_t start, stop;
  CudaCheck(cudaEventCreate(&start), "cudaEventCreate");
  CudaCheck(cudaEventCreate(&stop), "cudaEventCreate");
  for (int i = 0; i < 3; ++i) fn();
  std::vector<float> times;
  for (int i = 0; i < 100; ++i) {
    CudaCheck(cudaEventRecord(start), "cudaEventRecord");
    fn();
    CudaCheck(cudaEventRecord(stop), "cudaEventRecord");
    CudaCheck(cudaEventSynchronize(stop), "a benchmarked kernel failed");
    float ms = 0.f;
    CudaCheck(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    times.push_back(ms);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void Expect0(int status, const char* what) { CudaCheck(static_cast<cudaError_t>(status), what); }

void Bench(int batch, OpenPoseBuild build) {
  const std::vector<float> host = NetOutput(batch);
  DeviceBuffer net(host);
  DeviceBuffer resized(static_cast<size_t>(batch) * kH * kW * kChannels);
  const MapLayout full = NhwcLayout(kH, kW, kChannels);
  ResizePlan plan;
  plan.build = build;
  plan.target_height = kH;
  plan.target_width = kW;
  plan.channels = kChannels;
  ResizeScale scale;
  scale.height = kNetH;
  scale.width = kNetW;
  scale.scale_x = GpuBuildScale(kW, kNetW, 1.f, 1.f);
  scale.scale_y = GpuBuildScale(kH, kNetH, 1.f, 1.f);
  plan.scales.push_back(scale);
  DeviceArray<int8_t> resize_scratch(ResizeScratchBytes(1));
  const float* sources[] = {net.data()};
  auto resize = [&] {
    Expect0(LaunchResizeAndMerge(nullptr, plan, sources, batch, resize_scratch.data(),
                                 resized.data()),
            "ResizeAndMerge");
  };
  NmsParams nms;
  nms.build = build;
  nms.max_peaks = kMaxPeaks;
  std::vector<float> offsets(2 * batch, 0.5f);
  DeviceArray<int8_t> nms_scratch(NmsScratchBytes(batch));
  DeviceBuffer peaks(static_cast<size_t>(batch) * kParts * kMaxPeaks * 3);
  DeviceArray<int32_t> counts(static_cast<size_t>(batch) * kParts);
  auto run_nms = [&] {
    Expect0(LaunchNms(nullptr, resized.data(), batch, ChannelRange(full, 0, kParts), nms,
                      offsets.data(), nms_scratch.data(), peaks.data(), counts.data()),
            "Nms");
  };
  resize();
  run_nms();
  // The connector's inputs, as the op gets them: peaks and counts in host memory.
  const std::vector<float> host_peaks = peaks.ToHost();
  const std::vector<int32_t> host_counts = counts.ToHost();
  int64_t k = 0;
  for (int32_t c : host_counts) k = std::max<int64_t>(k, c);
  std::vector<int32_t> pairs, paf_indices;
  for (int l = 0; l < kLimbs; ++l) {  // BODY_25's sizes; the part pairs do not change the cost
    pairs.push_back(l % kParts);
    pairs.push_back((l + 1) % kParts);
    paf_indices.push_back(2 * l);  // of the PAF view below
    paf_indices.push_back(2 * l + 1);
  }
  PafScoresHostInput in;
  in.batch = batch;
  in.num_parts = kParts;
  in.num_pairs = kLimbs;
  in.max_peaks = kMaxPeaks;
  in.k = k;
  in.peaks = host_peaks.data();
  in.counts = host_counts.data();
  in.pairs = pairs.data();
  in.paf_indices = paf_indices.data();
  DeviceArray<int8_t> paf_scratch(PafScoresScratchBytes(in));
  DeviceBuffer scores(static_cast<size_t>(batch) * kLimbs * k * k);
  auto run_paf = [&] {
    Expect0(LaunchPafScores(nullptr, resized.data() + ChannelOffset(full, kParts + 1),
                            ChannelRange(full, kParts + 1, kChannels), in,
                            PafScoreParams(), paf_scratch.data(), scores.data()),
            "PafScores");
  };
  const float t_resize = MedianMs(resize);
  const float t_nms = MedianMs(run_nms), t_paf = MedianMs(run_paf);
  const float t_all = MedianMs([&] {
    resize();
    run_nms();
    run_paf();
  });
  // Bytes the resize must move at least: read the net output once, write the resized maps.
  const double bytes = 4.0 * batch * (kNetH * kNetW + static_cast<double>(kH) * kW) * kChannels;
  std::printf("| %s | %d | %d | %.3f | %.3f | %.3f | %.3f | %.0f | %.0f%% |\n",
              build == OpenPoseBuild::kGpu ? "gpu" : "cpu", batch, static_cast<int>(k), t_resize,
              t_nms, t_paf, t_all, batch / (t_all / 1000.f),
              100.0 * bytes / (t_resize / 1000.0) / kCopyBandwidth);
}

}  // namespace
}  // namespace openpose_tf

int main() {
  using namespace openpose_tf;  // NOLINT: a benchmark's main
  testing::GpuTestRun run("postprocess_gpu_bench");  // exits when there is no GPU
  cudaDeviceProp prop;
  CudaCheck(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  std::printf("GPU: %s. BODY_25 46x82x78 -> 368x656, %d people, median of 100 (ms).\n\n",
              prop.name, kPeople);
  std::printf("| variant | batch | K | resize | nms | paf scores | all | images/s |"
              " resize vs copy bandwidth |\n|---|---|---|---|---|---|---|---|---|\n");
  for (int batch : {1, 32}) {
    for (OpenPoseBuild build : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) Bench(batch, build);
  }
  return 0;
}
