from __future__ import annotations

import itertools
import os
import tomllib
from collections import Counter
from pathlib import Path

import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st

from packerpy import naming
from packerpy import versions as versioning
from packerpy.config import edit
from packerpy.errors import EXIT_CONFIG, ConfigError

# --- bump -------------------------------------------------------------------------------------


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

_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"
_numbers = st.integers(min_value=0, max_value=10**6)
# Numeric identifiers have no leading zeros; alphanumeric ones need a non-digit.
_numeric_id = _numbers.map(str)
_alnum_id = st.text(_ALNUM, min_size=1, max_size=8).filter(lambda s: not s.isdigit())
_pre_id = st.one_of(_numeric_id, _alnum_id, st.sampled_from(["rc", "alpha", "beta", "rc9", "0a9"]))
_build_id = st.text(_ALNUM, min_size=1, max_size=6)
_tokens = st.one_of(st.sampled_from(["rc", "alpha", "beta", "zz", "A", "-"]), _alnum_id)


@st.composite
def semvers(draw: st.DrawFn) -> str:
    core = ".".join(str(draw(_numbers)) for _ in range(3))
    pre = draw(st.lists(_pre_id, max_size=4))
    build = draw(st.lists(_build_id, max_size=3))
    return core + ("-" + ".".join(pre) if pre else "") + ("+" + ".".join(build) if build else "")


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


@given(st.lists(semvers(), min_size=2, max_size=6, unique=True))
def test_ami_names_of_distinct_versions_are_distinct(versions: list[str]) -> None:
    names = {naming.ami_name("{version}", "web", v) for v in versions if len(v) <= 128}
    assert len(names) == len([v for v in versions if len(v) <= 128])


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


# --- AMI names -------------------------------------------------------------------------------

ALLOWED = "(allowed: letters, digits, ( ) [ ] space . / - ' @ _)"


def test_ami_name_default_pattern() -> None:
    assert naming.ami_name(naming.DEFAULT_NAME_PATTERN, "web", "1.4.2") == "web-1.4.2"
    assert naming.ami_name(naming.DEFAULT_NAME_PATTERN, "web", "1.5.0-rc.2") == ("web-1.5.0-rc.2")


def test_ami_name_maps_build_metadata() -> None:
    name = naming.ami_name("{image}-{version}", "web", "1.4.2+build.5")
    assert name == "web-1.4.2_build.5"


def test_ami_name_custom_pattern() -> None:
    assert naming.ami_name("acme/{image} (v{version})", "db", "2.0.0") == "acme/db (v2.0.0)"
    assert naming.ami_name("{version}", "db", "2.0.0") == "2.0.0"


def test_ami_name_too_long() -> None:
    with pytest.raises(ValueError) as info:
        naming.ami_name("{image}-{version}", "x" * 123, "1.4.2")
    assert (
        str(info.value) == f"AMI name 'x{'x' * 122}-1.4.2' is 129 characters; AWS allows 3 to 128"
    )


def test_ami_name_exactly_128_is_fine() -> None:
    assert len(naming.ami_name("{image}-{version}", "x" * 122, "1.4.2")) == 128


def test_ami_name_bad_character_from_the_image() -> None:
    with pytest.raises(
        ValueError, match=r"^AMI name 'w\*b-1\.0\.0': character '\*' is not allowed"
    ):
        naming.ami_name("{image}-{version}", "w*b", "1.0.0")


def test_ami_name_rejects_an_invalid_version() -> None:
    with pytest.raises(ValueError, match="is not a semantic version"):
        naming.ami_name("{image}-{version}", "web", "1.0")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{image}:{version}", "contains ':', which AMI names may not " + ALLOWED),
        ("{image}-{{{version}}}", "contains '{', which AMI names may not " + ALLOWED),
        ("{image}-\u00e9-{version}", "contains '\u00e9', which AMI names may not " + ALLOWED),
        (
            "{image}-latest",
            "must contain {version}, or every version of an image gets the same name",
        ),
        ("", "must contain {version}, or every version of an image gets the same name"),
        (
            "{image}-{foo}-{version}",
            "has an unknown placeholder {foo} (allowed: {image}, {version})",
        ),
        (
            "{image}-{version!r}",
            "has an unknown placeholder {version!r} (allowed: {image}, {version})",
        ),
        (
            "{image}-{version:>9}",
            "has an unknown placeholder {version:>9} (allowed: {image}, {version})",
        ),
        ("{}-{version}", "has an unknown placeholder {} (allowed: {image}, {version})"),
        ("{0}-{version}", "has an unknown placeholder {0} (allowed: {image}, {version})"),
        ("{image-{version}", "is not a valid pattern (unexpected '{' in field name)"),
        ("{image}-{version", "is not a valid pattern (expected '}' before end of string)"),
        ("{image}}-{version}", "is not a valid pattern (Single '}' encountered in format string)"),
    ],
)
def test_validate_name_pattern(pattern: str, expected: str) -> None:
    with pytest.raises(ValueError) as info:
        naming.validate_name_pattern(pattern)
    assert str(info.value) == expected
    with pytest.raises(ValueError):
        naming.ami_name(pattern, "web", "1.0.0")


def test_validate_name_pattern_accepts_the_default() -> None:
    naming.validate_name_pattern(naming.DEFAULT_NAME_PATTERN)
    naming.validate_name_pattern("[team] {image} @ {version}/{image}_x'y")


# --- set_version -----------------------------------------------------------------------------

CONFIG = """\
# Images baked by CI.
[project]
name = "acme"

[images]
# The database image is pinned inline.
db = { version = "2.0.0-rc.1", base = { ami = "ami-03cf127a" } }  # next: 2.0.0

[images.web]  # the web tier
template = "amazon-ebs"
# Bumped by the release job; keep the comment.
version    =    "1.4.2"   # release line
base = { ami = "ami-03cf127a" }

[images.worker]
version = '1.4.2'
base = { ami = "ami-03cf127a" }
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "packerpy.toml"
    path.write_bytes(CONFIG.encode())
    return path


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_set_version_in_a_table_changes_only_the_version(project: Path) -> None:
    old = edit.set_version(project, "web", "1.5.0")
    assert old == "1.4.2"
    assert type(old) is str
    expected = CONFIG.replace(
        'version    =    "1.4.2"   # release line', 'version    =    "1.5.0"   # release line'
    )
    assert expected != CONFIG
    assert project.read_bytes() == expected.encode()
    assert tomllib.loads(project.read_text())["images"]["web"]["version"] == "1.5.0"
    assert _files(project.parent) == ["packerpy.toml"]  # no temp file left behind


def test_set_version_in_an_inline_table(project: Path) -> None:
    assert edit.set_version(project, "db", "2.0.0") == "2.0.0-rc.1"
    expected = CONFIG.replace('db = { version = "2.0.0-rc.1",', 'db = { version = "2.0.0",')
    assert expected != CONFIG
    assert project.read_bytes() == expected.encode()
    assert _files(project.parent) == ["packerpy.toml"]


def test_set_version_keeps_literal_quotes(project: Path) -> None:
    assert edit.set_version(project, "worker", "1.5.0-rc.1+build.3") == "1.4.2"
    expected = CONFIG.replace("version = '1.4.2'", "version = '1.5.0-rc.1+build.3'")
    assert project.read_bytes() == expected.encode()


def test_set_version_with_dotted_keys(tmp_path: Path) -> None:
    text = '[images]\nweb.version = "1.0.0"  # dotted\nweb.base.ami = "ami-03cf127a"\n'
    path = tmp_path / "packerpy.toml"
    path.write_text(text)
    assert edit.set_version(path, "web", "1.0.1") == "1.0.0"
    assert path.read_text() == text.replace('"1.0.0"', '"1.0.1"')


def test_set_version_keeps_crlf_and_permissions(project: Path) -> None:
    project.write_bytes(CONFIG.replace("\n", "\r\n").encode())
    project.chmod(0o640)
    edit.set_version(project, "web", "1.5.0")
    expected = CONFIG.replace('=    "1.4.2"', '=    "1.5.0"').replace("\n", "\r\n")
    assert project.read_bytes() == expected.encode()
    assert project.stat().st_mode & 0o777 == 0o640


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_set_version_writes_through_a_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real.toml"
    real.write_text(CONFIG)
    link = tmp_path / "packerpy.toml"
    link.symlink_to(real)
    edit.set_version(link, "web", "1.5.0")
    assert link.is_symlink()
    assert tomllib.loads(real.read_text())["images"]["web"]["version"] == "1.5.0"


def _error(path: Path, image: str, version: str) -> str:
    before = path.read_bytes()
    with pytest.raises(ConfigError) as info:
        edit.set_version(path, image, version)
    assert info.value.exit_code == EXIT_CONFIG
    assert "\n" not in info.value.message
    assert path.read_bytes() == before  # nothing written on error
    return info.value.message


def test_set_version_missing_image(project: Path) -> None:
    assert _error(project, "api", "1.0.0") == "packerpy.toml: images.api: no such image"


def test_set_version_missing_version_key(project: Path) -> None:
    project.write_text(CONFIG.replace("version = '1.4.2'\n", ""))
    assert _error(project, "worker", "1.0.0") == "packerpy.toml: images.worker.version: is required"


def test_set_version_rejects_an_invalid_new_version(project: Path) -> None:
    assert _error(project, "web", "1.0") == (
        "packerpy.toml: images.web.version: '1.0' is not a semantic version"
    )


def test_set_version_no_images_table(project: Path) -> None:
    project.write_text('[project]\nname = "x"\n')
    assert _error(project, "web", "1.0.0") == "packerpy.toml: images.web: no such image"


def test_set_version_non_string_version(project: Path) -> None:
    project.write_text("[images.web]\nversion = 1\n")
    assert _error(project, "web", "1.0.0") == "packerpy.toml: images.web.version: 1 is not a string"


def test_set_version_invalid_toml(project: Path) -> None:
    project.write_text("[images.web\n")
    assert _error(project, "web", "1.0.0").startswith("packerpy.toml: not valid TOML: ")


def test_set_version_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^packerpy\.toml: cannot read: "):
        edit.set_version(Path("packerpy.toml"), "web", "1.0.0")


def test_set_version_label_outside_cwd(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(ConfigError) as info:
        edit.set_version(project, "api", "1.0.0")
    assert info.value.message == f"{project}: images.api: no such image"
