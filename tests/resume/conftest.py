"""Fixtures for the resume tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from resume_script import SCRIPT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory holding the counter experiment (``counter.py``)."""
    (tmp_path / "counter.py").write_text(SCRIPT)
    return tmp_path
