"""Redaction: every form packer and shells print a secret in is removed (reliability review 3).

Each test feeds the form as packer 1.6 actually wrote it (the review's reproductions) through
`Redactor.line` (packer's machine-readable stream) or `Redactor.text` (messages, free text).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packerpy import config
from packerpy.bake.gates import read_secrets
from packerpy.errors import ConfigError, PackerError, PackerTemplateError
from packerpy.packer.events import UiEvent, parse_line
from packerpy.packer.redact import (
    MIN_SECRET_LENGTH,
    Redactor,
    ShortSecretError,
    forms,
    packer_escape,
)
from tests.helpers import examples, make_project

STAMP = "1606000000,s02comma,ui,say,"


def said(text: str) -> str:
    """A machine-readable `ui say` line carrying `text`, escaped as packer writes it."""
    return STAMP + packer_escape(text)


def test_r3_1_comma_escaped_by_packer_is_redacted_before_unescaping() -> None:
    secret = "pp-dbb368b0d4d1,comma"
    line = Redactor([secret]).line(said(f"the password is {secret}"))
    event = parse_line(line)
    assert event == UiEvent("s02comma", "say", "the password is ***")
    assert "PACKER_COMMA" not in line
    assert "pp-dbb368b0d4d1" not in line


def test_r3_1_comma_in_raw_text_and_in_an_error_line() -> None:
    secret = "pp-dbb368b0d4d1,comma"
    redactor = Redactor([secret])
    escaped = packer_escape(secret)
    assert redactor.text(f"log: {escaped} and {secret}") == "log: *** and ***"
    line = redactor.line(f"1606000000,s09bfail,error,cannot log in with {escaped}")
    assert line == "1606000000,s09bfail,error,cannot log in with ***"


def test_r3_2_multiline_value_redacted_line_by_line() -> None:
    secret = "ml1-0e2b2c493db7\nml2-0e2b2c493db7"
    redactor = Redactor([secret])
    assert redactor.line(said("    s04multi: the password is ml1-0e2b2c493db7")) == said(
        "    s04multi: the password is ***"
    )
    assert redactor.line(said("    s04multi: ml2-0e2b2c493db7")) == said("    s04multi: ***")
    # Whole, escaped by packer (one event), and joined by an unquoted `echo $X`.
    assert redactor.line(said(f"x {secret} y")) == said("x *** y")
    assert redactor.text("is ml1-0e2b2c493db7 ml2-0e2b2c493db7.") == "is ***."


def test_r3_2_multiline_short_lines_are_not_redacted_on_their_own() -> None:
    # A JSON credential: `{` and `}` alone would match everywhere (review 3.4).
    secret = '{\n  "key": "k-0e2b2c493db7"\n}'
    redactor = Redactor([secret])
    assert redactor.text("}") == "}"
    assert redactor.text('  "key": "k-0e2b2c493db7"') == "***"
    assert all(len(form) >= MIN_SECRET_LENGTH for form in forms(secret))


def test_r3_3_non_utf8_value_as_packerpy_decodes_it() -> None:
    # os.environ holds undecodable bytes as surrogates; packer's output is decoded "replace".
    secret = b"nb-89045eb08809\xff\xfe-end".decode("utf-8", "surrogateescape")
    redactor = Redactor([secret])
    printed = b"the password is nb-89045eb08809\xff\xfe-end".decode("utf-8", "replace")
    assert redactor.line(said(printed)) == said("the password is ***")
    assert redactor.data(b"is nb-89045eb08809\xff\xfe-end!") == b"is ***!"
    # A printer that drops or substitutes the bad bytes still shows the valid run.
    assert redactor.text("nb-89045eb08809??-end") == "***??-end"


def test_r3_3_non_utf8_value_whose_edge_merges_with_its_neighbour() -> None:
    # `\xe2` before the value completes its first two bytes into `€` when the line is decoded.
    secret = b"\x82\xacbeyond-0e2b2c493db7".decode("utf-8", "surrogateescape")
    printed = b"x\xe2\x82\xacbeyond-0e2b2c493db7".decode("utf-8", "replace")
    assert Redactor([secret]).text(printed) == "x€***"


def test_r3_3_padded_value_echoed_unquoted_is_trimmed() -> None:
    secret = "  ws-0e2b2c493db7  "
    redactor = Redactor([secret])
    assert redactor.line(said("the password is ws-0e2b2c493db7")) == said("the password is ***")
    assert redactor.text(f"[{secret}]") == "[***]"


@pytest.mark.parametrize(
    "printed",
    [
        # packer shell-local's environment line with PACKER_LOG=1 (review 3.3).
        "DB_PASSWORD='it'\"'\"'s-0e2b2c493db7\"q'",
        "DB_PASSWORD=" + shlex.quote("it's-0e2b2c493db7\"q"),
        "+ echo 'it'\\''s-0e2b2c493db7\"q'",  # bash set -x
        "it\\'s-0e2b2c493db7\\\"q",  # printf %q
        json.dumps({"password": "it's-0e2b2c493db7\"q"}),
    ],
)
def test_r3_3_shell_quoted_and_json_forms(printed: str) -> None:
    out = Redactor(["it's-0e2b2c493db7\"q"]).text(printed)
    assert "0e2b2c493db7" not in out
    assert "***" in out


# What bash itself prints (not what we think it prints): printf %q, set -x, echo, quoted or not.
BASH_PRINTS = 'printf "%q\\n" "$X"; set -x; true "$X"; echo $X; echo "$X"'
# (value, a piece of it that must not survive); words shorter than 8 (`az09'`) may.
BASH_VALUES = [
    ('  pp-aaaa1111,it\'s "q"\nl2-bbbb2222  ', "aaaa1111"),
    ('  pp-aaaa1111,it\'s "q"\nl2-bbbb2222  ', "bbbb2222"),
    ("tab\there\x01\u00e9-abcdefg", "abcdefg"),
    ("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~ az09'", "()*+,-./:;<=>?@["),
    ("esc\x1bape-abcd\\n", "ape-abcd"),
]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize(("value", "piece"), BASH_VALUES)
def test_r3_3_every_form_bash_prints(value: str, piece: str) -> None:
    done = subprocess.run(
        ["bash", "-c", BASH_PRINTS],
        env={**os.environ, "X": value, "LC_ALL": "C.UTF-8"},
        capture_output=True,
        text=True,
        check=True,
    )
    printed = done.stdout + done.stderr
    assert printed.count(piece) >= 5  # printf, true, echo twice (and echo's output)
    redactor = Redactor([value])
    out = "\n".join(redactor.text(line) for line in printed.splitlines())
    assert piece not in out, out
    assert out.count("***") >= 5


def test_r3_3_overlapping_secrets_leave_no_piece() -> None:
    redactor = Redactor(["ov-x1234", "ov-x1234-SUFFIXPART"])
    assert redactor.text("a is ov-x1234, b is ov-x1234-SUFFIXPART") == "a is ***, b is ***"
    # Overlapping at different offsets: the union of both is removed.
    redactor = Redactor(["abcdefgh12", "gh12345678"])
    assert redactor.text("<abcdefgh12345678>") == "<***>"


def test_r3_3_overlap_half_masked_by_packers_own_log_filter() -> None:
    # PACKER_LOG=1: packer's filter masked A inside B first (packer 1.6.6, measured e2e).
    redactor = Redactor(["ov-x1234", "ov-x1234-SUFFIXa7896bd1d337"])
    line = "plugin: starting local command: /bin/sh -c B_TOKEN='<sensitive>-SUFFIXa7896bd1d337'"
    assert redactor.text(line) == "plugin: starting local command: /bin/sh -c B_TOKEN='***'"


def test_r3_3_regex_metacharacters_are_literal() -> None:
    secret = r"p.*s+[x](y)?$^|\end"
    assert Redactor([secret]).text(f"is {secret}; not pxxsss") == "is ***; not pxxsss"


def test_r3_4_short_secret_refused() -> None:
    with pytest.raises(ShortSecretError, match="shorter than 8 characters"):
        Redactor(["a"])
    with pytest.raises(ShortSecretError):
        Redactor(["  1234567  "])  # padding does not count: `echo $X` prints 7 characters


def test_r3_4_fields_stay_parseable() -> None:
    # The old str.replace rewrote timestamps and commas: exit 6 became 4.
    secret = "1606000000"
    line = Redactor([secret]).line("1606000000,s11one,ui,error,Build failed 1606000000")
    assert line == "1606000000,s11one,ui,error,Build failed ***"
    assert parse_line(line) == UiEvent("s11one", "error", "Build failed ***")


def test_text_without_a_secret_is_unchanged() -> None:
    redactor = Redactor(["pp-dbb368b0d4d1,comma"])
    for text in ["", "plain", said("a,b\\nc"), "1606,x,ui,say,%!(PACKER_COMMA)"]:
        assert redactor.text(text) == text
        assert redactor.line(text) == text
    assert not Redactor([])
    assert Redactor([]).line("anything, pp") == "anything, pp"


def test_errors_are_redacted_with_their_type_and_tail() -> None:
    redactor = Redactor(["abcd efgh"])
    exc = PackerTemplateError("x: abcd efgh", command=["packer"], returncode=1, tail=("abcd efgh",))
    out = redactor.error(exc)
    assert isinstance(out, PackerTemplateError)
    assert (out.message, out.tail, out.returncode, out.command) == (
        "x: ***",
        ("***",),
        1,
        ("packer",),
    )
    clean = PackerError("nothing here")
    assert redactor.error(clean) is clean


# --- property: any secret, any supported form, any surrounding text -----------------------

_ALPHABET = st.characters(codec="utf-8", exclude_characters="*")
SECRETS = st.text(_ALPHABET, min_size=MIN_SECRET_LENGTH, max_size=40).filter(
    lambda s: len(s.strip()) >= MIN_SECRET_LENGTH
)


@settings(max_examples=examples(300), deadline=None)
@given(secret=SECRETS, before=st.text(max_size=30), after=st.text(max_size=30), data=st.data())
def test_property_no_form_survives(
    secret: str, before: str, after: str, data: st.DataObject
) -> None:
    every = sorted(forms(secret))
    form = data.draw(st.sampled_from(every))
    redactor = Redactor([secret])
    out = redactor.text(before + form + after)
    assert not any(f in out for f in every)
    line = redactor.line(said(before + form + after))
    assert not any(f in line for f in every)
    assert isinstance(parse_line(line), UiEvent)


@settings(max_examples=examples(300), deadline=None)
@given(secret=SECRETS, text=st.text(max_size=80))
def test_property_text_without_a_form_is_unchanged(secret: str, text: str) -> None:
    redactor = Redactor([secret])
    if not any(f in text for f in forms(secret)):
        assert redactor.text(text) == text
        assert redactor.line(said(text)) == said(text)


def test_r3_4_short_secret_refused_before_packer_starts(tmp_path: Path) -> None:
    project = config.load(make_project(tmp_path, images={"web": {"secrets": ["DB_PASSWORD"]}}))
    for value in ["a", ",", "  1234567 \n"]:
        with pytest.raises(ConfigError) as caught:
            read_secrets(project, "web", {"DB_PASSWORD": value})
        assert caught.value.exit_code == 2
        assert caught.value.message == f"{project.label}: " + (
            "images.web.secrets[0]: environment variable 'DB_PASSWORD' is shorter "
            "than 8 characters (surrounding whitespace aside): too short to redact from packer's "
            "output"
        )
    assert read_secrets(project, "web", {"DB_PASSWORD": " 12345678"}) == {
        "db_password": " 12345678"
    }
