#!/bin/sh
# logging: a local system log that is kept, rotated and readable by root only.
#
#   needs     rsyslog and logrotate (the `packages` provisioner installs them; rsyslog's
#             package enables its service). Without them the part that needs one is skipped.
#   log files each file rsyslog's configuration writes to (/var/log/syslog, auth.log, ...) is
#             created if missing and set to owner root, group root, mode 0600 (SSG rules
#             rsyslog_files_ownership, _groupownership, _permissions), and rsyslog creates
#             new ones that way: ${ROOT}/etc/rsyslog.d/00-packerpy-logging.conf.
#   logrotate ${ROOT}/etc/logrotate.conf rotates daily, not weekly or monthly (SSG rule
#             ensure_logrotate_activated: logs of a busy host are cut before they fill /var).
#
# Environment:
#   ROOT  image root (default /)
#
# Idempotent: nothing is rewritten when it is already in place.
set -eu

PROG="logging"
RSYSLOG_DROPIN=00-packerpy-logging.conf
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
umask 022

# install_file TARGET: replace TARGET with stdin (mode 0644) unless it already has that content.
install_file() {
	cat >"$1.packerpy-tmp"
	if [ -f "$1" ] && cmp -s "$1.packerpy-tmp" "$1"; then
		rm -f "$1.packerpy-tmp"
		return 1
	fi
	chmod 644 "$1.packerpy-tmp"
	mv -f "$1.packerpy-tmp" "$1"
}

configure_rsyslog() {
	if [ ! -f "$R/etc/rsyslog.conf" ]; then
		say "no /etc/rsyslog.conf (install rsyslog: the packages provisioner); rsyslog left alone"
		return 0
	fi
	dir="$R/etc/rsyslog.d"
	mkdir -p "$dir"
	if install_file "$dir/$RSYSLOG_DROPIN" <<'EOF'; then
# Written by packerpy's logging provisioner: log files readable by root only
# (SSG rsyslog_files_ownership, rsyslog_files_groupownership, rsyslog_files_permissions).
$FileOwner root
$FileGroup root
$FileCreateMode 0600
EOF
		say "wrote /etc/rsyslog.d/$RSYSLOG_DROPIN"
	fi
	# The files the configuration names: lines "selector  /path" (a leading - means no sync).
	for conf in "$R/etc/rsyslog.conf" "$R"/etc/rsyslog.d/*.conf; do
		[ -f "$conf" ] || continue
		awk '!/^[ \t]*(#|\$)/ && NF >= 2 && $NF ~ /^-?\/var\/log\// { sub(/^-/, "", $NF); print $NF }' "$conf"
	done | sort -u | while read -r log; do
		file="$R$log"
		if [ ! -e "$file" ]; then
			mkdir -p "${file%/*}"
			: >"$file"
			say "created $log"
		fi
		if [ -f "$file" ] && [ ! -L "$file" ] &&
			[ "$(stat -c '%u:%g %a' "$file")" != "0:0 600" ]; then
			chown 0:0 "$file"
			chmod 600 "$file"
			say "set $log to root:root 0600"
		fi
	done
}

configure_logrotate() {
	conf="$R/etc/logrotate.conf"
	if [ ! -f "$conf" ]; then
		say "no /etc/logrotate.conf (install logrotate: the packages provisioner); left alone"
		return 0
	fi
	if grep -Eq '^[[:space:]]*(weekly|monthly|yearly)[[:space:]#]*$' "$conf" ||
		! grep -Eq '^[[:space:]]*daily[[:space:]#]*$' "$conf"; then
		sed -E -e '/^[[:space:]]*(weekly|monthly|yearly|daily)[[:space:]#]*$/d' "$conf" |
			awk 'NR == 1 && !done { print "# packerpy logging: rotate daily"; print "daily"; done = 1 } { print }' |
			install_file "$conf" || :
		say "set /etc/logrotate.conf to rotate daily"
	fi
}

configure_rsyslog
configure_logrotate
say "done"
