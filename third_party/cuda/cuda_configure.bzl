"""Repository rule finding a local CUDA toolkit: $CUDA_PATH, $CUDA_HOME, else /usr/local/cuda.

Never fails: without CUDA, `CUDA_FOUND = False` and only --config=cuda builds complain. Generates
  build_config.bzl  CUDA_FOUND, NVCC (absolute path: nvcc finds its own tree from it), NVCC_FLAGS
                    (from //third_party/cuda:nvcc_flags, the one list `make gpu-test` also reads)
  BUILD             :cuda_headers, :cudart_static
"""

def _cuda_configure_impl(ctx):
    root = ""
    for candidate in [ctx.os.environ.get("CUDA_PATH", ""), ctx.os.environ.get("CUDA_HOME", ""),
                      "/usr/local/cuda"]:
        if candidate and ctx.path(candidate + "/bin/nvcc").exists and \
           ctx.path(candidate + "/include/cuda_runtime.h").exists:
            root = candidate
            break
    found = root != ""
    if found:
        ctx.symlink(root + "/include", "include")
        lib = root + "/lib64/libcudart_static.a"
        if not ctx.path(lib).exists:
            lib = root + "/lib/libcudart_static.a"
        ctx.symlink(lib, "libcudart_static.a")
    else:
        ctx.file("include/cuda_not_found.h", "#error CUDA was not found (set CUDA_PATH)\n")
        ctx.file("libcudart_static.a", "")
    ctx.template("BUILD", Label("//third_party/cuda:BUILD.tpl"), {})
    flags = [
        line.strip()
        for line in ctx.read(Label("//third_party/cuda:nvcc_flags")).split("\n")
        if line.strip() and not line.strip().startswith("#")
    ]
    ctx.file("build_config.bzl", "CUDA_FOUND = %s\nNVCC = %s\nNVCC_FLAGS = %s\n" % (
        "True" if found else "False",
        repr(root + "/bin/nvcc" if found else "nvcc-not-found"),
        repr(" ".join(flags)),
    ))

cuda_configure = repository_rule(
    implementation = _cuda_configure_impl,
    environ = ["CUDA_PATH", "CUDA_HOME"],
    local = True,
)
