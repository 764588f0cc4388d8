"""`openpose-tf demo`: the main job with nothing downloaded (see `openpose_tf.demo`)."""

from __future__ import annotations


def register(commands) -> None:
    demo = commands.add_parser(
        "demo", help="OpenPose's post-processing on a synthetic crowd, end to end",
        description="Renders the network output OpenPose's BODY_25 model would give for a "
                    "synthetic crowd, finds the people with openpose_tf.postprocess (both "
                    "OpenPose builds) and compares them with the people drawn.")
    demo.add_argument("--people", type=int, default=6, help="people to draw (default 6)")
    demo.add_argument("--model_pose", default="BODY_25", help="BODY_25, COCO or MPI")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--output", default="openpose_tf_demo",
                      help="folder for the OpenPose JSON and the rendered PNG")
    demo.set_defaults(run=_demo)


def _demo(args) -> int:
    from openpose_tf import demo

    argv = ["--people", str(args.people), "--model", args.model_pose, "--seed", str(args.seed)]
    return demo.main(argv + ["--output", args.output])
