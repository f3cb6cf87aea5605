"""Small PNG charts for chat: a user's progress per situation, a round's members.

The images carry no words in either interface language, only numbers, short ASCII
labels ("score", "red flags", "#3") and letters that the message beside the image
explains; so one image serves English and Chinese readers alike, and no CJK font is
needed. The caption or the text message carries the localised explanation.

matplotlib is imported on first use (the bot starts without it), pyplot is never
used (no global figure registry, no backend switching), and a lock serialises the
rendering: matplotlib's font cache is shared and not safe across threads, while
callers may render from worker threads (`asyncio.to_thread`). The same input gives
the same bytes: no timestamps or version strings go into the file.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Any, NamedTuple

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 100  # 800 x 450 pixels
# Colour-blind-safe (Okabe-Ito) lines, one per situation; markers tell them apart in grey.
COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
          "#000000", "#999999")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h")
FLAG_COLOR = "#D55E00"
SCORE_COLOR = "#0072B2"
MAX_POINTS = 200  # a profile keeps 50 attempts; more is a caller's bug, not a picture
MAX_MEMBERS = 100
PALETTE_COLORS = 128

_lock = threading.Lock()


def progress_chart(series: dict[str, Any]) -> bytes:
    """Score per attempt (lines, 0-100) and red flags per attempt (bars, right axis).

    series: {"series": [{"mark": "A" | None, "scores": [int, ...],
                          "red_flags": [int, ...]}, ...]}
    One entry per situation; `mark` labels its line in the legend when there are
    several (the history text shows the same letter beside the situation's name).
    """
    lines = _progress_lines(series)
    with _lock:
        return _draw_progress(lines)


def round_chart(series: dict[str, Any]) -> bytes:
    """Per-member score bars (0-100) and red-flag counts (bars, right axis), the
    members labelled by number (#1, #2 ...), never by name, in the order given.

    series: {"members": [{"no": int, "score": int | None, "red_flags": int,
                           "late": bool}, ...]}   (dialogs.rounds.report's chart)
    `no` defaults to the position; a member without a score (no answer) gets an
    empty slot marked "-"; a late answer's bar is hatched.
    """
    members = _round_members(series)
    with _lock:
        return _draw_round(members)


# -- input checks: malformed data is a ValueError, never a half-drawn picture -----------


def _number(value: Any, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{what} must be a number in [{low}, {high}], not {value!r}")
    return float(value)


def _count(value: Any, what: str) -> int:
    if isinstance(value, list | tuple):
        return len(value)
    return int(_number(value, what, 0, 10_000))


def _progress_lines(series: dict[str, Any]) -> list[tuple[str | None, list[float], list[int]]]:
    entries = series.get("series")
    if not isinstance(entries, list) or len(entries) > len(COLORS):
        raise ValueError(f"progress chart needs a list of at most {len(COLORS)} series")
    lines = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"series[{n}] must be a mapping")
        scores = [_number(s, f"series[{n}] score", 0, 100) for s in entry.get("scores") or ()]
        flags = [_count(f, f"series[{n}] red flags") for f in entry.get("red_flags") or ()]
        if len(flags) not in (0, len(scores)):
            raise ValueError(f"series[{n}]: {len(scores)} scores but {len(flags)} flag counts")
        if len(scores) > MAX_POINTS:
            raise ValueError(f"series[{n}]: more than {MAX_POINTS} attempts")
        mark = entry.get("mark")
        lines.append((str(mark)[:3] if mark else None, scores, flags or [0] * len(scores)))
    return lines


class Member(NamedTuple):
    no: int  # the member's number in the report: the chart's "#no"
    score: float | None  # None: no answer
    red_flags: int
    late: bool  # answered after the deadline: drawn hatched


def _round_members(series: dict[str, Any]) -> list[Member]:
    entries = series.get("members")
    if not isinstance(entries, list) or len(entries) > MAX_MEMBERS:
        raise ValueError(f"round chart needs a list of at most {MAX_MEMBERS} members")
    members = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"members[{n}] must be a mapping")
        score = entry.get("score")
        members.append(Member(
            int(_number(entry.get("no", n + 1), f"members[{n}] number", 0, 10_000)),
            None if score is None else _number(score, f"members[{n}] score", 0, 100),
            _count(entry.get("red_flags") or 0, f"members[{n}] red flags"),
            bool(entry.get("late")),
        ))
    return members


# -- drawing -----------------------------------------------------------------------------


def _figure() -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white",
                    layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Any) -> bytes:
    """A palette PNG (a third of the RGBA size; the charts have few colours) with no
    text chunks: no version string, no time, so the same chart is the same bytes."""
    from PIL import Image  # matplotlib's own dependency

    figure.canvas.draw()
    width, height = figure.canvas.get_width_height()
    rgba = Image.frombuffer("RGBA", (width, height), figure.canvas.buffer_rgba(),
                            "raw", "RGBA", 0, 1)
    image = rgba.convert("RGB").quantize(PALETTE_COLORS, method=Image.Quantize.MEDIANCUT,
                                         dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _axes_pair(figure: Any, flag_max: int) -> tuple[Any, Any]:
    from matplotlib.ticker import MaxNLocator

    scores = figure.add_subplot()
    flags = scores.twinx()
    scores.set_zorder(flags.get_zorder() + 1)  # lines over the bars
    scores.patch.set_visible(False)
    scores.set_ylim(0, 105)
    scores.set_yticks(range(0, 101, 20))
    scores.set_ylabel("score", fontsize=10, color=SCORE_COLOR)
    scores.grid(axis="y", color="#dddddd", linewidth=0.6)
    scores.spines[["top"]].set_visible(False)
    flags.set_ylim(0, max(3, flag_max) * 1.6)  # bars stay in the lower part
    flags.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    flags.set_ylabel("red flags", fontsize=10, color=FLAG_COLOR)
    flags.tick_params(axis="y", colors=FLAG_COLOR, labelsize=9)
    flags.spines[["top"]].set_visible(False)
    scores.tick_params(labelsize=9)
    return scores, flags


def _legend(axes: Any, handles: list[Any]) -> None:
    """Above the plot, where it can never hide a point."""
    axes.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.01), fontsize=9,
                frameon=False, ncols=len(handles), borderaxespad=0)


def _draw_progress(lines: Sequence[tuple[str | None, list[float], list[int]]]) -> bytes:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    figure = _figure()
    flag_max = max((max(flags, default=0) for _, _, flags in lines), default=0)
    scores_ax, flags_ax = _axes_pair(figure, flag_max)
    longest = max((len(scores) for _, scores, _ in lines), default=0)
    several = len(lines) > 1
    width = 0.8 / max(1, len(lines))
    for n, (_, scores, flags) in enumerate(lines):
        color = COLORS[n] if several else SCORE_COLOR
        xs = list(range(1, len(scores) + 1))
        offset = (n - (len(lines) - 1) / 2) * width
        flags_ax.bar([x + offset for x in xs], flags, width=width * 0.9,
                     color=COLORS[n] if several else FLAG_COLOR, alpha=0.35, linewidth=0)
        scores_ax.plot(xs, scores, color=color, marker=MARKERS[n],
                       markersize=5 if len(xs) > 20 else 7, linewidth=2)
        if scores and len(lines) <= 3:  # more labels than that only overlap
            scores_ax.annotate(f"{scores[-1]:.0f}", (xs[-1], scores[-1]),
                               textcoords="offset points", xytext=(0, 8), ha="center",
                               fontsize=9, color=color, fontweight="bold")
    scores_ax.set_xlim(0.4, max(1, longest) + 0.6)
    if longest <= 12:
        scores_ax.set_xticks(range(1, max(1, longest) + 1))
    else:
        scores_ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
    scores_ax.set_xlabel("attempt", fontsize=10)
    if several:
        handles = [Line2D([], [], color=COLORS[n], marker=MARKERS[n], linewidth=2,
                          label=mark or str(n + 1)) for n, (mark, _, _) in enumerate(lines)]
        handles.append(Patch(color="#888888", alpha=0.35, label="red flags"))
    else:
        handles = [Line2D([], [], color=SCORE_COLOR, marker="o", linewidth=2, label="score"),
                   Patch(color=FLAG_COLOR, alpha=0.35, label="red flags")]
    _legend(scores_ax, handles)
    return _png(figure)


def _draw_round(members: Sequence[Member]) -> bytes:
    from matplotlib.patches import Patch

    figure = _figure()
    scores_ax, flags_ax = _axes_pair(figure, max((m.red_flags for m in members), default=0))
    xs = list(range(1, len(members) + 1))
    flags_ax.bar([x + 0.2 for x in xs], [m.red_flags for m in members], width=0.35,
                 color=FLAG_COLOR, alpha=0.6, linewidth=0)
    crowded = len(members) > 20
    for x, m in zip(xs, members, strict=True):
        if m.score is None:
            scores_ax.annotate("-", (x - 0.2, 0), textcoords="offset points", xytext=(0, 4),
                               ha="center", fontsize=14, fontweight="bold", color="#666666")
            continue
        scores_ax.bar(x - 0.2, m.score, width=0.35, linewidth=0, color=SCORE_COLOR,
                      alpha=0.45 if m.late else 1.0, hatch="//" if m.late else None)
        if not crowded:
            scores_ax.annotate(f"{m.score:.0f}", (x - 0.2, m.score), textcoords="offset points",
                               xytext=(0, 3), ha="center", fontsize=8, color=SCORE_COLOR)
    step = 1 if len(members) <= 25 else -(-len(members) // 25)
    scores_ax.set_xticks(xs[::step], [f"#{m.no}" for m in members[::step]],
                         fontsize=7 if crowded else 9)
    scores_ax.set_xlim(0.4, max(1, len(members)) + 0.6)
    handles = [Patch(color=SCORE_COLOR, label="score"),
               Patch(color=FLAG_COLOR, alpha=0.6, label="red flags")]
    if any(m.late for m in members):
        handles.insert(1, Patch(facecolor=SCORE_COLOR, alpha=0.45, hatch="//", label="late"))
    _legend(scores_ax, handles)
    return _png(figure)
