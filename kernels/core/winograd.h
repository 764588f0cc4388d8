// Winograd F(4x4, 3x3) transforms (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016) for the 3x3, stride-1 convolutions of OpenPose's networks on the CPU. A
// convolution becomes: input tiles -> 36 matrix products with the transformed weights (a batched
// tf.linalg.matmul, oneDNN) -> output tiles. 36 multiplications per 4x4 outputs and input channel
// instead of 144: what OpenCV's DNN module does for these layers (it uses F(6x6, 3x3)).
//
// Layouts: input [N, H, W, C] and output [N, Ho, Wo, K] (NHWC, row-major); the transformed tiles
// v [36][T'][C] and products m [36][T'][K]: T = N * tiles_h * tiles_w tiles t = (n, ty, tx) in
// row-major order, T' = WinogradTileStride(T); point q = 6 * i + j (i: row, j: column of the
// transformed 6x6 tile).
#ifndef OPENPOSE_TF_KERNELS_CORE_WINOGRAD_H_
#define OPENPOSE_TF_KERNELS_CORE_WINOGRAD_H_

#include <cstdint>

namespace openpose_tf {

constexpr int kWinogradTile = 4;     // output tile side (m)
constexpr int kWinogradSpan = 6;     // input tile side (m + 2)
constexpr int kWinogradPoints = 36;  // transformed values per tile and channel

struct WinogradGeometry {
  int64_t batch;
  int height, width;  // of the input
  int pad_h, pad_w;   // zero padding on each side (Caffe's pad)
  int OutHeight() const { return height + 2 * pad_h - 2; }
  int OutWidth() const { return width + 2 * pad_w - 2; }
  int TilesH() const { return (OutHeight() + kWinogradTile - 1) / kWinogradTile; }
  int TilesW() const { return (OutWidth() + kWinogradTile - 1) / kWinogradTile; }
  int64_t Tiles() const { return batch * TilesH() * TilesW(); }
};

// The tiles' stride in v and m: T rounded up to an odd number, so that the 36 rows of a tile do
// not fall into the same cache sets (with T * C * 4 bytes a multiple of 4 KiB they all would);
// the extra tile is zeros in v and ignored in m.
int64_t WinogradTileStride(int64_t tiles);

// v[q][t][c] = (B^T d_t B)[q] for the tiles t in [begin, end): d_t is the 6x6 window of the
// zero-padded input whose top-left corner is (4 ty - pad_h, 4 tx - pad_w); t = T is the padding
// tile (zeros). `v` holds all T' tiles.
void WinogradInputTiles(const WinogradGeometry& geometry, int channels, const float* input,
                        int64_t begin, int64_t end, float* v);

enum class WinogradActivation { kNone, kRelu, kPrelu };

// What follows the convolution, fused into the output pass.
struct WinogradEpilogue {
  const float* bias;   // [K] or nullptr
  const float* slope;  // PReLU's negative slope: [K] if per_channel, else [1]
  bool per_channel;
  WinogradActivation activation;
};

// out[n, 4 ty + a, 4 tx + b, k] = (A^T m_t A)[a][b] + bias[k], activated, for the tiles t in
// [begin, end), outputs beyond (out_h, out_w) dropped. ReLU: max(y, 0); PReLU: y > 0 ? y :
// slope * y (+0 for 0 and -0, as Caffe's max(y, 0) + slope * min(y, 0)).
void WinogradOutputTiles(const WinogradGeometry& geometry, int channels, const float* m,
                         const WinogradEpilogue& epilogue, int64_t begin, int64_t end,
                         float* output);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_CORE_WINOGRAD_H_
