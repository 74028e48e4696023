"""The JUCE probe is built once per run (``make -C juce``: incremental, a no-op when built)."""

from __future__ import annotations

import pytest
from juce_probe import build_probe, juce_missing


@pytest.fixture(scope="session")
def probe_binary():
    reason = juce_missing()
    if reason:
        pytest.skip(reason)
    return build_probe()
