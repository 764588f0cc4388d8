"""The lazy loader: where it looks, and the errors it gives."""

import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf

from openpose_tf import _library


def test_library_says_which_tensorflow_it_was_built_for(lib):
    assert _library.built_for_version(_library.find_library()) == tf.__version__


def test_missing_library_names_the_paths(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere" / "_openpose_ops.so"
    monkeypatch.setenv(_library.ENV_VAR, str(missing))
    with pytest.raises(_library.OpLibraryError, match="was not found") as err:
        _library.find_library()
    assert str(missing) in str(err.value)
    assert tf.__version__ in str(err.value)


def test_library_for_another_tensorflow_is_refused(tmp_path):
    fake = tmp_path / "_openpose_ops.so"
    fake.write_bytes(b"\x7fELF junk openpose_tf:built_for_tensorflow=1.15.0; junk")
    with pytest.raises(_library.OpLibraryError,
                       match=rf"built for TensorFlow 1\.15\.0, but TensorFlow {tf.__version__}"):
        _library.load_from(fake)


def test_corrupt_library_is_a_clear_error(tmp_path):
    fake = tmp_path / "_openpose_ops.so"
    fake.write_bytes(b"not an ELF file openpose_tf:built_for_tensorflow=" +
                     tf.__version__.encode() + b";")
    with pytest.raises(_library.OpLibraryError, match="cannot load .*_openpose_ops.so"):
        _library.load_from(fake)


def test_saved_model_loads_in_a_fresh_process(tmp_path):
    """A SavedModel using the ops loads in a new process once the library is loaded."""
    from openpose_tf import ops

    module = tf.Module()
    module.f = tf.function(lambda h: ops.maximum(h),
                           input_signature=[tf.TensorSpec([None, 4, 4, 1], tf.float32)])
    tf.saved_model.save(module, str(tmp_path / "m"))
    script = textwrap.dedent(f"""
        import numpy as np, tensorflow as tf
        from openpose_tf import ops
        ops.load_library()
        m = tf.saved_model.load({str(tmp_path / "m")!r})
        h = np.zeros((1, 4, 4, 1), np.float32); h[0, 2, 3, 0] = 1
        print(m.f(h).numpy().tolist())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().splitlines()[-1] == "[[[3.0, 2.0, 1.0]]]"


def test_every_op_of_the_registry_has_a_cpu_kernel_no_gradient_a_wrapper_and_docs(lib):
    """The list comes from TensorFlow's registry once the library is loaded: an op added without
    its CPU kernel, its gradient rule, its Python wrapper, its description in docs/ops.md or its
    name in the lists of docs/networks.md and docs/building.md fails."""
    import pathlib
    import re

    from tensorflow.python.framework import kernels
    from tensorflow.python.framework import ops as tf_ops

    from openpose_tf import ops

    names = _library.op_names()
    assert "OpenPose>PeaksAndPafScores" in names and "OpenPose>FixedPointWarp" in names
    docs_dir = pathlib.Path(__file__).resolve().parents[2] / "docs"
    docs = (docs_dir / "ops.md").read_text()
    for name in names:
        devices = {k.device_type for k in kernels.get_registered_kernels_for_op(name).kernel}
        assert "CPU" in devices, name
        assert tf_ops._gradient_registry.lookup(name) is None, name  # tf.no_gradient
        wrapper = re.sub(r"(?<!^)(?=[A-Z])", "_", name.split(">")[1]).lower()
        assert callable(getattr(ops, wrapper, None)), f"{name}: no ops.{wrapper}"
        assert f"`ops.{wrapper}(" in docs, f"{name}: not described in docs/ops.md"
    assert set(_library.CPU_ONLY_OPS) <= set(names)
    # The lists written out in docs/networks.md (every op) and docs/building.md (the CPU-only).
    listed = (docs_dir / "networks.md").read_text().split("op_names()")[1].split(";")[0]
    cpu_only = (docs_dir / "building.md").read_text().split("CPU-only")[1].split("CPU_ONLY")[0]
    for name in names:
        short = f"`{name.split('>')[1]}`"
        assert short in listed, f"{name}: not in docs/networks.md's list of the ops"
        assert (short in cpu_only) == (name in _library.CPU_ONLY_OPS), \
            f"{name}: docs/building.md's list of the CPU-only ops"
