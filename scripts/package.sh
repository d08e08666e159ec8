#!/usr/bin/env bash
# Builds the Debian packages probity-agent and probity-collector for amd64,
# arm64 and armhf from the static binaries `make cross` leaves in dist/,
# with nfpm (pinned; built with `go install`, go.mod untouched), into dist/.
#
#   VERSION   package version (default: git describe), made a valid Debian
#             version: v1.2.3 -> 1.2.3, 1.2.3-rc1 -> 1.2.3~rc1,
#             1.2.3-4-gabc1234 -> 1.2.3+git4.gabc1234, -dirty -> +dirty, and
#             a bare commit hash (no tag yet) or anything not starting with a
#             digit (the Makefile's "dev") ->
#             0.0.0~git<short hash>
#   DIST      where the binaries are (default: dist/)
#   OUT       where the packages go (default: $DIST)
#   CONFIGS   where agent.yaml and collector.yaml are (default: configs/)
#   ARCHES    Go architectures to package (default: amd64 arm64 arm)
#   NFPM      an nfpm binary to use instead of building the pinned one
#
# `scripts/package.sh --print-version` prints the Debian version and exits.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
nfpm_module=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0

debian_version() {
	local v=${VERSION:-}
	if [ -z "$v" ]; then
		v=$(git describe --tags --always --dirty 2>/dev/null || true)
	fi
	local dirty=
	case $v in *-dirty) dirty=+dirty; v=${v%-dirty} ;; esac
	case $v in v[0-9]*) v=${v#v} ;; esac
	# `git describe --always` without a tag prints the bare commit hash,
	# which may start with a digit: not a version.
	if [[ $v =~ ^[0-9a-f]{7,40}$ ]] && { [[ $v =~ [a-f] ]] || [[ $(git rev-parse HEAD 2>/dev/null) == "$v"* ]]; }; then
		v=g$v
	fi
	case $v in
	[0-9]*)
		# git describe's -<commits>-g<hash> after a tag: later than the tag.
		if [[ $v =~ ^(.*)-([0-9]+)-g([0-9a-f]+)$ ]]; then
			v="${BASH_REMATCH[1]}+git${BASH_REMATCH[2]}.g${BASH_REMATCH[3]}"
		fi
		# Any other hyphen is a pre-release (1.2.3-rc1): earlier than 1.2.3.
		v=${v//-/\~}
		v=${v//_/.}
		;;
	*)
		local hash
		hash=$(git rev-parse --short HEAD 2>/dev/null || true)
		# A hash given in VERSION (a build of another commit) wins.
		if [[ $v =~ ^g([0-9a-f]{7,40})$ ]]; then hash=${BASH_REMATCH[1]}; fi
		[ -n "$hash" ] || hash=$(printf '%s' "$v" | tr -cd '0-9a-zA-Z')
		v="0.0.0~git$hash"
		;;
	esac
	v+=$dirty
	if ! [[ $v =~ ^[0-9][0-9A-Za-z.+~]*$ ]]; then
		echo "package.sh: cannot make a Debian version of '${VERSION:-$v}' (got '$v')" >&2
		return 1
	fi
	printf '%s\n' "$v"
}

if [ "${1:-}" = --print-version ]; then
	debian_version
	exit 0
fi

version=$(debian_version)
dist=$(cd "${DIST:-dist}" && pwd)
out=${OUT:-$dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
configs=$(cd "${CONFIGS:-configs}" && pwd)
arches=${ARCHES:-amd64 arm64 arm}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nfpm=${NFPM:-}
if [ -z "$nfpm" ]; then
	GOBIN="$tmp/bin" go install "$nfpm_module"
	nfpm=$tmp/bin/nfpm
fi

for b in agent collector; do
	# /usr/share/doc/probity-<b>: README, LICENSE and the install guide when
	# the tree has them, and the package's own README.Debian.
	docs=$tmp/doc-$b
	mkdir -p "$docs"
	cp README.md "deploy/debian/$b/README.Debian" "$docs/"
	for f in LICENSE LICENSE.md COPYING docs/install.md; do
		if [ -f "$f" ]; then cp "$f" "$docs/"; fi
	done
	chmod 0644 "$docs"/*
done

for goarch in $arches; do
	case $goarch in
	amd64 | arm64) arch=$goarch ;;
	arm) arch=armhf ;; # GOARM=7, hard float: Debian's armhf
	*) echo "package.sh: no Debian architecture for GOARCH $goarch" >&2; exit 1 ;;
	esac
	for b in agent collector; do
		bin=$dist/probity-$b-linux-$goarch
		if [ ! -x "$bin" ]; then
			echo "package.sh: $bin is missing: run make cross" >&2
			exit 1
		fi
		deb=$out/probity-${b}_${version}_${arch}.deb
		rm -f "$deb"
		ARCH=$arch GOARCH=$goarch VERSION=$version DIST=$dist CONFIGS=$configs DOCS=$tmp/doc-$b \
			"$nfpm" pkg --config "deploy/nfpm/$b.yaml" --packager deb --target "$deb" >/dev/null
		printf '%s\t%s\n' "$deb" "$(du -h "$deb" | cut -f1) ($(stat -c %s "$deb") bytes)"
	done
done
