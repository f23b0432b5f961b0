#!/bin/sh
# fetch.sh CACHE_DIR: puts the newer Djangos of the test matrix beside the
# system's (Debian bookworm's python3-django 3.2, installed by make deps),
# without touching the system's Python: each release's Debian packages are
# downloaded from a newer Debian suite of the machine's own Debian mirror
# and unpacked into a folder of their own, CACHE_DIR/SERIES, that the tests
# put on PYTHONPATH (internal/djangotest). All of it is pure Python and runs
# on the system's /usr/bin/python3.
#
# apt works on a private configuration under CACHE_DIR/apt/SUITE (its own
# sources list, package lists, cache and an empty dpkg status), so neither
# the system's package lists nor its installed packages change. The
# mirror's URI and keyring are read from the machine's own bookworm entry
# in /etc/apt, and apt verifies every download against that keyring.
#
# A folder is fetched once: its stamp (CACHE_DIR/SERIES/stamp) records
# what it was made from, and a later run whose recipe is unchanged does not
# touch the network.
set -eu

cache=${1:?usage: fetch.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
python=/usr/bin/python3

# SERIES SUITE PACKAGES...: the Django release the tests pin (major.minor),
# the Debian suite that carries it, and the packages to unpack: Django and
# what it imports that bookworm's versions cannot provide. Django 5.2 on
# PostgreSQL needs psycopg2 >= 2.9.9 or psycopg >= 3.1.8, and bookworm has
# 2.9.5 and 3.1.7: the 5.2 folder gets psycopg 3 (pure Python; it loads the
# system's libpq5 through ctypes) and the typing_extensions it needs on
# Python 3.11. Django 4.2 uses the system's psycopg2.
recipes='4.2 trixie python3-django python3-asgiref python3-sqlparse
5.2 sid python3-django python3-asgiref python3-sqlparse python3-psycopg python3-typing-extensions'

die() {
	echo "make django: $*" >&2
	exit 1
}

# mirror prints "URI KEYRING" of the machine's Debian entry for its own
# release (KEYRING "-" when the entry names none: apt then uses the
# system's trusted keys), from the deb822 .sources files or the one-line
# lists.
mirror() {
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
	found=$(
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] && cat "$f" && echo
		done | awk -v codename="$codename" '
			function flush() {
				if (enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " codename " ") && uri != "") {
					print uri, (signed ~ /^\// ? signed : "-")
					done = 1
					exit
				}
				types = suites = uri = signed = enabled = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			{ field = tolower($1) }
			field == "types:" { $1 = ""; types = $0 }
			field == "uris:" { uri = $2 }
			field == "suites:" { $1 = ""; suites = $0 }
			field == "signed-by:" { signed = $2 }
			field == "enabled:" { enabled = tolower($2) }
			END { if (!done) flush() }'
	)
	if [ -z "$found" ]; then
		found=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v codename="$codename" '
			$1 != "deb" { next }
			{
				signed = "-"; i = 2
				if ($2 ~ /^\[/) {
					for (; i <= NF; i++) {
						if ($i ~ /^\[?signed-by=/) { signed = $i; sub(/^\[?signed-by=/, "", signed); sub(/\]$/, "", signed) }
						if ($i ~ /\]$/) { i++; break }
					}
				}
				if ($(i + 1) == codename) { print $i, signed; exit }
			}')
	fi
	[ -n "$found" ] || die "no Debian entry for $codename in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list: cannot tell which mirror to use"
	echo "$found"
}

# aptconf SUITE URI KEYRING writes the private apt configuration of SUITE
# and prints its path.
aptconf() {
	dir=$cache/apt/$1
	mkdir -p "$dir/sources.list.d" "$dir/preferences.d" "$dir/lists/partial" "$dir/cache/archives/partial"
	: >"$dir/status"
	if [ "$3" = - ]; then
		echo "deb $2 $1 main" >"$dir/sources.list"
	else
		echo "deb [signed-by=$3] $2 $1 main" >"$dir/sources.list"
	fi
	cat >"$dir/apt.conf" <<EOF
Dir::Etc::SourceList "$dir/sources.list";
Dir::Etc::SourceParts "$dir/sources.list.d";
Dir::Etc::Preferences "$dir/preferences";
Dir::Etc::PreferencesParts "$dir/preferences.d";
Dir::State::Lists "$dir/lists";
Dir::State::status "$dir/status";
Dir::Cache "$dir/cache";
APT::Default-Release "";
Acquire::Languages "none";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
EOF
	# apt downloads as _apt when run as root: let it write there.
	if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then
		chown -R _apt "$dir/lists" "$dir/cache"
	fi
	echo "$dir/apt.conf"
}

# upstream VERSION: Debian's version without epoch and revision.
upstream() {
	v=${1#*:}
	echo "${v%-*}"
}

fetch() {
	series=$1 suite=$2
	shift 2
	dest=$cache/$series
	recipe="$series $suite $* (byte-compiled)"
	if [ -f "$dest/stamp" ] && [ "$(sed -n 1p "$dest/stamp")" = "recipe: $recipe" ]; then
		echo "django $series: $(sed -n 2p "$dest/stamp") (cached in $dest)"
		return
	fi
	m=$(mirror)
	conf=$(aptconf "$suite" ${m% *} ${m#* })
	echo "django $series: Debian $suite from ${m% *}"
	apt-get -c "$conf" -qq update || die "apt-get update of the $suite suite failed"
	offered=$(apt-cache -c "$conf" show --no-all-versions python3-django 2>/dev/null | sed -n 's/^Version: //p')
	[ -n "$offered" ] || die "Debian $suite has no python3-django"
	case $(upstream "$offered") in
	"$series" | "$series".*) ;;
	*) die "Debian $suite offers python3-django $offered (Django $(upstream "$offered")), not Django $series: update the pinned release or its suite in internal/djangotest/fetch.sh" ;;
	esac

	tmp=$cache/.$series.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp/debs" "$tmp/root"
	[ "$(id -u)" != 0 ] || ! id _apt >/dev/null 2>&1 || chown _apt "$tmp/debs"
	(cd "$tmp/debs" && apt-get -c "$conf" -qq download "$@") ||
		die "apt-get download $* from $suite failed"
	versions=""
	for deb in "$tmp"/debs/*.deb; do
		dpkg-deb -x "$deb" "$tmp/root"
		versions="$versions $(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)"
	done
	# The unpacked modules must import on the system's Python, Django
	# first on the path. They are byte-compiled for it once here, as
	# Debian does at install time (the tests write no .pyc files), which
	# halves the start of every Django process.
	site=$tmp/root/usr/lib/python3/dist-packages
	[ -d "$site/django" ] || die "python3-django from $suite has no usr/lib/python3/dist-packages/django"
	"$python" -m compileall -q -j0 "$site" >/dev/null || die "$python cannot compile the packages from $suite"
	got=$(PYTHONPATH=$site PYTHONDONTWRITEBYTECODE=1 "$python" -c '
import os, sys, django
assert os.path.dirname(os.path.dirname(django.__file__)) == sys.argv[1], django.__file__
print(django.get_version())
if os.path.isdir(os.path.join(sys.argv[1], "psycopg")):
    # Fetched with this release: it must load the system libpq5.
    import psycopg, psycopg.pq
    print("psycopg %s (%s implementation, libpq %s)" % (psycopg.__version__, psycopg.pq.__impl__, psycopg.pq.version()))
' "$site") || die "Django $series from $suite does not import on $python"
	extra=$(echo "$got" | sed 1d)
	got=$(echo "$got" | sed -n 1p)
	case $got in
	"$series" | "$series".*) ;;
	*) die "python3-django $offered from $suite reports Django $got, not $series" ;;
	esac
	rm -rf "$tmp/debs" "$dest"
	printf 'recipe: %s\nDjango %s\nsuite %s\npackages%s\n%s' "$recipe" "$got" "$suite" "$versions" "${extra:+$extra
}" >"$tmp/stamp"
	mv "$tmp/root" "$dest"
	mv "$tmp/stamp" "$dest/stamp"
	rmdir "$tmp"
	# The package lists are only needed for a fetch: the next one (a new
	# recipe) downloads fresh ones.
	rm -rf "$cache/apt/$suite"
	echo "django $series: Django $got in $dest ($versions )${extra:+, $extra}"
}

echo "$recipes" | while read -r series suite packages; do
	# shellcheck disable=SC2086 # the package list splits on spaces
	fetch "$series" "$suite" $packages
done
