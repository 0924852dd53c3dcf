"""Benchmark start-up cost as whole processes: wall time and peak RSS.

Measured, each as a fresh process, ``--repeat`` times (median wall time, median peak RSS):

* ``python -c pass``                       the interpreter alone (baseline of each python)
* ``python -c "import sacredlite"``        (Sacred: ``import sacred``)
* a trivial experiment run with ``-F DIR``  3 config values, main returns a value, inside a
  temporary git repository with one commit (storage directory outside the repository)

Peak RSS comes from GNU ``time`` (``/usr/bin/time``, else ``os.wait4``, which cannot report
less than this process's own RSS). ``PYTHONDONTWRITEBYTECODE`` is
removed from the children's environment and one unmeasured run precedes the measured ones,
so both implementations run from ``.pyc`` files as installed packages do. When Sacred is available
(``--sacred-python PATH``, ``$SACRED_PYTHON`` or ``bash bench/setup_sacred_venv.sh``) the
same is measured with Sacred and the ratios are printed. ``--components`` also prints, from
one child process, the time of each piece a run records: host info, source and dependency
discovery, git state.

Targets (issue 3, 2 cores): import <= 0.05 s, trivial run <= 0.15 s and <= 25 MiB.

Usage: ``python bench/startup.py [--repeat N] [--python PATH] [--sacred-python PATH]
[--components]``. For a fair interpreter baseline give ``--python`` a plain venv holding
sacredlite's runtime dependencies (``python -m venv V && V/bin/pip install docopt-ng
jsonpickle wrapt``): this interpreter's site-packages may run ``.pth`` start-up hooks.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import _sacred_env as env

EXPERIMENT = '''"""A trivial experiment for the start-up benchmark."""
from {package} import Experiment

ex = Experiment("startup")


@ex.config
def cfg():
    a = 1
    b = 2.5
    c = "three"


@ex.automain
def main(a, b, c):
    return a + b + len(c)
'''

COMPONENTS = """
import os, sys, time
tp = time.perf_counter()
import sacredlite
t0 = time.perf_counter()
from sacredlite.info.host import get_host_info
from sacredlite.info.sources import collect_experiment_info, scan
from sacredlite.info.git import get_repository_info
t1 = time.perf_counter()
get_host_info()
t2 = time.perf_counter()
get_host_info()
t3 = time.perf_counter()
from sacredlite import Experiment
# the globals of exp.py as the core sees them
globs = {"__file__": os.path.abspath("exp.py"), "__doc__": "doc", "Experiment": Experiment}
t4 = time.perf_counter()
found = scan(globs)
info = collect_experiment_info("x", found.base_dir, found.mainfile, found.find_sources(),
                               found.find_dependencies(), save_git_info=False)
t5 = time.perf_counter()
repos = get_repository_info([os.path.abspath("exp.py")])
t6 = time.perf_counter()
with open("exp.py", "a") as f:
    f.write("# dirty\\n")
dirty = get_repository_info([os.path.abspath("exp.py")])
t7 = time.perf_counter()
ms = lambda a, b: f"{(b - a) * 1e3:7.1f} ms"
print(f"  import sacredlite                  {ms(tp, t0)}")
print(f"  import of the info modules        {ms(t0, t1)}")
print(f"  host info, first call             {ms(t1, t2)}")
print(f"  host info, cached                 {ms(t2, t3)}")
print(f"  sources + dependencies            {ms(t4, t5)}  ({len(info['sources'])} source, "
      f"{len(info['dependencies'])} dependencies)")
print(f"  git state, clean repository       {ms(t5, t6)}  (dirty={repos[0]['dirty']})")
print(f"  git state, dirty repository+diff  {ms(t6, t7)}  (dirty={dirty[0]['dirty']})")
"""


GNU_TIME = "/usr/bin/time"


def measure(cmd: list[str], cwd: str, environ: dict[str, str]) -> tuple[float, float, float]:
    """Run *cmd* once; return (wall s, CPU s, peak RSS MiB) of that child alone.

    CPU time (user + system, the child and the processes it waited for) is reported beside
    wall time because it hardly depends on the machine's load. Peak RSS is taken by GNU
    ``time`` when installed: a child forked from this (larger) process inherits this
    process's RSS as its peak before ``exec``, so ``wait4`` alone reports a floor of about
    16 MiB.
    """
    use_time = os.access(GNU_TIME, os.X_OK)
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r") as rss:
        argv = [GNU_TIME, "-f", "%M", "-o", rss.name, *cmd] if use_time else cmd
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=environ, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            err = errors.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
        if use_time:
            peak = int(rss.read().split()[-1]) / 1024
        else:
            peak = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    return wall, usage.ru_utime + usage.ru_stime, peak


def git(cwd: str, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def make_repo(root: str, package: str) -> str:
    """Create a git repository with the experiment committed; return its directory."""
    repo = os.path.join(root, f"{package}-repo")
    os.makedirs(repo)
    with open(os.path.join(repo, "exp.py"), "w") as f:
        f.write(EXPERIMENT.format(package=package))
    git(repo, "init", "-q")
    git(repo, "add", "exp.py")
    git(repo, "commit", "-q", "-m", "experiment")
    return repo


def figures(
    python: str, package: str, root: str, repeat: int
) -> dict[str, tuple[float, float, float]]:
    """Median (wall s, CPU s, peak MiB) of each workload for one implementation."""
    environ = dict(os.environ)
    # Users have .pyc files; without them every import compiles its source (this
    # environment sets PYTHONDONTWRITEBYTECODE, which made sacredlite look 2x slower).
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if package == "sacredlite":  # the checkout's code even when it is not installed
        environ["PYTHONPATH"] = os.pathsep.join(filter(None, [env.REPO, environ.get("PYTHONPATH")]))
    repo = make_repo(root, package)
    storage = os.path.join(root, f"{package}-runs")
    workloads = {
        "python -c pass": [python, "-c", "pass"],
        f"import {package}": [python, "-c", f"import {package}"],
        "trivial run -F DIR": [python, "exp.py", "-F", storage],
    }
    result = {}
    for label, cmd in workloads.items():
        measure(cmd, repo, environ)  # warm the OS page cache and .pyc files
        samples = [measure(cmd, repo, environ) for _ in range(repeat)]
        result[label] = (
            statistics.median(s[0] for s in samples),
            statistics.median(s[1] for s in samples),
            statistics.median(s[2] for s in samples),
        )
    stored = sorted(n for n in os.listdir(storage) if n.isdigit())
    if len(stored) != repeat + 1:
        raise SystemExit(f"{package}: expected {repeat + 1} stored runs, found {len(stored)}")
    return result


def components(root: str, python: str) -> None:
    repo = make_repo(root, "components")
    environ = dict(os.environ)
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [env.REPO, environ.get("PYTHONPATH")]))
    print("Pieces of a run's record (one child process, in a one-commit repository):")
    subprocess.run([python, "-c", textwrap.dedent(COMPONENTS)], cwd=repo, env=environ, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="measured runs per workload")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="python for the sacredlite side (the checkout is put on PYTHONPATH); a clean "
        "venv avoids start-up cost of .pth files in this interpreter's site-packages",
    )
    parser.add_argument("--sacred-python", default=None, help="python with sacred installed")
    parser.add_argument("--no-sacred", action="store_true", help="skip the Sacred comparison")
    parser.add_argument("--components", action="store_true", help="time each recorded piece")
    args = parser.parse_args()
    if shutil.which("git") is None:
        raise SystemExit("bench/startup.py needs git on PATH to build its repositories.")
    sacred_python = None if args.no_sacred else env.find_sacred_python(args.sacred_python)
    print(
        f"Start-up as whole processes, median of {args.repeat} "
        f"({platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}):"
    )
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as root:
        ours = figures(args.python, "sacredlite", root, args.repeat)
        theirs = figures(sacred_python, "sacred", root, args.repeat) if sacred_python else {}
        targets = {
            "python -c pass": ("-", "-"),
            "import sacredlite": ("<= 0.05 s", "-"),
            "trivial run -F DIR": ("<= 0.15 s", "<= 25 MiB"),
        }
        for label, mine in ours.items():
            other = theirs.get(label.replace("sacredlite", "sacred"))
            time_target, rss_target = targets[label]
            for i, (what, unit, target) in enumerate(
                [
                    ("time", "s", time_target),
                    ("CPU", "s", time_target),
                    ("peak RSS", "MiB", rss_target),
                ]
            ):
                print(
                    env.row(f"{label} ({what})", mine[i], other and other[i], unit, target, False)
                )
        print("  Net of each interpreter's own start-up (python -c pass):")
        for label in ("import sacredlite", "trivial run -F DIR"):
            other = theirs.get(label.replace("sacredlite", "sacred"))
            for i, what in ((0, "net time"), (1, "net CPU")):
                mine_net = ours[label][i] - ours["python -c pass"][i]
                other_net = other[i] - theirs["python -c pass"][i] if other else None
                print(
                    env.row(f"{label} ({what})", mine_net, other_net, "s", targets[label][0], False)
                )
        if not sacred_python and not args.no_sacred:
            print("  (Sacred not found: bash bench/setup_sacred_venv.sh to compare)")
        if args.components:
            components(root, args.python)


if __name__ == "__main__":
    main()
