#!/bin/sh
# compliance: measure the image with OpenSCAP and the SCAP Security Guide (SSG).
#
#   scanner  oscap (openscap-scanner), and oscap-chroot (openscap-utils) when ROOT is not /.
#            Installed with apt-get, dnf or yum when missing, and removed again afterwards
#            (exactly the packages this run added) unless COMPLIANCE_KEEP_SCANNER=1, so that
#            measuring the image does not change it.
#   content  an SSG source data stream: COMPLIANCE_CONTENT (a path, or a file name under
#            /usr/share/xml/scap/ssg/content), else chosen from ${ROOT}/etc/os-release:
#            ssg-debian11-ds.xml, ssg-ubuntu2204-ds.xml, ssg-rhel9-ds.xml, ssg-al2023-ds.xml...
#            (packages ssg-debian, ssg-debderived for Ubuntu, scap-security-guide on RPM systems).
#   scan     oscap xccdf eval --profile COMPLIANCE_PROFILE --results-arf arf.xml
#            --report report.html CONTENT (through oscap-chroot ROOT when ROOT is not /).
#   results  in COMPLIANCE_OUT: arf.xml, report.html and summary.json:
#              {"profile": ..., "content": ..., "content_version": ..., "scanner": ...,
#               "os": ..., "pass": N, "fail": N, "notapplicable": N, "other": N,
#               "score": 61.4, "failed": ["rule_id", ...]}
#            score = 100 * pass / (pass + fail), one decimal: notapplicable, notchecked,
#            notselected and informational results count neither way.
#
# Environment:
#   ROOT                     image root to scan (default /)
#   COMPLIANCE_PROFILE       XCCDF profile id; a short name (anssi_np_nt28_average) gets the
#                            xccdf_org.ssgproject.content_profile_ prefix. Required.
#   COMPLIANCE_CONTENT       data stream (default: from the OS, see above)
#   COMPLIANCE_OUT           results directory (default ${ROOT}/var/lib/packerpy/compliance;
#                            a path given here is used as is, not put under ROOT)
#   COMPLIANCE_KEEP_SCANNER  1: leave the scanner installed (default 0)
#   COMPLIANCE_REQUIRED      1 (default): a scan that cannot run fails the build (exit 2);
#                            0: it is skipped with a note and summary.json says why
#   COMPLIANCE_PKG           package manager: apt-get, dnf, yum or none (default: found on PATH)
#   COMPLIANCE_OSCAP         the oscap command (default oscap)
#
# Exit status: 0 when the scan ran (whatever the score: verify gates on it), 2 on bad input.
set -eu

PROG="compliance"
SSG_DIR=/usr/share/xml/scap/ssg/content
PROFILE_PREFIX=xccdf_org.ssgproject.content_profile_
RULE_PREFIX=xccdf_org.ssgproject.content_rule_
say() { printf '%s: %s\n' "$PROG" "$*"; }

ROOT=${ROOT:-/}
REQUIRED=${COMPLIANCE_REQUIRED:-1}
OSCAP=${COMPLIANCE_OSCAP:-oscap}
ADDED=
OUT=
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

# fail MESSAGE: a scan that cannot run: exit 2 when required, else a note and summary.json.
fail() {
	if [ -n "$ADDED" ]; then remove_scanner; fi # set only once remove_scanner is defined
	if [ "$REQUIRED" = 1 ]; then
		printf '%s: error: %s\n' "$PROG" "$*" >&2
		exit 2
	fi
	say "skipped (compliance.required = false): $*"
	if [ -n "$OUT" ] && mkdir -p "$OUT"; then
		printf '{"skipped": "%s"}\n' "$(printf '%s' "$*" | sed 's/[\\"]/\\&/g')" >"$OUT/summary.json"
	fi
	exit 0
}

case $ROOT in
/*) ;;
*) fail "ROOT must be an absolute path (got '$ROOT')" ;;
esac
R=$(cd -P "$ROOT" 2>/dev/null && pwd -P) || fail "ROOT $ROOT is not a directory"
if [ "$R" = / ]; then R=; fi
OUT=${COMPLIANCE_OUT:-$R/var/lib/packerpy/compliance}
case $OUT in
/*) ;;
*) fail "COMPLIANCE_OUT must be an absolute path (got '$OUT')" ;;
esac

PROFILE=${COMPLIANCE_PROFILE:-}
case $PROFILE in
'') fail "no profile: set compliance.profile (COMPLIANCE_PROFILE), e.g. anssi_np_nt28_average" ;;
*[!A-Za-z0-9_.:-]*) fail "COMPLIANCE_PROFILE '$PROFILE' is not an XCCDF profile id" ;;
xccdf_*) ;;
*) PROFILE="$PROFILE_PREFIX$PROFILE" ;;
esac

# os_field KEY: a field of the image's os-release, unquoted.
os_field() {
	for f in "$R/etc/os-release" "$R/usr/lib/os-release"; do
		if [ -f "$f" ]; then
			sed -n "s/^$1=//p" "$f" | tr -d '"' | head -n 1
			return 0
		fi
	done
}
OS_ID=$(os_field ID)
OS_VERSION=$(os_field VERSION_ID)

# default_content: the SSG data stream for this OS, and the package that ships it.
default_content() {
	major=${OS_VERSION%%.*}
	case $OS_ID in
	debian) echo "ssg-debian$major-ds.xml ssg-debian" ;;
	ubuntu) echo "ssg-ubuntu$(printf '%s' "$OS_VERSION" | tr -d .)-ds.xml ssg-debderived" ;;
	amzn) if [ "$major" = 2 ]; then echo "ssg-amzn2-ds.xml scap-security-guide"; else
		echo "ssg-al$major-ds.xml scap-security-guide"; fi ;;
	rhel | centos | rocky | almalinux) echo "ssg-rhel$major-ds.xml scap-security-guide" ;;
	fedora) echo "ssg-fedora-ds.xml scap-security-guide" ;;
	*) echo "" ;;
	esac
}

# shellcheck disable=SC2046 # two words: file and package
set -- $(default_content)
CONTENT=${COMPLIANCE_CONTENT:-${1:-}}
CONTENT_PKG=${2:-}
if [ -z "$CONTENT" ]; then
	fail "no SCAP content known for OS '${OS_ID:-unknown} ${OS_VERSION}': set compliance.content (COMPLIANCE_CONTENT) to a data stream file"
fi
case $CONTENT in
/*) ;;
*/*) fail "COMPLIANCE_CONTENT '$CONTENT' must be a file name or an absolute path" ;;
*) CONTENT="$SSG_DIR/$CONTENT" ;;
esac

PKG=${COMPLIANCE_PKG:-}
if [ -z "$PKG" ]; then
	PKG=none
	for candidate in apt-get dnf yum; do
		if command -v "$candidate" >/dev/null 2>&1; then
			PKG=$candidate
			break
		fi
	done
fi

installed_packages() {
	case $PKG in
	apt-get) dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' ;;
	dnf | yum) rpm -qa --qf '%{NAME}\n' ;;
	esac | sort -u
}

# install_scanner PACKAGE...: install what is missing; ADDED lists the packages that came new.
install_scanner() {
	case $PKG in
	apt-get)
		scanner="openscap-scanner"
		if [ -n "$R" ]; then scanner="$scanner openscap-utils"; fi
		;;
	dnf | yum) scanner="openscap-scanner openscap-utils" ;;
	*) fail "no OpenSCAP scanner ($OSCAP) and no apt-get, dnf or yum to install it: install openscap-scanner in the base image, or set compliance.required = false" ;;
	esac
	installed_packages >"$TMPD/before"
	wanted="$scanner${*:+ $*}"
	say "installing $wanted"
	# shellcheck disable=SC2086 # word splitting of the package lists is intended
	case $PKG in
	apt-get)
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $scanner "$@"; } >/dev/null 2>&1 || install_failed "$wanted"
		;;
	*) "$PKG" install -y -q $scanner "$@" >/dev/null 2>&1 || install_failed "$wanted" ;;
	esac
	ADDED=$(installed_packages | awk 'NR == FNR { had[$0] = 1; next } !($0 in had)' "$TMPD/before" -)
}

install_failed() {
	ADDED=$(installed_packages | awk 'NR == FNR { had[$0] = 1; next } !($0 in had)' "$TMPD/before" -)
	fail "$PKG could not install $1 (no network or repository?): add them to the base image, or set compliance.required = false"
}

remove_scanner() {
	if [ -z "$ADDED" ] || [ "${COMPLIANCE_KEEP_SCANNER:-0}" = 1 ]; then return 0; fi
	# shellcheck disable=SC2086 # one word per package
	say "removing what the scan installed: $(printf '%s ' $ADDED)"
	# shellcheck disable=SC2086 # one argument per package
	case $PKG in
	apt-get) DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $ADDED >/dev/null ;;
	dnf | yum) "$PKG" remove -y -q $ADDED >/dev/null ;;
	esac
	ADDED=
}

# The scanner and the content, installed when missing.
need=
if ! command -v "$OSCAP" >/dev/null 2>&1; then need=scanner; fi
if [ -n "$R" ] && ! command -v oscap-chroot >/dev/null 2>&1; then need=scanner; fi
content_pkg=
if [ ! -f "$CONTENT" ]; then
	case $CONTENT in
	"$SSG_DIR"/*) content_pkg=$CONTENT_PKG ;;
	esac
	if [ -z "$content_pkg" ] || [ "$PKG" = none ]; then
		fail "SCAP content $CONTENT not found${content_pkg:+ (package $content_pkg)}: install it, or set compliance.content (COMPLIANCE_CONTENT) to a data stream for ${OS_ID:-this OS} ${OS_VERSION}"
	fi
	need=content
fi
if [ -n "$need" ]; then
	# shellcheck disable=SC2086 # none or one package
	install_scanner $content_pkg
	if [ ! -f "$CONTENT" ]; then
		fail "SCAP content $CONTENT not found after installing $content_pkg: set compliance.content (COMPLIANCE_CONTENT)"
	fi
fi

# The profile must exist in the content: oscap would otherwise fail with a long message.
"$OSCAP" info --profiles "$CONTENT" >"$TMPD/profiles" 2>&1 || fail "oscap cannot read $CONTENT: set compliance.content (COMPLIANCE_CONTENT) to an SCAP source data stream"
if ! cut -d: -f1 "$TMPD/profiles" | grep -qxF "$PROFILE"; then
	fail "profile '$PROFILE' is not in $(basename "$CONTENT") (it has: $(cut -d: -f1 "$TMPD/profiles" | sed "s/^$PROFILE_PREFIX//" | paste -sd ' ' -)): set compliance.profile (COMPLIANCE_PROFILE) to one of them"
fi
VERSION=$(grep -o '<xccdf-1.2:version[^>]*>[^<]*' "$CONTENT" | head -n 1 | sed 's/.*>//')
SCANNER=$("$OSCAP" --version | head -n 1 | sed 's/.*) //')

mkdir -p "$OUT"
say "scanning ${R:-/} with $PROFILE ($(basename "$CONTENT") ${VERSION:-unversioned})"
set +e
if [ -n "$R" ]; then
	oscap-chroot "$R" xccdf eval --profile "$PROFILE" --results-arf "$OUT/arf.xml" \
		--report "$OUT/report.html" "$CONTENT" >"$TMPD/results" 2>"$TMPD/errors"
else
	"$OSCAP" xccdf eval --profile "$PROFILE" --results-arf "$OUT/arf.xml" \
		--report "$OUT/report.html" "$CONTENT" >"$TMPD/results" 2>"$TMPD/errors"
fi
rc=$?
set -e
# oscap: 0 every rule passed, 2 some failed, anything else the evaluation itself failed.
if [ "$rc" != 0 ] && [ "$rc" != 2 ]; then
	fail "oscap xccdf eval exited $rc: $(tail -n 1 "$TMPD/errors")"
fi

# No rule passed or failed: every one was notapplicable (the content's platform check did not
# match this OS), or oscap evaluated none at all.
if ! grep -Eq '^Result[[:space:]]+(pass|fail)$' "$TMPD/results"; then
	fail "no rule of $PROFILE applies to ${R:-/} (not an OS that $(basename "$CONTENT") covers): set compliance.content (COMPLIANCE_CONTENT) to the data stream for ${OS_ID:-this OS} ${OS_VERSION}"
fi

# summary.json from oscap's "Rule ID" / "Result VALUE" lines, in the order oscap evaluated them.
awk -v profile="$PROFILE" -v content="$(basename "$CONTENT")" -v version="$VERSION" \
	-v scanner="$SCANNER" -v os="$OS_ID $OS_VERSION" -v prefix="$RULE_PREFIX" -F '[\r\t]+' '
	$1 == "Rule" { rule = $2; sub("^" prefix, "", rule) }
	$1 == "Result" {
		n[$2]++
		if ($2 == "fail") failed = failed (failed == "" ? "" : ", ") "\"" rule "\""
	}
	END {
		scored = n["pass"] + n["fail"]
		other = 0
		for (r in n) if (r != "pass" && r != "fail" && r != "notapplicable") other += n[r]
		printf "{\"profile\": \"%s\", \"content\": \"%s\", \"content_version\": \"%s\", ", profile, content, version
		printf "\"scanner\": \"%s\", \"os\": \"%s\", ", scanner, os
		printf "\"pass\": %d, \"fail\": %d, \"notapplicable\": %d, \"other\": %d, ", n["pass"], n["fail"], n["notapplicable"], other
		printf "\"score\": %.1f, \"failed\": [%s]}\n", scored ? 100 * n["pass"] / scored : 0, failed
	}' "$TMPD/results" >"$OUT/summary.json"
say "$(sed 's/.*"pass": \([0-9]*\), "fail": \([0-9]*\),.*"score": \([0-9.]*\),.*/\1 pass, \2 fail: score \3/' "$OUT/summary.json")"
remove_scanner
