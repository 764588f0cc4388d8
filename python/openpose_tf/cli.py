"""The `openpose-tf` command line (also `python -m openpose_tf`)."""

from __future__ import annotations

import argparse
import os
import sys


def _convert(args) -> int:
    from openpose_tf import net as opnet
    from openpose_tf.net import export

    model = opnet.from_caffe(args.prototxt, args.weights)
    metadata = export.save(model, args.output, pose_model=args.model_pose, fmt=args.format,
                           overwrite=args.overwrite)
    print(f"wrote {args.format} to {args.output}: {metadata['network'] or 'network'}, "
          f"{metadata['output_channels']} output channels, pose model "
          f"{metadata['pose_model'] or 'unknown (set --model_pose)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openpose-tf",
        description="OpenPose's pose estimation in TensorFlow.")
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser(
        "convert",
        help="convert an OpenPose Caffe model to a TensorFlow SavedModel",
        description="Build the network of a Caffe .prototxt with the weights of a .caffemodel "
                    "(or a caffe-tensorflow .npy dict) and write it as a TensorFlow SavedModel "
                    "whose serving_default signature maps image [N,H,W,3] (BGR, x/256-0.5) to "
                    "net_output [N,H/8,W/8,C]. No Caffe needed. OpenPose's files: e.g. "
                    "models/pose/body_25/pose_deploy.prototxt + pose_iter_584000.caffemodel "
                    "(get them with OpenPose's models/getModels.sh).")
    convert.add_argument("prototxt", help="the network definition (.prototxt)")
    convert.add_argument("weights", help="the weights (.caffemodel, or caffe-tensorflow .npy)")
    convert.add_argument("-o", "--output", required=True, help="output directory")
    convert.add_argument("--model_pose", default=None,
                         help="BODY_25, COCO, MPI, MPI_4_layers, BODY_25B, HAND or FACE "
                              "(default: guessed from the output channels)")
    convert.add_argument("--format", choices=("savedmodel", "checkpoint"), default="savedmodel",
                         help="savedmodel (default) or a TF checkpoint + the prototxt")
    convert.add_argument("--overwrite", action="store_true",
                         help="replace a non-empty output directory (it is replaced whole)")
    convert.set_defaults(run=_convert)
    return parser


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    from openpose_tf.net import CaffeModelError

    try:
        return args.run(args)
    except (CaffeModelError, ValueError, OSError) as err:
        print(f"openpose-tf: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
