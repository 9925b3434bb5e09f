"""An advisory's severity: the CVSS base score of its vector (the `cvss` library), else the
distribution's own word for it, as one of low | medium | high | critical | unknown.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

# Ranks for thresholds; `unknown` is below `low`, so it never reaches a --fail-on threshold,
# and the report counts it so it is not overlooked either.
RANK = {"unknown": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

# Qualitative words distributions use (OSV database_specific / ecosystem_specific): Red Hat and
# AlmaLinux say Important/Moderate, Debian's tracker says unimportant/low/medium/high.
_WORDS = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "negligible": "low",
    "unimportant": "low",
}


def label(score: float) -> str:
    """CVSS v3/v4 qualitative rating (FIRST CVSS v3.1 specification, section 5)."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else "unknown"


@functools.lru_cache(maxsize=4096)  # a data set repeats few vectors; a parse costs ~0.3 ms
def score_of(kind: str, vector: str) -> float | None:
    """The base score of a CVSS vector, None when it is not one."""
    try:
        if kind == "CVSS_V4" or vector.startswith("CVSS:4"):
            return float(CVSS4(vector).base_score)
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            return float(CVSS3(vector).scores()[0])
        if kind == "CVSS_V2":
            return float(CVSS2(vector).scores()[0])
    except (CVSSError, ValueError, KeyError, IndexError):
        return None
    return None


def _vectors(data: Mapping[str, Any]) -> list[float]:
    scores = []
    places = [data, *(a for a in data.get("affected") or () if isinstance(a, dict))]
    for place in places:
        for entry in place.get("severity") or ():
            if isinstance(entry, dict) and isinstance(entry.get("score"), str):
                found = score_of(str(entry.get("type", "")), entry["score"])
                if found is not None:
                    scores.append(found)
    return scores


def _word(data: Mapping[str, Any]) -> str | None:
    places = [data, *(a for a in data.get("affected") or () if isinstance(a, dict))]
    for place in places:
        for key in ("database_specific", "ecosystem_specific"):
            specific = place.get(key)
            if not isinstance(specific, dict):
                continue
            for field in ("severity", "urgency"):
                word = specific.get(field)
                if isinstance(word, str) and word.strip().lower() in _WORDS:
                    return _WORDS[word.strip().lower()]
    return None


def of_advisory(data: Mapping[str, Any]) -> tuple[str, float | None]:
    """(label, score): the highest CVSS base score given, else the distribution's rating."""
    scores = _vectors(data)
    if scores:
        best = max(scores)
        return label(best), best
    return _word(data) or "unknown", None
