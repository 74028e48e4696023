"""The app's safety net for lost pages (workbench.ui.voila_app.kernels_to_shut_down), sweep by
sweep on a made-up clock: a page still loading is not mistaken for a page that went away.

CI once failed here: on a busy machine a visitor's page took longer than the timeout to connect
its kernel, the sweep shut the kernel down, and the page never came up.
"""

from __future__ import annotations

from workbench.ui.voila_app import kernels_to_shut_down

TIMEOUT, GRACE = 10, 60


def sweep(state, visitors, connections, now):
    watch, seen = state
    return kernels_to_shut_down(set(visitors), connections, watch, seen, now, TIMEOUT, GRACE)


def test_a_page_still_loading_keeps_its_kernel_past_the_timeout():
    state = ({}, set())
    for now in range(0, TIMEOUT + GRACE):           # a sweep a second, no page connected yet
        assert sweep(state, {"k"}, {}, float(now)) == [], now
    assert sweep(state, {"k"}, {"k": 1}, 70.0) == []  # the page connects at last


def test_a_page_that_never_connects_is_given_up_after_the_grace():
    state = ({}, set())
    assert sweep(state, {"k"}, {}, 0.0) == []
    assert sweep(state, {"k"}, {}, float(TIMEOUT + GRACE)) == ["k"]


def test_a_page_that_went_away_frees_its_kernel_after_the_timeout():
    state = ({}, set())
    assert sweep(state, {"k"}, {"k": 1}, 0.0) == []     # connected
    assert sweep(state, {"k"}, {}, 1.0) == []           # gone: the clock starts
    assert sweep(state, {"k"}, {}, 1.0 + TIMEOUT - 0.5) == []
    assert sweep(state, {"k"}, {}, 1.0 + TIMEOUT) == ["k"]


def test_a_page_seen_connecting_between_sweeps_counts_as_connected():
    # the app records connections as they happen (notify_connect), not only at sweeps
    watch, seen = {}, {"k"}
    assert kernels_to_shut_down({"k"}, {}, watch, seen, 0.0, TIMEOUT, GRACE) == []
    assert kernels_to_shut_down({"k"}, {}, watch, seen, float(TIMEOUT), TIMEOUT, GRACE) == ["k"]


def test_a_reconnecting_page_resets_the_clock_and_gone_kernels_are_forgotten():
    state = ({}, set())
    sweep(state, {"k"}, {"k": 1}, 0.0)
    sweep(state, {"k"}, {}, 1.0)
    sweep(state, {"k"}, {"k": 1}, 5.0)                  # back (a network blip)
    assert sweep(state, {"k"}, {}, 6.0) == []
    assert sweep(state, {"k"}, {}, 6.0 + TIMEOUT - 1) == []
    assert sweep(state, set(), {}, 100.0) == []         # shut down by its page meanwhile
    assert state == ({}, set())
