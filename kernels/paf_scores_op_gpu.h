// CUDA launcher of the connector's dense pair scores (OpenPose's pafScoreKernel in
// bodyPartConnectorBase.cu), framework-free: raw pointers and a stream, so it builds and is
// tested without TensorFlow (tests/gpu). Each score is kernels/core/paf_score.h's PafScore, the
// same function as the CPU's ScorePairs: CPU and GPU agree bit for bit.
#ifndef OPENPOSE_TF_KERNELS_PAF_SCORES_OP_GPU_H_
#define OPENPOSE_TF_KERNELS_PAF_SCORES_OP_GPU_H_

#include <cstdint>

#include "kernels/core/map_layout.h"
#include "kernels/core/paf_score.h"

typedef struct CUstream_st* cudaStream_t;  // CUDA's own typedef: no CUDA include needed here

namespace openpose_tf {

// The small, host-side inputs of one call (what the TensorFlow op keeps in host memory).
struct PafScoresHostInput {
  int64_t batch = 0;
  int num_parts = 0;         // P
  int num_pairs = 0;         // L
  int max_peaks = 0;         // M
  int64_t k = 0;             // K: the output's last two dimensions
  const float* peaks = nullptr;          // [batch, P, M, 3]
  const int32_t* counts = nullptr;       // [batch, P], each in [0, min(M, K)]
  const int32_t* pairs = nullptr;        // 2L part indices
  const int32_t* paf_indices = nullptr;  // 2L PAF channels
};

// Device scratch bytes LaunchPafScores needs (the peaks, counts and topology, copied there).
int64_t PafScoresScratchBytes(const PafScoresHostInput& in);

// pafs: device [batch, H, W, 2L] (any layout). out: device [batch, L, K, K], ScorePairs' result
// for every image (-1 past the counts). The host inputs are copied on `stream` into `scratch`.
// One thread per output element (fewer than 2^31). Returns the cudaError_t (0 = success);
// nothing is launched for an empty output.
int LaunchPafScores(cudaStream_t stream, const float* pafs, const MapLayout& layout,
                    const PafScoresHostInput& in, const PafScoreParams& params, void* scratch,
                    float* out);

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_KERNELS_PAF_SCORES_OP_GPU_H_
