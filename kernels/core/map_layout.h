// Shared vocabulary of the framework-free core (no TensorFlow include anywhere under core/).
//
// Dimension letters: N batch, H height, W width, C channels, P parts, L limbs, M max peaks,
// S scales. x is the column, y the row.
#ifndef OPENPOSE_TF_KERNELS_CORE_MAP_LAYOUT_H_
#define OPENPOSE_TF_KERNELS_CORE_MAP_LAYOUT_H_

#include <cstdint>

#if defined(__CUDACC__)
#define OPENPOSE_HOST_DEVICE __host__ __device__
#else
#define OPENPOSE_HOST_DEVICE
#endif

namespace openpose_tf {

// Which OpenPose build's arithmetic to reproduce (Python's `variant`, the ops' `openpose_build`
// attr). Both run on any device with identical results: this is not the device.
enum class OpenPoseBuild { kGpu, kCpu };

// A strided view of one image's maps: map c, row y, column x is
// data[c * c_stride + y * y_stride + x * x_stride]. One type serves NHWC and NCHW inputs.
struct MapLayout {
  int height = 0;
  int width = 0;
  int channels = 0;
  int64_t y_stride = 0;
  int64_t x_stride = 0;
  int64_t c_stride = 0;

  OPENPOSE_HOST_DEVICE int64_t image_size() const {
    return static_cast<int64_t>(height) * width * channels;
  }
  OPENPOSE_HOST_DEVICE int64_t offset(int c, int y, int x) const {
    return c * c_stride + y * y_stride + x * x_stride;
  }
};

inline MapLayout NhwcLayout(int height, int width, int channels) {
  return MapLayout{height, width, channels, static_cast<int64_t>(width) * channels, channels, 1};
}

inline MapLayout NchwLayout(int height, int width, int channels) {
  return MapLayout{height, width, channels, width, 1, static_cast<int64_t>(height) * width};
}

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_MAP_LAYOUT_H_
