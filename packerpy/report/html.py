"""The estate report as one self-contained HTML page: inline CSS and SVG, no script, no network
asset, so it can be mailed, archived as a CI artifact or opened from a file share.

Jinja2 with autoescape on (a separate environment from the HCL one, which must not escape):
tag values, reasons and names come from AWS and are shown as text, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from packerpy.render.html import render_page
from packerpy.report.model import EstateReport, ImageReport

_TEMPLATES = Path(__file__).parent / "templates"
# Channel badge colours, in channel order (dev, staging, prod, ...); cycled past the sixth.
_PALETTE = ("#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2")
_WIDTH, _ROW, _LEFT, _TOP = 900, 46, 110, 28


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    label: str
    colour: str
    kind: str  # version | promotion


def _when(stamp: str) -> float:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def colours(images: tuple[ImageReport, ...]) -> dict[str, str]:
    names = dict.fromkeys(ch for image in images for ch in image.channels)
    return {ch: _PALETTE[i % len(_PALETTE)] for i, ch in enumerate(names)}


def timeline(report: EstateReport) -> tuple[list[Mark], list[tuple[float, str]], int]:
    """Marks of versions (circles) and promotions (triangles) on one time axis per image row;
    the axis ticks; the SVG's height."""
    palette = colours(report.images)
    stamps = [_when(v.created) for i in report.images for v in i.versions if v.created]
    stamps += [_when(e.at) for i in report.images for e in i.promotions]
    stamps.append(_when(report.generated))
    start, end = min(stamps), max(stamps)
    span = max(end - start, 3600.0)

    def x(stamp: str) -> float:
        return round(_LEFT + (_when(stamp) - start) / span * (_WIDTH - _LEFT - 20), 1)

    marks: list[Mark] = []
    for row, image in enumerate(report.images):
        y = _TOP + row * _ROW
        marks += [
            Mark(
                x(v.created), y, f"{image.name} {v.version} built {v.created}", "#374151", "version"
            )
            for v in image.versions
        ]
        marks += [
            Mark(
                x(e.at),
                y + 12,
                f"{e.channel} -> {e.version} at {e.at}",
                palette[e.channel],
                "promotion",
            )
            for e in image.promotions
        ]
    # An estate younger than two days is read by the hour, an older one by the day.
    shown = "%Y-%m-%d %H:%M" if span < 2 * 86400 else "%Y-%m-%d"
    ticks = [
        (
            round(_LEFT + i / 4 * (_WIDTH - _LEFT - 20), 1),
            datetime.fromtimestamp(start + i / 4 * span, UTC).strftime(shown),
        )
        for i in range(5)
    ]
    return marks, ticks, _TOP + len(report.images) * _ROW + 20


def render(report: EstateReport) -> str:
    marks, ticks, height = timeline(report)
    return render_page(
        _TEMPLATES,
        "estate.html.j2",
        report=report,
        colours=colours(report.images),
        marks=marks,
        ticks=ticks,
        height=height,
        width=_WIDTH,
        left=_LEFT,
        row=_ROW,
        top=_TOP,
    )
