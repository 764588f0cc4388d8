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

// Element-wise loops are built for AVX2 as well as the baseline and picked at load time
// (target_clones), so any x86-64 CPU runs the library. Wider vectors change no result: each
// element is the same scalar expression, without FMA (-ffp-contract=off) or reassociation.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define OPENPOSE_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define OPENPOSE_SIMD_CLONES
#endif

namespace openpose_tf {

// Which OpenPose build's arithmetic to reproduce (Python's `variant`, the ops' `openpose_build`
// attr). Both run on any device with identical results: this is not the device.
enum class OpenPoseBuild { kGpu, kCpu };

// A strided view of one image's maps: map c, row y, column x is
// data[c * c_stride + y * y_stride + x * x_stride], and image n starts image_stride elements
// after image n-1. One type serves NHWC and NCHW inputs, and a range of their channels
// (ChannelRange) without copying them.
struct MapLayout {
  int height = 0;
  int width = 0;
  int channels = 0;
  int64_t y_stride = 0;
  int64_t x_stride = 0;
  int64_t c_stride = 0;
  int64_t image_stride = 0;

  // Elements from one image to the next (the whole image, all of the tensor's channels).
  OPENPOSE_HOST_DEVICE int64_t image_size() const { return image_stride; }
  OPENPOSE_HOST_DEVICE int64_t offset(int c, int y, int x) const {
    return c * c_stride + y * y_stride + x * x_stride;
  }
};

inline MapLayout NhwcLayout(int height, int width, int channels) {
  return MapLayout{height, width, channels, static_cast<int64_t>(width) * channels, channels, 1,
                   static_cast<int64_t>(height) * width * channels};
}

inline MapLayout NchwLayout(int height, int width, int channels) {
  return MapLayout{height, width, channels, width, 1, static_cast<int64_t>(height) * width,
                   static_cast<int64_t>(height) * width * channels};
}

// Channels [begin, end) of `full` as their own maps: the same strides and image stride, so
// channel c of the view is channel begin + c of `full`; the caller offsets its data pointer by
// ChannelOffset(full, begin). (A channel slice that costs nothing.)
inline MapLayout ChannelRange(const MapLayout& full, int begin, int end) {
  MapLayout view = full;
  view.channels = end - begin;
  return view;
}

inline int64_t ChannelOffset(const MapLayout& full, int begin) { return begin * full.c_stride; }

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_MAP_LAYOUT_H_
