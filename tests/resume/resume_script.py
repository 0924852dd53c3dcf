"""The counter experiment the resume tests run: it can fail part-way and resume."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from checkout import THIS_CHECKOUT

SCRIPT = textwrap.dedent('''
    """Counts to `steps`, logging `loss`; fails at step `fail_at` unless resumed."""
    import json
    import os

    from sacredlite import Experiment

    ex = Experiment("counter")


    @ex.config
    def cfg():
        lr = 0.1
        steps = 6
        fail_at = 3


    @ex.named_config
    def longer():
        steps = 9


    @ex.named_config
    def same():
        steps = 6


    @ex.automain
    def main(lr, steps, fail_at, _run):
        start = _run.last_steps.get("loss", -1) + 1
        if _run.resumed:
            with _run.open_artifact("checkpoint.json") as handle:
                state = json.load(handle)
            print(f"resume {_run.resume_count} from checkpoint {state['step']}")
        for step in range(start, steps):
            if step == fail_at and not _run.resumed:
                raise RuntimeError(f"failed at step {step}")
            _run.log_scalar("loss", lr * step)
            with open("checkpoint.json", "w") as handle:
                json.dump({"step": step}, handle)
            _run.add_artifact("checkpoint.json")
            print(f"step {step}")
        return steps
''')


def run_counter(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python counter.py ARGS`` in *cwd* with this checkout's sacredlite."""
    return subprocess.run(
        [sys.executable, "counter.py", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=THIS_CHECKOUT,
    )
