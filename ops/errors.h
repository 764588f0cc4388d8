// InvalidArgument(args...): absl::InvalidArgumentError(absl::StrCat(args...)), the non-deprecated
// spelling of tensorflow::errors::InvalidArgument; same for Unimplemented.
#ifndef OPENPOSE_TF_OPS_ERRORS_H_
#define OPENPOSE_TF_OPS_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace openpose_tf {

template <typename... Args>
absl::Status InvalidArgument(const Args&... args) {
  return absl::InvalidArgumentError(absl::StrCat(args...));
}

template <typename... Args>
absl::Status Unimplemented(const Args&... args) {
  return absl::UnimplementedError(absl::StrCat(args...));
}

}  // namespace openpose_tf

#endif  // OPENPOSE_TF_OPS_ERRORS_H_
