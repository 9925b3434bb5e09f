#!/bin/sh
# scrub: remove what must not ship in an image: build credentials, per-instance identity,
# histories, temporary files and package caches. Run it last.
#
#   keys       /root/.ssh/authorized_keys, /home/*/.ssh/authorized_keys (cloud-init installs the
#              launch key on first boot) and the SSH host keys /etc/ssh/ssh_host_* (cloud-init,
#              or sshd-keygen on Amazon Linux/RHEL, generates new ones per instance)
#   histories  .bash_history .zsh_history .ash_history .python_history .lesshst .viminfo
#              in /root and /home/*
#   cloud-init /var/lib/cloud/{instances,instance,data,sem} and /var/log/cloud-init*.log,
#              so that the next boot runs as a new instance
#   temporary  everything inside /tmp and /var/tmp (the directories stay)
#   identity   /etc/machine-id emptied (systemd makes a new one at boot), /var/lib/dbus/machine-id
#   caches     /var/cache/apt/archives/*.deb, /var/cache/apt/*.bin, /var/lib/apt/lists/*
#              (not lock, partial), everything inside /var/cache/dnf and /var/cache/yum
#   extra      each path in SCRUB_EXTRA_PATHS
#
# Every path is under ROOT. Nothing is deleted through a symlink: a link is removed itself, and
# a path whose directory resolves (through symlinks) outside ROOT is skipped with a note.
#
# Environment:
#   ROOT               image root (default /)
#   SCRUB_EXTRA_PATHS  more absolute image paths to remove, separated by spaces or newlines;
#                      taken literally (no globs). A path containing ".." or naming / itself is
#                      refused: the script then exits 2 before removing anything.
#
# Idempotent: a second run finds nothing left to remove.
set -eu

PROG="scrub"
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

removed=0

# img PATH: PATH as seen from inside the image (ROOT prefix removed).
img() { printf '%s' "${1#"$R"}"; }

# inside DIR: DIR exists and, symlinks resolved, lies within ROOT; sets in_phys to that path.
inside() {
	in_phys=$(cd -P "$1" 2>/dev/null && pwd -P) || return 1
	case "$in_phys/" in
	"$R/"*) return 0 ;;
	*) return 1 ;;
	esac
}

# remove PATH: delete PATH (a link itself, never its target) if it exists.
remove() {
	[ -e "$1" ] || [ -L "$1" ] || return 0
	if ! inside "${1%/*}/"; then
		say "skipped $(img "$1"): its directory resolves outside ROOT"
		return 0
	fi
	base=${1##*/}
	case $base in
	"" | . | ..) die "internal: will not remove '$1'" ;;
	esac
	rm -rf "${in_phys%/}/${base:?}"
	say "removed $(img "$1")"
	removed=$((removed + 1))
}

# clear_dir DIR: delete everything inside DIR, hidden entries too, and keep DIR.
clear_dir() {
	[ -d "$1" ] || return 0
	if ! inside "$1"; then
		say "skipped $(img "$1"): it resolves outside ROOT"
		return 0
	fi
	for entry in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		remove "$entry"
	done
}

# Check every extra path before touching anything.
extra=
bad=0
set -f
for p in ${SCRUB_EXTRA_PATHS:-}; do
	norm=$(printf '%s\n' "$p" | sed -e ':a' -e 's|/\./|/|' -e 'ta' -e 's|//*|/|g' -e 's|/\.$||' -e 's|/$||')
	case $p in
	*..*) reason="contains '..'" ;;
	/*) if [ -z "$norm" ]; then reason="is / itself"; else reason=; fi ;;
	*) reason="is not an absolute path" ;;
	esac
	if [ -n "$reason" ]; then
		printf '%s: error: SCRUB_EXTRA_PATHS: refusing %s: it %s\n' "$PROG" "$p" "$reason" >&2
		bad=1
	else
		extra="$extra $norm"
	fi
done
set +f
if [ "$bad" = 1 ]; then
	die "nothing removed"
fi

# Build credentials and shell histories.
for home in "$R/root" "$R"/home/*; do
	[ -d "$home" ] || continue
	for f in .ssh/authorized_keys .bash_history .zsh_history .ash_history .python_history \
		.lesshst .viminfo; do
		remove "$home/$f"
	done
done
for key in "$R"/etc/ssh/ssh_host_*; do
	remove "$key"
done

# cloud-init state and logs.
for d in instances instance data sem; do
	remove "$R/var/lib/cloud/$d"
done
for log in "$R"/var/log/cloud-init*.log; do
	remove "$log"
done

# Temporary files.
clear_dir "$R/tmp"
clear_dir "$R/var/tmp"

# Machine identity.
mid="$R/etc/machine-id"
if [ -f "$mid" ] && [ ! -L "$mid" ] && [ -s "$mid" ] && inside "$R/etc"; then
	: >"$in_phys/machine-id"
	say "emptied /etc/machine-id"
	removed=$((removed + 1))
fi
remove "$R/var/lib/dbus/machine-id"

# Package caches.
for f in "$R"/var/cache/apt/archives/*.deb "$R"/var/cache/apt/*.bin; do
	remove "$f"
done
for f in "$R"/var/lib/apt/lists/* "$R"/var/lib/apt/lists/.[!.]*; do
	case ${f##*/} in
	lock | partial) ;;
	*) remove "$f" ;;
	esac
done
clear_dir "$R/var/cache/dnf"
clear_dir "$R/var/cache/yum"

# Extra paths (checked above).
set -f
for p in $extra; do
	remove "$R$p"
done
set +f

say "done: $removed removed"
