"""`openpose-tf demo`: the main job with nothing downloaded (see `openpose_tf.demo`)."""

from __future__ import annotations


def register(commands) -> None:
    demo = commands.add_parser(
        "demo", help="OpenPose's post-processing on a synthetic crowd, end to end",
        description="Renders the network output OpenPose's BODY_25 model would give for a "
                    "synthetic crowd, finds the people with openpose_tf.postprocess (both "
                    "OpenPose builds) and compares them with the people drawn.")
    demo.add_argument("--people", type=int, default=6, help="people to draw (default 6)")
    demo.add_argument("--model_pose", default="BODY_25",
                      help="a body model: BODY_25, COCO, MPI, MPI_4_layers or BODY_25B")
    demo.add_argument("--seed", type=int, default=1, help="the crowd's random seed")
    demo.add_argument("--output", default="openpose_tf_demo",
                      help="folder for the OpenPose JSON and the rendered PNG")
    demo.add_argument("--image_scale", type=float, default=2.0,
                      help="image pixels per net-input pixel (default 2: a 1312x736 image)")
    demo.set_defaults(run=_demo)


def _demo(args) -> int:
    from openpose_tf import demo

    return demo.run(args.people, args.model_pose, args.seed, args.output, args.image_scale)
