"""Debian ordering against the real dpkg; RPM ordering against known rpmvercmp pairs."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packerpy.errors import PackerpyError
from packerpy.vuln.ordering import Ordering

# Small alphabets make equal prefixes, tildes against empty, letters against digits likely.
_upstream = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from("0123456789"),
    st.text(alphabet="019ab.~+", max_size=6),
)
_revision = st.text(alphabet="019ab.~+", min_size=1, max_size=5)
_epoch = st.sampled_from(["", "", "", "0:", "1:", "2:"])


@st.composite
def debian_versions(draw: st.DrawFn) -> str:
    upstream = draw(_upstream)
    revision = draw(st.one_of(st.just(""), _revision))
    if revision:
        return f"{draw(_epoch)}{upstream}-{revision}"
    return f"{draw(_epoch)}{upstream}"


@st.composite
def pairs(draw: st.DrawFn) -> tuple[str, str]:
    a = draw(debian_versions())
    # Half the pairs are near each other: one character added, so the edge cases meet.
    if draw(st.booleans()):
        return a, a + draw(st.sampled_from(["~", "0", "a", "+", ".1", "~1"]))
    return a, draw(debian_versions())


def dpkg_disagrees(claims: dict[tuple[str, str], int]) -> list[tuple[str, str, int]]:
    """The claims `dpkg --compare-versions` rejects: one dpkg run per pair, checking exactly
    the relation claimed (lt, eq or gt are exclusive), in one shell loop."""
    script = (
        'while IFS=" " read -r a op b; do dpkg --compare-versions "$a" "$op" "$b"; echo $?; done'
    )
    relation = {-1: "lt", 0: "eq", 1: "gt"}
    cases = list(claims.items())
    lines = "".join(f"{a} {relation[c]} {b}\n" for (a, b), c in cases)
    done = subprocess.run(
        ["sh", "-c", script], input=lines, capture_output=True, text=True, check=True
    )
    codes = done.stdout.split()
    assert len(codes) == len(cases), done.stderr
    return [(a, b, c) for ((a, b), c), code in zip(cases, codes, strict=True) if code != "0"]


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg (Debian's own ordering)")
def test_debian_ordering_agrees_with_dpkg() -> None:
    claims: dict[tuple[str, str], int] = {}
    order = Ordering("deb")

    # Lists of distinct pairs, not one pair an example: hypothesis' per-example overhead was ~12 ms on
    # the shared CI machine, and 1,000+ pairs are wanted. dpkg then checks them in one batch.
    @settings(max_examples=12, database=None, deadline=None)
    @given(st.lists(pairs(), min_size=100, max_size=100, unique=True))
    def collect(batch: list[tuple[str, str]]) -> None:
        for a, b in batch:
            claims[(a, b)] = order.compare(a, b)

    collect()
    assert len(claims) >= 1000
    assert dpkg_disagrees(claims) == []


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0", "1.0", 0),
        ("1.0", "2.0", -1),
        ("2.0.1", "2.0", 1),
        ("2.0.1a", "2.0.1", 1),
        ("5.5p1", "5.5p2", -1),
        ("5.5p10", "5.5p1", 1),
        ("10xyz", "10.1xyz", -1),
        ("xyz10", "xyz10.1", -1),
        ("fc4", "fc.4", 0),  # separators only separate
        ("2a", "2.0", -1),  # letters sort before digits
        # tilde: before everything, even the end of the string
        ("1.0~rc1", "1.0", -1),
        ("1.0~rc1", "1.0~rc2", -1),
        ("1.0~rc1~git123", "1.0~rc1", -1),
        # caret: after the base version, before the next one
        ("1.0^", "1.0", 1),
        ("1.0^git1", "1.0", 1),
        ("1.0^git1", "1.0.1", -1),
        ("1.0^20160101", "1.0^20160102", -1),
        ("1.0~rc1^git1", "1.0~rc1", 1),
        ("1.0^git1~pre", "1.0^git1", -1),
        # epoch: wins over everything; a missing epoch is 0
        ("1:1.0-1", "2.0-1", 1),
        ("0:1.0-1", "1.0-1", 0),
        ("1:3.0.7-27.el9", "1:3.0.7-25.el9_3", 1),
        # release
        ("1.0-1", "1.0-2", -1),
        ("1.0-1.el9", "1.0-1.el9_2", -1),
        ("2.34-60.el9", "2.34-60.el9_2.7", -1),
        ("2.34-60.el9_2.7", "2.34-60.el9_2.14", -1),
    ],
)
def test_rpm_ordering_known_pairs(a: str, b: str, expected: int) -> None:
    order = Ordering("rpm")
    assert order.compare(a, b) == expected
    assert order.compare(b, a) == -expected


def test_debian_epoch_tilde_revision() -> None:
    order = Ordering("deb")
    assert order.compare("1:9.2p1-2+deb12u2", "1:9.2p1-2+deb12u3") == -1
    assert order.compare("9.9", "1:0.1") == -1  # any epoch beats no epoch
    assert order.compare("3.0.11-1~deb12u1", "3.0.11-1") == -1  # tilde before the end
    assert order.compare("2.36-9+deb12u4", "2.36-9+deb12u10") == -1  # numbers, not text


def test_a_version_univers_cannot_parse_is_a_one_line_error() -> None:
    with pytest.raises(PackerpyError, match=r"^not a deb version: '' "):
        Ordering("deb").compare("", "1.0")
