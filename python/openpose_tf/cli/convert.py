"""`openpose-tf convert`: an OpenPose Caffe model -> a TensorFlow SavedModel (or checkpoint)."""

from __future__ import annotations


def _convert(args) -> int:
    from openpose_tf import net as opnet
    from openpose_tf.net import export

    import pathlib

    out = pathlib.Path(args.output).resolve()
    for given in (args.prototxt, args.weights):
        path = pathlib.Path(given).resolve()
        if path == out or out in path.parents:
            raise ValueError(f"--output {args.output} holds the input {given}: writing the model "
                             f"there would replace it (choose another folder)")
    model = opnet.from_caffe(args.prototxt, args.weights, convolution="direct")  # portable
    metadata = export.save(model, args.output, pose_model=args.model_pose, fmt=args.format,
                           overwrite=args.overwrite)
    print(f"wrote {args.format} to {args.output}: {metadata['network'] or 'network'}, "
          f"{metadata['output_channels']} output channels, pose model "
          f"{metadata['pose_model'] or 'unknown (set --model_pose)'}")
    return 0


def register(commands) -> None:
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
