#!/bin/sh
# inventory: record the image's installed packages and their versions as JSON.
#
#   {"os": {"id": "debian", "version_id": "12"},
#    "packages": [{"name": "bash", "version": "5.2.15-2+b2", "arch": "amd64"}, ...]}
#
# A package also has "source" (Debian: its source package, e.g. glibc for libc6, which is the
# name Debian's advisories use) and "license" when the package manager says them in a
# machine-readable form: rpm's License tag, or the License of the `Files: *` paragraph of a
# DEP-5 (machine-readable) /usr/share/doc/PKG/copyright; free-text copyright files are skipped.
#
# Packages are sorted by name (then version, arch; byte order). Versions come through
# verbatim, epochs included ("1:2.3~rc1+dfsg-1"). The content depends only on what is
# installed (no timestamps), so a second run writes the same file.
#
#   Debian/Ubuntu:      parses ${ROOT}/var/lib/dpkg/status directly (no dpkg needed); a package
#                       counts when its Status ends in "installed" (not e.g. config-files).
#   Amazon Linux/RHEL:  rpm --root ${ROOT} -qa (gpg-pubkey entries left out). Without rpm the
#                       list is empty and a note goes to stderr.
#
# Environment:
#   ROOT           image root (default /)
#   INVENTORY_OUT  where to write the JSON (default ${ROOT}/var/lib/packerpy/inventory.json;
#                  a path given here is used as is, not put under ROOT)
#   RPM            the rpm command (default rpm)
#
# Only POSIX sh, awk, sed and sort: the image need not have python or jq.
set -eu

PROG="inventory"
say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }
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

OUT=${INVENTORY_OUT:-$R/var/lib/packerpy/inventory.json}
RPM=${RPM:-rpm}

TMPF=
cleanup() { if [ -n "$TMPF" ]; then rm -f "$TMPF" "$TMPF.list" "$TMPF.rpm"; fi; }
trap cleanup EXIT

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

os_id=
os_version=
family=unknown
if osr=$(os_release); then
	os_id=$(os_field "$osr" ID)
	os_version=$(os_field "$osr" VERSION_ID)
	case " $os_id $(os_field "$osr" ID_LIKE) " in
	*" debian "* | *" ubuntu "*) family=debian ;;
	*" rhel "* | *" fedora "* | *" centos "* | *" amzn "*) family=rhel ;;
	esac
else
	warn "no /etc/os-release; os.id and os.version_id left empty"
fi
if [ "$family" = unknown ] && [ -f "$R/var/lib/dpkg/status" ]; then family=debian; fi

# Each lister prints NAME<TAB>VERSION<TAB>ARCH<TAB>SOURCE<TAB>LICENSE lines.
list_dpkg() {
	status="$R/var/lib/dpkg/status"
	if [ ! -f "$status" ]; then
		warn "no /var/lib/dpkg/status; the package list is empty"
		return 0
	fi
	DOC="$R/usr/share/doc" awk '
		# The License of the "Files: *" paragraph of a DEP-5 copyright file, else "".
		function dep5(file,    line, n, all, lic) {
			n = all = 0
			lic = ""
			while ((getline line < file) > 0) {
				if (++n == 1 && line !~ /^Format: *https?:\/\/(www\.)?debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.0/)
					break
				if (line ~ /^Files:[ \t]*\*[ \t]*$/) all = 1
				else if (all && line ~ /^[ \t]*$/) break
				else if (all && line ~ /^License:/) {
					lic = line
					sub(/^License:[ \t]*/, "", lic)
					sub(/[ \t\r]+$/, "", lic)
					break
				}
			}
			close(file)
			return lic
		}
		function flush() {
			if (pkg != "" && split(state, s, " ") == 3 && s[3] == "installed") {
				sub(/[ \t].*/, "", src)  # "openssl (3.0.11-1)": the name only
				printf "%s\t%s\t%s\t%s\t%s\n", pkg, ver, arch, (src == pkg ? "" : src), \
					dep5(ENVIRON["DOC"] "/" pkg "/copyright")
			}
			pkg = ver = arch = state = src = ""
		}
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ { next }
		{
			i = index($0, ":")
			if (!i) next
			k = tolower(substr($0, 1, i - 1))
			v = substr($0, i + 1)
			sub(/^[ \t]+/, "", v)
			sub(/[ \t]+$/, "", v)
			if (k == "package") pkg = v
			else if (k == "version") ver = v
			else if (k == "architecture") arch = v
			else if (k == "status") state = v
			else if (k == "source") src = v
		}
		END { flush() }
	' "$status"
}

list_rpm() {
	if ! command -v "$RPM" >/dev/null 2>&1; then
		warn "no rpm command ($RPM); the package list is empty"
		return 0
	fi
	"$RPM" --root "${R:-/}" -qa \
		--qf '%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\t\t%{LICENSE}\n' >"$TMPF.rpm"
	awk -F '\t' '$1 != "gpg-pubkey" {
		if ($3 == "(none)") $3 = ""
		if ($5 == "(none)") $5 = ""
		print
	}' OFS='\t' "$TMPF.rpm"
}

# JSON from sorted NAME<TAB>VERSION<TAB>ARCH lines; strings escaped per RFC 8259.
to_json() {
	OS_ID=$os_id OS_VERSION=$os_version LC_ALL=C awk -F '\t' '
		function str(s,    out, i, n, c) {
			out = ""
			n = length(s)
			for (i = 1; i <= n; i++) {
				c = substr(s, i, 1)
				if (c == "\\") out = out "\\\\"
				else if (c == "\"") out = out "\\\""
				else if (c in ctl) out = out ctl[c]
				else out = out c
			}
			return "\"" out "\""
		}
		BEGIN {
			for (i = 1; i < 32; i++) ctl[sprintf("%c", i)] = sprintf("\\u%04x", i)
			ctl["\t"] = "\\t"
			ctl["\n"] = "\\n"
			ctl["\r"] = "\\r"
			printf "{\n  \"os\": {\"id\": %s, \"version_id\": %s},\n  \"packages\": [", \
				str(ENVIRON["OS_ID"]), str(ENVIRON["OS_VERSION"])
		}
		{
			extra = ($4 != "" ? ", \"source\": " str($4) : "") ($5 != "" ? ", \"license\": " str($5) : "")
			printf "%s\n    {\"name\": %s, \"version\": %s, \"arch\": %s%s}", (NR > 1 ? "," : ""), \
				str($1), str($2), str($3), extra
		}
		END { printf "%s]\n}\n", (NR ? "\n  " : "") }
	'
}

out_dir=$(dirname "$OUT")
mkdir -p "$out_dir"
TMPF="$OUT.packerpy-tmp"
case $family in
debian) list_dpkg >"$TMPF.list" ;;
rhel) list_rpm >"$TMPF.list" ;;
*)
	warn "unsupported OS family (ID '$os_id'); the package list is empty"
	: >"$TMPF.list"
	;;
esac
LC_ALL=C sort "$TMPF.list" | to_json >"$TMPF"
rm -f "$TMPF.list" "$TMPF.rpm"
count=$(grep -c '"name": ' "$TMPF") || true
mv -f "$TMPF" "$OUT"
TMPF=
case $OUT in
"$R"/*) shown=${OUT#"$R"} ;;
*) shown=$OUT ;;
esac
say "wrote $shown ($count packages, $family family)"
