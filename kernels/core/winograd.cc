// Winograd F(4x4, 3x3) tile transforms; see winograd.h. The matrices (points 0, 1, -1, 2, -2):
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// (G, for the weights, is applied once in Python: openpose_tf/net/winograd.py). A tile is
// transformed kBlock channels at a time in local arrays of fixed size, which the compiler keeps
// in vector registers.
#include "kernels/core/winograd.h"

#include <algorithm>
#include <cstring>

namespace openpose_tf {
namespace {

constexpr int kBlock = 16;  // channels per pass
constexpr int kSpan = kWinogradSpan;
constexpr int kTile = kWinogradTile;

// o[i] = (B^T d)[i] for the 6 rows d[k] of kBlock channels (d[k] at d + k * stride); strides
// known at compile time and __restrict let GCC vectorise the loop.
template <int stride, int out_stride>
inline void InputTransform(const float* __restrict d, float* __restrict o) {
  for (int c = 0; c < kBlock; ++c) {
    const float d0 = d[c], d1 = d[stride + c], d2 = d[2 * stride + c], d3 = d[3 * stride + c],
                d4 = d[4 * stride + c], d5 = d[5 * stride + c];
    o[c] = 4.0f * d0 - 5.0f * d2 + d4;
    o[out_stride + c] = (d3 + d4) - 4.0f * (d1 + d2);
    o[2 * out_stride + c] = (d4 - d3) + 4.0f * (d1 - d2);
    o[3 * out_stride + c] = (d4 - d2) + 2.0f * (d3 - d1);
    o[4 * out_stride + c] = (d4 - d2) - 2.0f * (d3 - d1);
    o[5 * out_stride + c] = 4.0f * d1 - 5.0f * d3 + d5;
  }
}

// o[a] = (A^T s)[a] for the 6 rows s[k] of kBlock channels.
template <int stride, int out_stride>
inline void OutputTransform(const float* __restrict s, float* __restrict o) {
  for (int c = 0; c < kBlock; ++c) {
    const float s0 = s[c], s1 = s[stride + c], s2 = s[2 * stride + c], s3 = s[3 * stride + c],
                s4 = s[4 * stride + c], s5 = s[5 * stride + c];
    const float sum12 = s1 + s2, diff12 = s1 - s2, sum34 = s3 + s4, diff34 = s3 - s4;
    o[c] = s0 + sum12 + sum34;
    o[out_stride + c] = diff12 + 2.0f * diff34;
    o[2 * out_stride + c] = sum12 + 4.0f * sum34;
    o[3 * out_stride + c] = diff12 + 8.0f * diff34 + s5;
  }
}

// values += bias, then the activation, over kBlock channels (one branch per block, not per value).
inline void Epilogue(float* values, const float* bias, const float* slope,
                     WinogradActivation activation) {
  for (int k = 0; k < kBlock; ++k) values[k] += bias[k];
  if (activation == WinogradActivation::kRelu) {
    for (int k = 0; k < kBlock; ++k) values[k] = std::max(values[k], 0.0f);
  } else if (activation == WinogradActivation::kPrelu) {
    for (int k = 0; k < kBlock; ++k) {  // + 0: -0 becomes +0, as Caffe's max + slope * min
      values[k] = values[k] > 0.0f ? values[k] : slope[k] * values[k] + 0.0f;
    }
  }
}

// Copies `count` <= kBlock floats: a full block with a fixed trip count (vector moves; a
// variable-length std::copy_n became `rep movs`, which costs more than the transforms).
inline void CopyBlock(const float* __restrict src, int count, float* __restrict dst) {
  if (count == kBlock) {
    for (int k = 0; k < kBlock; ++k) dst[k] = src[k];
  } else {
    for (int k = 0; k < count; ++k) dst[k] = src[k];
  }
}

struct TilePosition {
  int64_t n;
  int y, x;  // the tile's first output row and column
};

TilePosition Position(const WinogradGeometry& g, int64_t t) {
  const int64_t per_image = int64_t{g.TilesH()} * g.TilesW();
  const int64_t within = t % per_image;
  return {t / per_image, static_cast<int>(within / g.TilesW()) * kTile,
          static_cast<int>(within % g.TilesW()) * kTile};
}

}  // namespace

int64_t WinogradTileStride(int64_t tiles) { return tiles % 2 == 1 ? tiles : tiles + 1; }

void WinogradInputTiles(const WinogradGeometry& g, int channels, const float* input,
                        int64_t begin, int64_t end, float* v) {
  const int64_t stride = WinogradTileStride(g.Tiles());
  const int64_t row_stride = int64_t{g.width} * channels;
  const int64_t image_stride = int64_t{g.height} * row_stride;
  alignas(64) float window[kSpan * kSpan * kBlock];
  alignas(64) float rows[kSpan * kSpan * kBlock];
  alignas(64) float tiles[kSpan * kSpan * kBlock];
  for (int64_t t = begin; t < end; ++t) {
    if (t >= g.Tiles()) {  // the padding tile (WinogradTileStride): zeros
      for (int q = 0; q < kWinogradPoints; ++q) {
        std::fill_n(v + (q * stride + t) * channels, channels, 0.0f);
      }
      continue;
    }
    const TilePosition p = Position(g, t);
    const float* image = input + p.n * image_stride;
    const int y0 = p.y - g.pad_h, x0 = p.x - g.pad_w;
    for (int c0 = 0; c0 < channels; c0 += kBlock) {
      const int count = std::min(kBlock, channels - c0);
      if (t + 2 < end) {  // 36 streams: more than the hardware prefetcher follows
        for (int q = 0; q < kWinogradPoints; ++q) {
          __builtin_prefetch(v + (q * stride + t + 2) * channels + c0, 1);
        }
      }
      for (int i = 0; i < kSpan; ++i) {
        for (int j = 0; j < kSpan; ++j) {
          float* dst = window + (i * kSpan + j) * kBlock;
          const int y = y0 + i, x = x0 + j;
          if (y < 0 || y >= g.height || x < 0 || x >= g.width) {
            std::fill_n(dst, kBlock, 0.0f);
          } else {
            const float* src = image + y * row_stride + int64_t{x} * channels + c0;
            CopyBlock(src, count, dst);
            std::fill(dst + count, dst + kBlock, 0.0f);
          }
        }
      }
      for (int j = 0; j < kSpan; ++j) {  // down each column: B^T window
        InputTransform<kSpan * kBlock, kSpan * kBlock>(window + j * kBlock, rows + j * kBlock);
      }
      for (int i = 0; i < kSpan; ++i) {  // along each row: (B^T window) B
        InputTransform<kBlock, kBlock>(rows + i * kSpan * kBlock, tiles + i * kSpan * kBlock);
      }
      for (int q = 0; q < kWinogradPoints; ++q) {
        CopyBlock(tiles + q * kBlock, count, v + (q * stride + t) * channels + c0);
      }
    }
  }
}

void WinogradOutputTiles(const WinogradGeometry& g, int channels, const float* m,
                         const WinogradEpilogue& e, int64_t begin, int64_t end, float* output) {
  const int64_t stride = WinogradTileStride(g.Tiles());
  const int out_h = g.OutHeight(), out_w = g.OutWidth();
  alignas(64) float tile[kSpan * kSpan * kBlock];
  alignas(64) float cols[kSpan * kTile * kBlock];
  alignas(64) float y[kTile * kTile * kBlock];
  end = std::min(end, g.Tiles());
  for (int64_t t = begin; t < end; ++t) {
    const TilePosition p = Position(g, t);
    for (int c0 = 0; c0 < channels; c0 += kBlock) {
      const int count = std::min(kBlock, channels - c0);
      if (t + 2 < end) {  // 36 streams: more than the hardware prefetcher follows
        for (int q = 0; q < kWinogradPoints; ++q) {
          __builtin_prefetch(m + (q * stride + t + 2) * channels + c0);
        }
      }
      for (int q = 0; q < kWinogradPoints; ++q) {
        float* dst = tile + q * kBlock;
        CopyBlock(m + (q * stride + t) * channels + c0, count, dst);
        std::fill(dst + count, dst + kBlock, 0.0f);
      }
      for (int i = 0; i < kSpan; ++i) {  // along each row: s A
        OutputTransform<kBlock, kBlock>(tile + i * kSpan * kBlock, cols + i * kTile * kBlock);
      }
      for (int b = 0; b < kTile; ++b) {  // down each column: A^T (s A)
        OutputTransform<kTile * kBlock, kTile * kBlock>(cols + b * kBlock, y + b * kBlock);
      }
      alignas(64) float bias[kBlock], slope[kBlock];
      for (int k = 0; k < kBlock; ++k) {
        const int channel = std::min(c0 + k, channels - 1);
        bias[k] = e.bias != nullptr ? e.bias[channel] : 0.0f;
        slope[k] = e.slope == nullptr ? 0.0f : e.per_channel ? e.slope[channel] : e.slope[0];
      }
      for (int a = 0; a < kTile && p.y + a < out_h; ++a) {
        for (int b = 0; b < kTile && p.x + b < out_w; ++b) {
          float* values = y + (a * kTile + b) * kBlock;
          Epilogue(values, bias, slope, e.activation);
          CopyBlock(values, count,
                    output + ((p.n * out_h + p.y + a) * out_w + p.x + b) * channels + c0);
        }
      }
    }
  }
}

}  // namespace openpose_tf
