// Kernel of OpenPose>SparseCoverage (CPU): per image, the tile bounds and SparseTileStage of
// every tile of the asked channels, counted: the tiles past the bound, the pixels peak-tested
// (kernels/core/sparse_postprocess.h).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/core/sparse_postprocess.h"
#include "kernels/map_input.h"
#include "kernels/resize_and_merge_args.h"
#include "ops/errors.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

namespace openpose_tf {
namespace tf_glue {

using tensorflow::OpInputList;
using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

class SparseCoverageOp : public OpKernel {
 public:
  explicit SparseCoverageOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadOpenPoseBuild(ctx, &build_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("channel_begin", &begin_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("channel_end", &end_));
    OP_REQUIRES(ctx, begin_ < end_,
                InvalidArgument("channel_begin must be < channel_end, got ", begin_, " and ",
                                end_));
  }

  void Compute(OpKernelContext* ctx) override {
    OpInputList inputs;
    int64_t batch = 0;
    ResizePlan plan;
    OP_REQUIRES_OK(ctx, ReadSparseInputs(ctx, build_, &inputs, &batch, &plan));
    const int num_scales = inputs.size();
    OP_REQUIRES(ctx, end_ <= plan.channels,
                InvalidArgument("channel_end must be <= the net outputs' channels (",
                                plan.channels, "), got ", end_));
    const Tensor& threshold_tensor = ctx->input(num_scales + 2);
    OP_REQUIRES(ctx, threshold_tensor.NumElements() == 1,
                InvalidArgument("threshold must be a scalar, got shape ",
                                threshold_tensor.shape().DebugString()));
    const float threshold = threshold_tensor.flat<float>()(0);
    OP_REQUIRES_OK(ctx, CheckTileBoundsSize(plan));
    Tensor* coverage = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({batch, 2}), &coverage));
    OP_REQUIRES_OK(ctx, CatchAllocation("OpenPose>SparseCoverage", [&] {
                     const UpsampledMaps maps(plan);
                     std::vector<float> bounds(2 * maps.bounds_plane()), scratch;
                     // As the fused op's, for channels [begin, end).
                     std::vector<float> below(plan.channels, INFINITY);
                     std::fill(below.begin() + begin_, below.begin() + end_, threshold);
                     SparseWorkspace workspace;
                     for (int64_t n = 0; n < batch; ++n) {
                       const std::vector<const float*> image = ImageScales(inputs, plan, n);
                       maps.TileBounds(image.data(), 0, maps.tile_rows(), below.data(),
                                       bounds.data(), &scratch);
                       int64_t passed[2] = {0, 0};
                       for (int c = begin_; c < end_; ++c) {
                         maps.StartChannel(image.data(), c, &workspace.rows);
                         for (int i = 0; i < maps.tile_rows(); ++i) {
                           for (int j = 0; j < maps.tile_cols(); ++j) {
                             UpsampledMaps::Box box;
                             const SparseStage stage =
                                 SparseTileStage(maps, &workspace.rows, bounds.data(), c, i, j,
                                                 threshold, &box);
                             const int64_t area =
                                 int64_t{maps.grid_y().End(i) - maps.grid_y().Begin(i)} *
                                 (maps.grid_x().End(j) - maps.grid_x().Begin(j));
                             passed[0] += stage != SparseStage::kBound ? area : 0;
                             if (stage == SparseStage::kComputed) {
                               passed[1] += int64_t{box.y1 - box.y0} * (box.x1 - box.x0);
                             }
                           }
                         }
                       }
                       const double pixels = static_cast<double>(end_ - begin_) *
                                             maps.height() * maps.width();
                       for (int k = 0; k < 2; ++k) {
                         coverage->matrix<float>()(n, k) = static_cast<float>(passed[k] / pixels);
                       }
                     }
                   }));
  }

 private:
  OpenPoseBuild build_ = OpenPoseBuild::kGpu;
  int begin_ = 0;
  int end_ = 1;
};

REGISTER_KERNEL_BUILDER(Name("OpenPose>SparseCoverage").Device(tensorflow::DEVICE_CPU),
                        SparseCoverageOp);

}  // namespace tf_glue
}  // namespace openpose_tf
