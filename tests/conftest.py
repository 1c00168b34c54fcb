"""Fixtures every test file may ask for by name; plain helpers live in ``helpers.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import FIXTURE_RESULTS, PROJECT


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory):
    """The parsed-results cache of this test session, not the user's ~/.cache/ptbench (child
    processes inherit it through the environment)."""
    import os

    folder = tmp_path_factory.mktemp("ptbench-cache")
    previous = os.environ.get("PTBENCH_CACHE")
    os.environ["PTBENCH_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("PTBENCH_CACHE", None)
    else:
        os.environ["PTBENCH_CACHE"] = previous


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


@pytest.fixture
def results_copy(tmp_path) -> Path:
    """A private copy of the fixture results (two back-to-back runs of the real suite)."""
    import shutil

    target = tmp_path / "results"
    shutil.copytree(FIXTURE_RESULTS, target)
    return target
