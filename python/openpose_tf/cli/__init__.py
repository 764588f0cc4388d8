"""The `openpose-tf` command line (also `python -m openpose_tf`): one module per subcommand, each
with `register(subparsers)`; heavy imports happen inside the commands, so `--help` is instant."""

from __future__ import annotations

import argparse
import os
import signal
import sys

# `serve` exits 0 on SIGTERM whenever it comes; its own handlers are installed only once the
# command line is imported and parsed (main() imports TensorFlow first: seconds). Until then a
# SIGTERM is only noted here, and `serve` stops as soon as its handlers are in
# (cli.serve.stop_on_signals). Only where this is the openpose-tf command itself.
EARLY_SIGTERMS: list[int] = []
if sys.argv[1:2] == ["serve"] and os.path.basename(sys.argv[0]) in ("openpose-tf", "__main__.py"):
    signal.signal(signal.SIGTERM, lambda number, frame: EARLY_SIGTERMS.append(number))

from openpose_tf.cli import beam, bench, convert, demo, flags, run, serve  # noqa: E402

COMMANDS = (run, convert, demo, bench, beam, serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openpose-tf",
        description="OpenPose's multi-person pose estimation in TensorFlow.")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(commands)
    return parser


def openpose_syntax(argv: list[str]) -> list[str]:
    """OpenPose writes `--net_resolution -1x368`; argparse takes a value starting with '-' for an
    option. Join such `--flag -value` pairs into `--flag=-value` for the flags that take one."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg in flags.NEGATIVE_VALUE_FLAGS and i + 1 < len(argv) and \
                argv[i + 1].startswith("-") and not argv[i + 1].startswith("--"):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
        else:
            out.append(arg)
            i += 1
    return out


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, unknown = parser.parse_known_args(openpose_syntax(argv))
    # Only `beam` takes options it does not know itself: they are Beam's pipeline options.
    if unknown and not getattr(args, "pipeline_options", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.pipeline_args = unknown
    from openpose_tf.net import CaffeModelError

    try:
        return args.run(args)
    except (CaffeModelError, ValueError, OSError) as err:
        print(f"openpose-tf: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Finished files are in place and no half file is left (every write is atomic).
        print("openpose-tf: interrupted; finished outputs are kept, a re-run goes on from there",
              file=sys.stderr)
        return 130
