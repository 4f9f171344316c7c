"""The dashboard's spend chart: stacked bars, one per month, one colour per repository, drawn as
inline SVG by the template from the geometry computed here. No script: the page's CSP allows none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PALETTE = ("#0969da", "#1a7f37", "#bf8700", "#8250df", "#bf3989", "#0a7f86")
OTHER = "other repositories"
OTHER_COLOUR = "#8c959f"
WIDTH, HEIGHT = 640, 170
TOP, BOTTOM, SIDE = 18, 22, 8  # room for the totals above the bars, the months below


@dataclass(frozen=True)
class Segment:
    repository: str
    colour: str
    usd: float
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    month: str
    total: float
    x: float
    width: float
    segments: list[Segment]

    @property
    def centre(self) -> float:
        return self.x + self.width / 2

    @property
    def top(self) -> float:
        return min((s.y for s in self.segments), default=HEIGHT - BOTTOM)


@dataclass(frozen=True)
class LegendItem:
    repository: str
    colour: str
    usd: float


@dataclass(frozen=True)
class SpendChart:
    months: list[str]
    bars: list[Bar]
    legend: list[LegendItem]
    table: list[tuple[str, list[float]]]  # per repository, its spend per month (as `months`)
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM


def spend_chart(months: Sequence[str], totals: Mapping[tuple[str, str], float]) -> SpendChart | None:
    """The chart of spend per (month, repository) over `months` (oldest first); None when nothing was spent."""
    by_repository: dict[str, float] = {}
    for (_, repository), usd in totals.items():
        by_repository[repository] = by_repository.get(repository, 0.0) + usd
    if not by_repository or max(by_repository.values()) <= 0:
        return None
    ranked = sorted(by_repository, key=lambda r: (-by_repository[r], r))
    named = ranked[:len(PALETTE)] if len(ranked) <= len(PALETTE) else ranked[:len(PALETTE) - 1]
    colours = {repository: PALETTE[i] for i, repository in enumerate(named)}

    def series(month: str) -> list[tuple[str, float]]:
        spent = [(r, totals.get((month, r), 0.0)) for r in named]
        other = sum(totals.get((month, r), 0.0) for r in ranked if r not in colours)
        return [(r, usd) for r, usd in [*spent, (OTHER, other)] if usd > 0]

    monthly = {month: sum(usd for _, usd in series(month)) for month in months}
    scale = (HEIGHT - TOP - BOTTOM) / max(max(monthly.values()), 1e-9)
    slot = (WIDTH - 2 * SIDE) / max(len(months), 1)
    width = min(56.0, slot * 0.6)
    bars = []
    for i, month in enumerate(months):
        y, segments = float(HEIGHT - BOTTOM), []
        for repository, usd in series(month):
            height = max(usd * scale, 1.0)
            y -= height
            segments.append(Segment(repository, colours.get(repository, OTHER_COLOUR), usd, round(y, 1),
                                    round(height, 1)))
        bars.append(Bar(month, monthly[month], round(SIDE + slot * i + (slot - width) / 2, 1), round(width, 1),
                        segments))
    legend = [LegendItem(r, colours[r], by_repository[r]) for r in named]
    if len(ranked) > len(named):
        legend.append(LegendItem(OTHER, OTHER_COLOUR, sum(by_repository[r] for r in ranked if r not in colours)))
    table = [(r, [totals.get((month, r), 0.0) for month in months]) for r in ranked]
    return SpendChart(list(months), bars, legend, table)
