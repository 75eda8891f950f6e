"""The learner record and the exam-date plan as charts (Matplotlib), for notebook 10.

:func:`progress_figure` draws what ``gdcourse practice --stats`` prints: results by mode,
retention by topic and mode, and the trend by day; :func:`plan_figure` draws the plan of
``--until``: reviews and new cards per study day.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from gdcourse.bank import TOPICS

__all__ = ["MODES", "plan_figure", "progress_figure"]

MODES = ("flashcards", "learn", "test", "mock", "match")


def _share(pair) -> float:
    passed, total = pair
    return passed / total if total else np.nan


def progress_figure(stats, topics=None):
    """A figure with three panels: share right by mode, by topic and mode (heat map), and by day."""
    topics = [t for t in TOPICS if topics is None or t in topics]
    figure, (by_mode, by_topic, trend) = plt.subplots(1, 3, figsize=(13, 3.8),
                                                      gridspec_kw={"width_ratios": [1, 1.4, 1.6]})
    shares = [_share(stats.by_mode.get(mode, (0, 0))) for mode in MODES]
    counts = [stats.by_mode.get(mode, (0, 0))[1] for mode in MODES]
    by_mode.bar(MODES, np.nan_to_num(shares), color="#4c72b0")
    for x, (share, count) in enumerate(zip(shares, counts, strict=True)):
        by_mode.text(x, (0 if np.isnan(share) else share) + 0.02, f"n={count}", ha="center", fontsize=8)
    by_mode.set(ylim=(0, 1.1), ylabel="share right or passed", title="By mode")
    by_mode.tick_params(axis="x", rotation=30)
    grid = np.array([[_share(stats.by_topic.get(t, {}).get(m, (0, 0))) for m in MODES] for t in topics])
    image = by_topic.imshow(np.ma.masked_invalid(grid), vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
    by_topic.set(xticks=range(len(MODES)), xticklabels=MODES, yticks=range(len(topics)), yticklabels=topics,
                 title="Retention by topic (grey: no answers)")
    by_topic.set_facecolor("#dddddd")
    by_topic.tick_params(axis="x", rotation=30)
    figure.colorbar(image, ax=by_topic, fraction=0.046)
    if stats.trend:
        days = [day for day, _, _ in stats.trend]
        counts = trend.twinx()
        counts.bar(days, [t for _, _, t in stats.trend], alpha=0.25, color="grey", width=0.6)
        counts.set_ylabel("answers")
        trend.plot(days, [p / t for _, p, t in stats.trend], marker="o")
        trend.set_zorder(counts.get_zorder() + 1)
        trend.patch.set_visible(False)
        trend.tick_params(axis="x", rotation=30)
    trend.set(ylim=(0, 1.05), title="Trend by day (line: share right; bars: answers)")
    figure.tight_layout()
    return figure


def plan_figure(plan):
    """Stacked bars: reviews and new cards on each study day until the interview."""
    figure, axes = plt.subplots(figsize=(max(4, 1 + 0.8 * plan.days_left), 3))
    labels = [day.day.strftime("%a %d") for day in plan.days]
    reviews = [len(day.reviews) for day in plan.days]
    new = [len(day.new) for day in plan.days]
    axes.bar(labels, reviews, label="reviews", color="#4c72b0")
    axes.bar(labels, new, bottom=reviews, label="new", color="#dd8452")
    axes.set(ylabel="cards", title=f"Plan until the interview on {plan.until} ({len(plan.ahead)} reviewed ahead)")
    axes.legend()
    figure.tight_layout()
    return figure
