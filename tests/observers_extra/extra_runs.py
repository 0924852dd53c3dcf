"""A real experiment script run with Sacred's other observers, by sacredlite or Sacred 0.8.7.

:func:`run_script` writes the script into a project folder and runs it in a child process
(``python exp.py ARGS``), importing ``sacredlite`` from this checkout, or ``sacred`` with
the reference interpreter (:func:`reference_python`) to compare what both store.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from checkout import THIS_CHECKOUT

SCRIPT = """\
from PACKAGE import Experiment

ex = Experiment("extra_demo")


@ex.config
def cfg():
    lr = 0.1
    layers = [1, 2]
    fail = False


@ex.automain
def main(lr, fail, _run):
    for step in range(3):
        _run.log_scalar("loss", 1.0 / (step + 1), step)
    print("hello", lr)
    with open("out.txt", "w") as handle:
        handle.write("artifact!")
    _run.add_artifact("out.txt")
    with _run.open_resource("data.txt") as handle:
        handle.read()
    if fail:
        raise ValueError("asked to fail")
    return lr * 2
"""

ARTIFACT = b"artifact!"
RESOURCE = b"some data\n"


def reference_python(*modules: str) -> str | None:
    """Return an interpreter with Sacred 0.8.7 and *modules*, if this machine has one."""
    for candidate in (os.environ.get("SACRED_PYTHON"), "/tmp/sacred-venv/bin/python"):
        if not candidate or not os.path.exists(candidate):
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sacred, " + ", ".join(("sys", *modules))],
            capture_output=True,
        )
        if probe.returncode == 0:
            return candidate
    return None


def make_project(folder: Path, package: str = "sacredlite") -> Path:
    """Write the script (importing *package*) and its resource into *folder*."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "exp.py").write_text(SCRIPT.replace("PACKAGE", package))
    (folder / "data.txt").write_bytes(RESOURCE)
    return folder


def run_script(
    folder: Path,
    *args: str,
    python: str | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``exp.py ARGS`` in *folder* (sacredlite unless *python* is Sacred's)."""
    package = "sacred" if python else "sacredlite"
    make_project(folder, package)
    done = subprocess.run(
        [python or sys.executable, "exp.py", *args],
        cwd=folder,
        env={**THIS_CHECKOUT, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"exp.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def md5(data: bytes) -> str:
    """Return the md5 hex digest of *data*."""
    return hashlib.md5(data).hexdigest()
