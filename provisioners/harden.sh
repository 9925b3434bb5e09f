#!/bin/sh
# harden: a security baseline for the image.
#
#   sshd     PermitRootLogin no and PasswordAuthentication no in ${ROOT}/etc/ssh/sshd_config:
#            the first active (else the first commented-out) directive of the global section
#            is replaced, later active duplicates there are dropped, and a missing directive is
#            inserted before the first Match block (Match blocks are left as they are). If
#            ${ROOT}/etc/ssh/sshd_config.d exists, 00-packerpy-hardening.conf goes there too:
#            sshd keeps the first value it reads, and cloud images include that directory first.
#   services the units in HARDEN_DISABLE_SERVICES are disabled (a name without a suffix means
#            NAME.service). With ROOT=/ through systemctl disable --now; under another ROOT by
#            removing their enablement links ${ROOT}/etc/systemd/system/*.wants/UNIT
#            (and *.requires/UNIT).
#   files    /boot/System.map-* (kernel symbol addresses) mode 0600 (SSG file_permissions_systemmap)
#   apt      Debian 11 and later: the official security archive appended to
#            ${ROOT}/etc/apt/sources.list unless a sources file already names debian-security
#            (SSG apt_sources_list_official)
#   sysctl   ${ROOT}/etc/sysctl.d/99-packerpy-hardening.conf (no redirects or source routes,
#            strict reverse-path filter, kernel pointer/dmesg restrictions, protected links);
#            applied with sysctl --system only when ROOT is /.
#
# Environment:
#   ROOT                     image root (default /); systemctl and sysctl only run when it is /
#   HARDEN_DISABLE_SERVICES  units to disable, space separated (default: see DEFAULT_SERVICES)
#
# Idempotent: files are rewritten only when their content changes.
set -eu

PROG="harden"
DEFAULT_SERVICES="telnet.socket rsh.socket rlogin.socket rexec.socket avahi-daemon.service \
avahi-daemon.socket cups.service cups.socket cups.path"
DROPIN=00-packerpy-hardening.conf
SYSCTL_FILE=99-packerpy-hardening.conf

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

TMPF=
cleanup() { if [ -n "$TMPF" ]; then rm -f "$TMPF" "$TMPF.in"; fi; }
trap cleanup EXIT

# img PATH: PATH as seen from inside the image (ROOT prefix removed).
img() { printf '%s' "${1#"$R"}"; }

# inside DIR: DIR exists and, symlinks resolved, lies within ROOT.
inside() {
	in_phys=$(cd -P "$1" 2>/dev/null && pwd -P) || return 1
	case "$in_phys/" in
	"$R/"*) return 0 ;;
	*) return 1 ;;
	esac
}

# same A B: the two files have identical content (trailing newlines included).
same() { [ "$(cat "$1" && echo x)" = "$(cat "$2" && echo x)" ]; }

# install_file TARGET: replace TARGET with stdin (mode 0644) unless it already has that content.
# Returns 1 when nothing changed.
install_file() {
	TMPF="$1.packerpy-tmp"
	cat >"$TMPF"
	if [ -f "$1" ] && same "$TMPF" "$1"; then
		rm -f "$TMPF"
		TMPF=
		return 1
	fi
	chmod 644 "$TMPF"
	mv -f "$TMPF" "$1"
	TMPF=
	return 0
}

# sshd_set FILE KEYWORD VALUE: print FILE with "KEYWORD VALUE" set once in the global section.
sshd_set() {
	awk -v key="$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]')" -v line="$2 $3" '
		function is_match(s) { return tolower(s) ~ /^[ \t]*match[ \t]/ }
		function active(s) { return tolower(s) ~ ("^[ \t]*" key "([ \t]*=|[ \t])") }
		function commented(s) {
			return tolower(s) ~ ("^[ \t]*#[ \t]*" key "([ \t]*=[ \t]*|[ \t]+)[^ \t]+[ \t]*$")
		}
		NR == FNR {
			if (!in_match && is_match($0)) in_match = 1
			if (!in_match && active($0) && !first_active) first_active = FNR
			if (!in_match && commented($0) && !first_comment) first_comment = FNR
			next
		}
		FNR == 1 { target = first_active ? first_active : first_comment; in_match = 0 }
		{
			if (!in_match && is_match($0)) {
				in_match = 1
				if (!target) { print line; target = -1 }
			}
			if (in_match) { print; next }
			if (FNR == target) { print line; next }
			if (active($0)) next
			print
		}
		END { if (!target) print line }
	' "$1" "$1"
}

harden_sshd() {
	cfg="$R/etc/ssh/sshd_config"
	if [ ! -f "$cfg" ]; then
		say "no /etc/ssh/sshd_config; sshd left alone"
		return 0
	fi
	if [ -L "$cfg" ] || ! inside "$R/etc/ssh"; then
		say "skipped /etc/ssh/sshd_config: a symlink, or /etc/ssh resolves outside ROOT"
		return 0
	fi
	TMPF="$cfg.packerpy-tmp"
	cp -p "$cfg" "$TMPF" # keeps the file's mode and owner
	awk '{ print }' "$cfg" >"$TMPF.in" # a missing final newline alone is no reason to rewrite
	changed=0
	for key in PermitRootLogin PasswordAuthentication; do
		sshd_set "$TMPF.in" "$key" no >"$TMPF"
		if ! same "$TMPF" "$TMPF.in"; then
			say "set '$key no' in /etc/ssh/sshd_config"
			changed=1
		fi
		cat "$TMPF" >"$TMPF.in"
	done
	rm -f "$TMPF.in"
	if [ "$changed" = 1 ]; then
		mv -f "$TMPF" "$cfg"
	else
		rm -f "$TMPF"
		say "/etc/ssh/sshd_config already has PermitRootLogin no, PasswordAuthentication no"
	fi
	TMPF=

	dir="$R/etc/ssh/sshd_config.d"
	if [ -d "$dir" ] && [ ! -L "$dir" ]; then
		if install_file "$dir/$DROPIN" <<EOF; then
# Written by packerpy's harden provisioner. sshd keeps the first value it reads for a keyword,
# and this file sorts first in sshd_config.d, so these win over later drop-ins (e.g. cloud-init's).
PermitRootLogin no
PasswordAuthentication no
EOF
			say "wrote /etc/ssh/sshd_config.d/$DROPIN"
		fi
	fi
}

# Unit names, checked before anything changes; a name without a suffix is NAME.service.
UNITS=
set -f
for unit in ${HARDEN_DISABLE_SERVICES-$DEFAULT_SERVICES}; do
	case $unit in
	*[!A-Za-z0-9:_.@\\-]* | -* | .*) die "HARDEN_DISABLE_SERVICES: '$unit' is not a unit name" ;;
	*.*) ;;
	*) unit="$unit.service" ;;
	esac
	UNITS="$UNITS $unit"
done
set +f

disable_services() {
	for unit in $UNITS; do
		if [ -z "$R" ]; then
			if ! command -v systemctl >/dev/null 2>&1; then
				say "no systemctl; $unit left alone"
				continue
			fi
			state=$(systemctl is-enabled "$unit" 2>/dev/null) || true
			case $state in
			enabled | enabled-runtime | linked | linked-runtime | alias)
				systemctl disable --now "$unit"
				say "disabled $unit"
				;;
			esac
			if systemctl is-active --quiet "$unit" 2>/dev/null; then
				systemctl stop "$unit"
				say "stopped $unit"
			fi
		else
			for link in "$R"/etc/systemd/system/*.wants/"$unit" \
				"$R"/etc/systemd/system/*.requires/"$unit"; do
				if [ -L "$link" ] && inside "${link%/*}"; then
					rm -f "$link"
					say "disabled $unit: removed $(img "$link")"
				fi
			done
		fi
	done
}

restrict_files() {
	for f in "$R"/boot/System.map*; do
		if [ -f "$f" ] && [ ! -L "$f" ] && [ "$(stat -c '%a' "$f")" != 600 ]; then
			chmod 600 "$f"
			say "set $(img "$f") to mode 0600"
		fi
	done
}

# os_field KEY: a field of the image's os-release, unquoted.
os_field() { sed -n "s/^$1=//p" "$R/etc/os-release" 2>/dev/null | tr -d '"' | head -n 1; }

apt_security() {
	list="$R/etc/apt/sources.list"
	codename=$(os_field VERSION_CODENAME)
	version=$(os_field VERSION_ID)
	# Debian 10 and older name the suite CODENAME/updates; SSG checks 11 and later.
	if [ "$(os_field ID)" != debian ] || [ -z "$codename" ] || [ "${version%%.*}" -lt 11 ] 2>/dev/null ||
		[ ! -f "$list" ] || [ -L "$list" ]; then
		return 0
	fi
	if cat "$list" "$R"/etc/apt/sources.list.d/*.list "$R"/etc/apt/sources.list.d/*.sources \
		2>/dev/null | grep -Eq '^[^#]*debian-security'; then
		return 0
	fi
	# In sources.list itself: SSG 0.1.65's check reads sources.list and sources.d/*.list only
	# (its pattern misses sources.list.d/), measured with oscap 1.3.7.
	printf '# Added by packerpy harden: security updates from the official archive.\n%s\n' \
		"deb http://security.debian.org/debian-security $codename-security main" >>"$list"
	say "added $codename-security to /etc/apt/sources.list"
}

write_sysctl() {
	dir="$R/etc/sysctl.d"
	if [ -L "$dir" ] && ! inside "$dir"; then
		die "/etc/sysctl.d is a symlink out of ROOT"
	fi
	mkdir -p "$dir"
	if install_file "$dir/$SYSCTL_FILE" <<'EOF'; then
# Written by packerpy's harden provisioner: a kernel network and memory hardening baseline.
# Applied at boot by systemd-sysctl; a file that sorts later in /etc/sysctl.d overrides it.
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.default.accept_redirects = 0
net.ipv4.conf.all.secure_redirects = 0
net.ipv4.conf.default.secure_redirects = 0
net.ipv6.conf.all.accept_redirects = 0
net.ipv6.conf.default.accept_redirects = 0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.conf.all.accept_source_route = 0
net.ipv4.conf.default.accept_source_route = 0
net.ipv6.conf.all.accept_source_route = 0
net.ipv6.conf.default.accept_source_route = 0
net.ipv4.conf.all.rp_filter = 1
net.ipv4.conf.default.rp_filter = 1
net.ipv4.icmp_echo_ignore_broadcasts = 1
net.ipv4.icmp_ignore_bogus_error_responses = 1
net.ipv4.tcp_syncookies = 1
kernel.kptr_restrict = 2
kernel.dmesg_restrict = 1
kernel.randomize_va_space = 2
fs.protected_hardlinks = 1
fs.protected_symlinks = 1
fs.suid_dumpable = 0
EOF
		say "wrote /etc/sysctl.d/$SYSCTL_FILE"
	fi
	if [ -z "$R" ] && command -v sysctl >/dev/null 2>&1; then
		say "running: sysctl --system"
		# A key the running kernel lacks (e.g. in a container) is not worth failing the build.
		sysctl --system >/dev/null || say "sysctl --system reported errors (see above)"
	fi
}

harden_sshd
disable_services
restrict_files
apt_security
write_sysctl
say "done"
