"""Unmodified Sacred programs on sacredlite: ``run-as-sacred`` and ``sacredlite.as_sacred``.

The programs are real files that only import ``sacred``, run in a subprocess the way users
start them, recording into a real ``runs/`` directory with ``-F``. The import hook itself is
also checked in-process, installed and removed around each test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import sacredlite
from sacredlite.__main__ import main as console_main

REPO = Path(__file__).resolve().parent.parent

SCRIPT = '''\
"""A Sacred script, unchanged: it knows nothing of sacredlite."""
import sys

from sacred import Experiment
from sacred.utils import apply_backspaces_and_linefeeds

import helper  # beside the script: sys.path[0] is the script's directory

ex = Experiment("plain_sacred")
ex.captured_out_filter = apply_backspaces_and_linefeeds


@ex.config
def cfg():
    lr = 0.01  # learning rate
    steps = 3


@ex.automain
def train(lr, steps, _run):
    import sacred

    for step in range(steps):
        _run.log_scalar("loss", helper.loss(lr, step), step)
    print(f"trained lr={lr} with {sacred.__name__} argv={sys.argv[1:]}")
    if lr < 0:
        raise ValueError("lr must be positive")
    return lr * steps
'''

TOOL = '''\
"""A third-party tool that imports sacred's submodules."""
import sys

import sacred
import sacred.observers
import sacred.utils
from sacred.observers import FileStorageObserver

import sacredlite.observers
import sacredlite.utils

same = (
    sys.modules["sacred.observers"] is sacredlite.observers
    and sacred.utils is sacredlite.utils
    and sacred.observers.FileStorageObserver is FileStorageObserver
)
print(f"same={same} argv={sys.argv[1:]} path0={sys.path[0]}")

ex = sacred.Experiment("tool_exp")


@ex.main
def run_it():
    print(sacred.utils.apply_backspaces_and_linefeeds("12\\b3"))
    return 7


ex.observers.append(FileStorageObserver(sys.argv[1]))
print("status", ex.run().status)
'''


def environment(*extra_paths: Path) -> dict[str, str]:
    """The test environment with this worktree (and *extra_paths*) first on PYTHONPATH."""
    paths = [*map(str, extra_paths), str(REPO), os.environ.get("PYTHONPATH", "")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))


def run(
    cwd: Path, *args: str, extra_paths: tuple[Path, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` in *cwd* and return the finished process."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=environment(*extra_paths),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def script(tmp_path: Path) -> Path:
    """The Sacred script, with the helper module it imports, in ``tmp_path/project``."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "helper.py").write_text("def loss(lr, step):\n    return lr / (step + 1)\n")
    path = project / "train.py"
    path.write_text(SCRIPT)
    return path


def stored_run(runs: Path, run_id: int = 1) -> dict[str, dict]:
    """Return run.json, config.json and metrics.json of one stored run."""
    return {
        name: json.loads((runs / str(run_id) / f"{name}.json").read_text())
        for name in ("run", "config", "metrics")
    }


class TestScripts:
    """A script that only imports sacred runs unchanged and is recorded."""

    @pytest.mark.parametrize(
        "launcher",
        [["-m", "sacredlite", "run-as-sacred"], ["-m", "sacredlite.as_sacred"]],
        ids=["sacredlite run-as-sacred", "python -m sacredlite.as_sacred"],
    )
    def test_script_runs_and_records_into_file_storage(self, tmp_path, script, launcher):
        """The script runs as __main__ with its arguments and stores Sacred's run files."""
        runs = tmp_path / "runs"
        proc = run(tmp_path, *launcher, str(script), "with", "lr=0.1", "-F", str(runs))
        assert proc.returncode == 0, proc.stderr
        assert "trained lr=0.1 with sacredlite argv=['with', 'lr=0.1', '-F'," in proc.stdout
        assert "Completed after" in proc.stderr
        stored = stored_run(runs)
        assert stored["run"]["status"] == "COMPLETED"
        assert stored["run"]["result"] == pytest.approx(0.3)
        assert stored["run"]["experiment"]["name"] == "plain_sacred"
        assert stored["run"]["experiment"]["mainfile"] == "train.py"
        sources = [rel for rel, _ in stored["run"]["experiment"]["sources"]]
        assert sources == ["helper.py", "train.py"]
        assert stored["config"]["lr"] == 0.1
        assert stored["metrics"]["loss"]["steps"] == [0, 1, 2]

    def test_failing_run_exits_like_python(self, tmp_path, script):
        """A run that raises is recorded as FAILED and the process exits non-zero."""
        runs = tmp_path / "runs"
        proc = run(tmp_path, "-m", "sacredlite", "run-as-sacred", str(script),
                   "with", "lr=-1", "-F", str(runs))  # fmt: skip
        assert proc.returncode == 1
        assert "ValueError: lr must be positive" in proc.stderr
        assert stored_run(runs)["run"]["status"] == "FAILED"

    def test_exit_code_of_sys_exit_is_the_process_exit_code(self, tmp_path):
        """sys.exit(3) in the script makes the process exit with 3."""
        (tmp_path / "quits.py").write_text("import sacred, sys\nsys.exit(3)\n")
        proc = run(tmp_path, "-m", "sacredlite", "run-as-sacred", "quits.py")
        assert (proc.returncode, proc.stderr) == (3, "")

    def test_uncaught_error_shows_only_the_scripts_frames(self, tmp_path):
        """An exception outside a run is shown as `python script.py` shows it, with exit 1."""
        (tmp_path / "boom.py").write_text(
            "import sacred\n\ndef f():\n    raise KeyError('boom')\n\nf()\n"
        )
        proc = run(tmp_path, "-m", "sacredlite.as_sacred", "boom.py")
        assert proc.returncode == 1
        boom = str(tmp_path / "boom.py")
        assert proc.stderr == (
            "Traceback (most recent call last):\n"
            f'  File "{boom}", line 6, in <module>\n    f()\n'
            f'  File "{boom}", line 4, in f\n'
            "    raise KeyError('boom')\nKeyError: 'boom'\n"
        )

    def test_missing_sacred_module_names_both_modules(self, tmp_path):
        """A Sacred module sacredlite lacks fails naming sacred.x and sacredlite.x."""
        (tmp_path / "old.py").write_text("import sacred.observer\n")
        proc = run(tmp_path, "-m", "sacredlite", "run-as-sacred", "old.py")
        assert proc.returncode == 1
        last = proc.stderr.splitlines()[-1]
        assert last.startswith("ModuleNotFoundError: No module named 'sacred.observer': ")
        assert "sacredlite has no module 'sacredlite.observer'." in last
        assert "Did you mean 'sacred.observers'?" in last


class TestTools:
    """A tool that imports sacred's submodules runs with -m, like `python -m tool`."""

    def test_tool_module_uses_sacredlites_modules(self, tmp_path):
        """sacred.x is sacredlite.x, sys.path[0] is the working directory, argv is passed."""
        (tmp_path / "tool").mkdir()
        (tmp_path / "tool" / "__init__.py").write_text("")
        (tmp_path / "tool" / "__main__.py").write_text(TOOL)
        runs = tmp_path / "runs"
        proc = run(tmp_path, "-m", "sacredlite.as_sacred", "-m", "tool", str(runs))
        assert proc.returncode == 0, proc.stderr
        assert f"same=True argv=['{runs}'] path0={tmp_path}" in proc.stdout
        assert "status COMPLETED" in proc.stdout
        stored = json.loads((runs / "1" / "run.json").read_text())
        assert (stored["status"], stored["result"]) == ("COMPLETED", 7)
        assert "13" in (runs / "1" / "cout.txt").read_text().splitlines()

    def test_unknown_module_exits_1(self, tmp_path):
        """-m with a module that does not exist says so and exits 1, as python -m does."""
        proc = run(tmp_path, "-m", "sacredlite", "run-as-sacred", "-m", "no_such_tool_xyz")
        assert proc.returncode == 1
        assert proc.stderr == "run-as-sacred: no module named 'no_such_tool_xyz'.\n"


class TestRealSacredBeside:
    """A real sacred installed beside sacredlite is untouched outside run-as-sacred."""

    @pytest.fixture
    def site(self, tmp_path: Path) -> Path:
        """A directory holding a package named sacred (standing in for real Sacred)."""
        site = tmp_path / "site"
        (site / "sacred").mkdir(parents=True)
        (site / "sacred" / "__init__.py").write_text("WHO = 'the real sacred'\n")
        return site

    def test_plain_python_imports_the_real_sacred(self, tmp_path, site):
        """With sacredlite importable, `import sacred` still gives the real package."""
        code = "import sacredlite, sacredlite.observers, sacred; print(sacred.WHO)"
        proc = run(tmp_path, "-c", code, extra_paths=(site,))
        assert (proc.returncode, proc.stdout) == (0, "the real sacred\n"), proc.stderr

    def test_run_as_sacred_routes_even_beside_the_real_one(self, tmp_path, site):
        """Inside run-as-sacred, sacred is sacredlite although a real sacred is on the path."""
        (tmp_path / "which.py").write_text("import sacred\nprint(sacred.__name__)\n")
        proc = run(tmp_path, "-m", "sacredlite", "run-as-sacred", "which.py", extra_paths=(site,))
        assert (proc.returncode, proc.stdout) == (0, "sacredlite\n"), proc.stderr

    def test_importing_sacredlite_installs_nothing(self, tmp_path):
        """import sacredlite loads neither the hook module nor a finder, nor a sacred module."""
        code = (
            "import sys, importlib.util, sacredlite, sacredlite.observers, sacredlite.__main__\n"
            "spec = importlib.util.find_spec('sacred')\n"
            "print('sacredlite.as_sacred' in sys.modules,\n"
            "      any(type(f).__name__ == 'SacredAliasFinder' for f in sys.meta_path),\n"
            "      'sacred' in sys.modules,\n"
            "      spec is not None and 'sacredlite' in (spec.origin or ''))\n"
        )
        proc = run(tmp_path, "-c", code)
        assert (proc.returncode, proc.stdout) == (0, "False False False False\n"), proc.stderr

    def test_package_ships_no_sacred_name(self):
        """The distribution contains sacredlite only: no sacred package, no .pth file."""
        assert not (REPO / "sacred").exists()
        assert not list(REPO.rglob("*.pth"))
        pyproject = (REPO / "pyproject.toml").read_text()
        assert 'include = ["sacredlite*"]' in pyproject


@pytest.fixture
def routed() -> Iterator[None]:
    """Route sacred to sacredlite in this process for one test."""
    from sacredlite.as_sacred import install, uninstall

    install()
    try:
        yield
    finally:
        uninstall()


class TestHook:
    """The finder maps sacred.x to the sacredlite.x module object itself."""

    def test_sacred_names_are_the_same_module_objects(self, routed):
        """sys.modules['sacred.x'] is sys.modules['sacredlite.x'], and keeps its own spec."""
        import sacred
        import sacred.observers
        import sacred.utils
        from sacred.observers import FileStorageObserver

        import sacredlite.observers
        import sacredlite.utils

        assert sacred is sacredlite
        assert sys.modules["sacred.observers"] is sacredlite.observers
        assert sacred.utils is sacredlite.utils
        assert FileStorageObserver is sacredlite.observers.FileStorageObserver
        assert sacred.Experiment is sacredlite.Experiment
        assert sacred.utils.__spec__.name == "sacredlite.utils"
        assert sacred.__name__ == "sacredlite"

    def test_patching_a_sacred_name_patches_sacredlite(self, routed, monkeypatch):
        """monkeypatch/mock.patch of 'sacred.utils.X' changes what sacredlite.utils holds."""
        import sacredlite.utils

        def marker(text: str) -> str:
            return text

        monkeypatch.setattr("sacred.utils.apply_backspaces_and_linefeeds", marker)
        assert sacredlite.utils.apply_backspaces_and_linefeeds is marker

    def test_missing_module_error(self, routed):
        """A Sacred module sacredlite lacks is a ModuleNotFoundError naming both modules."""
        with pytest.raises(ModuleNotFoundError) as info:
            import sacred.stflow  # noqa: F401  (Sacred's TensorFlow module)
        assert info.value.name == "sacred.stflow"
        message = str(info.value)
        assert message.startswith("No module named 'sacred.stflow': ")
        assert "sacredlite has no module 'sacredlite.stflow'." in message
        assert "Hint: " in message

    def test_missing_attribute_is_an_ordinary_import_error(self, routed):
        """from sacred import X, where X does not exist, is Python's usual ImportError."""
        with pytest.raises(ImportError, match="cannot import name 'NoSuchThing'"):
            from sacred import NoSuchThing  # noqa: F401

    def test_missing_dependency_of_a_module_is_not_hidden(self, routed, tmp_path, monkeypatch):
        """A sacredlite module that fails to import reports its own missing dependency."""
        extra = tmp_path / "extra"
        extra.mkdir()
        (extra / "needs_dep.py").write_text("import not_installed_dependency_xyz\n")
        monkeypatch.setattr(sacredlite, "__path__", [*sacredlite.__path__, str(extra)])
        with pytest.raises(ModuleNotFoundError) as info:
            import sacred.needs_dep  # noqa: F401
        assert info.value.name == "not_installed_dependency_xyz"
        sys.modules.pop("sacredlite.needs_dep", None)

    def test_uninstall_removes_the_finder_and_the_names(self):
        """After uninstall, sacred is no longer importable through sacredlite."""
        from sacredlite.as_sacred import install, is_installed, uninstall

        install()
        install()  # idempotent: one finder
        import sacred.observers  # noqa: F401

        assert is_installed()
        uninstall()
        assert not is_installed()
        assert not [name for name in sys.modules if name.split(".")[0] == "sacred"]

    def test_install_refuses_when_a_real_sacred_is_loaded(self, monkeypatch):
        """install() fails, saying why, when another module named sacred is already imported."""
        from sacredlite.as_sacred import install, is_installed

        monkeypatch.setitem(sys.modules, "sacred", ModuleType("sacred"))
        with pytest.raises(RuntimeError, match="A real sacred is already imported"):
            install()
        assert not is_installed()


class TestCommandLine:
    """The run-as-sacred subcommand of the sacredlite console script."""

    def test_listed_in_the_console_help(self, capsys):
        """sacredlite --help lists run-as-sacred."""
        assert console_main(["--help"]) == 0
        assert "  run-as-sacred " in capsys.readouterr().out

    def test_help_says_where_the_routing_applies(self, capsys):
        """run-as-sacred --help shows both forms and that a real sacred is routed too."""
        assert console_main(["run-as-sacred", "--help"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: sacredlite run-as-sacred SCRIPT [ARGS...]\n")
        assert "python -m sacredlite.as_sacred (SCRIPT | -m MODULE) [ARGS...]" in out
        assert "even when a real sacred is installed" in out

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ([], "usage: sacredlite run-as-sacred"),
            (["-m"], "-m needs a module name"),
            (["--frobnicate"], "unknown option '--frobnicate'"),
            (["no_such_script.py"], "can't open file 'no_such_script.py'"),
        ],
    )
    def test_bad_arguments_exit_2(self, capsys, args, message):
        """Missing or wrong arguments exit 2 with a message on stderr."""
        assert console_main(["run-as-sacred", *args]) == 2
        assert message in capsys.readouterr().err

    def test_script_in_process_restores_argv_and_path(self, tmp_path, routed):
        """run_script sets sys.argv and sys.path[0] for the script and restores them after."""
        from sacredlite.as_sacred import run_script

        (tmp_path / "show.py").write_text(
            "import sys\nimport sacred\n"
            "SEEN = (sys.argv[:], sys.path[0], __name__, sacred.__name__)\n"
        )
        argv, path, main_module = sys.argv[:], sys.path[:], sys.modules["__main__"]
        seen = run_script(str(tmp_path / "show.py"), ["with", "x=1"])["SEEN"]
        assert seen == (
            [str(tmp_path / "show.py"), "with", "x=1"],
            str(tmp_path),
            "__main__",
            "sacredlite",
        )
        assert (sys.argv, sys.path, sys.modules["__main__"]) == (argv, path, main_module)
