// A marker the Python loader finds in the .so's bytes (without loading it) to name the TensorFlow
// version this library was compiled against when loading fails or versions differ.
#ifndef OPENPOSE_TF_BUILT_FOR_TF
#error "OPENPOSE_TF_BUILT_FOR_TF must be defined by the build (third_party/op_library.bzl)"
#endif

extern "C" __attribute__((used, visibility("default"))) const char kOpenPoseTfBuildInfo[] =
    "openpose_tf:built_for_tensorflow=" OPENPOSE_TF_BUILT_FOR_TF ";";
