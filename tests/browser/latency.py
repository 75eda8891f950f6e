"""How long an explorer takes to answer in the browser: recorded by the browser suite, never asserted.

For each control the suite moves, :data:`JS_WATCH_LATENCY` notes the first browser event the
control fires (key press, choice, click; capture phase, before the widget's own handlers) and
every decoded change of the widget's pictures, in the page's clock. :func:`record_latency`
adds the result to :data:`LATENCY` (``artifacts/browser/latency.json``, ignored by git): the
time to the first new picture and to the last one (an explorer that trains shows a cheap
picture first).
"""

from __future__ import annotations

import datetime
import json

from browser_support import REPO

LATENCY = REPO / "artifacts" / "browser" / "latency.json"

JS_WATCH_LATENCY = """(widget) => {
  const record = {event: null, pictures: []};
  window.browserTestLatency = record;
  for (const type of ['keydown', 'mousedown', 'input', 'change']) {
    widget.addEventListener(type, e => { if (record.event === null) record.event = e.timeStamp; },
                            {capture: true, once: true});
  }
  for (const img of widget.querySelectorAll('img.widget-image')) {
    new MutationObserver(() => {
      img.decode().catch(() => null)
        .then(() => { if (record.event !== null) record.pictures.push(performance.now()); });
    }).observe(img, {attributes: true, attributeFilter: ['src']});
  }
  return true;
}"""
JS_READ_LATENCY = """() => {
  const r = window.browserTestLatency;
  if (!r || r.event === null || !r.pictures.length) return null;
  return {first_picture_ms: Math.min(...r.pictures) - r.event, last_picture_ms: Math.max(...r.pictures) - r.event,
          pictures: r.pictures.length};
}"""

_LATENCIES: list[dict] = []


def record_latency(notebook: str, widget, action: str, latency: dict | None) -> None:
    """Add one measurement to :data:`LATENCY`: a JSON list of this session's measurements."""
    title = widget.locator("b").first.inner_text() if widget.locator("b").count() else ""
    _LATENCIES.append({"notebook": notebook, "explorer": title.strip()[:80], "action": action,
                       "recorded": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                       **(latency or {"first_picture_ms": None, "last_picture_ms": None, "pictures": 0})})
    LATENCY.parent.mkdir(parents=True, exist_ok=True)
    LATENCY.write_text(json.dumps(_LATENCIES, indent=1) + "\n")


def describe_latency(latency: dict | None) -> str:
    """One phrase for the test's output."""
    if not latency:
        return "latency not measured"
    text = f"new picture {latency['first_picture_ms']:.0f} ms after the event"
    if latency["pictures"] > 1:
        text += f", last of {latency['pictures']} pictures at {latency['last_picture_ms']:.0f} ms"
    return text
