#!/bin/sh
# minimize: make the image smaller by dropping documentation, caches and old logs.
#
#   /usr/share/doc   every file goes except the copyright files (licence compliance); symlinks
#                    directly in /usr/share/doc (a package's doc dir pointing at another's) stay
#   /usr/share/man,
#   /usr/share/info  every file goes
#   /var/cache       every file goes except /var/cache/debconf (debconf's database, not a cache)
#   /var/log         rotated logs (*.gz *.xz *.bz2 *.zst *.old *.N *-YYYYMMDD) and journald files
#                    (*.journal, *.journal~) are removed; every other log file is truncated to
#                    size 0 and kept, with its owner and mode
#
# Directories always stay: some package scripts expect e.g. /usr/share/man/man1 to exist.
# The same on Debian/Ubuntu and Amazon Linux/RHEL; no package manager is run. Nothing is
# removed through a symlink: find does not follow links, and a tree that resolves outside ROOT
# is skipped with a note.
#
# Environment:
#   ROOT   image root (default /)
#
# Idempotent: a second run finds nothing left to remove or truncate.
set -eu

PROG="minimize"
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

# inside DIR: DIR exists and, symlinks resolved, lies within ROOT; sets in_phys to that path.
inside() {
	in_phys=$(cd -P "$1" 2>/dev/null && pwd -P) || return 1
	case "$in_phys/" in
	"$R/"*) return 0 ;;
	*) return 1 ;;
	esac
}

# in_image DIR: DIR is a directory within ROOT (cd there in a subshell before running find, so
# find expressions see ./relative paths and never ROOT's own characters).
in_image() {
	[ -d "$R$1" ] || return 1
	if ! inside "$R$1"; then
		say "skipped $1: it resolves outside ROOT"
		return 1
	fi
}

# purge DIR WHAT NOTE FIND-EXPR...: remove the entries of image directory DIR that FIND-EXPR
# selects; report "removed N WHAT under DIR NOTE".
purge() {
	purge_dir=$1
	purge_what=$2
	purge_note=$3
	shift 3
	in_image "$purge_dir" || return 0
	n=$(cd "$in_phys" && find . "$@" -print | wc -l | tr -d ' ')
	if [ "$n" -gt 0 ]; then
		(cd "$in_phys" && find . "$@" -exec rm -f {} +)
		say "removed $n $purge_what under $purge_dir$purge_note"
	fi
}

# Documentation.
purge /usr/share/doc files " (copyright files kept)" \
	! -type d ! -name copyright '(' ! -type l -o -path './*/*' ')'
purge /usr/share/man files "" ! -type d
purge /usr/share/info files "" ! -type d

# Caches.
purge /var/cache files " (debconf kept)" -path ./debconf -prune -o ! -type d

# Logs: rotated and journal files go, the rest are emptied.
purge /var/log "rotated logs" "" ! -type d '(' -name '*.gz' -o -name '*.xz' -o -name '*.bz2' \
	-o -name '*.zst' -o -name '*.old' -o -name '*.[0-9]' -o -name '*.[0-9][0-9]' \
	-o -name '*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]' \
	-o -name '*.journal' -o -name '*.journal~' ')'
if in_image /var/log; then
	n=$(cd "$in_phys" && find . -type f ! -size 0 -print | wc -l | tr -d ' ')
	if [ "$n" -gt 0 ]; then
		(cd "$in_phys" && find . -type f ! -size 0 -exec sh -c 'for f; do : >"$f"; done' sh {} +)
		say "truncated $n files under /var/log"
	fi
fi

say "done"
