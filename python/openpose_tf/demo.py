"""`openpose-tf demo`: OpenPose's post-processing on a synthetic crowd, end to end, with nothing
downloaded.

It renders the network output OpenPose's BODY_25 model would give for a synthetic crowd (at 1/8
of a 368x656 net input), then runs `openpose_tf.postprocess`, OpenPose's poseExtractor chain:
ResizeAndMerge (x8) -> Nms (offset 0.5/scale) -> the body part connector (scaled to image
pixels), for both OpenPose builds, times each stage, compares the people found with the people
drawn, and writes OpenPose JSON and a rendered picture (the heatmaps as the background) to
`--output`.
"""

from __future__ import annotations

import numpy as np

# The body models the demo draws (a hand or face model has no limbs between people to find).
BODY_MODELS = ("BODY_25", "COCO", "MPI", "MPI_4_layers", "BODY_25B")


def run(people: int = 6, model: str = "BODY_25", seed: int = 1,
        output: str = "openpose_tf_demo", image_scale: float = 2.0) -> int:
    """The demo (see the module docstring); 0 when every person drawn was found."""
    import tensorflow as tf

    import openpose_tf
    from openpose_tf import media, openpose_json, pose_models, synthetic

    model = pose_models.get(model)
    if model.name not in BODY_MODELS:
        raise ValueError(f"the demo draws body models ({', '.join(BODY_MODELS)}), got "
                         f"{model.name}")
    if people < 1 or not image_scale > 0:
        raise ValueError(f"the demo needs people >= 1 and image_scale > 0, got {people} and "
                         f"{image_scale}")
    net_h, net_w = 368, 656
    rng = np.random.default_rng(seed)
    # People drawn in net-input pixels; the network output is 8x smaller.
    people = synthetic.random_crowd(model, rng, people, net_h, net_w, min_size=130,
                                    max_size=250)  # now the crowd itself
    net_output = synthetic.render_net_output(model, people, net_h, net_w)[None]
    scale = image_scale
    print(f"openpose-tf demo (TensorFlow {tf.__version__}): {len(people)} synthetic {model.name} "
          f"people, net output {list(net_output.shape)} -> heatmaps {net_h}x{net_w}, image "
          f"{round(net_w * scale)}x{round(net_h * scale)}")

    failures = total = 0
    for variant in ("gpu", "cpu"):
        keypoints, scores = openpose_tf.postprocess(net_output, model, scale_factor=scale,
                                                    variant=variant)
        found = keypoints[0].numpy()
        print(f"\nvariant={variant!r}: {len(found)} people found "
              f"({stage_times(net_output, model, scale, variant)})")
        path = openpose_json.write_people_json(output, f"demo_{variant}", found)
        print(f"wrote {path}")
        if variant == "gpu":
            picture = media.write_image(f"{output}/demo_rendered.png",
                                        rendered(net_output[0], model, found, scale))
            print(f"wrote {picture}")
        for i, person in enumerate(people):
            drawn = person[:, :2] * scale
            errors = [np.abs(f[:, :2] - drawn)[f[:, 2] > 0].max(axis=1).mean() for f in found]
            best = int(np.argmin(errors)) if errors else -1
            ok = best >= 0 and errors[best] < 3 * scale and (found[best][:, 2] > 0).sum() >= \
                model.num_parts - 2
            failures += not ok
            total += 1
            detail = (f"{(found[best][:, 2] > 0).sum()}/{model.num_parts} parts, mean error "
                      f"{errors[best]:.1f} px, score {scores[0][best]:.2f}") if best >= 0 else "-"
            print(f"  person {i}: {'found' if ok else 'MISSED'}  {detail}")
    print(f"\nrecovered {total - failures}/{total} people (both builds)")
    return 1 if failures else 0


def stage_times(net_output, model, scale, variant) -> str:
    """Milliseconds of postprocess and of its two ops (the fused peaks_and_paf_scores, then
    assemble_people), and of the composed ops it replaces, each run alone (median of 3 after a
    warm-up)."""
    import openpose_tf
    from openpose_tf import ops
    from openpose_tf.common import median_ms
    from openpose_tf.postprocessing import nms_offset

    offset = nms_offset(scale)
    peaks, counts, pair_scores = ops.peaks_and_paf_scores(net_output, model, variant=variant,
                                                          offset=offset)
    fused = [median_ms(fn, 3) for fn in (
        lambda: openpose_tf.postprocess(net_output, model, scale_factor=scale, variant=variant),
        lambda: ops.peaks_and_paf_scores(net_output, model, variant=variant, offset=offset),
        lambda: ops.assemble_people(peaks, counts, pair_scores, model, variant,
                                    scale_factor=scale))]
    heat = ops.resize_and_merge(net_output, variant=variant)
    parts = (0, model.num_parts)
    composed = [median_ms(fn, 3) for fn in (
        lambda: ops.resize_and_merge(net_output, variant=variant),
        lambda: ops.nms(heat, 0.05, 127, offset, variant, channels=parts),
        lambda: ops.paf_scores(heat, peaks, counts, model, channel_begin=model.num_heatmaps))]
    return (f"postprocess {fused[0]:.1f} ms: peaks_and_paf_scores {fused[1]:.1f}, "
            f"assemble_people {fused[2]:.1f}; the composed ops it replaces: resize_and_merge "
            f"{composed[0]:.0f}, nms {composed[1]:.0f}, paf_scores {composed[2]:.1f} ms")


def rendered(net_output, model, keypoints, scale):
    """The people drawn over the part heatmaps (their maximum, upsampled to the image)."""
    import cv2

    from openpose_tf import render

    heat = net_output[..., :model.num_parts].max(axis=-1)
    size = (round(net_output.shape[1] * 8 * scale), round(net_output.shape[0] * 8 * scale))
    grey = np.clip(cv2.resize(heat, size, interpolation=cv2.INTER_CUBIC) * 160 + 30, 0, 255)
    background = cv2.cvtColor(grey.astype(np.uint8), cv2.COLOR_GRAY2BGR)
    return render.draw_people(background, keypoints, model)

