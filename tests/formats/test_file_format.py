"""The primitives of Sacred's file layout in ``sacredlite.formats.file``."""

from __future__ import annotations

import json
import os
import random
import stat
import subprocess
import sys
from array import array
from pathlib import Path

import pytest

from sacredlite.events import MetricPoints, RunStatus
from sacredlite.formats import file as fmt
from sacredlite.formats._io import _temporary, open_atomic
from sacredlite.formats._metrics_text import encode_series, epoch_stamps_text


class TestOpenAtomic:
    def test_replaces_the_file_when_the_block_ends(self, tmp_path: Path) -> None:
        """The new content appears at once, with the permissions asked for."""
        target = tmp_path / "index.pickle"
        target.write_bytes(b"old")
        with open_atomic(target, 0o600) as file:
            file.write(b"new ")
            assert target.read_bytes() == b"old"
            file.write(b"content")
        assert target.read_bytes() == b"new content"
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert os.listdir(tmp_path) == ["index.pickle"]

    def test_an_error_leaves_the_old_file(self, tmp_path: Path) -> None:
        """A failure inside the block removes the temporary file and keeps the old one."""
        target = tmp_path / "metrics.json"
        target.write_bytes(b"old")
        with pytest.raises(RuntimeError), open_atomic(target) as file:
            file.write(b"half")
            raise RuntimeError("disk full")
        assert target.read_bytes() == b"old"
        assert os.listdir(tmp_path) == ["metrics.json"]

    def test_never_writes_through_a_link_at_the_temporary_name(self, tmp_path: Path) -> None:
        """A link planted where the temporary file goes is replaced, its target untouched."""
        target = tmp_path / "omniboard.json"
        outside = tmp_path / "outside.txt"
        outside.write_text("secret")
        os.symlink(outside, _temporary(target))  # where this thread's temporary file goes
        with open_atomic(target) as file:
            file.write(b"{}")
        assert outside.read_text() == "secret"
        assert target.read_bytes() == b"{}" and not target.is_symlink()


def test_times_are_formatted_like_datetimes() -> None:
    """The times of compact points are the ISO forms of MetricPoints.timestamps(), whole
    seconds, repeated milliseconds and a clock stepping back included."""
    rng = random.Random(7)
    base = 1_795_000_000.0
    stamps = [base + rng.choice((0, 0.0004, 0.001, 1, -0.002, 0.9999)) * k for k in range(500)]
    stamps += [base, base, base + 1, base + 1.0005]
    points = MetricPoints("m", range(len(stamps)), array("d"), array("d", stamps))
    expected = ",".join(f'"{t.isoformat()}"' for t in points.timestamps())
    assert epoch_stamps_text(array("d", stamps)) == expected
    assert epoch_stamps_text(array("d")) == ""


def test_ascending_times_are_cut_by_millisecond() -> None:
    """Times that never go back (cut by bisection) give the same text as datetimes."""
    rng = random.Random(3)
    stamps = sorted(1_795_000_000.0 + rng.random() * 3 for _ in range(20_000))
    stamps += [1_795_000_003.0] * 5 + [1_795_000_003.0009, 1_795_000_004.0]
    points = MetricPoints("m", range(len(stamps)), array("d"), array("d", stamps))
    expected = ",".join(f'"{t.isoformat()}"' for t in points.timestamps())
    assert epoch_stamps_text(array("d", stamps)) == expected


@pytest.mark.parametrize(
    "values",
    [[0.5, -0.0, 1e300, 5e-324, 0.1 + 0.2, 123456789.0], [1.0, float("nan"), -float("inf")]],
    ids=["finite", "special"],
)
def test_float_values_are_written_as_json_writes_them(values: list[float]) -> None:
    """Float arrays give the text of json.dumps, NaN and infinities included."""
    stamps = array("d", [0.0] * len(values))
    points = MetricPoints("m", range(len(values)), array("d", values), stamps)
    _, _, (_, _, encoded) = encode_series("m", points, lambda where: str)
    assert encoded == (json.dumps(values, separators=(",", ":"))[1:-1], None)


def test_run_entries_have_sacreds_keys() -> None:
    """A started run's entry has Sacred's keys and its status as a plain string."""
    entry = fmt.new_run_entry(RunStatus.RUNNING, {"name": "e"}, "main", {}, {}, None)
    assert entry["status"] == "RUNNING" and type(entry["status"]) is str
    assert sorted(entry) == [
        "artifacts",
        "command",
        "experiment",
        "heartbeat",
        "host",
        "meta",
        "resources",
        "status",
    ]


def test_names_of_the_layout() -> None:
    """Runs are the entries not starting with _ or .; stored names carry their md5."""
    assert fmt.is_run_name("7") and fmt.is_run_name("baseline")
    assert not any(map(fmt.is_run_name, ("_sources", "_resources", ".metrics_spill", "")))
    assert fmt.stored_md5("_sources/exp_0123abcd.py") == "0123abcd"
    assert fmt.stored_md5("_resources/my_data_ff00.tar.gz") == "ff00.tar"  # Path.stem's rule


def test_safe_reads_refuse_links_leading_outside(tmp_path: Path) -> None:
    """open_inside refuses a run file that is a link to a file outside the root."""
    (tmp_path / "root" / "1").mkdir(parents=True)
    (tmp_path / "secret").write_text("x")
    os.symlink(tmp_path / "secret", tmp_path / "root" / "1" / "cout.txt")
    with pytest.raises(fmt.UnsafePathError, match="outside"):
        fmt.open_inside(tmp_path / "root", "1", "cout.txt")


def test_importing_the_format_loads_no_heavy_module() -> None:
    """The file format imports neither jsonpickle nor hashlib until a value needs them."""
    code = (
        "import sys, sacredlite.formats.file\n"
        "print(sorted(m for m in ('jsonpickle', 'hashlib', 'numpy') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"
