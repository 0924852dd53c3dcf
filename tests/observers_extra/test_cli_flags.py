"""``-t``, ``-s`` and ``-S`` with a bad value: a hint naming the flag, then Sacred's error."""

from __future__ import annotations

import pytest

from sacredlite import Experiment
from sacredlite.observers import S3Observer, SqlObserver, TinyDbObserver


def _experiment() -> Experiment:
    ex = Experiment("flags", save_git_info=False)

    @ex.main
    def main():
        return 1

    return ex


def _fails(capsys, *argv: str) -> list[str]:
    with pytest.raises(SystemExit) as exit_info:
        _experiment().run_commandline(["prog", *argv, "-C", "sys"])
    assert exit_info.value.code == 1
    return capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize(
    ("argv", "hint", "last_line"),
    [
        (
            ["-s", "notaurl"],
            "-s/--sql takes a SQLAlchemy URL such as sqlite:///runs.db",
            "sqlalchemy.exc.ArgumentError: Could not parse SQLAlchemy URL from given URL string",
        ),
        (
            ["--sql", "nodialect://ann:secret@host/db"],
            "(got 'nodialect://ann:***@host/db')",
            "sqlalchemy.exc.NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:nodialect",
        ),
        (
            ["-S", "s3:/no-bucket"],
            "-S/--s3 takes s3://BUCKET/PATH (got 's3:/no-bucket').",
            "ValueError: Valid bucket specification not found. Enter bucket and directory path "
            "like: s3://<bucket>/path/to/exp",
        ),
        (
            ["-S", "s3://Bad_Bucket/x"],
            "The bucket 'Bad_Bucket' is not a valid name",
            "ValueError: Your chosen bucket name doesn't follow AWS bucket naming rules",
        ),
        (
            ["-t", "/proc/no/such/dir"],
            "-t/--tiny_db takes a directory that exists or can be made",
            "FileNotFoundError: [Errno 2] No such file or directory: '/proc/no'",
        ),
    ],
)
def test_bad_values_are_a_hint_and_sacreds_error(capsys, monkeypatch, argv, hint, last_line):
    """The hint names the flag and the value (its password hidden), the last line is the
    error Sacred raises, and no traceback is printed."""
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("boto3")
    pytest.importorskip("tinydb")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    lines = _fails(capsys, *argv)
    assert lines[-1] == last_line
    assert any(hint in line for line in lines[:-1])
    assert not any(line.startswith("Traceback") for line in lines)
    assert not any("secret" in line for line in lines)


def test_flags_attach_sacreds_observers(tmp_path, monkeypatch):
    """Each flag attaches its observer, as Sacred's options do."""
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("boto3")
    pytest.importorskip("tinydb")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    from sacredlite.commandline_options import s3_option, sql_option, tiny_db_option

    ex = _experiment()
    tiny_db_option(str(tmp_path / "db"), ex)
    sql_option(f"sqlite:///{tmp_path / 'runs.db'}", ex)
    s3_option("s3://a-bucket/some/prefix", ex)
    tiny, sql, s3 = ex.observers
    assert isinstance(tiny, TinyDbObserver) and tiny.root == str(tmp_path / "db")
    assert isinstance(sql, SqlObserver) and sql.priority == 40
    assert isinstance(s3, S3Observer) and (s3.bucket, s3.basedir) == ("a-bucket", "some/prefix")
    sql.engine.dispose()
