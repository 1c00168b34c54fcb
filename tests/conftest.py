from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project() -> Path:
    return PROJECT


@pytest.fixture
def asv_home(tmp_path, monkeypatch) -> Path:
    """A private HOME, so asv's ~/.asv-machine.json is the test's own."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home
