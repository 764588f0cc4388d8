"""openpose_op_library: one macro that builds a TensorFlow custom-op shared library."""

load("@local_cuda//:build_config.bzl", "NVCC", "NVCC_FLAGS")
load("@local_tensorflow//:build_config.bzl", "TF_COPTS", "TF_VERSION")

# The project's nvcc flags (third_party/cuda/nvcc_flags), plus what a genrule compile needs;
# with --config=cuda_check, one architecture instead of the -gencode list.
_NVCC_FLAGS = "-x cu -Xcompiler -fPIC -I. " + NVCC_FLAGS
_ONE_ARCH = "-gencode=arch=compute_90,code=sm_90"
_NVCC_FLAGS_ONE_ARCH = "-x cu -Xcompiler -fPIC -I. " + " ".join(
    [flag for flag in NVCC_FLAGS.split(" ") if not flag.startswith("-gencode")] + [_ONE_ARCH])

def _cuda_objects(name, gpu_srcs, gpu_hdrs):
    """One nvcc genrule per .cu.cc, wrapped in a cc_library with static cudart (manual)."""
    objects = []
    for src in gpu_srcs:
        obj = name + "_" + src.replace("/", "_").replace(".cu.cc", ".cu.o")
        native.genrule(
            name = obj + "_nvcc",
            srcs = [src] + gpu_hdrs,
            outs = [obj],
            cmd = select({
                "//third_party/cuda:one_arch": "%s %s -c $(location %s) -o $@" % (
                    NVCC, _NVCC_FLAGS_ONE_ARCH, src),
                "//conditions:default": "%s %s -c $(location %s) -o $@" % (NVCC, _NVCC_FLAGS, src),
            }),
            tags = ["manual"],
        )
        objects.append(obj)
    native.cc_library(
        name = name + "_gpu",
        srcs = objects,
        deps = ["@local_cuda//:cudart_static"],
        linkstatic = 1,
        tags = ["manual"],
    )

def openpose_op_library(name, srcs, deps = [], gpu_srcs = [], gpu_hdrs = [], copts = []):
    """Builds `<name>.so`, loadable with tf.load_op_library.

    Args:
      name: the library's name; the output is `<name>.so`.
      srcs: op registrations and kernels (TensorFlow glue). GPU kernels in them are compiled
        under `#if GOOGLE_CUDA`, which `--config=cuda` defines.
      deps: framework-free libraries the kernels call.
      gpu_srcs: CUDA launchers (`*.cu.cc`, no TensorFlow include), compiled by nvcc only with
        `--config=cuda`; a plain build never runs nvcc.
      gpu_hdrs: the headers those launchers include.
      copts: extra compile options.
    """
    gpu_deps = []
    if gpu_srcs:
        _cuda_objects(name, gpu_srcs, gpu_hdrs)
        gpu_deps = [":" + name + "_gpu"]
    native.cc_binary(
        name = name + ".so",
        srcs = srcs,
        copts = TF_COPTS + copts + [
            # The loader reads this back to name the TensorFlow version in its errors.
            "-DOPENPOSE_TF_BUILT_FOR_TF=\\\"%s\\\"" % TF_VERSION,
        ] + select({
            "//third_party/cuda:enabled": ["-DGOOGLE_CUDA=1"],
            "//conditions:default": [],
        }),
        linkshared = 1,
        deps = deps + [
            "@local_tensorflow//:tf_framework",
            "@local_tensorflow//:tf_headers",
        ] + select({
            "//third_party/cuda:enabled": gpu_deps,
            "//conditions:default": [],
        }),
    )
