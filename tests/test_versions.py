"""packerpy.versions: SemVer bumps, ordering and the latest version (pure, no I/O)."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st

from packerpy import versions as versioning
from tests.helpers import alnum_id, semvers


@pytest.mark.parametrize(
    ("version", "part", "token", "expected"),
    [
        ("1.4.2", "major", "rc", "2.0.0"),
        ("1.4.2", "minor", "rc", "1.5.0"),
        ("1.4.2", "patch", "rc", "1.4.3"),
        ("0.0.0", "patch", "rc", "0.0.1"),
        # A prerelease of the next version of that kind is released, per SemVer precedence.
        ("1.5.0-rc.2", "patch", "rc", "1.5.0"),
        ("1.5.0-rc.2", "minor", "rc", "1.5.0"),
        ("1.5.0-rc.2", "major", "rc", "2.0.0"),
        ("2.0.0-rc.1", "major", "rc", "2.0.0"),
        ("1.5.1-rc.1", "patch", "rc", "1.5.1"),
        ("1.5.1-rc.1", "minor", "rc", "1.6.0"),
        ("1.5.1-rc.1", "major", "rc", "2.0.0"),
        # prerelease: next patch on a release, then count up.
        ("1.5.0", "prerelease", "rc", "1.5.1-rc.1"),
        ("1.5.1-rc.1", "prerelease", "rc", "1.5.1-rc.2"),
        ("1.5.1-rc.9", "prerelease", "rc", "1.5.1-rc.10"),
        ("1.5.1-beta.3", "prerelease", "rc", "1.5.1-rc.1"),
        ("1.5.0", "prerelease", "beta", "1.5.1-beta.1"),
        # A token that sorts before the current one moves to the next patch: never backwards.
        ("1.5.1-rc.1", "prerelease", "alpha", "1.5.2-alpha.1"),
        ("1.5.1-rc.2", "release", "rc", "1.5.1"),
        ("1.5.1-rc.2+build.7", "release", "rc", "1.5.1"),
        # Build metadata is always dropped.
        ("1.4.2+build.5", "patch", "rc", "1.4.3"),
        ("1.4.2+build.5", "minor", "rc", "1.5.0"),
        ("1.4.2+build.5", "major", "rc", "2.0.0"),
        ("1.4.2+build.5", "prerelease", "rc", "1.4.3-rc.1"),
        ("1.5.1-rc.1+build.5", "prerelease", "rc", "1.5.1-rc.2"),
        ("1.5.0-rc.2+build.5", "patch", "rc", "1.5.0"),
    ],
)
def test_bump(version: str, part: str, token: str, expected: str) -> None:
    assert versioning.bump(version, part, token=token) == expected


def test_release_of_a_release_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"^1\.5\.1 is already a release$"):
        versioning.bump("1.5.1", "release")


def test_bump_unknown_part_names_the_valid_parts() -> None:
    with pytest.raises(ValueError) as info:
        versioning.bump("1.5.1", "build")
    assert str(info.value) == (
        "unknown version part 'build' (expected one of: major, minor, patch, prerelease, release)"
    )


@pytest.mark.parametrize("bad", ["1.0", "v1.0.0", "1.0.0.0", "01.0.0", "1.0.0-", "", "latest"])
def test_bump_invalid_version(bad: str) -> None:
    with pytest.raises(ValueError, match=r"is not a semantic version$"):
        versioning.bump(bad, "patch")


@pytest.mark.parametrize("token", ["", "1", "r.c", "rc+1", "rc_1"])
def test_bump_invalid_token(token: str) -> None:
    with pytest.raises(ValueError, match="prerelease token"):
        versioning.bump("1.0.0", "prerelease", token=token)


# --- hypothesis: any valid SemVer ------------------------------------------------------------

_tokens = st.one_of(st.sampled_from(["rc", "alpha", "beta", "zz", "A", "-"]), alnum_id)


def _cmp(a: str, b: str) -> int:
    return semver.Version.parse(a).compare(b)


@given(semvers(), st.sampled_from(["major", "minor", "patch", "prerelease"]), _tokens)
def test_bump_always_moves_forward(version: str, part: str, token: str) -> None:
    after = versioning.bump(version, part, token=token)
    assert semver.Version.is_valid(after)
    assert "+" not in after
    assert _cmp(after, version) > 0


@given(semvers())
def test_release_of_a_prerelease_moves_forward(version: str) -> None:
    if semver.Version.parse(version).prerelease is None:
        with pytest.raises(ValueError, match="is already a release"):
            versioning.bump(version, "release")
    else:
        after = versioning.bump(version, "release")
        assert _cmp(after, version) > 0
        assert semver.Version.parse(after).prerelease is None


@given(st.lists(semvers(), max_size=12))
def test_sort_versions_orders_by_precedence(versions: list[str]) -> None:
    ordered = versioning.sort_versions(versions)
    assert Counter(ordered) == Counter(versions)
    for a, b in itertools.pairwise(ordered):
        assert _cmp(a, b) <= 0
        if _cmp(a, b) == 0:
            assert a <= b  # ties (build metadata only) by the full string
    assert versioning.sort_versions(ordered) == ordered
    assert versioning.sort_versions(reversed(versions)) == ordered
    assert versioning.latest(versions) == (ordered[-1] if ordered else None)


# --- ordering examples -----------------------------------------------------------------------


def test_sort_versions_example() -> None:
    versions = ["1.10.0", "1.9.0", "1.5.0", "1.5.0-rc.2", "1.5.0-rc.10", "1.5.0-alpha"]
    assert versioning.sort_versions(versions) == [
        "1.5.0-alpha",
        "1.5.0-rc.2",
        "1.5.0-rc.10",
        "1.5.0",
        "1.9.0",
        "1.10.0",
    ]


def test_sort_versions_ignores_build_metadata_but_is_deterministic() -> None:
    assert versioning.sort_versions(["1.0.0+b", "1.0.0", "1.0.0+a", "0.9.0+z"]) == [
        "0.9.0+z",
        "1.0.0",
        "1.0.0+a",
        "1.0.0+b",
    ]


def test_sort_versions_rejects_an_invalid_version() -> None:
    with pytest.raises(ValueError, match=r"^'1\.0' is not a semantic version$"):
        versioning.sort_versions(["1.0.0", "1.0"])


def test_latest() -> None:
    versions = ["1.9.0", "2.0.0-rc.1", "1.10.0"]
    assert versioning.latest(versions) == "2.0.0-rc.1"
    assert versioning.latest(versions, include_prerelease=False) == "1.10.0"
    assert versioning.latest(iter(versions)) == "2.0.0-rc.1"
    assert versioning.latest(["2.0.0-rc.1"], include_prerelease=False) is None
    assert versioning.latest([]) is None


def test_is_version_reads_tags_back_from_aws() -> None:
    assert versioning.is_version("1.0.0-rc.1+build.2")
    assert not versioning.is_version(None)
    assert not versioning.is_version("v1.0.0")
    assert not versioning.is_version("")


def test_parse_names_the_string_it_rejects() -> None:
    assert versioning.parse("1.2.3").minor == 2
    with pytest.raises(ValueError, match=r"^'latest' is not a semantic version$"):
        versioning.parse("latest")


@given(semvers(), semvers())
def test_precedence_orders_as_semver_compares(a: str, b: str) -> None:
    """The tuple key agrees with semver's own comparison (SemVer 2.0 rule 11) on every pair."""

    def same_core(version: str) -> str:  # so that the prerelease identifiers decide
        core = re.match(r"\d+\.\d+\.\d+", version)
        assert core is not None
        return "1.0.0" + version[core.end() :]

    for x, y in ((a, b), (same_core(a), same_core(b))):
        key_x, key_y = versioning.precedence(x), versioning.precedence(y)
        assert (key_x > key_y) - (key_x < key_y) == _cmp(x, y)


@pytest.mark.parametrize(
    "ordered",
    [
        # SemVer 2.0 rule 11.4's own example, then numeric below alphanumeric identifiers.
        "1.0.0-alpha 1.0.0-alpha.1 1.0.0-alpha.beta 1.0.0-beta 1.0.0-beta.2 1.0.0-beta.11 "
        "1.0.0-rc.1 1.0.0",
        "1.0.0-2 1.0.0-10 1.0.0-a 1.0.0-a.1.0 1.0.0-a.b 1.0.0+z 1.0.1-0 1.0.1",
    ],
)
def test_precedence_examples(ordered: str) -> None:
    versions = ordered.split()
    assert sorted(versions, key=versioning.precedence) == versions
