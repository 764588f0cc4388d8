"""Post-processing speed and memory (issue: 10x OpenPose's CPU code, exact): a script wrapper of
openpose_tf.bench_postprocess, the same as `openpose-tf bench --postprocess`.

    python benchmarks/bench_postprocess.py [--threads 1,2] [--repeats 5]
"""

from openpose_tf.bench_postprocess import main

if __name__ == "__main__":
    main()
