"""Every course notebook, run in real JupyterLab in headless Chromium, as a learner would.

For each notebook in ``solutions/`` and ``notebooks/`` (found by glob, so new ones
are covered as they land): open it, give it Run All Cells (the command the Run menu
item calls) once its kernel is idle, wait for the run to finish, then check that

- the kernel started without a "Select Kernel" dialog and every code cell ran;
- no cell has an error output (read from the notebook model in the page);
- every widget output rendered as a live widget: no text fallback such as
  ``VBox(children=...)`` (front-end extension missing) and no "Error displaying
  widget" / "Failed to load model class" (ipywidgets version mismatch);
- changing a control changes the plot it drives: the widget's controls are used
  one at a time (a keyboard ArrowRight on a slider's handle first, then another
  dropdown choice, a checkbox, a radio button, a button) until the bytes of the
  widget's PNG images change; controls that rightly change nothing are noted.
  Chapters 01-09 must have such a widget. ``solutions/`` uses the first one and
  ``notebooks/`` the last one, so the pair of runs covers two of them. A notebook
  without a plot widget (the practice notebook) clicks the first button of its
  first widget instead and checks that the widget's text changed.

How long the answer takes is recorded, not asserted: for each control moved, the time from
the browser event (key press, choice, click) to the first new picture decoded in the page,
and to the last one before the kernel went idle (an explorer that trains shows a cheap
picture first), in ``artifacts/browser/latency.json``.

Screenshots go to ``artifacts/screenshots/`` (ignored by git) for a person to look at:
the screen around the widget that was moved, for every notebook, and the whole notebook
after the run for ``solutions/``, for a notebook whose test failed, and for all of them
with ``GDCOURSE_FULL_SCREENSHOTS=1``.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import time
from pathlib import Path

import pytest
from browser_support import REPO, SCREENSHOTS, VIEWPORT
from latency import JS_READ_LATENCY, JS_WATCH_LATENCY, describe_latency, record_latency

NOTEBOOKS = sorted(path.relative_to(REPO).as_posix()
                   for folder in ("solutions", "notebooks") for path in (REPO / folder).glob("*.ipynb"))
KERNEL_READY_TIMEOUT = 90.0
RUN_TIMEOUT = 180.0          # per notebook; the design budget is 20 s on 2 cores
WIDGETS_RENDER_TIMEOUT = 30.0
AHEAD = 2                    # notebooks open at once: one in its test, the next one running
# More at once (three, or two pytest-xdist workers with a server and a browser each) was
# measured slower on 2 cores: the suite is CPU-bound, and more contention costs more CPU.
PLOT_CHANGE_TIMEOUT = 30.0
CONTROL_MESSAGE_TIMEOUT = 3.0  # a control that sent nothing to the kernel by then sent nothing
# An explorer answers a change from the browser on the kernel's event loop after the message
# (the latest value wins), while the kernel already reports idle: wait that long for its picture.
PICTURE_AFTER_IDLE_TIMEOUT = 5.0
FULL_SCREENSHOT_MAX_HEIGHT = 30_000  # px; taller notebooks are cut (Chromium's limit is near 32k)
CHAPTER = re.compile(r"(0[1-9]|11)_")  # notebooks that must have a plot explorer (DESIGN.md; 10 is the mock interview)
WIDGET_TEXT_FALLBACK = re.compile(r"^\s*\w+\(children=", re.MULTILINE)
WIDGET_FAILURES = ("Error displaying widget", "Failed to load model class", "Loading widget")
# The controls the test can use, in the order it tries them (a text box is not among them).
CONTROLS = (".noUi-handle", ".widget-dropdown select", ".widget-checkbox input[type=checkbox]",
            ".widget-radio-box input[type=radio]:not(:checked)", "button.jupyter-button:visible:enabled")
CSS_CONTROLS = ", ".join(selector.replace(":visible", "") for selector in CONTROLS)  # for querySelector

# JavaScript run in the page. window.jupyterapp exists because the server runs with
# --LabApp.expose_app_in_browser; the notebook model is the truth about outputs.
JS_PANEL = """(path) => [...window.jupyterapp.shell.widgets('main')]
                          .find(w => w.context && w.context.path === path)"""
JS_RUN_STATE = f"""(path) => {{
  const panel = ({JS_PANEL})(path);
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const busy = panel.content.widgets.filter(c => c.model.type === 'code'
                                            && (c.promptNode?.textContent || '').includes('*')).length;
  return {{kernel: kernel ? kernel.status : 'none', busy}};
}}"""
JS_CELLS = f"""(path) => {{
  const panel = ({JS_PANEL})(path);
  return panel.content.widgets.map((cell, index) => {{
    if (cell.model.type !== 'code') return null;
    const outputs = cell.model.outputs.toJSON();
    const nodes = [...cell.node.querySelectorAll('.jp-OutputArea-child > .jp-OutputArea-output')];
    return {{
      index, count: cell.model.executionCount, timing: cell.model.getMetadata('execution') || {{}},
      errors: outputs.filter(o => o.output_type === 'error').map(o => `${{o.ename}}: ${{o.evalue}}`),
      widgets: outputs.filter(o => o.data && o.data['application/vnd.jupyter.widget-view+json']).length,
      rendered: nodes.filter(n => n.querySelector('.jupyter-widgets')).length,
      texts: nodes.map(n => n.textContent || ''),  // not innerText: it would lay out every cell
    }};
  }}).filter(Boolean);
}}"""
# Mark the widget to try: the first (or last) widget output with a PNG image and a control.
JS_MARK_PLOT_WIDGET = f"""([path, pickLast, controls]) => {{
  const roots = [...({JS_PANEL})(path).node.querySelectorAll('.jp-OutputArea-output')]
    .map(n => n.querySelector(':scope > .jupyter-widgets'))
    .filter(w => w && w.querySelector('img.widget-image') && w.querySelector(controls));
  const target = pickLast ? roots[roots.length - 1] : roots[0];
  if (!target) return 0;
  target.setAttribute('data-browser-test', 'plot-widget');
  return roots.length;
}}"""
JS_MARK_BUTTON_WIDGET = f"""(path) => {{
  const root = [...({JS_PANEL})(path).node.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets')]
    .find(w => [...w.querySelectorAll('button')].some(b => b.offsetParent !== null && !b.disabled));
  if (!root) return false;
  root.setAttribute('data-browser-test', 'button-widget');
  return true;
}}"""
JS_BUSY_COUNT = f"""(path) => {{
  window.kernelBusyCount = window.kernelBusyCount || {{}};
  if (window.kernelBusyCount[path] === undefined) {{
    window.kernelBusyCount[path] = 0;
    ({JS_PANEL})(path).sessionContext.session.kernel.statusChanged.connect((_, status) => {{
      if (status === 'busy') window.kernelBusyCount[path] += 1;
    }});
  }}
  return window.kernelBusyCount[path];
}}"""
JS_WINDOW_HEIGHT_FOR_WHOLE_NOTEBOOK = f"""(path) => {{
  const scroller = ({JS_PANEL})(path).node.querySelector('.jp-WindowedPanel-outer');
  return Math.ceil(scroller.scrollHeight + window.innerHeight - scroller.clientHeight);
}}"""
# Open the notebook and, once its kernel is connected and idle, Run All Cells (the command
# behind Run > Run All Cells). It returns at once; window.runAll[path] tells how far it got,
# so the test of the previous notebook goes on while this one opens and its kernel starts.
JS_OPEN_AND_RUN_ALL = """(path) => {
  window.runAll = window.runAll || {};
  window.runAll[path] = 'opening';
  const app = window.jupyterapp;
  const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms));
  (async () => {
    const panel = await app.commands.execute('docmanager:open', {path});
    await panel.context.ready;
    await panel.sessionContext.ready;
    window.runAll[path] = 'starting the kernel';
    const kernel = () => panel.sessionContext.session && panel.sessionContext.session.kernel;
    while (!(kernel() && kernel().connectionStatus === 'connected' && kernel().status === 'idle')) await sleep(100);
    app.shell.activateById(panel.id);
    app.commands.execute('notebook:run-all-cells')
      .catch(error => { window.runAll[path] = 'Run All Cells failed: ' + error; });
    window.runAll[path] = 'started';
  })().catch(error => { window.runAll[path] = 'opening failed: ' + error; });
  return true;
}"""
# Close the notebook's tab without the "save your changes?" dialog (autosave is off, nothing is saved).
JS_DISCARD = f"""(path) => {{
  const panel = ({JS_PANEL})(path);
  if (panel) {{ panel.context.model.dirty = false; panel.dispose(); }}
  return true;
}}"""
JS_IMAGES_DIGEST = """async (widget) => {
  const digests = [];
  for (const img of widget.querySelectorAll('img.widget-image')) {
    if (!img.src.startsWith('blob:')) { digests.push('no image'); continue; }
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    digests.push([...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join(''));
  }
  return digests.join(' ');
}"""


def wait_for(condition, timeout: float, what: str, interval: float = 0.25):
    """Poll ``condition()`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class NotebookInLab:
    """One notebook open in JupyterLab in a page of its own: open, run all, read cells, move a control.

    The page may have run another notebook before: JupyterLab is then already loaded
    and the notebook opens through the file browser's open command, as when a learner opens the
    next chapter, instead of starting the whole app again (which takes 4-6 s).
    """

    def __init__(self, page, server, path: str):
        self.page, self.server, self.path = page, server, path
        self.start_failure: BaseException | None = None

    def open_and_start_run(self) -> None:
        """Open the notebook and have it Run All Cells once its kernel is ready; returns without waiting."""
        if not self.page.evaluate("() => !!window.jupyterapp"):
            self.page.goto(self.server.lab_url())
            self.page.wait_for_function("() => !!window.jupyterapp")
            self.page.evaluate("() => window.jupyterapp.restored.then(() => true)")
            # the file browser takes a fifth of a laptop screen: close it, as a learner reading would
            open_side_tab = self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
            if open_side_tab.count():
                open_side_tab.first.click()
        self.page.evaluate(JS_OPEN_AND_RUN_ALL, self.path)

    def wait_until_run_started(self) -> None:
        """Wait until the notebook is open, its kernel is idle and Run All Cells has been given."""
        def started():
            if self.page.locator(".jp-Dialog").count():
                pytest.fail(f"{self.path}: JupyterLab shows a dialog instead of starting the kernel: "
                            f"{self.page.locator('.jp-Dialog').inner_text()!r} (is metadata.kernelspec set?)")
            state = self.page.evaluate("(path) => window.runAll[path]", self.path)
            if "failed" in state:
                pytest.fail(f"{self.path}: {state}")
            return state == "started"

        wait_for(started, KERNEL_READY_TIMEOUT, f"{self.path} to open and its kernel to be connected and idle")

    def wait_until_run_finished(self) -> None:
        """Return once the kernel has been idle for a second with no cell queued or running."""
        self.wait_until_run_started()
        idle_since = None

        def finished():
            nonlocal idle_since
            state = self.page.evaluate(JS_RUN_STATE, self.path)
            quiet = state["kernel"] == "idle" and state["busy"] == 0
            idle_since = (idle_since or time.monotonic()) if quiet else None
            return quiet and time.monotonic() - idle_since > 1.0  # not just between two cells

        wait_for(finished, RUN_TIMEOUT, f"Run All Cells of {self.path} to finish")

    def cells(self) -> list[dict]:
        return self.page.evaluate(JS_CELLS, self.path)

    def wait_for_widgets(self) -> list[dict]:
        """Cells once every widget output has a view that finished loading (or the time is up)."""
        def loading(cells):
            return any(cell["widgets"] > cell["rendered"]
                       or any("Loading widget" in text for text in cell["texts"]) for cell in cells)

        deadline = time.monotonic() + WIDGETS_RENDER_TIMEOUT
        cells = self.cells()
        while loading(cells) and time.monotonic() < deadline:
            time.sleep(0.25)
            cells = self.cells()
        return cells

    def screenshot_notebook(self, path: Path) -> None:
        """The whole notebook in one picture: grow the window to the notebook's height, shoot, restore."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.mouse.move(0, 0)  # no hover highlight in the picture
        height = 0
        for _ in range(5):  # a taller window lays out again; stop when the height holds
            needed = min(self.page.evaluate(JS_WINDOW_HEIGHT_FOR_WHOLE_NOTEBOOK, self.path), FULL_SCREENSHOT_MAX_HEIGHT)
            if needed == height:
                break
            height = needed
            self.page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
            self.page.wait_for_timeout(200)
        try:  # JPEG: a PNG of a notebook 25,000 px tall takes Chromium about 1.5 s more to encode
            self.page.screenshot(path=str(path), type="jpeg", quality=85)
        finally:
            self.page.set_viewport_size(VIEWPORT)

    def screenshot_screen(self, path: Path) -> None:
        """What the learner's screen shows now (the window only, e.g. around the widget just moved)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), type="jpeg", quality=85)

    def images_digest(self, widget) -> str:
        """SHA-256 of the bytes of every image in the widget (the PNGs the kernel sent)."""
        return widget.evaluate(JS_IMAGES_DIGEST)

    def kernel_busy_count(self) -> int:
        """How many times the kernel has gone busy since the page started counting."""
        return self.page.evaluate(JS_BUSY_COUNT, self.path)

    def wait_for_kernel_to_handle(self, busy_before: int) -> bool:
        """Wait until the kernel has gone busy (a control's message arrived) and is idle again.

        False when no message reached the kernel within a few seconds (the control sent none).
        """
        try:
            wait_for(lambda: self.kernel_busy_count() > busy_before, CONTROL_MESSAGE_TIMEOUT, "")
        except pytest.fail.Exception:
            return False
        wait_for(lambda: self.page.evaluate(JS_RUN_STATE, self.path)["kernel"] == "idle", PLOT_CHANGE_TIMEOUT,
                 f"{self.path}: the kernel to finish handling a control change")
        return True

    def close(self) -> None:
        """Close the notebook's tab and stop its kernel; the page stays, ready for the next notebook."""
        with contextlib.suppress(Exception):
            self.page.evaluate(JS_DISCARD, self.path)
        self.server.shut_down_sessions(self.path)


class NotebookPipeline:
    """Opens and runs notebooks ahead of their tests, ``AHEAD`` at a time, in test order.

    While one notebook's test checks its outputs, moves a control and takes its
    screenshot, the next notebook is already running. Pages are
    reused: a notebook opens in the page of one that has finished (JupyterLab stays
    loaded), unless that notebook's test failed and left the page in doubt.
    """

    def __init__(self, context, server, order: list[str]):
        self.context, self.server, self.order = context, server, order
        self.open: dict[str, NotebookInLab] = {}
        self.free_pages: list = []

    def take(self, path: str) -> NotebookInLab:
        """The notebook with its Run All Cells started; the next ones are started first."""
        position = self.order.index(path) if path in self.order else len(self.order)
        for upcoming in [path, *self.order[position + 1:position + AHEAD]]:
            if upcoming not in self.open:
                self._start(upcoming)
        notebook = self.open.pop(path)
        if notebook.start_failure is not None:
            self.release(notebook, reuse_page=False)
            raise notebook.start_failure
        return notebook

    def release(self, notebook: NotebookInLab, reuse_page: bool) -> None:
        """Close the notebook (and its kernel); keep its page for the next one, or close it."""
        notebook.close()
        if reuse_page:
            self.free_pages.append(notebook.page)
        else:
            with contextlib.suppress(Exception):
                notebook.page.close()

    def _start(self, path: str) -> None:
        page = self.free_pages.pop() if self.free_pages else self.context.new_page()
        notebook = self.open[path] = NotebookInLab(page, self.server, path)
        try:
            notebook.open_and_start_run()
        except (Exception, pytest.fail.Exception) as failure:  # reported by the notebook's own test
            notebook.start_failure = failure

    def close_all(self) -> None:
        for notebook in self.open.values():
            self.release(notebook, reuse_page=False)
        self.open.clear()


@pytest.fixture(scope="module")
def pipeline(request, lab_server, browser):
    order = [item.callspec.params["notebook"] for item in request.session.items
             if getattr(item, "originalname", None) == "test_notebook_in_jupyterlab"]
    # one context for all pages: JupyterLab's scripts load from the browser cache after the first page
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    runs = NotebookPipeline(context, lab_server, order)
    try:
        yield runs
    finally:
        runs.close_all()
        context.close()


def widget_label(control) -> str:
    """The description label of the ipywidgets control that holds ``control``."""
    return control.locator("xpath=ancestor::div[contains(@class, 'widget-inline-hbox')][1]"
                           "/label[contains(@class, 'widget-label')]").first.inner_text().strip()


def wants_whole_notebook_screenshot(notebook: str) -> bool:
    """solutions/ always; notebooks/ (the same pages but for the exercises) only when asked for.

    A picture of a whole notebook costs Chromium about 3 s of CPU; the screen around the
    moved widget, taken for every notebook, is cheap.
    """
    return notebook.startswith("solutions/") or os.environ.get("GDCOURSE_FULL_SCREENSHOTS") == "1"


def screenshot_path(notebook: str, suffix: str = "") -> Path:
    relative = Path(notebook)
    return SCREENSHOTS / relative.parent / f"{relative.stem}{suffix}.jpg"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_in_jupyterlab(notebook, pipeline):
    source_before = (REPO / notebook).read_bytes()
    nb = pipeline.take(notebook)
    passed = False
    try:
        nb.wait_until_run_finished()
        cells = nb.wait_for_widgets()
        print(f"{nb.path}: kernel busy {kernel_seconds(cells):.1f} s from first cell to last")
        try:
            check_cells(nb.path, cells)
            check_a_control_changes_what_it_drives(nb)
            passed = True
        finally:
            if not passed or wants_whole_notebook_screenshot(nb.path):
                nb.screenshot_notebook(screenshot_path(nb.path))
    finally:
        pipeline.release(nb, reuse_page=passed)
    assert (REPO / notebook).read_bytes() == source_before, f"{notebook} was written by the test run"


def kernel_seconds(cells: list[dict]) -> float:
    """Wall time from the first cell's start to the last cell's end (JupyterLab's recorded timing)."""
    starts = [c["timing"]["iopub.execute_input"] for c in cells if "iopub.execute_input" in c["timing"]]
    ends = [c["timing"]["shell.execute_reply"] for c in cells if "shell.execute_reply" in c["timing"]]
    if not starts or not ends:
        return float("nan")
    parse = datetime.datetime.fromisoformat  # ISO 8601 with "Z", which Python 3.11 reads
    return (parse(max(ends)) - parse(min(starts))).total_seconds()


def cell_problems(cells: list[dict]) -> dict[str, list[str]]:
    """What a learner would see go wrong, by kind (cells numbered from 1, as in JupyterLab's status bar)."""
    def where(cell):
        return f"cell {cell['index'] + 1}"

    return {
        "error outputs": [f"{where(c)}: {error}" for c in cells for error in c["errors"]],
        "code cells that did not run": [where(c) for c in cells if c["count"] is None],
        "widgets shown as text": [f"{where(c)}: {text[:120]!r}" for c in cells
                                  for text in c["texts"] if WIDGET_TEXT_FALLBACK.search(text)],
        "widgets that failed to render": [f"{where(c)}: {text[:200]!r}" for c in cells for text in c["texts"]
                                          if any(message in text for message in WIDGET_FAILURES)],
        "widget outputs without a rendered view": [where(c) for c in cells if c["rendered"] < c["widgets"]],
    }


def check_cells(path: str, cells: list[dict]) -> None:
    problems = {kind: found for kind, found in cell_problems(cells).items() if found}
    assert not problems, f"{path} after Run All Cells:\n" + "\n".join(
        f"{kind}:\n  " + "\n  ".join(found) for kind, found in problems.items())


def check_a_control_changes_what_it_drives(nb: NotebookInLab) -> None:
    pick_last = nb.path.startswith("notebooks/")
    if nb.page.evaluate(JS_MARK_PLOT_WIDGET, [nb.path, pick_last, CSS_CONTROLS]):
        check_plot_changes(nb, nb.page.locator("[data-browser-test='plot-widget']"))
        return
    assert not CHAPTER.match(Path(nb.path).name), (
        f"{nb.path}: no widget with a plot and a control rendered (each chapter needs an explorer)")
    if nb.page.evaluate(JS_MARK_BUTTON_WIDGET, nb.path):
        check_button_changes_widget(nb, nb.page.locator("[data-browser-test='button-widget']"))


def check_plot_changes(nb: NotebookInLab, widget) -> None:
    """Use the widget's controls one at a time (sliders first) until its images' bytes change.

    A control may rightly leave the plot as it is (a parameter of another activation
    than the chosen one, a radio choice that only counts once "check" is pressed), so
    a control without effect is only noted; the check fails when none changes the plot.
    """
    widget.scroll_into_view_if_needed()
    image = widget.locator("img.widget-image").first
    box = image.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, f"{nb.path}: widget image not visible: {box}"
    assert box["width"] <= VIEWPORT["width"], f"{nb.path}: widget image wider than a laptop screen: {box}"
    tried = []
    for control in controls_of(widget):
        before = nb.images_digest(widget)
        busy_before = nb.kernel_busy_count()
        widget.evaluate(JS_WATCH_LATENCY)
        action = use(control)
        if not nb.wait_for_kernel_to_handle(busy_before):
            tried.append(f"{action}: no message reached the kernel")
            continue
        deadline = time.monotonic() + PICTURE_AFTER_IDLE_TIMEOUT
        while time.monotonic() < deadline and nb.images_digest(widget) == before:
            time.sleep(0.1)
        if nb.images_digest(widget) != before:
            latency = wait_for_last_picture(nb)
            record_latency(nb.path, widget, action, latency)
            print(f"{nb.path}: the plot changed after {action} ({describe_latency(latency)})"
                  + "".join(f"; before: {t}" for t in tried))
            nb.screenshot_screen(screenshot_path(nb.path, ".widget"))
            return
        tried.append(f"{action}: plot unchanged")
    status = widget.inner_text()[-300:]
    pytest.fail(f"{nb.path}: no control changed the plot:\n" + "\n".join(tried)
                + f"\nwidget text ends with {status!r}")


def wait_for_last_picture(nb: NotebookInLab) -> dict | None:
    """The latency record once no new picture has come for a second (an explorer that trains sends two)."""
    latency, deadline = nb.page.evaluate(JS_READ_LATENCY), time.monotonic() + PICTURE_AFTER_IDLE_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(1.0)
        newer = nb.page.evaluate(JS_READ_LATENCY)
        if newer == latency:
            break
        latency = newer
    return latency


def controls_of(widget) -> list:
    """The widget's sliders, dropdowns, checkboxes, one unchosen radio button and buttons, in that order."""
    found = [widget.locator(selector).all() for selector in CONTROLS]
    found[3] = found[3][:1]  # one radio choice is enough: the others do the same
    return [control for controls in found for control in controls]


def use(control) -> str:
    """One keyboard step on a slider, the next dropdown choice, or a click; says what it did."""
    if "noUi-handle" in (control.get_attribute("class") or ""):
        before = control.get_attribute("aria-valuenow")
        key = "ArrowLeft" if before == control.get_attribute("aria-valuemax") else "ArrowRight"
        control.press(key)
        return f"{key} on slider {widget_label(control)!r} at {before}"
    if control.evaluate("c => c.tagName") == "SELECT":
        options = control.locator("option").all_text_contents()
        current = control.evaluate("s => s.selectedIndex")
        choice = (current + 1) % len(options)
        control.select_option(index=choice)
        return f"dropdown {widget_label(control)!r}: {options[current]!r} -> {options[choice]!r}"
    name = control.inner_text().strip() or control.locator("xpath=..").inner_text().strip()
    kind = control.get_attribute("type") or "button"
    control.click()
    return f"{kind} {name!r} clicked"


def check_button_changes_widget(nb: NotebookInLab, widget) -> None:
    widget.scroll_into_view_if_needed()
    before = widget.inner_text()
    button = widget.locator("button:visible:enabled").first
    label = button.inner_text()
    button.click()
    wait_for(lambda: widget.inner_text() != before, PLOT_CHANGE_TIMEOUT,
             f"{nb.path}: the widget to change after clicking {label!r}")
    nb.screenshot_screen(screenshot_path(nb.path, ".widget"))


# ---------------------------------------------------------------- the checks can fail
CANARY_CELLS = [
    # an explorer whose plot ignores its only control
    "from gdcourse.widgets import Explorer, slider\n"
    "Explorer({'x': slider(0.5, 0.0, 1.0, 0.1, 'ignored')}, compute=lambda x: 1.0,\n"
    "         draw=lambda fig, data, **_: fig.add_subplot().plot([0, 1], [0, data]))",
    # what JupyterLab shows for a widget when the ipywidgets front end is missing
    "from IPython.display import publish_display_data\n"
    "publish_display_data({'text/plain': 'VBox(children=(FloatSlider(value=0.5),))'})",
    "1 / 0",
    "print('not reached: Run All Cells stops at an error')",
]


def test_the_checks_catch_a_broken_notebook(lab_server, browser):
    """An error, a widget shown as text and a control that changes nothing: each check fails."""
    import nbformat

    folder = REPO / "artifacts" / "browser-canary"  # ignored by git, inside the server's root
    folder.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CANARY_CELLS])
    notebook.metadata.update(kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
                             language_info={"name": "python"})
    nbformat.write(notebook, folder / "canary.ipynb")
    context = browser.new_context(viewport=VIEWPORT)
    nb = NotebookInLab(context.new_page(), lab_server, "artifacts/browser-canary/canary.ipynb")
    try:
        nb.open_and_start_run()
        nb.wait_until_run_finished()
        problems = cell_problems(nb.wait_for_widgets())
        assert problems["error outputs"] == ["cell 3: ZeroDivisionError: division by zero"]
        assert problems["code cells that did not run"] == ["cell 4"]
        assert [found[:8] for found in problems["widgets shown as text"]] == ["cell 2: "]
        assert problems["widgets that failed to render"] == []
        assert problems["widget outputs without a rendered view"] == []
        assert nb.page.evaluate(JS_MARK_PLOT_WIDGET, [nb.path, False, CSS_CONTROLS]) == 1
        with pytest.raises(pytest.fail.Exception, match="no control changed the plot"):
            check_plot_changes(nb, nb.page.locator("[data-browser-test='plot-widget']"))
    finally:
        nb.close()
        context.close()
        (folder / "canary.ipynb").unlink(missing_ok=True)
