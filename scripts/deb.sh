#!/usr/bin/env bash
# scripts/deb.sh [OUT] — builds the Debian package of this checkout into OUT (default
# build-deb/): provisor_VERSION_ARCH.deb, and its .buildinfo and .changes.
#
# dpkg-buildpackage writes its results beside the source tree, so the tree is first copied
# into OUT/provisor-VERSION: the files git tracks or would track (not build output), or, out
# of a git checkout, everything but build*/ directories. The copy also keeps a build from a
# clean tree clean. PV_DEB_PREBUILT=/absolute/path/to/provisor packages that binary instead of
# compiling one (debian/rules; integration.ops_deb).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/build-deb}" && cd "${1:-$src/build-deb}" && pwd)
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
tree="$out/provisor-$version"
rm -rf "$tree" "$out"/provisor_"$version"_* "$out"/provisor-dbgsym_"$version"_*
mkdir -p "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    xargs -0 cp --parents -t "$tree")
else
  tar -C "$src" --exclude='./build*' -cf - . | tar -C "$tree" -xf -
fi
(cd "$tree" && dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1) ||
  { tail -n 40 "$out/build.log" >&2; echo "deb: dpkg-buildpackage failed; log: $out/build.log" >&2; exit 1; }
rm -rf "$tree"
ls "$out"/provisor_"$version"_*.deb
