"""The learner's JupyterLab, as ``gdcourse lab`` (and ``make lab``) opens it, seen in Chromium.

A first start with an empty Jupyter user folder (where JupyterLab 4 asks "Would you like
to get notified about official Jupyter news?"), with nbgrader installed beside it (as in
the development environment): the start notebook opens, there is no news question, no
Nbgrader menu and no "Create Assignment" sidebar. The instructor's lab (``--instructor``,
``make instructor``) shows nbgrader's menu when nbgrader is installed. Screenshots go to
``artifacts/screenshots/`` (ignored by git).
"""

from __future__ import annotations

import importlib.util
import shutil

import pytest
from browser_support import SCREENSHOTS, VIEWPORT
from lab_helpers import running_lab

from gdcourse import lab

NEWS_QUESTION = "official Jupyter news"


def open_start_page(browser, server, screenshot: str):
    """The page at the server's root (which redirects to the start notebook), once the kernel is idle."""
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{server.url}/?token={server.token}")
    page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
    # The news question is asked while the lab starts up; by the time the kernel is idle it is on screen.
    page.wait_for_selector(".jp-StatusBar-Widget :text('Idle')", timeout=60_000)
    page.wait_for_timeout(2_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / screenshot))
    return page


def menus(page) -> list[str]:
    return [label.strip() for label in page.locator(".lm-MenuBar-itemLabel").all_inner_texts()]


@pytest.mark.parametrize("role", ["learner", "instructor"])
def test_start_page_of_the_lab(role, browser, tmp_path):
    mine, home = tmp_path / "mine", tmp_path / "home"
    home.mkdir()
    lab.copy_notebooks(lab.student_notebooks(), mine)
    with running_lab(mine, role, home) as server:
        page = open_start_page(browser, server, f"clean_lab_{role}.png")
        try:
            tab = page.locator(".jp-NotebookPanel .jp-mod-current, .lm-DockPanel-tabBar .lm-mod-current")
            assert "00_start_here.ipynb" in " ".join(tab.all_inner_texts())
            assert NEWS_QUESTION not in page.inner_text("body")
            sidebar = " ".join(page.locator(".jp-SideBar .lm-TabBar-tab").evaluate_all(
                "tabs => tabs.map(t => t.title + ' ' + t.innerText)"))
            nbgrader_here = role == "instructor" and importlib.util.find_spec("nbgrader") is not None
            assert ("Nbgrader" in menus(page)) == nbgrader_here, menus(page)
            assert ("Create Assignment" in sidebar) == nbgrader_here, sidebar
        finally:
            page.close()
    shutil.rmtree(mine, ignore_errors=True)
