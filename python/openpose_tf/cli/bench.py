"""`openpose-tf bench`: per-stage times of the body pipeline (median over repeats).

Stages: decode (OpenCV, a JPEG of the image size), network (the model on one net input), the
whole pipeline on one image of the net input's size (frames/s for these two), then OpenPose's
post-processing on the network output of a synthetic crowd (random weights would give
meaningless peak counts): the composed ops stage by stage (resize_and_merge, nms, paf_scores,
assemble_people), the fused peaks_and_paf_scores, and the whole `postprocess`. Prints the
TensorFlow version and the devices. `--postprocess` runs the post-processing benchmark instead
(openpose_tf.bench_postprocess: both variants, the composed ops and plain TensorFlow, 1/10/30
people, COCO and BODY_25, batch 1 and 16, per thread count, peak memory; no network needed).
"""

from __future__ import annotations

from openpose_tf.cli import flags
from openpose_tf.common import median_ms


def register(commands) -> None:
    bench = commands.add_parser(
        "bench", help="per-stage times of the pipeline",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1] + " " +
        " ".join(__doc__.split("\n\n")[1].split()))
    network = flags.add_network_arguments(bench, required=False)
    network.add_argument("--prototxt", help="an OpenPose .prototxt, run with random weights "
                                            "(timing only)")
    bench.add_argument("--model_pose", default=None,
                       help="the pose model (default: the model's, or the prototxt's by its "
                            "output channels)")
    bench.add_argument("--net_resolution", default="656x368",
                       help="net input WxH, multiples of 16 (default 656x368)")
    bench.add_argument("--people", type=int, default=10,
                       help="people in the synthetic crowd (default 10)")
    bench.add_argument("--repeats", type=int, default=5, help="timed runs per stage (default 5)")
    bench.add_argument("--variant", choices=("gpu", "cpu"), default="gpu")
    bench.add_argument("--postprocess", action="store_true",
                       help="the post-processing benchmark (ratios to plain TensorFlow, peak "
                            "memory); about a minute")
    bench.add_argument("--threads", default="1,2",
                       help="with --postprocess: TensorFlow thread counts (default 1,2)")
    bench.set_defaults(run=_bench)


def _bench(args) -> int:
    import platform

    import cv2
    import numpy as np
    import tensorflow as tf

    from openpose_tf import geometry, ops, pose_models, postprocess, render, synthetic
    from openpose_tf.net import caffe_io
    from openpose_tf.net.model import CaffeNet

    if args.repeats < 1:
        raise ValueError(f"--repeats must be >= 1, got {args.repeats}")
    if args.postprocess:
        from openpose_tf import bench_postprocess

        bench_postprocess.run(args.threads, args.repeats, lambda line: print(line, flush=True))
        return 0
    if not (args.model or args.prototxt or args.frozen_graph or args.meta_graph):
        raise ValueError("bench needs a network (--model, --frozen_graph, --meta_graph or "
                         "--prototxt), or --postprocess")
    width, height = geometry.parse_resolution(args.net_resolution)
    if width <= 0 or height <= 0 or width % 16 or height % 16:
        raise ValueError(f"--net_resolution must be a fixed WxH in multiples of 16, got "
                         f"{args.net_resolution}")
    if not args.prototxt:
        network, pose = flags.network_from_args(args)
    else:
        from openpose_tf.net import export

        definition = caffe_io.read_prototxt(args.prototxt)
        rng = np.random.default_rng(0)
        net = CaffeNet(definition)  # shapes only, then random weights of the right shapes
        for variables in net.layer_weights.values():
            for v in variables:
                v.assign(rng.standard_normal(v.shape, np.float32) * np.float32(0.01))
        pose = args.model_pose or export.guess_pose_model(definition)
        if pose is None:
            raise ValueError(f"{args.prototxt}: no pose model has {net.output_channels} output "
                             f"channels; give --model_pose")
        network = net
    model = pose_models.get(pose)

    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (height, width, 3), np.uint8)
    jpeg = cv2.imencode(".jpg", image)[1]
    x = tf.constant(rng.uniform(-0.5, 0.5, (1, height, width, 3)).astype(np.float32))
    if getattr(network, "input_format", "openpose") != "openpose":
        x = x * 256 + 128  # raw 0..255 (tf-pose-estimation's graphs)
    people = synthetic.random_crowd(model, rng, args.people, height, width, min_size=100,
                                    max_size=200)
    net_output = tf.constant(synthetic.render_net_output(model, people, height, width)[None])
    v = args.variant
    heatmaps = ops.resize_and_merge(net_output, variant=v)
    peaks, counts = ops.nms(heatmaps[..., :model.num_parts], variant=v)
    pafs = heatmaps[..., model.num_heatmaps:]
    scores = ops.paf_scores(pafs, peaks, counts, model)
    drawn = postprocess(net_output, model, variant=v)[0][0].numpy()

    from openpose_tf.extractor import PoseExtractor

    extractor = PoseExtractor(network, pose, net_resolution=f"{width}x{height}", variant=v)
    stages = [
        ("decode (cv2.imdecode)", lambda: cv2.imdecode(jpeg, cv2.IMREAD_COLOR)),
        ("network", lambda: network(x)),
        ("pipeline (PoseExtractor, 1 image)", lambda: extractor([image])),
        ("resize_and_merge", lambda: ops.resize_and_merge(net_output, variant=v)),
        ("nms", lambda: ops.nms(heatmaps[..., :model.num_parts], variant=v)),
        ("paf_scores", lambda: ops.paf_scores(pafs, peaks, counts, model)),
        ("assemble_people", lambda: ops.assemble_people(peaks, counts, scores, model, v)),
        ("peaks_and_paf_scores (fused)",
         lambda: ops.peaks_and_paf_scores(net_output, model, variant=v)),
        ("postprocess (fused + assemble)", lambda: postprocess(net_output, model, variant=v)),
        ("render (draw_people)", lambda: render.draw_people(image, drawn, model)),
    ]
    devices = ", ".join(d.name for d in tf.config.list_physical_devices())
    print(f"openpose-tf bench: TensorFlow {tf.__version__}, devices {devices}, "
          f"{platform.processor() or platform.machine()}; {model.name} at {width}x{height}, "
          f"variant={v}, {len(people)} synthetic people, median of {args.repeats}")
    for name, fn in stages:
        ms = median_ms(fn, args.repeats)
        rate = f"  ({1e3 / ms:.2f} frames/s)" if name.startswith(("network", "pipeline")) else ""
        print(f"  {name:32s} {ms:9.2f} ms{rate}")
    return 0
