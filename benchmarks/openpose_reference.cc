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
// default thresholds, keypoints in map pixels); the people into keypoints / scores as below.
int NmsAndConnect(const float* heat, int channels, int th, int tw, op::PoseModel model,
                  int max_people, float* keypoints, float* scores, double* ms) {
  const int parts = static_cast<int>(op::getPoseNumberBodyParts(model));
  const int max_peaks = static_cast<int>(op::getPoseMaxPeaks());
  // Kept between calls, as OpenPose keeps its blobs.
  static std::vector<float> peaks;
  static std::vector<int> kernel;
  kernel.resize(static_cast<size_t>(channels) * th * tw);
  peaks.resize(static_cast<size_t>(parts) * (max_peaks + 1) * 3);
  const float nms_threshold = op::getPoseDefaultNmsThreshold(model);
  const auto t0 = std::chrono::steady_clock::now();
  // Offset 0.5 / scaleNetToOutput with keypoints kept in map pixels (scaleNetToOutput 1).
  op::nmsCpu(peaks.data(), kernel.data(), heat, nms_threshold, {1, parts, max_peaks + 1, 3},
             {1, channels, th, tw}, op::Point<float>{0.5f, 0.5f});
  const auto t1 = std::chrono::steady_clock::now();
  op::Array<float> pose_keypoints, pose_scores;
  op::connectBodyPartsCpu(pose_keypoints, pose_scores, heat, peaks.data(), model,
                          op::Point<int>{tw, th}, max_peaks,
                          op::getPoseDefaultConnectInterMinAboveThreshold(),
                          op::getPoseDefaultConnectInterThreshold(model),
                          static_cast<int>(op::getPoseDefaultMinSubsetCnt()),
                          op::getPoseDefaultConnectMinSubsetScore(), nms_threshold, 1.f, false);
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

op::PoseModel Model(int body_25) {
  return body_25 ? op::PoseModel::BODY_25 : op::PoseModel::COCO_18;
}

}  // namespace

extern "C" {

// One image at one scale. net: [channels, h, w] floats (NCHW, as Caffe gives them), upsampled to
// th x tw. body_25: 1 for BODY_25, 0 for COCO. Writes the three stages' milliseconds to ms[3] and
// up to max_people people (their [parts, 3] keypoints, then their scores) to keypoints / scores.
// Returns the number of people OpenPose found, or -1 when it threw (its message on stderr).
int openpose_postprocess(const float* net, int channels, int h, int w, int th, int tw,
                         int body_25, int max_people, float* keypoints, float* scores,
                         double* ms) {
  try {
    cv::setNumThreads(1);  // one thread, as the ops are timed
    static std::vector<float> heat;
    heat.resize(static_cast<size_t>(channels) * th * tw);
    const auto t0 = std::chrono::steady_clock::now();
    op::resizeAndMergeCpu(heat.data(), std::vector<const float*>{net}, {1, channels, th, tw},
                          std::vector<std::array<int, 4>>{{1, channels, h, w}}, {1.f});
    ms[0] = Milliseconds(t0, std::chrono::steady_clock::now());
    return NmsAndConnect(heat.data(), channels, th, tw, Model(body_25), max_people, keypoints,
                         scores, ms + 1);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "OpenPose threw: %s\n", error.what());
    return -1;
  }
}

// The last two stages only, on given heat maps [channels, th, tw] (ours: then only OpenCV's
// resize is left out of the comparison). Returns as openpose_postprocess; ms[2].
int openpose_nms_and_connect(const float* heat, int channels, int th, int tw, int body_25,
                             int max_people, float* keypoints, float* scores, double* ms) {
  try {
    return NmsAndConnect(heat, channels, th, tw, Model(body_25), max_people, keypoints, scores,
                         ms);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "OpenPose threw: %s\n", error.what());
    return -1;
  }
}

}  // extern "C"
