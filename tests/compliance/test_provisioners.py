"""compliance.sh's bad input, and the harden library's new parts (harden, logging, timesync,
packages) on fake roots, with tests/test_provisioners.py's guard: no live-system command runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_provisioners import Guard, build, diff, run, run_ok, snapshot
from tests.test_provisioners import guard as guard  # the fixture, re-exported

BULLSEYE = 'ID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\n'
RSYSLOG_CONF = (
    "$FileOwner root\n$FileGroup adm\n$FileCreateMode 0640\n"
    "$IncludeConfig /etc/rsyslog.d/*.conf\n"
    "*.*;auth,authpriv.none\t\t-/var/log/syslog\nauth,authpriv.*\t\t\t/var/log/auth.log\n"
    "*.emerg\t\t\t\t:omusrmsg:*\n"
)


def _error(script: str, root: Path, guard: Guard, **env: str) -> str:
    result = run(script, root, guard, **env)
    assert result.returncode == 2, result.stdout
    return result.stderr.strip()


@pytest.fixture
def bullseye(tmp_path: Path) -> Path:
    return build(
        tmp_path / "root",
        {
            "etc/os-release": BULLSEYE,
            "etc/apt/sources.list": "deb http://deb.debian.org/debian bullseye main\n",
            "etc/rsyslog.conf": RSYSLOG_CONF,
            "etc/rsyslog.d/": "",
            "etc/logrotate.conf": "# see man logrotate\nweekly\nrotate 4\ncreate\n",
            "etc/ntp.conf": "pool 0.debian.pool.ntp.org iburst\n",
            "boot/System.map-5.10.0-26-amd64": "ffffffff81000000 T _text\n",
            "var/log/": "",
        },
    )


def test_compliance_names_what_to_set(bullseye: Path, tmp_path: Path, guard: Guard) -> None:
    content = tmp_path / "ds.xml"
    content.write_text("<ds/>\n")
    missing = {"COMPLIANCE_OSCAP": "/nonexistent/oscap", "COMPLIANCE_PKG": "none"}
    assert _error("compliance", bullseye, guard) == (
        "compliance: error: no profile: set compliance.profile (COMPLIANCE_PROFILE), "
        "e.g. anssi_np_nt28_average"
    )
    (bullseye / "etc/os-release").write_text('ID=plan9\nVERSION_ID="4"\n')
    assert _error("compliance", bullseye, guard, COMPLIANCE_PROFILE="standard") == (
        "compliance: error: no SCAP content known for OS 'plan9 4': set compliance.content "
        "(COMPLIANCE_CONTENT) to a data stream file"
    )
    (bullseye / "etc/os-release").write_text(BULLSEYE)
    nowhere = _error(
        "compliance", bullseye, guard, COMPLIANCE_PROFILE="standard", COMPLIANCE_CONTENT="/no.xml"
    )
    assert nowhere == (
        "compliance: error: SCAP content /no.xml not found: install it, or set compliance.content "
        "(COMPLIANCE_CONTENT) to a data stream for debian 11"
    )
    no_scanner = _error(
        "compliance", bullseye, guard, COMPLIANCE_PROFILE="standard",
        COMPLIANCE_CONTENT=str(content), **missing,
    )  # fmt: skip
    assert no_scanner == (
        "compliance: error: no OpenSCAP scanner (/nonexistent/oscap) and no apt-get, dnf or yum "
        "to install it: install openscap-scanner in the base image, or set "
        "compliance.required = false"
    )


def test_compliance_not_required_skips_with_a_summary_saying_why(
    bullseye: Path, tmp_path: Path, guard: Guard
) -> None:
    out = tmp_path / "out"
    result = run_ok(
        "compliance", bullseye, guard, COMPLIANCE_PROFILE="standard", COMPLIANCE_REQUIRED="0",
        COMPLIANCE_CONTENT="/no.xml", COMPLIANCE_OUT=str(out),
    )  # fmt: skip
    assert result.lines[-1].startswith("compliance: skipped (compliance.required = false): SCAP")
    assert json.loads((out / "summary.json").read_text()) == {
        "skipped": "SCAP content /no.xml not found: install it, or set compliance.content "
        "(COMPLIANCE_CONTENT) to a data stream for debian 11"
    }


def test_harden_adds_the_security_archive_and_restricts_system_map(
    bullseye: Path, guard: Guard
) -> None:
    before = snapshot(bullseye)
    run_ok("harden", bullseye, guard, HARDEN_DISABLE_SERVICES="")
    changed = diff(before, snapshot(bullseye))
    assert changed.changed == {"etc/apt/sources.list", "boot/System.map-5.10.0-26-amd64"}
    assert (bullseye / "etc/apt/sources.list").read_text().splitlines()[1:] == [
        "# Added by packerpy harden: security updates from the official archive.",
        "deb http://security.debian.org/debian-security bullseye-security main",
    ]
    assert (bullseye / "boot/System.map-5.10.0-26-amd64").stat().st_mode & 0o777 == 0o600
    again = snapshot(bullseye)
    run_ok("harden", bullseye, guard, HARDEN_DISABLE_SERVICES="")
    assert snapshot(bullseye) == again


def test_logging_owns_the_log_files_and_rotates_daily(bullseye: Path, guard: Guard) -> None:
    run_ok("logging", bullseye, guard)
    dropin = (bullseye / "etc/rsyslog.d/00-packerpy-logging.conf").read_text()
    assert "$FileGroup root\n$FileCreateMode 0600\n" in dropin
    for log in ("var/log/syslog", "var/log/auth.log"):
        st = (bullseye / log).stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, 0, 0o600)
    rotate = (bullseye / "etc/logrotate.conf").read_text().splitlines()
    assert "daily" in rotate and "weekly" not in rotate
    again = snapshot(bullseye)
    assert run_ok("logging", bullseye, guard).lines == ["logging: done"]
    assert snapshot(bullseye) == again


def test_timesync_prefers_the_amazon_time_sync_service(bullseye: Path, guard: Guard) -> None:
    run_ok("timesync", bullseye, guard)
    ntp = (bullseye / "etc/ntp.conf").read_text()
    assert ntp.endswith("\nserver 169.254.169.123 prefer iburst\n")
    assert ntp.startswith("pool 0.debian.pool.ntp.org iburst\n")  # the pool stays a fallback
    run_ok("timesync", bullseye, guard)
    assert (bullseye / "etc/ntp.conf").read_text() == ntp
    assert _error("timesync", bullseye, guard, TIMESYNC_SERVER="a;b") == (
        "timesync: error: TIMESYNC_SERVER 'a;b' is not a host name or address"
    )


def test_packages_refuses_bad_names_before_running_anything(bullseye: Path, guard: Guard) -> None:
    assert _error("packages", bullseye, guard, BASELINE_PACKAGES="rsyslog $(reboot)") == (
        "packages: error: BASELINE_PACKAGES: '$(reboot)' is not a package name"
    )
    (bullseye / "etc/os-release").write_text("ID=plan9\n")
    assert _error("packages", bullseye, guard) == (
        "packages: error: unsupported OS family (no debian/ubuntu/rhel/fedora/amzn in ID or "
        "ID_LIKE of /etc/os-release)"
    )


def test_timesync_on_amazon_linux_keeps_a_configured_server(tmp_path: Path, guard: Guard) -> None:
    # AL2023's chrony.conf already prefers the Amazon Time Sync Service: nothing to change.
    line = "server 169.254.169.123 prefer iburst minpoll 4 maxpoll 4\n"
    al2023 = build(
        tmp_path / "al2023",
        {"etc/os-release": 'ID="amzn"\nVERSION_ID="2023"\n', "etc/chrony.conf": line},
    )
    assert run_ok("timesync", al2023, guard).lines[0] == (
        "timesync: /etc/chrony.conf already uses 169.254.169.123"
    )
    rhel = build(
        tmp_path / "rhel",
        {"etc/os-release": 'ID="rhel"\n', "etc/chrony.conf": "pool 2.rhel.pool.ntp.org iburst\n"},
    )
    run_ok("timesync", rhel, guard)
    assert (rhel / "etc/chrony.conf").read_text().endswith("\n" + line)
