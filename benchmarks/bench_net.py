"""CPU inference time of OpenPose's BODY_25 and COCO networks at 368x656: our TensorFlow model vs
OpenCV's DNN module, same (random) weights, same input, one process.

    .venv/bin/python benchmarks/bench_net.py [--models DIR] [--repeats N]

Reads the prototxts from ../shared/models (never copied); writes random .caffemodels to a
temporary folder. Prints the median of N runs after one warm-up for each.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))  # the .caffemodel writer of the tests


def median_s(fn, repeats):
    from openpose_tf.common import median_ms

    return median_ms(fn, repeats) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=str(ROOT.parent / "shared" / "models"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--height", type=int, default=368)
    parser.add_argument("--width", type=int, default=656)
    args = parser.parse_args()

    import cv2
    import tensorflow as tf

    import caffe_files
    from openpose_tf import net as opnet

    print(f"TensorFlow {tf.__version__}, OpenCV {cv2.__version__}, input "
          f"1x{args.height}x{args.width}x3, median of {args.repeats}")
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (1, args.height, args.width, 3))
    x = x.astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        for name, prototxt in (("BODY_25", "pose/body_25/pose_deploy.prototxt"),
                               ("COCO", "pose/coco/pose_deploy_linevec.prototxt")):
            path = pathlib.Path(args.models) / prototxt
            caffemodel = pathlib.Path(tmp) / f"{name}.caffemodel"
            caffe_files.random_caffemodel(path, caffemodel)
            net = opnet.from_caffe(path, caffemodel)
            cv_net = cv2.dnn.readNetFromCaffe(str(path), str(caffemodel))
            blob = x.transpose(0, 3, 1, 2)

            def run_cv():
                cv_net.setInput(blob)
                return cv_net.forward()

            tf_s = median_s(lambda: net(x).numpy(), args.repeats)
            cv_s = median_s(run_cv, args.repeats)
            error = np.abs(net(x).numpy() - run_cv().transpose(0, 2, 3, 1)).max()
            print(f"{name:8s} TensorFlow {tf_s * 1e3:8.0f} ms   OpenCV DNN {cv_s * 1e3:8.0f} ms"
                  f"   (max abs diff {error:.2e})")


if __name__ == "__main__":
    main()
