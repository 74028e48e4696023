"""Fixtures for the service tests: a real service on a free loopback port per test module.

Tests that need special settings use ``make_service``. Helpers are in ``server_testlib``.
"""

from __future__ import annotations

import pytest
from server_testlib import settings_for

from server.kernel import run_service


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    handle = run_service(settings_for(tmp_path_factory.mktemp("band")))
    yield handle
    handle.stop()


@pytest.fixture
def make_service(tmp_path):
    handles = []

    def make(**overrides):
        folder = overrides.pop("folder", None) or tmp_path / f"band{len(handles)}"
        handle = run_service(settings_for(folder, **overrides))
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.stop()
