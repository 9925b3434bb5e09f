#!/bin/sh
# timesync: the clock follows the Amazon Time Sync Service.
#
#   ntp     (Debian/Ubuntu; the `packages` provisioner installs it) ${ROOT}/etc/ntp.conf, or
#           ntpsec's /etc/ntpsec/ntp.conf, gets "server ADDRESS prefer iburst"
#   chrony  (Amazon Linux/RHEL) ${ROOT}/etc/chrony.conf, or /etc/chrony/chrony.conf, gets
#           "server ADDRESS prefer iburst minpoll 4 maxpoll 4"
# The distribution's pools stay as fallbacks. 169.254.169.123 answers on every EC2 instance
# without internet access (AWS: "Set the time for your Linux instance").
#
# Environment:
#   ROOT             image root (default /)
#   TIMESYNC_SERVER  the preferred server (default 169.254.169.123)
#
# Idempotent: a configuration that already names the server is left as it is.
set -eu

PROG="timesync"
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
SERVER=${TIMESYNC_SERVER:-169.254.169.123}
case $SERVER in
*[!A-Za-z0-9.:-]* | -*) die "TIMESYNC_SERVER '$SERVER' is not a host name or address" ;;
esac

# add_server FILE LINE SERVICE: append LINE unless FILE already has a server/pool SERVER line.
add_server() {
	if grep -Eq "^[[:space:]]*(server|pool)[[:space:]]+$(printf '%s' "$SERVER" | sed 's/\./\\./g')([[:space:]]|\$)" "$1"; then
		say "$(printf '%s' "${1#"$R"}") already uses $SERVER"
		return 0
	fi
	printf '\n# packerpy timesync: the Amazon Time Sync Service first, the pools as fallbacks.\n%s\n' "$2" >>"$1"
	say "added '$2' to ${1#"$R"}"
	if [ -z "$R" ] && command -v systemctl >/dev/null 2>&1; then
		systemctl try-restart "$3" || say "could not restart $3"
	fi
}

done=0
for conf in "$R/etc/ntp.conf" "$R/etc/ntpsec/ntp.conf"; do
	if [ -f "$conf" ] && [ ! -L "$conf" ]; then
		add_server "$conf" "server $SERVER prefer iburst" ntp.service
		done=1
	fi
done
# chronyd.service on Amazon Linux/RHEL (/etc/chrony.conf), chrony.service on Debian/Ubuntu.
for pair in chrony.conf:chronyd.service chrony/chrony.conf:chrony.service; do
	conf="$R/etc/${pair%%:*}"
	if [ -f "$conf" ] && [ ! -L "$conf" ]; then
		add_server "$conf" "server $SERVER prefer iburst minpoll 4 maxpoll 4" "${pair#*:}"
		done=1
	fi
done
if [ "$done" = 0 ]; then
	say "no ntp or chrony configuration (install one: the packages provisioner); nothing changed"
fi
say "done"
