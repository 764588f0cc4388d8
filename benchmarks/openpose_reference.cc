// OpenPose's own CPU post-processing, called as its PoseExtractorCaffe calls it in the CPU build
// (resizeAndMergeCpu, nmsCpu, connectBodyPartsCpu, with the pose model's default thresholds),
// behind C functions for ctypes: benchmarks/bench_vs_openpose.py compiles this file against a
// checkout of OpenPose's source (no Caffe needed: these functions do not use it) and times it in
// the same process as our ops, on the same net outputs; and it runs OpenPose's last two stages
// on our upsampled maps, to compare the people without OpenCV's resize in between.
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include <opencv2/core.hpp>
#include <openpose/core/array.hpp>
#include <openpose/net/bodyPartConnectorBase.hpp>
#include <openpose/net/nmsBase.hpp>
#include <openpose/net/resizeAndMergeBase.hpp>
#include <openpose/pose/poseParameters.hpp>

namespace {

double Milliseconds(std::chrono::steady_clock::time_point a,
                    std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// OpenPose's nmsCpu then connectBodyPartsCpu on heat maps [channels, th, tw] (the model's
// default thresholds for maximize_positives, keypoints in map pixels); the people into
// keypoints / scores as below.
int NmsAndConnect(const float* heat, int channels, int th, int tw, op::PoseModel model,
                  bool maximize_positives, int max_people, float* keypoints, float* scores,
                  double* ms) {
  const int parts = static_cast<int>(op::getPoseNumberBodyParts(model));
  const int max_peaks = static_cast<int>(op::getPoseMaxPeaks());
  // Kept between calls, as OpenPose keeps its blobs.
  static std::vector<float> peaks;
  static std::vector<int> kernel;
  kernel.resize(static_cast<size_t>(channels) * th * tw);
  peaks.resize(static_cast<size_t>(parts) * (max_peaks + 1) * 3);
  const bool mp = maximize_positives;
  const float nms_threshold = op::getPoseDefaultNmsThreshold(model, mp);
  const auto t0 = std::chrono::steady_clock::now();
  // Offset 0.5 / scaleNetToOutput with keypoints kept in map pixels (scaleNetToOutput 1).
  op::nmsCpu(peaks.data(), kernel.data(), heat, nms_threshold, {1, parts, max_peaks + 1, 3},
             {1, channels, th, tw}, op::Point<float>{0.5f, 0.5f});
  const auto t1 = std::chrono::steady_clock::now();
  op::Array<float> pose_keypoints, pose_scores;
  op::connectBodyPartsCpu(pose_keypoints, pose_scores, heat, peaks.data(), model,
                          op::Point<int>{tw, th}, max_peaks,
                          op::getPoseDefaultConnectInterMinAboveThreshold(mp),
                          op::getPoseDefaultConnectInterThreshold(model, mp),
                          static_cast<int>(op::getPoseDefaultMinSubsetCnt(mp)),
                          op::getPoseDefaultConnectMinSubsetScore(mp), nms_threshold, 1.f, mp);
  const auto t2 = std::chrono::steady_clock::now();
  ms[0] = Milliseconds(t0, t1);
  ms[1] = Milliseconds(t1, t2);
  const int people = pose_keypoints.empty() ? 0 : pose_keypoints.getSize(0);
  const int kept = people < max_people ? people : max_people;
  if (kept > 0) {
    std::memcpy(keypoints, pose_keypoints.getConstPtr(), sizeof(float) * kept * parts * 3);
    std::memcpy(scores, pose_scores.getConstPtr(), sizeof(float) * kept);
  }
  return people;
}


}  // namespace

extern "C" {

// One image at one scale. net: [channels, h, w] floats (NCHW, as Caffe gives them), upsampled to
// th x tw. model: OpenPose's PoseModel number (BODY_25 0, COCO_18 1, MPI_15 2, MPI_15_4 3).
// Writes the three stages' milliseconds to ms[3] and up to max_people people (their [parts, 3]
// keypoints, then their scores) to keypoints / scores. Returns the number of people OpenPose
// found, or -1 when it threw (its message on stderr).
int openpose_postprocess(const float* net, int channels, int h, int w, int th, int tw, int model,
                         int max_people, float* keypoints, float* scores, double* ms) {
  try {
    cv::setNumThreads(1);  // one thread, as the ops are timed
    static std::vector<float> heat;
    heat.resize(static_cast<size_t>(channels) * th * tw);
    const auto t0 = std::chrono::steady_clock::now();
    op::resizeAndMergeCpu(heat.data(), std::vector<const float*>{net}, {1, channels, th, tw},
                          std::vector<std::array<int, 4>>{{1, channels, h, w}}, {1.f});
    ms[0] = Milliseconds(t0, std::chrono::steady_clock::now());
    return NmsAndConnect(heat.data(), channels, th, tw, static_cast<op::PoseModel>(model), false,
                         max_people, keypoints, scores, ms + 1);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "OpenPose threw: %s\n", error.what());
    return -1;
  }
}

// The last two stages only, on given heat maps [channels, th, tw] (ours: then only OpenCV's
// resize is left out of the comparison), with OpenPose's --maximize_positives defaults when
// maximize_positives is 1. Returns as openpose_postprocess; ms[2].
int openpose_nms_and_connect(const float* heat, int channels, int th, int tw, int model,
                             int maximize_positives, int max_people, float* keypoints,
                             float* scores, double* ms) {
  try {
    return NmsAndConnect(heat, channels, th, tw, static_cast<op::PoseModel>(model),
                         maximize_positives != 0, max_people, keypoints, scores, ms);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "OpenPose threw: %s\n", error.what());
    return -1;
  }
}

}  // extern "C"
