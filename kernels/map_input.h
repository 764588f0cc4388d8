// TensorFlow glue shared by the kernels: input validation and CPU work sharding.
#ifndef OPENPOSE_TF_KERNELS_MAP_INPUT_H_
#define OPENPOSE_TF_KERNELS_MAP_INPUT_H_

#include <functional>
#include <string>

#include "kernels/core/map_layout.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

#if GOOGLE_CUDA
#include "xla/stream_executor/stream.h"
typedef struct CUstream_st* cudaStream_t;
#endif

namespace openpose_tf {
namespace tf_glue {

// Reads the data_format attr: true for "NCHW".
absl::Status ReadDataFormat(tensorflow::OpKernelConstruction* ctx, bool* nchw);

// Reads the openpose_build attr ("gpu" or "cpu"): which OpenPose build to reproduce, Python's
// `variant` (an attr cannot be called "variant": that is a TensorFlow type name).
absl::Status ReadOpenPoseBuild(tensorflow::OpKernelConstruction* ctx, OpenPoseBuild* build);

// Validates a 4-D float map tensor (rank 4, H, W, C > 0, N >= 0, each below 2^31) and returns the
// layout of one image. Messages match the shape functions' (ops/op_messages.h).
absl::Status GetMapLayout(const std::string& name, const tensorflow::Tensor& maps, bool nchw,
                          MapLayout* layout);

// The channel range attrs channel_begin (>= 0) and channel_end (-1: all channels), resolved
// against `full` (0 <= begin < end <= C, else an error naming them): the view of those channels
// and the offset of its first channel (ChannelRange / ChannelOffset).
absl::Status ReadChannelRange(tensorflow::OpKernelConstruction* ctx, int* begin, int* end);
absl::Status SelectChannels(const std::string& name, const MapLayout& full, int begin, int end,
                            MapLayout* view, int64_t* offset);

// Requires `t` to be a vector of `length` values; the shape functions' wording.
absl::Status CheckVector(const std::string& name, const tensorflow::Tensor& t, int64_t length,
                         const std::string& meaning);

// Runs fn and turns a failed allocation inside it (std::bad_alloc, std::length_error) into a
// ResourceExhausted status: no C++ exception may leave a kernel. Work sharded over threads must
// call it inside each shard (an exception does not cross TensorFlow's thread pool): ShardUnits
// does.
absl::Status CatchAllocation(const char* what, const std::function<void()>& fn);

// The one way the kernels spread work over the intra-op thread pool: fn(begin, end) over
// [0, units) in blocks (tensorflow::Shard), each block under CatchAllocation(what); returns the
// first failure. Units must be independent, so that no result depends on the thread count.
// cost_per_unit: rough cycles of one unit (the block size follows it).
absl::Status ShardUnits(tensorflow::OpKernelContext* ctx, const char* what, int64_t units,
                        int64_t cost_per_unit,
                        const std::function<void(int64_t begin, int64_t end)>& fn);

// ShardUnits over every image n in [0, batch) and a partition of its channels: fn(n, c_begin,
// c_end). Enough blocks per image to keep every thread busy even with one image.
// cost_per_channel: rough cycles to process one channel of one image.
absl::Status ForEachChannelBlock(tensorflow::OpKernelContext* ctx, const char* what,
                                 int64_t batch, int channels, int64_t cost_per_channel,
                                 const std::function<void(int64_t n, int c_begin, int c_end)>& fn);

#if GOOGLE_CUDA
// The op's own CUDA stream (kernels never launch on the default stream).
inline cudaStream_t OpStream(tensorflow::OpKernelContext* ctx) {
  return reinterpret_cast<cudaStream_t>(
      ctx->op_device_context()->stream()->platform_specific_handle().stream);
}
#endif

}  // namespace tf_glue
}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_MAP_INPUT_H_
