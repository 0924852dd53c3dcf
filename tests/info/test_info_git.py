"""Git state from real temporary repositories: clean, dirty, no commit, detached, none."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from git_repo import git
from hypothesis import given, settings
from hypothesis import strategies as st

from sacredlite.info.git import dirty_files, find_repository, get_repository_info, redact_url

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="needs the git binary")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "exp.py").write_text("print('hi')\n")
    (root / "util.py").write_text("X = 1\n")
    git(root, "add", "exp.py", "util.py")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_clean_repository(repo: Path):
    """A clean repository gives url, the HEAD commit and dirty=False, without a diff."""
    git(repo, "remote", "add", "origin", "https://example.com/proj.git")
    info = get_repository_info([str(repo / "exp.py"), str(repo / "util.py")])
    assert info == [
        {
            "url": "https://example.com/proj.git",
            "commit": git(repo, "rev-parse", "HEAD"),
            "dirty": False,
        }
    ]


def test_dirty_repository_records_diff_and_untracked_sources(repo: Path):
    """A modified tracked file makes the repository dirty; the diff holds it and new sources."""
    (repo / "util.py").write_text("X = 2\n")
    (repo / "new.py").write_text("Y = 3\n")
    (repo / "runs").mkdir()
    (repo / "runs" / "run.json").write_text("{}")
    (repo / ".env").write_text("TOKEN=secret\n")
    [info] = get_repository_info([str(repo / "exp.py"), str(repo / "new.py")])
    assert info["dirty"] is True
    assert info["url"] == f"git:/{repo}"  # no remote: Sacred's fallback
    assert "-X = 1\n+X = 2\n" in info["diff"]
    assert "+++ b/new.py\n@@ -0,0 +1,1 @@\n+Y = 3\n" in info["diff"]
    assert dirty_files(info) == ["new.py", "util.py"]
    assert "secret" not in info["diff"] and "runs/" not in info["diff"]


def test_diff_applies_to_the_commit(repo: Path, tmp_path: Path):
    """The stored diff recreates the dirty working tree from the recorded commit."""
    (repo / "util.py").write_text("X = 2\nZ = 0\n")
    (repo / "new.py").write_text("Y = 3")
    [info] = get_repository_info([str(repo / "exp.py"), str(repo / "new.py")])
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "checkout", "-q", info["commit"])
    patch = tmp_path / "run.diff"
    patch.write_text(info["diff"])
    git(clone, "apply", str(patch))
    assert (clone / "util.py").read_text() == "X = 2\nZ = 0\n"
    assert (clone / "new.py").read_text() == "Y = 3"


def test_staged_change_is_dirty(repo: Path):
    """A staged but uncommitted change counts as dirty, as in GitPython's is_dirty()."""
    (repo / "util.py").write_text("X = 5\n")
    git(repo, "add", "util.py")
    [info] = get_repository_info([str(repo / "util.py")])
    assert info["dirty"] is True
    assert "+X = 5" in info["diff"]


def test_untracked_files_alone_are_not_dirty(repo: Path):
    """Only untracked files: not dirty (Sacred's semantics), so no diff is stored."""
    (repo / "scratch.py").write_text("pass\n")
    [info] = get_repository_info([str(repo / "exp.py")])
    assert info["dirty"] is False
    assert "diff" not in info


def test_repository_without_commits(tmp_path: Path):
    """A repository with no commit yet gives commit None instead of crashing like Sacred."""
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "exp.py").write_text("A = 1\n")
    [info] = get_repository_info([str(tmp_path / "exp.py")])
    assert info["commit"] is None
    assert info["dirty"] is True
    assert "+A = 1" in info["diff"]


def test_detached_head(repo: Path):
    """A detached HEAD records the checked-out commit."""
    first = git(repo, "rev-parse", "HEAD")
    (repo / "util.py").write_text("X = 9\n")
    git(repo, "commit", "-q", "-am", "second")
    git(repo, "checkout", "-q", "--detach", first)
    [info] = get_repository_info([str(repo / "exp.py")])
    assert info["commit"] == first
    assert info["dirty"] is False


def test_packed_refs(repo: Path):
    """Commits referenced only from packed-refs are found."""
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    [info] = get_repository_info([str(repo / "exp.py")])
    assert info["commit"] == git(repo, "rev-parse", "HEAD")


def test_worktree(repo: Path, tmp_path: Path):
    """A linked worktree (a .git file) reports its own HEAD and the shared remote."""
    git(repo, "remote", "add", "upstream", "git@example.com:x/proj.git")
    git(repo, "branch", "side")
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "side")
    (tmp_path / "wt" / "exp.py").write_text("changed\n")
    [info] = get_repository_info([str(tmp_path / "wt" / "exp.py")])
    assert info["commit"] == git(repo, "rev-parse", "side")
    assert info["url"] == "git@example.com:x/proj.git"
    assert info["dirty"] is True


def test_submodule(repo: Path, tmp_path: Path):
    """A source inside a submodule belongs to the submodule's repository (its .git is a
    file pointing into the superproject's .git/modules)."""
    lib = tmp_path / "lib"
    lib.mkdir()
    git(lib, "init", "-q", "-b", "main")
    (lib / "helper.py").write_text("Y = 2\n")
    git(lib, "add", "helper.py")
    git(lib, "commit", "-q", "-m", "lib")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "lib")
    git(repo, "commit", "-q", "-m", "add lib")
    assert (repo / "lib" / ".git").is_file()
    [info] = get_repository_info([str(repo / "lib" / "helper.py")])
    assert info["commit"] == git(lib, "rev-parse", "HEAD")
    assert info["dirty"] is False
    outer, inner = get_repository_info([str(repo / "exp.py"), str(repo / "lib" / "helper.py")])
    assert {outer["commit"], inner["commit"]} == {
        git(repo, "rev-parse", "HEAD"),
        git(lib, "rev-parse", "HEAD"),
    }


def test_git_dir_of_the_environment_is_not_used(repo: Path, tmp_path: Path, monkeypatch):
    """GIT_DIR/GIT_WORK_TREE set for another repository do not change what is recorded for
    the sources: each source's own repository is read."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / "x.py").write_text("x\n")
    git(other, "add", "x.py")
    git(other, "commit", "-q", "-m", "other")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    (repo / "exp.py").write_text("changed\n")
    [info] = get_repository_info([str(repo / "exp.py")])
    assert info["commit"] == git(repo, "--git-dir", str(repo / ".git"), "rev-parse", "HEAD")
    assert info["dirty"] is True
    assert "exp.py" in dirty_files(info)


def test_no_repository(tmp_path: Path):
    """Paths outside any repository give no entries."""
    (tmp_path / "exp.py").write_text("")
    if find_repository(str(tmp_path)) is not None:
        pytest.skip("the temporary directory lies inside a git repository")
    assert get_repository_info([str(tmp_path / "exp.py"), str(tmp_path / "gone.py")]) == []


def test_git_missing(repo: Path, monkeypatch: pytest.MonkeyPatch):
    """Without a git binary the commit is still read from .git and dirty is None."""
    monkeypatch.setenv("PATH", "")
    [info] = get_repository_info([str(repo / "exp.py")])
    monkeypatch.undo()
    assert info == {"url": f"git:/{repo}", "commit": git(repo, "rev-parse", "HEAD"), "dirty": None}


def test_one_entry_per_repository(repo: Path, tmp_path: Path):
    """Sources from two repositories give two entries, each once, in order of first use."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / "lib.py").write_text("")
    git(other, "add", "lib.py")
    git(other, "commit", "-q", "-m", "x")
    paths = [str(other / "lib.py"), str(repo / "exp.py"), str(repo / "util.py")]
    info = get_repository_info(paths)
    assert [i["commit"] for i in info] == [
        git(other, "rev-parse", "HEAD"),
        git(repo, "rev-parse", "HEAD"),
    ]


def test_url_password_is_redacted(repo: Path):
    """A token in the remote URL is stored as ***."""
    git(repo, "remote", "add", "origin", "https://user:s3cret@example.com/proj.git")
    [info] = get_repository_info([str(repo / "exp.py")])
    assert info["url"] == "https://user:***@example.com/proj.git"
    assert redact_url("mongodb://a:b@h:27017/db") == "mongodb://a:***@h:27017/db"
    assert redact_url("git@github.com:x/y.git") == "git@github.com:x/y.git"


def test_huge_diff_is_truncated(repo: Path, monkeypatch: pytest.MonkeyPatch):
    """A diff beyond the size limit is cut with a marker instead of filling memory."""
    from sacredlite.info import git as git_info

    monkeypatch.setattr(git_info, "MAX_DIFF_BYTES", 2000)
    (repo / "util.py").write_text("".join(f"line {i}\n" for i in range(5000)))
    [info] = get_repository_info([str(repo / "exp.py")])
    assert info["dirty"] is True
    assert info["diff"].endswith("# diff truncated at 2000 bytes by sacredlite\n")
    assert len(info["diff"]) < 2200


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "Z", "1", ":", "/", "@", " ", "\n", "://", "x:y@", ".", "+", "é"]),
        max_size=24,
    ).map("".join)
)
def test_redaction_is_the_documented_rule(text: str):
    """redact_url rewrites exactly what its documented pattern matches, nothing else."""
    from sacredlite.info.git import _URL_PASSWORD

    assert redact_url(text) == _URL_PASSWORD.sub(r"\g<head>***", text)


def test_megabyte_strings_in_meta_do_not_stall_a_run(tmp_path: Path):
    """Runs with a megabyte update (ex.run) and a 100,000-character ``with`` update finish
    promptly (the redaction of meta was quadratic: 200,000 characters took 20 s)."""
    script = tmp_path / "big.py"
    script.write_text(
        "import sys\n"
        "from sacredlite import Experiment\n"
        "ex = Experiment('big')\n"
        "@ex.config\n"
        "def config():\n"
        "    extra = ''\n"
        "@ex.main\n"
        "def main(extra):\n"
        "    return len(extra)\n"
        "if len(sys.argv) > 1:\n"
        "    ex.run_commandline()\n"
        "else:\n"
        "    run = ex.run(config_updates={'extra': 'b' * 1_000_000 + '://x'})\n"
        "    assert run.meta_info['config_updates']['extra'].startswith('bbb')\n"
    )
    update = "extra='" + "b" * 100_000 + "://x'"
    for args in ([], ["with", update]):
        proc = subprocess.run(
            [sys.executable, str(script), *args, *(["-l", "WARNING"] if args else [])],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
