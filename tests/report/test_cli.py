from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import envelope, run_cli


def test_report_writes_the_page_and_prints_the_same_data(
    aws: str, estate: dict[str, Any], tmp_path: Path
) -> None:
    page = tmp_path / "out" / "estate.html"
    page.parent.mkdir()
    done = run_cli("report", "--html", str(page), "--json", cwd=estate["dir"])
    assert done.returncode == 0, done.stderr
    data = envelope(done)["data"]
    assert data["html"] == str(page)
    web = next(i for i in data["images"] if i["name"] == "web")
    assert [v["version"] for v in web["versions"]] == ["1.0.0", "1.1.0", "2.0.0"]
    assert web["current"]["us-east-1"] == {"dev": "1.1.0", "prod": "1.0.0"}
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert 'data-version="2.0.0"' in text


def test_an_unknown_image_is_one_line(aws: str, estate: dict[str, Any]) -> None:
    done = run_cli("report", "nope", cwd=estate["dir"])
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "nope" in done.stderr
