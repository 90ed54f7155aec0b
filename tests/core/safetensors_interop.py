"""ember's safetensors files against the Python safetensors library, both ways.

    python safetensors_interop.py TOOL WORKDIR

TOOL is the safetensors_interop program (safetensors_interop.cpp). ember writes a file that
safetensors.numpy.load_file must read as the expected arrays; safetensors.numpy.save_file
writes the same arrays and ember must read them back exactly. The expected values are spelled
out here and in safetensors_interop.cpp, each side checking against its own copy.
"""

import pathlib
import subprocess
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file


def expected():
    i64 = np.iinfo(np.int64)
    return {
        "f32": np.array([[-1.5, 0, 3.25], [1e-30, -7, 1e30]], dtype=np.float32),
        "f64": np.array([0.1, -2.5e300, 1.0 / 3], dtype=np.float64),
        "i64": np.array([[i64.min, -1], [0, i64.max]], dtype=np.int64),
        "mask": np.array([True, False, False, True, True]),
        "scalar": np.array(3.25, dtype=np.float64),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "transposed": np.arange(6, dtype=np.float32).reshape(2, 3).T,
    }


def check_arrays(path, got):
    failures = []
    want = expected()
    for name in sorted(set(want) | set(got)):
        if name not in got:
            failures.append(f"tensor '{name}' missing")
        elif name not in want:
            failures.append(f"tensor '{name}' not expected")
        elif got[name].dtype != want[name].dtype:
            failures.append(f"tensor '{name}': dtype {got[name].dtype}, expected {want[name].dtype}")
        elif got[name].shape != want[name].shape:
            failures.append(f"tensor '{name}': shape {got[name].shape}, expected {want[name].shape}")
        elif not np.array_equal(got[name], want[name]):
            failures.append(f"tensor '{name}': {got[name]!r}, expected {want[name]!r}")
    return [f"{path}: {f}" for f in failures]


def run(tool, *args):
    result = subprocess.run([tool, *args], capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        return [f"{tool} {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}"]
    return []


def main():
    tool, work = sys.argv[1], pathlib.Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    failures = []

    # ember writes, Python reads.
    from_ember = str(work / "from_ember.safetensors")
    failures += run(tool, "write", from_ember)
    if not failures:
        failures += check_arrays(from_ember, load_file(from_ember))
        with safe_open(from_ember, framework="np") as f:
            if f.metadata() != {"producer": "ember", "format": "np"}:
                failures.append(f"{from_ember}: metadata {f.metadata()}")
        failures += run(tool, "check", from_ember, "ember")

    # Python writes, ember reads.
    from_python = str(work / "from_python.safetensors")
    save_file(expected(), from_python, metadata={"producer": "python"})
    failures += run(tool, "check", from_python, "python")

    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    if failures:
        return 1
    print("safetensors interop: ember and Python safetensors agree both ways")
    return 0


if __name__ == "__main__":
    sys.exit(main())
