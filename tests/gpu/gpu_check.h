// Tiny harness for the standalone GPU tests: device buffers and a pass/fail tally that ends with
// the plain "N passed, N failed" line.
#ifndef OPENPOSE_TF_TESTS_GPU_GPU_CHECK_H_
#define OPENPOSE_TF_TESTS_GPU_GPU_CHECK_H_

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace openpose_tf {

// Every CUDA call of the harness goes through this: a failure (no memory, a kernel fault found at
// the next synchronisation) ends the binary with the failed tally instead of comparing garbage.
inline void CudaCheck(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  std::printf("CUDA error in %s: %s\n0 passed, 1 failed\n", what, cudaGetErrorString(status));
  std::exit(1);
}

// A device array of T (float by default) filled from / copied back to the host.
template <typename T = float>
class DeviceArray {
 public:
  explicit DeviceArray(size_t count) : count_(count) {
    if (count_) CudaCheck(cudaMalloc(&data_, count_ * sizeof(T)), "cudaMalloc");
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) {
    if (count_) {
      CudaCheck(cudaMemcpy(data_, host.data(), count_ * sizeof(T), cudaMemcpyHostToDevice),
                "cudaMemcpy to the device");
    }
  }
  ~DeviceArray() { cudaFree(data_); }  // never fails on a valid pointer
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* data() { return data_; }
  std::vector<T> ToHost() const {
    std::vector<T> host(count_);
    CudaCheck(cudaDeviceSynchronize(), "cudaDeviceSynchronize (a kernel failed)");
    if (count_) {
      CudaCheck(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost),
                "cudaMemcpy to the host");
    }
    return host;
  }

 private:
  size_t count_;
  T* data_ = nullptr;
};

using DeviceBuffer = DeviceArray<float>;

namespace testing {

class GpuTestRun {
 public:
  explicit GpuTestRun(const char* name) : name_(name) {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
      // Nothing can run: one failure, not a green run that tested nothing.
      std::printf("%s: no CUDA device\n0 passed, 1 failed\n", name_);
      std::exit(1);
    }
  }
  void Expect(bool ok, const char* what) {
    ok ? ++passed_ : ++failed_;
    if (!ok) std::printf("%s: FAILED: %s\n", name_, what);
  }
  int Finish() const {
    std::printf("%d passed, %d failed\n", passed_, failed_);
    return failed_ ? 1 : 0;
  }

 private:
  const char* name_;
  int passed_ = 0;
  int failed_ = 0;
};

}  // namespace testing
}  // namespace openpose_tf

#endif  // OPENPOSE_TF_TESTS_GPU_GPU_CHECK_H_
