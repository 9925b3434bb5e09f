#!/bin/sh
# patch: bring the image fully up to date with the OS package manager.
#
#   Debian/Ubuntu:       apt-get update, then a non-interactive apt-get dist-upgrade
#                        (existing config files are kept: --force-confdef --force-confold)
#   Amazon Linux/RHEL:   dnf -y upgrade (or yum -y update where there is no dnf)
#
# The family comes from ${ROOT}/etc/os-release (ID and ID_LIKE). If cloud-init is present,
# the script first waits for it to finish so that it does not race cloud-init's own apt/dnf.
#
# Environment:
#   ROOT      image root (default /). The package manager only ever acts on the live system,
#             so with any other ROOT nothing runs: each command is printed as "would run: ...".
#   DRY_RUN   1 = print the commands instead of running them, even when ROOT is /.
#
# Idempotent: a second upgrade finds nothing to do.
set -eu

PROG="patch"
say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 2
}

ROOT=${ROOT:-/}
case $ROOT in
/*) ;;
*) die "ROOT must be an absolute path (got '$ROOT')" ;;
esac
R=$(cd -P "$ROOT" 2>/dev/null && pwd -P) || die "ROOT $ROOT is not a directory"
if [ "$R" = / ]; then R=; fi

DRY=0
if [ -n "$R" ] || [ "${DRY_RUN:-0}" = 1 ]; then DRY=1; fi

os_release() {
	for f in "$R/etc/os-release" "$R/usr/lib/os-release"; do
		if [ -f "$f" ]; then
			printf '%s\n' "$f"
			return 0
		fi
	done
	return 1
}

# os_field FILE KEY: the (unquoted) value of KEY= in an os-release file.
os_field() {
	sed -n "s/^$2=//p" "$1" | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# os_family: debian, rhel or unknown.
os_family() {
	osr=$(os_release) || {
		echo unknown
		return 0
	}
	ids=" $(os_field "$osr" ID) $(os_field "$osr" ID_LIKE) "
	case $ids in
	*" debian "* | *" ubuntu "*) echo debian ;;
	*" rhel "* | *" fedora "* | *" centos "* | *" amzn "*) echo rhel ;;
	*) echo unknown ;;
	esac
}

# has_tool NAME: NAME is an executable in the image's usual bin directories.
has_tool() {
	for d in usr/bin usr/sbin bin sbin; do
		if [ -x "$R/$d/$1" ]; then return 0; fi
	done
	return 1
}

# run VAR=VALUE... CMD ARG...: run a command, or print it under a fake root / DRY_RUN=1.
run() {
	if [ "$DRY" = 1 ]; then
		say "would run: $*"
	else
		say "running: $*"
		env "$@"
	fi
}

family=$(os_family)

if has_tool cloud-init; then
	if [ "$DRY" = 1 ]; then
		say "would run: cloud-init status --wait"
	else
		say "running: cloud-init status --wait"
		# Its exit status reports cloud-init's own errors, which are not ours to fail on.
		cloud-init status --wait >/dev/null 2>&1 || say "cloud-init reported errors; continuing"
	fi
fi

case $family in
debian)
	run apt-get -o DPkg::Lock::Timeout=600 update
	run DEBIAN_FRONTEND=noninteractive apt-get -y -o DPkg::Lock::Timeout=600 \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade
	;;
rhel)
	if has_tool dnf; then
		run dnf -y upgrade
	elif has_tool yum; then
		run yum -y update
	else
		die "neither dnf nor yum found in the image"
	fi
	;;
*)
	die "unsupported OS family (no debian/ubuntu/rhel/fedora/amzn in ID or ID_LIKE of /etc/os-release)"
	;;
esac
say "done"
