"""Fuzzing every op and wrapper (fuzz_ops.py) in its own process, started in the background by
conftest.py: a crash, a hang or a result outside the contract fails this test; the last lines
name the case. OPENPOSE_TF_FUZZ_SEED and OPENPOSE_TF_FUZZ_CASES explore further (CI uses the fixed
defaults). The address space is limited to 8 GiB, so huge allocations fail as ResourceExhausted
instead of swapping the machine."""

from conftest import fuzz_args, fuzz_result


def test_fuzz_ops_in_a_subprocess():
    seed, cases, _ = fuzz_args()
    returncode, stdout, stderr = fuzz_result()
    tail = "\n".join(stdout.splitlines()[-40:]) + stderr[-2000:]
    assert returncode == 0, f"fuzz_ops.py {seed} {cases} exited {returncode}:\n{tail}"
    assert stdout.splitlines()[-1] == f"{cases} passed, 0 failed", tail
