"""Fuzzing every op and wrapper (fuzz_ops.py) in its own process: a crash, a hang or a result
outside the contract fails this test; the last lines name the case. OPENPOSE_TF_FUZZ_SEED and
OPENPOSE_TF_FUZZ_CASES explore further (CI uses the fixed defaults)."""

import os
import pathlib
import subprocess
import sys


def test_fuzz_ops_in_a_subprocess():
    script = pathlib.Path(__file__).with_name("fuzz_ops.py")
    seed = os.environ.get("OPENPOSE_TF_FUZZ_SEED", "2026")
    cases = os.environ.get("OPENPOSE_TF_FUZZ_CASES", "800")
    # 8 GiB of address space: huge allocations fail as ResourceExhausted, never swap the machine.
    run = subprocess.run([sys.executable, str(script), seed, cases, "8"], capture_output=True,
                         text=True, timeout=600)
    tail = "\n".join(run.stdout.splitlines()[-40:]) + run.stderr[-2000:]
    assert run.returncode == 0, f"fuzz_ops.py {seed} {cases} exited {run.returncode}:\n{tail}"
    assert run.stdout.splitlines()[-1] == f"{cases} passed, 0 failed", tail
