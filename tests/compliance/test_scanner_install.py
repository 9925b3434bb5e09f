"""compliance.sh installs a missing scanner and removes exactly what it installed (unless
keep_scanner), against stub apt-get, dpkg-query and oscap on PATH: no package really moves."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

PROVISIONERS = Path(__file__).resolve().parents[2] / "provisioners"
BASE = "base-files\nlibc6\n"
# apt-get "installs" by listing packages in $STATE and dropping an oscap stub on PATH.
APT_GET = r"""#!/bin/sh
case " $* " in
*" update "*) exit 0 ;;
*" install "*)
	for a in "$@"; do case $a in -* | install) ;; *) echo "$a" >>"$STATE" ;; esac; done
	cp "$STUBS/oscap.real" "$STUBS/oscap" && cp "$STUBS/oscap-chroot.real" "$STUBS/oscap-chroot" ;;
*" purge "*)
	for a in "$@"; do case $a in -* | purge) ;; *)
		grep -vx "$a" "$STATE" >"$STATE.new"; mv "$STATE.new" "$STATE" ;; esac; done
	rm -f "$STUBS/oscap" "$STUBS/oscap-chroot" ;;
esac
"""
DPKG_QUERY = '#!/bin/sh\nsed "s/^/ii /" "$STATE"\n'
OSCAP = r"""#!/bin/sh
case $1 in
--version) echo "OpenSCAP command line tool (oscap) 1.3.7" ;;
info) echo "xccdf_org.ssgproject.content_profile_standard:Standard System Security Profile" ;;
xccdf)
	while [ $# -gt 1 ]; do
		case $1 in --results-arf | --report) echo "<x/>" >"$2"; shift ;; esac
		shift
	done
	printf 'Rule\r\txccdf_org.ssgproject.content_rule_a\nResult\r\tpass\n\n'
	printf 'Rule\r\txccdf_org.ssgproject.content_rule_b\nResult\r\tfail\n\n'
	printf 'Rule\r\txccdf_org.ssgproject.content_rule_c\nResult\r\tnotapplicable\n'
	exit 2 ;;
esac
"""


def _run(
    tmp_path: Path, apt_get: str = APT_GET, oscap: str = OSCAP, **extra: str
) -> subprocess.CompletedProcess[str]:
    """compliance.sh on a Debian root with no scanner, the stubs first on PATH."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name, text in {
        "apt-get": apt_get,
        "dpkg-query": DPKG_QUERY,
        "oscap.real": oscap,
        "oscap-chroot.real": '#!/bin/sh\nshift\nexec oscap "$@"\n',
    }.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    # This machine's own OpenSCAP (/usr/bin/oscap*) must not be found: every other tool is.
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in Path("/usr/bin").iterdir():
        if not tool.name.startswith("oscap"):
            (tools / tool.name).symlink_to(tool)
    (tmp_path / "installed").write_text(BASE)
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="11"\n')
    content = tmp_path / "ds.xml"
    content.write_text('<xccdf-1.2:version update="u">0.1.65</xccdf-1.2:version>\n')
    env = {
        "PATH": f"{stubs}:{tools}",
        "STATE": str(tmp_path / "installed"),
        "STUBS": str(stubs),
        "ROOT": str(root),
        "COMPLIANCE_PROFILE": "standard",
        "COMPLIANCE_CONTENT": str(content),
        "COMPLIANCE_OUT": str(tmp_path / "out"),
        "LC_ALL": "C",
        **extra,
    }
    return subprocess.run(
        ["sh", "-eu", str(PROVISIONERS / "compliance.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("keep", "left"), [("0", BASE), ("1", BASE + "openscap-scanner\nopenscap-utils\n")]
)
def test_the_scanner_is_installed_then_removed_unless_kept(
    tmp_path: Path, keep: str, left: str
) -> None:
    done = _run(tmp_path, COMPLIANCE_KEEP_SCANNER=keep)
    state = tmp_path / "installed"
    assert done.returncode == 0, done.stderr
    assert "compliance: installing openscap-scanner openscap-utils" in done.stdout
    assert ("removing what the scan installed: openscap-scanner openscap-utils" in done.stdout) is (
        keep == "0"
    )
    assert state.read_text() == left
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert (summary["pass"], summary["fail"], summary["notapplicable"]) == (1, 1, 1)
    assert (summary["score"], summary["failed"], summary["content_version"]) == (
        50.0,
        ["b"],
        "0.1.65",
    )


def test_a_scanner_that_cannot_be_installed_fails_the_bake(tmp_path: Path) -> None:
    offline = "#!/bin/sh\necho 'E: Unable to fetch some archives' >&2\nexit 100\n"
    done = _run(tmp_path, offline)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "compliance: error: apt-get could not install openscap-scanner openscap-utils "
        "(no network or repository?): add them to the base image, or set "
        "compliance.required = false"
    )
    assert (tmp_path / "installed").read_text() == BASE


def test_content_of_another_os_is_named(tmp_path: Path) -> None:
    # Measured with OpenSCAP 1.3.7: ssg-ubuntu2204-ds.xml on a Debian 11 root evaluates every
    # rule of `standard` as notapplicable (the content's platform check does not match).
    nothing_applies = OSCAP.replace("Result\\r\\tpass", "Result\\r\\tnotapplicable").replace(
        "Result\\r\\tfail", "Result\\r\\tnotapplicable"
    )
    done = _run(tmp_path, oscap=nothing_applies)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "compliance: error: no rule of xccdf_org.ssgproject.content_profile_standard applies to "
        f"{tmp_path / 'root'} (not an OS that ds.xml covers): set compliance.content "
        "(COMPLIANCE_CONTENT) to the data stream for debian 11"
    )
    assert (tmp_path / "installed").read_text() == BASE  # the scanner went again
