"""Output capturing: the \\r/\\b filter, incremental reads, and fd/sys/no modes for real."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sacredlite.capture import capture_output, get_capturer
from sacredlite.capture._filter import _Renderer
from sacredlite.utils import apply_backspaces_and_linefeeds


def sacred_reference(text: str) -> str:
    """Sacred's documented semantics, one character at a time."""
    lines = text.split("\n")
    out = []
    for li, line in enumerate(lines):
        chars: list[str] = []
        cur = 0
        for ci, ch in enumerate(line):
            last = li == len(lines) - 1 and ci == len(line) - 1
            if ch == "\r" and not last:
                cur = 0
            elif ch == "\b":
                cur = max(0, cur - 1)
            else:
                if ch == "\r":
                    cur = len(chars)
                if cur == len(chars):
                    chars.append(ch)
                else:
                    chars[cur] = ch
                cur += 1
        out.append("".join(chars))
    return "\n".join(out)


class TestFilter:
    @pytest.mark.parametrize(
        ("raw", "shown"),
        [
            ("abc\bd", "abd"),
            ("hello\rab", "abllo"),
            ("line\r\nnext", "line\nnext"),
            ("50%\r100%\n", "100%\n"),
            ("\b\bx", "x"),
            ("abc\r", "abc\r"),
            ("", ""),
        ],
    )
    def test_examples(self, raw: str, shown: str):
        """Backspaces and carriage returns are interpreted as a terminal shows them."""
        assert apply_backspaces_and_linefeeds(raw) == shown

    @settings(max_examples=300, deadline=None)
    @given(
        text=st.text(alphabet="ab\r\b\n", max_size=60),
        cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=6),
    )
    def test_incremental_equals_whole(self, text: str, cuts: list[int]):
        """Feeding the text in any chunks gives Sacred's result for the whole text."""
        renderer = _Renderer()
        bounds = [0, *sorted(c for c in cuts if c <= len(text)), len(text)]
        out = "".join(renderer.feed(text[a:b]) for a, b in pairwise(bounds))
        assert out + renderer.finish() == sacred_reference(text)

    def test_progress_bar_keeps_last_state(self):
        """10,000 \\r redraws of a progress bar leave one line, whatever the chunking."""
        renderer = _Renderer()
        out = []
        for i in range(10_001):
            out.append(renderer.feed(f"\r{i / 100:6.2f}% |{'#' * (i // 500):<20}|"))
        out.append(renderer.feed("\ndone\n"))
        assert "".join(out) + renderer.finish() == "100.00% |####################|\ndone\n"


def tqdm_like(write):
    for i in range(10_000):
        write(f"\r{(i + 1) / 100:5.1f}%|{'#' * ((i + 1) // 1000):<10}| {i + 1}/10000")
    write("\n")


def test_sys_capture_tqdm_loop_is_a_handful_of_lines():
    """A tqdm-style loop of 10,000 updates is captured as one line in sys mode."""
    with capture_output("sys") as cap:
        print("start")
        tqdm_like(sys.stderr.write)
        print("end")
    assert cap.text == "start\n100.0%|##########| 10000/10000\nend\n"


def test_fd_capture_catches_subprocesses_and_raw_fds(capfd: pytest.CaptureFixture[str]):
    """fd mode captures Python, subprocess and raw file-descriptor output, and tees it."""
    with capture_output("fd") as cap:
        print("from python")
        subprocess.run(["sh", "-c", "echo from child; echo child err >&2"], check=True)
        os.write(1, "raw é".encode()[:-1])  # a UTF-8 character split across two writes
        os.write(1, "raw é\n".encode()[-2:])
        sys.stderr.write("py err\n")
    text = cap.text
    for line in ("from python\n", "from child\n", "child err\n", "raw é\n", "py err\n"):
        assert line in text
    seen = capfd.readouterr()
    assert "from child" in seen.out and "child err" in seen.err  # the user still sees it


def test_fd_capture_keeps_the_order_of_prints_and_log_lines(tmp_path):
    """In fd mode a log handler writing to the original stderr and print() interleave in
    the order they happened, in the capture and on the terminal, and never merge."""
    script = tmp_path / "order.py"
    script.write_text(
        "import logging, sys\n"
        "from sacredlite.capture import capture_output\n"
        "handler = logging.StreamHandler(sys.stderr)\n"
        "log = logging.getLogger('order')\n"
        "log.addHandler(handler)\n"
        "log.setLevel(logging.INFO)\n"
        "with capture_output('fd') as cap:\n"
        "    for i in range(50):\n"
        "        log.info('log %d', i)\n"
        "        print('print', i)\n"
        "    print('done')\n"
        "    log.info('result')\n"
        "sys.__stdout__.write('CAPTURED:' + repr(cap.text) + '\\n')\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True
    )
    expected = "".join(f"log {i}\nprint {i}\n" for i in range(50)) + "done\nresult\n"
    captured = proc.stdout.rsplit("CAPTURED:", 1)[1].strip()
    assert eval(captured) == expected  # noqa: S307 - our own repr


def test_fd_capture_tqdm_from_subprocess():
    """A child process redrawing a progress bar 10,000 times yields a handful of lines."""
    code = (
        "import sys\n"
        "for i in range(10000):\n"
        "    sys.stderr.write(f'\\r{i + 1}/10000')\n"
        "sys.stderr.write('\\n')\n"
    )
    with capture_output("fd") as cap:
        subprocess.run([sys.executable, "-c", code], check=True)
    assert cap.text == "10000/10000\n"


def test_fd_capture_restores_descriptors():
    """After fd capture, descriptors 1 and 2 point where they did before."""
    before = [os.fstat(fd).st_ino for fd in (1, 2)]
    streams = (sys.stdout, sys.stderr)
    with capture_output("fd"):
        print("x")
    assert [os.fstat(fd).st_ino for fd in (1, 2)] == before
    assert (sys.stdout, sys.stderr) == streams


def test_sys_capture_misses_subprocess_output(capfd: pytest.CaptureFixture[str]):
    """sys mode captures Python-level writes only; child output passes by."""
    with capture_output("sys") as cap:
        print("py")
        subprocess.run(["sh", "-c", "echo child"], check=True)
    assert cap.text == "py\n"
    assert "child" in capfd.readouterr().out


def test_no_capture():
    """'no' captures nothing."""
    with capture_output("no") as cap:
        print("x")
    assert (cap.get_new(), cap.text) == ("", "")


@pytest.mark.parametrize("mode", ["sys", "fd"])
def test_get_new_is_incremental(mode: str):
    """get_new returns only new complete lines; the unfinished line comes after stop."""
    cap = get_capturer(mode)
    with cap:
        print("one")
        sys.stdout.flush()
        first = _wait_for(cap, "one\n")
        print("two\nthr", end="")
        sys.stdout.flush()
        second = _wait_for(cap, "two\n")
        assert cap.text.endswith("two\nthr")
    assert (first, second, cap.get_new(), cap.get_new()) == ("one\n", "two\n", "thr", "")
    assert cap.text == "one\ntwo\nthr"


def _wait_for(cap, expected: str) -> str:
    """Poll get_new until *expected* arrived (fd mode copies in a thread)."""
    import time

    got = ""
    deadline = time.monotonic() + 5
    while got != expected and time.monotonic() < deadline:
        got += cap.get_new()
        if got != expected:
            time.sleep(0.005)
    return got


def test_custom_and_raw_filters():
    """A custom filter sees complete lines; None keeps the raw text."""
    with capture_output("sys", lambda text: text.upper()) as upper:
        print("a\rb")
        print("tail", end="")
    assert upper.text == "A\rB\nTAIL"
    with capture_output("sys", None) as raw:
        print("a\rb", end="")
    assert raw.text == "a\rb"


def test_unknown_mode_suggests():
    """An unknown capture mode raises, suggests the closest and lists the valid ones."""
    with pytest.raises(ValueError, match="Did you mean 'sys'.*'fd', 'no', 'sys'"):
        get_capturer("sy")


def test_work_per_chunk_does_not_grow_with_the_output():
    """Capturing 40 MB costs the same per chunk at the end as at the start (no re-scans)."""
    import statistics
    import time

    cap = get_capturer("no")  # the filtering machinery, fed directly
    chunk = ("plain line of output\n" * 2000) + "".join(f"\r{i}%|###" for i in range(500)) + "\n"
    timings = []
    for _ in range(800):  # about 40 MB in total
        start = time.thread_time()  # CPU time: other processes' load does not count
        cap._push(chunk)
        cap.get_new()
        timings.append(time.thread_time() - start)
    early = statistics.median(timings[50:150])
    late = statistics.median(timings[-100:])
    assert late < 4 * early, (early, late)
    assert len(cap.text) > 30_000_000


def test_fd_mode_falls_back_to_sys_without_descriptors():
    """With descriptor 1 closed, fd mode captures at the sys level instead of failing."""
    code = (
        "import os, sys\n"
        "from sacredlite.capture import capture_output\n"
        "os.close(1)\n"
        "sys.stdout = sys.stderr\n"
        "with capture_output('fd') as cap:\n"
        "    print('still captured')\n"
        "sys.stderr.write(repr(cap.text))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.endswith("'still captured\\n'")
