#include "kernels/resize_and_merge_args.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/map_input.h"
#include "ops/errors.h"

namespace openpose_tf {
namespace tf_glue {
namespace {

constexpr int64_t kMaxElements = std::numeric_limits<int32_t>::max();

// How far past a map's last pixel (in that map's pixels) the GPU build may read: OpenPose's own
// scales (net inputs floored to multiples of 16 pixels, 2 map pixels) stay within
// 2.4 (checked over 20,000 random flows). The tile bounds' kLargestFinite
// (kernels/core/upsampled_maps.cc) assumes at most 3: change both together.
constexpr float kPlacementTolerance = 3.f;

absl::Status ReadTargetSize(const tensorflow::Tensor& t, int* h, int* w) {
  TF_RETURN_IF_ERROR(CheckVector("target_size", t, 2, "(H, W)"));
  const auto v = t.vec<int32_t>();
  if (v(0) <= 0 || v(1) <= 0) {
    return InvalidArgument("target_size must be positive, got [", v(0), ",", v(1), "]");
  }
  *h = v(0);
  *w = v(1);
  return absl::OkStatus();
}

absl::Status ReadRatios(const tensorflow::Tensor& t, int num_scales, std::vector<float>* ratios) {
  TF_RETURN_IF_ERROR(CheckVector("scale_ratios", t, num_scales, "(one per scale)"));
  for (int s = 0; s < num_scales; ++s) {
    const float r = t.vec<float>()(s);
    if (!(r > 0.f) || !std::isfinite(r)) {
      return InvalidArgument("scale_ratios must be positive and finite, got ", r, " at index ", s);
    }
    ratios->push_back(r);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadResizeAndMerge(const tensorflow::OpInputList& net_outputs,
                                const tensorflow::Tensor& target_size,
                                const tensorflow::Tensor& scale_ratios, OpenPoseBuild build,
                                int64_t* batch, ResizePlan* plan, ResizeWorkspace* workspace,
                                bool materialised) {
  const int num_scales = net_outputs.size();
  std::vector<MapLayout> layouts(num_scales);
  for (int s = 0; s < num_scales; ++s) {
    const std::string name = "net_outputs[" + std::to_string(s) + "]";
    TF_RETURN_IF_ERROR(GetMapLayout(name, net_outputs[s], false, &layouts[s]));
    if (net_outputs[s].dim_size(0) != net_outputs[0].dim_size(0) ||
        layouts[s].channels != layouts[0].channels) {
      return InvalidArgument(name, " must have the N and C of net_outputs[0], got shape ",
                             net_outputs[s].shape().DebugString(), " vs ",
                             net_outputs[0].shape().DebugString());
    }
  }
  plan->build = build;
  TF_RETURN_IF_ERROR(ReadTargetSize(target_size, &plan->target_height, &plan->target_width));
  std::vector<float> ratios;
  TF_RETURN_IF_ERROR(ReadRatios(scale_ratios, num_scales, &ratios));
  *batch = net_outputs[0].dim_size(0);
  plan->channels = layouts[0].channels;
  const int64_t out_elements =
      *batch * plan->target_height * static_cast<int64_t>(plan->target_width) * plan->channels;
  // The CUDA kernels index with int: refuse what would overflow there too.
  if (materialised && out_elements > kMaxElements) {
    return InvalidArgument("output [N,H,W,C] = [", *batch, ",", plan->target_height, ",",
                           plan->target_width, ",", plan->channels, "] has ", out_elements,
                           " elements, more than 2^31-1");
  }
  plan->scales.clear();
  for (int s = 0; s < num_scales; ++s) {
    ResizeScale scale;
    scale.height = layouts[s].height;
    scale.width = layouts[s].width;
    scale.scale_x = GpuBuildScale(plan->target_width, layouts[0].width, ratios[s], ratios[0]);
    scale.scale_y = GpuBuildScale(plan->target_height, layouts[0].height, ratios[s], ratios[0]);
    plan->scales.push_back(scale);
  }
  int axis = 0;
  float end = 0.f;
  const int bad = FirstMisplacedScale(*plan, kPlacementTolerance, &axis, &end);
  if (bad >= 0) {
    const bool rows = axis == 0;
    const int size = rows ? layouts[bad].height : layouts[bad].width;
    const int size0 = rows ? layouts[0].height : layouts[0].width;
    return InvalidArgument(
        "scale_ratios contradict the maps' sizes: scale_ratios[", bad, "] / scale_ratios[0] = ",
        ratios[bad] / ratios[0], " maps the target's last ", rows ? "row" : "column", " to ",
        end, " in net_outputs[", bad, "], whose ", rows ? "height" : "width", " is ", size,
        " (size ratio to net_outputs[0]: ", static_cast<float>(size) / size0,
        "); give OpenPose's scaleInputToNetInputs in the order of net_outputs");
  }
  if (!ResizeWorkspaceSize(*plan, workspace) && materialised) {
    return InvalidArgument("the intermediate rows (source rows x target width x C, summed over ",
                           "scales) would exceed 2^31-1 elements; use fewer source rows or a ",
                           "smaller target_size");
  }
  return absl::OkStatus();
}

absl::Status ReadSparseInputs(tensorflow::OpKernelContext* ctx, OpenPoseBuild build,
                              tensorflow::OpInputList* net_outputs, int64_t* batch,
                              ResizePlan* plan) {
  TF_RETURN_IF_ERROR(ctx->input_list("net_outputs", net_outputs));
  const int num_scales = net_outputs->size();
  ResizeWorkspace unused;
  return ReadResizeAndMerge(*net_outputs, ctx->input(num_scales), ctx->input(num_scales + 1),
                            build, batch, plan, &unused, /*materialised=*/false);
}

absl::Status CheckTileBoundsSize(const ResizePlan& plan) {
  // UpsampledMaps::kTile; its tiling's shift (< kTile) may add a tile per axis.
  constexpr int64_t kTile = 16;
  const int64_t tiles = ((plan.target_height + 2 * kTile - 2) / kTile) *
                        ((plan.target_width + 2 * kTile - 2) / kTile);
  if (2 * tiles * plan.channels > kMaxElements) {
    return InvalidArgument("target_size [", plan.target_height, ",", plan.target_width, "] with ",
                           plan.channels, " channels needs ", 2 * tiles * plan.channels,
                           " tile bounds per image, more than 2^31-1");
  }
  return absl::OkStatus();
}

std::vector<const float*> ImageScales(const tensorflow::OpInputList& net_outputs,
                                      const ResizePlan& plan, int64_t n) {
  std::vector<const float*> image;
  for (size_t s = 0; s < plan.scales.size(); ++s) {
    const int64_t size =
        static_cast<int64_t>(plan.scales[s].height) * plan.scales[s].width * plan.channels;
    image.push_back(net_outputs[s].flat<float>().data() + n * size);
  }
  return image;
}

}  // namespace tf_glue
}  // namespace openpose_tf
