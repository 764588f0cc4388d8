// Error wording shared by the shape functions (graph time) and the kernels (run time), so that one
// test regex catches both the ValueError and the InvalidArgumentError.
#ifndef OPENPOSE_TF_OPS_OP_MESSAGES_H_
#define OPENPOSE_TF_OPS_OP_MESSAGES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace openpose_tf {

// "[1,?,46,82]": -1 (unknown) prints as "?".
inline std::string DimsString(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += dims[i] < 0 ? "?" : std::to_string(dims[i]);
  }
  return s + "]";
}

inline const char* LayoutLetters(bool nchw) { return nchw ? "[N,C,H,W]" : "[N,H,W,C]"; }

inline std::string RankMessage(const std::string& name, bool nchw,
                               const std::vector<int64_t>& dims) {
  return name + " must be 4-D " + LayoutLetters(nchw) + ", got shape " + DimsString(dims);
}

// N may be 0 (an empty batch gives an empty result); H, W and C may not.
inline std::string EmptyMessage(const std::string& name, bool nchw,
                                const std::vector<int64_t>& dims) {
  return name + " must have H, W and C > 0 in " + LayoutLetters(nchw) + ", got shape " +
         DimsString(dims);
}

inline std::string TooLargeMessage(const std::string& name, const std::vector<int64_t>& dims) {
  return name + " is too large: each dimension must be below 2^31, got shape " +
         DimsString(dims);
}

// "offset must have shape [2] (x, y), got " (the caller appends the shape it got).
inline std::string VectorMessage(const std::string& name, int64_t length,
                                 const std::string& meaning) {
  return name + " must have shape [" + std::to_string(length) + "] " + meaning + ", got ";
}

// The public word for the OpenPose build, in every message: Python's `variant`.
inline std::string VariantName(bool cpu_build) {
  return cpu_build ? "variant=\"cpu\"" : "variant=\"gpu\"";
}

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_OPS_OP_MESSAGES_H_
