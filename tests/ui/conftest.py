"""Fixtures for the UI tests (no browser): real arrangements from the engine."""

from __future__ import annotations

import os

import pytest

EXAMPLE = "| C | Am | F | G |"


@pytest.fixture(autouse=True, scope="session")
def _ui_log(tmp_path_factory):
    os.environ.setdefault("WORKBENCH_UI_LOG", str(tmp_path_factory.mktemp("log") / "ui.log"))


@pytest.fixture(scope="session")
def arrangement():
    import workbench

    return workbench.generate(EXAMPLE, style="pop", tempo=120, seed=3)


@pytest.fixture(scope="session")
def blues():
    import workbench

    text = "| C7 | C7 | C7 | C7 | F7 | F7 | C7 | C7 | G7 | F7 | C7 | G7 |"
    return workbench.generate(text, style="shuffle", tempo=100, seed=1)
