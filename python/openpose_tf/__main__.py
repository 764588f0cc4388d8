"""`python -m openpose_tf ...`: the openpose-tf command line."""

import sys

from openpose_tf.cli import main

sys.exit(main())
