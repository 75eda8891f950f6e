"""Fixtures for the browser tests: one JupyterLab server and one headless Chromium per session.

Server and browser are always shut down, also when a test fails; see
browser_support.py for how the server is started and isolated.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, LabServer, browser_unavailable


@pytest.fixture(scope="session")
def lab_server():
    reason = browser_unavailable()
    if reason:
        pytest.skip(reason)
    workdir = Path(tempfile.mkdtemp(prefix="gdcourse-browser-"))
    server = LabServer(workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    reason = browser_unavailable()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def pytest_collection_modifyitems(config, items):
    """Without a browser, keep one browser test, skipped with the reason, and deselect the others.

    So ``pytest`` prints the reason on one line and still exits 0 (a module-level skip
    would leave nothing collected, which pytest reports with exit code 5).
    """
    reason = browser_unavailable()
    browser_items = [item for item in items if Path(item.path).parent == Path(__file__).parent]
    if reason is None or not browser_items:
        return
    browser_items[0].add_marker(pytest.mark.skip(reason=reason))
    others = set(browser_items[1:])
    config.hook.pytest_deselected(items=browser_items[1:])
    items[:] = [item for item in items if item not in others]
