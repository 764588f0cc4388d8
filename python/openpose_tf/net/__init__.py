"""OpenPose's networks in TensorFlow, built from Caffe's .prototxt + .caffemodel (no Caffe).

    net = openpose_tf.net.from_caffe("pose_deploy.prototxt", "pose_iter_584000.caffemodel")
    net_output = net(openpose_tf.net.preprocess(bgr_images))   # [N, H/8, W/8, C]

See :mod:`openpose_tf.net.export` to save a SavedModel (also `openpose-tf convert`).
"""

from openpose_tf.net.caffe_io import CaffeModelError
from openpose_tf.net.model import CaffeNet, from_caffe, preprocess

__all__ = ["CaffeModelError", "CaffeNet", "from_caffe", "preprocess"]
