// Tiny harness for the standalone GPU tests: device buffers and a pass/fail tally that ends with
// the plain "N passed, N failed" line.
#ifndef OPENPOSE_TF_TESTS_GPU_GPU_CHECK_H_
#define OPENPOSE_TF_TESTS_GPU_GPU_CHECK_H_

#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

namespace openpose_tf {

class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (count_) cudaMalloc(&data_, count_ * sizeof(float));
  }
  explicit DeviceBuffer(const std::vector<float>& host) : DeviceBuffer(host.size()) {
    if (count_) cudaMemcpy(data_, host.data(), count_ * sizeof(float), cudaMemcpyHostToDevice);
  }
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  float* data() { return data_; }
  std::vector<float> ToHost() const {
    std::vector<float> host(count_);
    cudaDeviceSynchronize();
    if (count_) cudaMemcpy(host.data(), data_, count_ * sizeof(float), cudaMemcpyDeviceToHost);
    return host;
  }

 private:
  size_t count_;
  float* data_ = nullptr;
};

namespace testing {

class GpuTestRun {
 public:
  explicit GpuTestRun(const char* name) : name_(name) {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
      std::printf("%s: no CUDA device\n", name_);
      no_device_ = true;
    }
  }
  void Expect(bool ok, const char* what) {
    if (no_device_) return;
    ok ? ++passed_ : ++failed_;
    if (!ok) std::printf("%s: FAILED: %s\n", name_, what);
  }
  int Finish() const {
    std::printf("%d passed, %d failed\n", passed_, failed_ + (no_device_ ? 1 : 0));
    return (failed_ || no_device_) ? 1 : 0;
  }

 private:
  const char* name_;
  bool no_device_ = false;
  int passed_ = 0;
  int failed_ = 0;
};

}  // namespace testing
}  // namespace openpose_tf

#endif  // OPENPOSE_TF_TESTS_GPU_GPU_CHECK_H_
