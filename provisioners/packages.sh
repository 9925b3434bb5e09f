#!/bin/sh
# packages: install the daemons a hardened image runs: a system logger, log rotation and time
# synchronisation (what the SSG profiles check for: package_rsyslog_installed,
# ensure_logrotate_activated, package_ntp_installed / package_chrony_installed).
#
#   Debian/Ubuntu       apt-get install --no-install-recommends (default: rsyslog logrotate ntp)
#   Amazon Linux/RHEL   dnf install (or yum; default: rsyslog logrotate chrony)
#
# Only missing packages are installed; the packages' own scripts enable their services. Under
# another ROOT the package manager runs chrooted into ROOT (it needs ROOT's /etc/resolv.conf to
# reach the archive), with a policy-rc.d that forbids starting daemons, so nothing starts on
# the building machine. The `logging` and `timesync` provisioners configure what this installs.
#
# Environment:
#   ROOT               image root (default /)
#   BASELINE_PACKAGES  the packages, space separated (default: see above)
#
# Idempotent: when every package is installed, nothing runs (not even apt-get update).
set -eu

PROG="packages"
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

# family: debian or rhel, from the image's os-release ID and ID_LIKE.
family() {
	ids=$(sed -n 's/^ID\(_LIKE\)\{0,1\}=//p' "$R/etc/os-release" 2>/dev/null | tr -d '"' | tr '\n' ' ')
	case " $ids " in
	*" debian "* | *" ubuntu "*) echo debian ;;
	*" rhel "* | *" fedora "* | *" centos "* | *" amzn "*) echo rhel ;;
	*) die "unsupported OS family (no debian/ubuntu/rhel/fedora/amzn in ID or ID_LIKE of /etc/os-release)" ;;
	esac
}

# in_root CMD ARG...: run a command in the image (chrooted when ROOT is not /).
in_root() {
	if [ -n "$R" ]; then chroot "$R" "$@"; else "$@"; fi
}

# ensure_packages PACKAGE...: install the ones the image lacks.
ensure_packages() {
	missing=
	for pkg in "$@"; do
		# shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
		case $FAMILY in
		debian) in_root dpkg-query -W -f '${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii' ;;
		rhel) in_root rpm -q "$pkg" >/dev/null 2>&1 ;;
		esac || missing="$missing $pkg"
	done
	if [ -z "$missing" ]; then
		say "already installed: $*"
		return 0
	fi
	say "installing$missing"
	policy=
	if [ -n "$R" ] && [ ! -e "$R/usr/sbin/policy-rc.d" ]; then
		# 101: "action forbidden" (invoke-rc.d's policy-rc.d protocol): no daemon starts.
		policy="$R/usr/sbin/policy-rc.d"
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
	fi
	# shellcheck disable=SC2086 # one word per package
	case $FAMILY in
	debian) in_root apt-get -o DPkg::Lock::Timeout=600 update -qq &&
		in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends -o DPkg::Lock::Timeout=600 $missing >/dev/null ;;
	rhel) if in_root sh -c 'command -v dnf' >/dev/null; then in_root dnf install -y -q $missing; else
		in_root yum install -y -q $missing; fi ;;
	esac || status=$?
	if [ -n "$policy" ]; then rm -f "$policy"; fi
	if [ "${status:-0}" != 0 ]; then die "could not install$missing (exit ${status})"; fi
}

FAMILY=$(family)
case $FAMILY in
debian) DEFAULT="rsyslog logrotate ntp" ;;
rhel) DEFAULT="rsyslog logrotate chrony" ;;
esac
set -f
for pkg in ${BASELINE_PACKAGES-$DEFAULT}; do
	case $pkg in
	*[!A-Za-z0-9.+_-]* | -*) die "BASELINE_PACKAGES: '$pkg' is not a package name" ;;
	esac
done
# shellcheck disable=SC2086 # one word per package
ensure_packages ${BASELINE_PACKAGES-$DEFAULT}
set +f
say "done"
