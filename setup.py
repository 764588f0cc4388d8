"""Tags the wheel as platform-specific (it carries a compiled library, _openpose_ops.so) and
declares TensorFlow as extras pinned to the version that library was built for, and the optional
Beam SDK ([beam]) and the web service's libraries ([serve]). Everything else is in pyproject.toml.

The library loads only into the TensorFlow it was compiled against, but users pick the package
(tensorflow, tensorflow-cpu, tensorflow[and-cuda]); so no extra is installed by default and
`pip install openpose-tf[tensorflow-cpu]` (or [tensorflow], [and-cuda]) brings the matching one. The
loader still checks the version at import.
"""

import pathlib
import re

from setuptools import setup
from setuptools.dist import Distribution

HERE = pathlib.Path(__file__).resolve().parent
BUILD_INFO = re.compile(rb"openpose_tf:built_for_tensorflow=([^;\x00]+);")


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


def tensorflow_version() -> str:
    """The TensorFlow the carried library was built for; else the pinned one (editable installs)."""
    library = HERE / "python" / "openpose_tf" / "_openpose_ops.so"
    if library.is_file():
        match = BUILD_INFO.search(library.read_bytes())
        if match:
            return match.group(1).decode()
    pin = re.search(r"^tensorflow[-_]cpu==(\S+)$", (HERE / "requirements.txt").read_text(), re.M)
    return pin.group(1)


def pinned(package: str) -> str:
    """`package==version` as requirements.txt pins it (the versions the tests ran with)."""
    pin = re.search(rf"^{package}==(\S+)$", (HERE / "requirements.txt").read_text(), re.M)
    return f"{package}=={pin.group(1)}"


VERSION = tensorflow_version()
setup(
    distclass=BinaryDistribution,
    extras_require={
        "tensorflow": [f"tensorflow=={VERSION}"],
        "tensorflow-cpu": [f"tensorflow-cpu=={VERSION}"],
        "and-cuda": [f"tensorflow[and-cuda]=={VERSION}"],
        # openpose_tf.beam and `openpose-tf beam`; protobuf: one version Beam and TF both take;
        # boto3: Beam's s3:// file system (apache-beam[aws]).
        "beam": [pinned("apache-beam"), pinned("protobuf"), pinned("boto3")],
        # `openpose-tf serve`: the ASGI app, its server (with its C HTTP parser and event loop),
        # multipart bodies, the metrics.
        "serve": [pinned("starlette"), pinned("uvicorn"), pinned("httptools"), pinned("uvloop"),
                  pinned("python-multipart"), pinned("prometheus_client")],
    },
)
