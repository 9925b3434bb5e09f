"""packerpy.naming: AMI names from a pattern, and the pattern's own rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packerpy import naming
from tests.helpers import semvers

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
    assert naming.ami_name("{version}.{image}", "db", "2.0.0") == "2.0.0.db"


def test_r4_5_a_pattern_without_the_image_is_refused() -> None:
    """Review 4.5: images `webx` and `apix` with pattern "{version}" rendered the same name,
    and the copy step adopted the other image's AMI."""
    with pytest.raises(ValueError, match=r"^must contain \{image\}, or two images can render"):
        naming.validate_name_pattern("{version}")


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
    pattern = "[team] {image} @ {version}/{image}_x'y"
    naming.validate_name_pattern(pattern)
    assert naming.ami_name(pattern, "web", "1.0.0") == "[team] web @ 1.0.0/web_x'y"


def test_identity_tags_name_project_image_and_version() -> None:
    assert naming.identity_tags("acme", "web", "1.0.0") == {
        "packerpy:project": "acme",
        "packerpy:image": "web",
        "packerpy:version": "1.0.0",
    }
    assert frozenset(naming.identity_tags("acme", "web", "1.0.0")) == naming.IDENTITY_TAGS


@given(st.lists(semvers(), min_size=2, max_size=6, unique=True))
def test_ami_names_of_distinct_versions_are_distinct(versions: list[str]) -> None:
    names = {naming.ami_name("{image}{version}", "w", v) for v in versions if len(v) <= 126}
    assert len(names) == len([v for v in versions if len(v) <= 126])


def test_f6_packerpy_tag_count_follows_the_tag_keys_defined() -> None:
    # Every `NAME_TAG = f"{TAG_PREFIX}..."` line of naming.py is a tag packerpy writes; the count
    # the config's tag limit uses must follow when one is added (AWS: 50 tags per resource).
    source = Path(naming.__file__).read_text()
    defined = re.findall(r'^[A-Z_]+_TAG = f"\{TAG_PREFIX\}', source, flags=re.MULTILINE)
    assert naming.PACKERPY_TAG_COUNT == len(defined) >= 9
