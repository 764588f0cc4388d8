"""openpose_op_library: one macro that builds a TensorFlow custom-op shared library."""

load("@local_tensorflow//:build_config.bzl", "TF_COPTS", "TF_VERSION")

def openpose_op_library(name, srcs, deps = [], gpu_srcs = [], copts = []):
    """Builds `<name>.so`, loadable with tf.load_op_library.

    Args:
      name: the library's name; the output is `<name>.so`.
      srcs: op registrations and CPU kernels (TensorFlow glue).
      deps: framework-free libraries the kernels call.
      gpu_srcs: CUDA launchers (`*.cu.cc`), compiled by nvcc only under `--config=cuda`.
        Reserved: no op has GPU kernels yet, so passing any is an error for now.
      copts: extra compile options.
    """
    if gpu_srcs:
        fail("openpose_op_library: gpu_srcs are not wired yet (CUDA issue)")
    native.cc_binary(
        name = name + ".so",
        srcs = srcs,
        copts = TF_COPTS + copts + [
            # The loader reads this back to name the TensorFlow version in its errors.
            "-DOPENPOSE_TF_BUILT_FOR_TF=\\\"%s\\\"" % TF_VERSION,
        ],
        linkshared = 1,
        deps = deps + [
            "@local_tensorflow//:tf_framework",
            "@local_tensorflow//:tf_headers",
        ],
    )
