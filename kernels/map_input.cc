#include "ops/errors.h"
#include "kernels/map_input.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <new>
#include <stdexcept>
#include <vector>

#include "ops/op_messages.h"
#include "tensorflow/core/util/work_sharder.h"

namespace openpose_tf {
namespace tf_glue {

absl::Status ReadDataFormat(tensorflow::OpKernelConstruction* ctx, bool* nchw) {
  std::string data_format;
  TF_RETURN_IF_ERROR(ctx->GetAttr("data_format", &data_format));
  *nchw = data_format == "NCHW";
  return absl::OkStatus();
}

absl::Status ReadOpenPoseBuild(tensorflow::OpKernelConstruction* ctx, OpenPoseBuild* build) {
  std::string name;
  TF_RETURN_IF_ERROR(ctx->GetAttr("openpose_build", &name));
  if (name != "gpu" && name != "cpu") {
    return InvalidArgument("variant must be \"gpu\" or \"cpu\", got \"", name, "\"");
  }
  *build = name == "gpu" ? OpenPoseBuild::kGpu : OpenPoseBuild::kCpu;
  return absl::OkStatus();
}

absl::Status CatchAllocation(const char* what, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory"));
  } catch (const std::length_error&) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": a buffer would be too large"));
  }
  return absl::OkStatus();
}

absl::Status GetMapLayout(const std::string& name, const tensorflow::Tensor& maps, bool nchw,
                          MapLayout* layout) {
  std::vector<int64_t> dims;
  for (int i = 0; i < maps.dims(); ++i) dims.push_back(maps.dim_size(i));
  if (dims.size() != 4) return InvalidArgument(RankMessage(name, nchw, dims));
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] <= 0 && i > 0) return InvalidArgument(EmptyMessage(name, nchw, dims));
    if (dims[i] > std::numeric_limits<int32_t>::max()) {
      return InvalidArgument(TooLargeMessage(name, dims));
    }
  }
  const int h = static_cast<int>(dims[nchw ? 2 : 1]);
  const int w = static_cast<int>(dims[nchw ? 3 : 2]);
  const int c = static_cast<int>(dims[nchw ? 1 : 3]);
  *layout = nchw ? NchwLayout(h, w, c) : NhwcLayout(h, w, c);
  return absl::OkStatus();
}

absl::Status ReadChannelRange(tensorflow::OpKernelConstruction* ctx, int* begin, int* end) {
  TF_RETURN_IF_ERROR(ctx->GetAttr("channel_begin", begin));
  TF_RETURN_IF_ERROR(ctx->GetAttr("channel_end", end));
  if (*begin < 0 || *end < -1 || (*end != -1 && *end <= *begin)) {
    return InvalidArgument("channels must be a range [begin, end) with 0 <= begin < end (or "
                           "end -1: to the last channel), got [", *begin, ", ", *end, ")");
  }
  return absl::OkStatus();
}

absl::Status SelectChannels(const std::string& name, const MapLayout& full, int begin, int end,
                            MapLayout* view, int64_t* offset) {
  const int stop = end == -1 ? full.channels : end;
  if (begin >= stop || stop > full.channels) {
    return InvalidArgument("channels [", begin, ", ", end, ") do not lie in ", name, "'s ",
                           full.channels, " channels");
  }
  *view = ChannelRange(full, begin, stop);
  *offset = ChannelOffset(full, begin);
  return absl::OkStatus();
}

absl::Status CheckVector(const std::string& name, const tensorflow::Tensor& t, int64_t length,
                         const std::string& meaning) {
  if (t.dims() != 1 || t.dim_size(0) != length) {
    return InvalidArgument(VectorMessage(name, length, meaning), t.shape().DebugString());
  }
  return absl::OkStatus();
}

absl::Status ShardUnits(tensorflow::OpKernelContext* ctx, const char* what, int64_t units,
                        int64_t cost_per_unit,
                        const std::function<void(int64_t begin, int64_t end)>& fn) {
  if (units <= 0) return absl::OkStatus();
  auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
  std::mutex mutex;
  absl::Status status;
  tensorflow::Shard(workers->num_threads, workers->workers, units, cost_per_unit,
                    [&](int64_t begin, int64_t end) {
                      const absl::Status s = CatchAllocation(what, [&] { fn(begin, end); });
                      if (!s.ok()) {
                        std::lock_guard<std::mutex> lock(mutex);
                        status.Update(s);
                      }
                    });
  return status;
}

absl::Status ForEachChannelBlock(tensorflow::OpKernelContext* ctx, const char* what,
                                 int64_t batch, int channels, int64_t cost_per_channel,
                                 const std::function<void(int64_t n, int c_begin, int c_end)>& fn) {
  if (batch == 0) return absl::OkStatus();
  // Whole images when the batch alone keeps the threads busy.
  const int64_t threads = std::max(1, ctx->device()->tensorflow_cpu_worker_threads()->num_threads);
  const int blocks =
      static_cast<int>(std::min<int64_t>(channels, std::max<int64_t>(1, threads / batch)));
  const int64_t cost = cost_per_channel * ((channels + blocks - 1) / blocks);
  return ShardUnits(ctx, what, batch * blocks, cost, [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; ++u) {
      const int64_t n = u / blocks;
      const int b = static_cast<int>(u % blocks);
      const int c_begin = static_cast<int>(static_cast<int64_t>(channels) * b / blocks);
      const int c_end = static_cast<int>(static_cast<int64_t>(channels) * (b + 1) / blocks);
      fn(n, c_begin, c_end);
    }
  });
}

}  // namespace tf_glue
}  // namespace openpose_tf
