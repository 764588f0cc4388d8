// Core NMS against hand-drawn maps and against a slow reference written from OpenPose's
// nmsBase.cpp / nmsBase.cu (docs/algorithms.md#nms).
#include "kernels/core/nms.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cc/test_maps.h"

namespace openpose_tf {
namespace {

using testing::Maps;

struct Result {
  std::vector<float> peaks;  // CxMx3
  std::vector<int32_t> counts;
};

Result RunNms(const Maps& m, NmsParams params, bool nchw = false) {
  Result r;
  // Garbage in the output buffers: the core must zero unused rows itself.
  r.peaks.assign(static_cast<size_t>(m.c) * params.max_peaks * 3, -7.f);
  r.counts.assign(m.c, -1);
  const std::vector<float> nhwc = m.ToNhwc();
  NmsImage(nchw ? m.data.data() : nhwc.data(), nchw ? m.nchw() : m.nhwc(), 0, m.c, params,
           r.peaks.data(), r.counts.data());
  return r;
}

NmsParams Params(OpenPoseBuild variant, float threshold = 0.05f, int max_peaks = 127) {
  NmsParams p;
  p.build = variant;
  p.threshold = threshold;
  p.max_peaks = max_peaks;
  p.offset_x = 0.5f;
  p.offset_y = 0.5f;
  return p;
}

// --- slow reference, written independently from OpenPose's rules ------------------------------

// docs/algorithms.md#peak-test (nmsRegisterKernel / nmsRegisterKernelCPU): which region a pixel
// is in decides the test.
bool RefIsPeak(const Maps& m, int c, int x, int y, float thr, OpenPoseBuild variant) {
  const float v = m.at(c, y, x);
  if (!(v > thr)) return false;
  bool strict_region, ring_region;
  if (variant == OpenPoseBuild::kGpu) {
    strict_region = x >= 1 && x <= m.w - 2 && y >= 1 && y <= m.h - 2;
    ring_region = false;
  } else {
    strict_region = x >= 2 && x <= m.w - 3 && y >= 2 && y <= m.h - 3;
    ring_region = !strict_region && (x == 1 || x == m.w - 2 || y == 1 || y == m.h - 2);
  }
  if (!strict_region && !ring_region) return false;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      if (dx == 0 && dy == 0) continue;
      const int nx = x + dx, ny = y + dy;
      const bool in = nx >= 0 && nx < m.w && ny >= 0 && ny < m.h;
      const float n = in ? m.at(c, ny, nx) : thr;
      if (strict_region ? !(v > n) : !(v >= n)) return false;
    }
  }
  return true;
}

Result Reference(const Maps& m, const NmsParams& p) {
  Result r;
  r.peaks.assign(static_cast<size_t>(m.c) * p.max_peaks * 3, 0.f);
  r.counts.assign(m.c, 0);
  for (int c = 0; c < m.c; ++c) {
    int k = 0;
    for (int y = 0; y < m.h; ++y) {
      for (int x = 0; x < m.w; ++x) {
        if (!RefIsPeak(m, c, x, y, p.threshold, p.build) || k == p.max_peaks) continue;
        float sx = 0.f, sy = 0.f, s = 0.f;
        for (int yy = y - 3; yy <= y + 3; ++yy)
          for (int xx = x - 3; xx <= x + 3; ++xx)
            if (yy >= 0 && yy < m.h && xx >= 0 && xx < m.w && m.at(c, yy, xx) > 0) {
              sx += static_cast<float>(xx) * m.at(c, yy, xx);
              sy += static_cast<float>(yy) * m.at(c, yy, xx);
              s += m.at(c, yy, xx);
            }
        float* row = &r.peaks[(static_cast<size_t>(c) * p.max_peaks + k) * 3];
        float px = sx / s, py = sy / s;
        if (!std::isfinite(px) || !std::isfinite(py)) {  // our rule: the integer position
          px = static_cast<float>(x);
          py = static_cast<float>(y);
        }
        row[0] = px + p.offset_x;
        row[1] = py + p.offset_y;
        row[2] = m.at(c, y, x);
        ++k;
      }
    }
    r.counts[c] = k;
  }
  return r;
}

void ExpectBitEqual(const Result& got, const Result& want) {
  ASSERT_EQ(got.counts, want.counts);
  ASSERT_EQ(got.peaks.size(), want.peaks.size());
  for (size_t i = 0; i < got.peaks.size(); ++i) {
    // Bit equality (NaN == NaN included): the core must use the reference's float order.
    EXPECT_TRUE(got.peaks[i] == want.peaks[i] ||
                (std::isnan(got.peaks[i]) && std::isnan(want.peaks[i])))
        << "element " << i << ": " << got.peaks[i] << " vs " << want.peaks[i];
  }
}

// --- hand-drawn maps ----------------------------------------------------------------------------

TEST(NmsTest, SinglePeakRefinedToWeightedMeanPlusOffset) {
  for (OpenPoseBuild v : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    Maps m(1, 9, 9);
    m.at(0, 4, 4) = 1.0f;
    m.at(0, 4, 5) = 0.5f;  // pulls x right: (4*1 + 5*0.5) / 1.5
    m.at(0, 3, 4) = 0.25f;  // pulls y up
    const Result r = RunNms(m, Params(v));
    ASSERT_EQ(r.counts[0], 1);
    EXPECT_FLOAT_EQ(r.peaks[0], (4.f * 1.f + 5.f * 0.5f + 4.f * 0.25f) / 1.75f + 0.5f);
    EXPECT_FLOAT_EQ(r.peaks[1], (4.f * 1.f + 4.f * 0.5f + 3.f * 0.25f) / 1.75f + 0.5f);
    EXPECT_EQ(r.peaks[2], 1.0f);  // the raw value at the integer peak
    for (size_t i = 3; i < r.peaks.size(); ++i) ASSERT_EQ(r.peaks[i], 0.f) << i;
  }
}

TEST(NmsTest, RefinementCountsPositivePixelsBelowThreshold) {
  Maps m(1, 11, 11);
  m.at(0, 5, 5) = 0.9f;
  m.at(0, 5, 8) = 0.01f;   // below the threshold but > 0: counted (dx = 3)
  m.at(0, 5, 9) = 0.5f;    // outside the 7x7 window: ignored
  m.at(0, 5, 2) = -0.3f;   // negative: ignored
  const Result r = RunNms(m, Params(OpenPoseBuild::kGpu));
  ASSERT_EQ(r.counts[0], 2);  // (5,5) and (9,5)
  EXPECT_FLOAT_EQ(r.peaks[0], (5.f * 0.9f + 8.f * 0.01f) / (0.9f + 0.01f) + 0.5f);
  EXPECT_FLOAT_EQ(r.peaks[1], 5.5f);
}

TEST(NmsTest, ThresholdIsStrict) {
  Maps m(1, 7, 7);
  m.at(0, 3, 3) = 0.05f;
  EXPECT_EQ(RunNms(m, Params(OpenPoseBuild::kGpu, 0.05f)).counts[0], 0);
  EXPECT_EQ(RunNms(m, Params(OpenPoseBuild::kCpu, 0.05f)).counts[0], 0);
  EXPECT_EQ(RunNms(m, Params(OpenPoseBuild::kGpu, 0.0499f)).counts[0], 1);
}

TEST(NmsTest, PlateauIsNeverAPeakInTheInterior) {
  for (OpenPoseBuild v : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    Maps m(1, 9, 9);
    m.at(0, 4, 4) = 0.8f;
    m.at(0, 4, 5) = 0.8f;
    EXPECT_EQ(RunNms(m, Params(v)).counts[0], 0);
  }
}

TEST(NmsTest, GpuBorderNeverPeaksButFirstInnerRingDoes) {
  Maps m(1, 8, 8);
  m.at(0, 0, 4) = 1.f;  // outer border
  m.at(0, 5, 7) = 1.f;  // outer border
  m.at(0, 1, 1) = 0.9f;  // first inner ring, strictly above its neighbours
  const Result r = RunNms(m, Params(OpenPoseBuild::kGpu));
  ASSERT_EQ(r.counts[0], 1);
  EXPECT_EQ(r.peaks[2], 0.9f);
}

TEST(NmsTest, CpuRingAcceptsTwinMaxima) {
  // OpenPose's CPU build: on the ring (x == 1 etc.) the test is >=, so twin maxima both peak.
  Maps m(1, 8, 8);
  m.at(0, 1, 3) = 0.7f;
  m.at(0, 1, 4) = 0.7f;
  const Result cpu = RunNms(m, Params(OpenPoseBuild::kCpu));
  ASSERT_EQ(cpu.counts[0], 2);
  EXPECT_EQ(RunNms(m, Params(OpenPoseBuild::kGpu)).counts[0], 0);
}

TEST(NmsTest, CpuOuterBorderPixelsNextToTheRingCanPeak) {
  // (0, 1): x == 0 but y == 1, so it is on the CPU ring; its outside neighbours read as threshold.
  Maps m(1, 8, 8);
  m.at(0, 1, 0) = 0.6f;
  m.at(0, 4, 4) = 0.9f;  // ordinary interior peak after it in raster order
  const Result cpu = RunNms(m, Params(OpenPoseBuild::kCpu));
  ASSERT_EQ(cpu.counts[0], 2);
  EXPECT_FLOAT_EQ(cpu.peaks[0], 0.5f);   // x = 0 + offset
  EXPECT_FLOAT_EQ(cpu.peaks[1], 1.5f);   // y = 1 + offset
  EXPECT_EQ(RunNms(m, Params(OpenPoseBuild::kGpu)).counts[0], 1);
  // A corner pixel is never a peak.
  Maps corner(1, 8, 8);
  corner.at(0, 0, 0) = 1.f;
  EXPECT_EQ(RunNms(corner, Params(OpenPoseBuild::kCpu)).counts[0], 0);
}

TEST(NmsTest, PeaksAreInRasterOrderAndCappedAtMaxPeaks) {
  Maps m(1, 20, 20);
  const int xs[] = {15, 3, 9, 3};
  const int ys[] = {2, 5, 5, 12};
  for (int i = 0; i < 4; ++i) m.at(0, ys[i], xs[i]) = 0.5f + 0.1f * i;
  const Result all = RunNms(m, Params(OpenPoseBuild::kGpu));
  ASSERT_EQ(all.counts[0], 4);
  const float want_x[] = {15.5f, 3.5f, 9.5f, 3.5f};
  for (int k = 0; k < 4; ++k) EXPECT_EQ(all.peaks[k * 3], want_x[k]) << k;
  const Result capped = RunNms(m, Params(OpenPoseBuild::kGpu, 0.05f, 2));
  ASSERT_EQ(capped.counts[0], 2);
  EXPECT_EQ(capped.peaks[0], 15.5f);
  EXPECT_EQ(capped.peaks[3], 3.5f);
  EXPECT_EQ(capped.peaks.size(), 6u);
}

TEST(NmsTest, AllBelowThresholdGivesZeroCountAndZeroRows) {
  Maps m(3, 10, 10, 0.01f);
  const Result r = RunNms(m, Params(OpenPoseBuild::kCpu));
  for (int c = 0; c < 3; ++c) EXPECT_EQ(r.counts[c], 0);
  for (float v : r.peaks) ASSERT_EQ(v, 0.f);
}

TEST(NmsTest, ChannelsAreIndependentAndLayoutsAgree) {
  std::mt19937 rng(3);
  const Maps m = testing::RandomMaps(&rng, 4, 13, 17, 6);
  for (OpenPoseBuild v : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    ExpectBitEqual(RunNms(m, Params(v), /*nchw=*/true), RunNms(m, Params(v)));
    // Processing channels [1, 3) only writes those channels.
    NmsParams p = Params(v);
    std::vector<float> peaks(4 * 127 * 3, -7.f);
    std::vector<int32_t> counts(4, -1);
    const std::vector<float> nhwc = m.ToNhwc();
    NmsImage(nhwc.data(), m.nhwc(), 1, 3, p, peaks.data(), counts.data());
    EXPECT_EQ(counts[0], -1);
    EXPECT_EQ(counts[3], -1);
    EXPECT_EQ(peaks[0], -7.f);
    const Result full = RunNms(m, p);
    EXPECT_EQ(counts[1], full.counts[1]);
    EXPECT_EQ(counts[2], full.counts[2]);
  }
}

TEST(NmsTest, TinyMapsDoNotReadOutOfBounds) {
  // ASan (bazel test --config=asan) catches any out-of-bounds read here.
  for (OpenPoseBuild v : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    for (int h = 1; h <= 5; ++h) {
      for (int w = 1; w <= 5; ++w) {
        Maps m(2, h, w);
        for (int i = 0; i < static_cast<int>(m.data.size()); ++i) m.data[i] = 0.1f + 0.01f * (i % 7);
        const NmsParams p = Params(v);
        ExpectBitEqual(RunNms(m, p), Reference(m, p));
      }
    }
  }
}

TEST(NmsTest, NanAndInfinityDoNotCrash) {
  for (OpenPoseBuild v : {OpenPoseBuild::kGpu, OpenPoseBuild::kCpu}) {
    Maps m(1, 9, 9);
    m.at(0, 4, 4) = std::numeric_limits<float>::infinity();
    m.at(0, 2, 2) = std::numeric_limits<float>::quiet_NaN();
    m.at(0, 6, 6) = 0.5f;
    m.at(0, 6, 5) = std::numeric_limits<float>::quiet_NaN();  // a NaN neighbour blocks the test
    const Result r = RunNms(m, Params(v));
    ASSERT_EQ(r.counts[0], 1);
    EXPECT_TRUE(std::isinf(r.peaks[2]));
    // The weighted mean is inf/inf: the integer position is reported, always finite.
    EXPECT_EQ(r.peaks[0], 4.5f);
    EXPECT_EQ(r.peaks[1], 4.5f);
    ExpectBitEqual(r, Reference(m, Params(v)));
  }
}

TEST(NmsTest, ReportedPositionsAreAlwaysFinite) {
  // Near-FLT_MAX values overflow the sums; a negative threshold admits a peak whose 7x7 window has
  // no positive pixel (0 / 0). Both report the integer position plus the offset.
  Maps big(1, 9, 9);
  big.at(0, 4, 4) = std::numeric_limits<float>::max();
  big.at(0, 4, 5) = std::numeric_limits<float>::max() / 2;
  Maps negative(1, 9, 9);
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 9; ++x) negative.at(0, y, x) = -1.f;
  negative.at(0, 4, 4) = -0.5f;
  NmsParams p = Params(OpenPoseBuild::kGpu, -0.75f);
  for (const Maps* m : {&big, &negative}) {
    const Result r = RunNms(*m, p);
    ASSERT_EQ(r.counts[0], 1);
    EXPECT_EQ(r.peaks[0], 4.5f);
    EXPECT_EQ(r.peaks[1], 4.5f);
  }
}

// --- randomized against the reference -----------------------------------------------------------

TEST(NmsTest, RandomMapsMatchTheReferenceBitForBit) {
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 200; ++trial) {
    const int h = 1 + static_cast<int>(rng() % 24);
    const int w = 1 + static_cast<int>(rng() % 24);
    const int c = 1 + static_cast<int>(rng() % 3);
    const Maps m = testing::RandomMaps(&rng, c, h, w, 2 + static_cast<int>(rng() % 8));
    const OpenPoseBuild v = trial % 2 ? OpenPoseBuild::kCpu : OpenPoseBuild::kGpu;
    NmsParams p = Params(v, static_cast<float>(rng() % 5) / 10.f, 1 + static_cast<int>(rng() % 6));
    p.offset_x = 0.25f;
    p.offset_y = 0.75f;
    ExpectBitEqual(RunNms(m, p, trial % 3 == 0), Reference(m, p));
    if (HasFatalFailure() || HasNonfatalFailure()) {
      FAIL() << "trial " << trial << " h=" << h << " w=" << w << " c=" << c;
    }
  }
}

}  // namespace
}  // namespace openpose_tf
