#!/usr/bin/env bash
# Installs the Debian packages Provisor builds, tests and benchmarks with.
# Idempotent and silent when everything is present; needs root (apt-get) only
# when something is missing. The reason for each package is in
# docs/architecture.md ("Dependencies").
set -euo pipefail

want=(
  # build
  cmake ninja-build make gcc clang libclang-rt-14-dev pkg-config
  # libraries (DESIGN "Dependencies")
  libssl-dev libuv1-dev node-llhttp libexpat1-dev zlib1g-dev libsqlite3-dev
  libpq-dev libjansson-dev libinih-dev libcurl4-openssl-dev libosip2-dev libc-ares-dev libargon2-dev
  # tests: cmocka and the real peers
  libcmocka-dev openssl curl atftp tftp-hpa sqlite3 valgrind procps iproute2 postgresql tmux
  dnsmasq-base kea-dhcp4-server nginx python3 sip-tester kamailio
  # the shared libraries of the atftpd extracted below (dpkg-deb -x installs no dependencies;
  # without them integration.phone_nginx fails on a fresh machine: libwrap.so.0 not found)
  libwrap0 libpcre2-8-0
  # provisor fleet --report: plot.png rendered from our plot.svg (docs/fleet.md)
  librsvg2-bin
  # operations (issue 17): make deb, lintian, mandoc -Tlint, promtool check rules
  debhelper lintian fakeroot mandoc prometheus
  # integration.portal_browser: the customer portal in a real, headless browser; a Japanese
  # font so that its screenshots of the Japanese pages are readable
  chromium fonts-ipafont-gothic
)
# ...driven by npm playwright-core and axe-core (tests/browser/package-lock.json): Debian's
# nodejs and npm unless a node with npm is already installed (another packaging of it).
command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
bench=0
if [ "${1:-}" = "--bench" ]; then
  bench=1
  # atftpd conflicts with tftpd-hpa as a package; bench/ runs it from an
  # extracted copy (see extract_atftpd below), never as an installed service.
  want+=(tftpd-hpa wrk hyperfine)
fi

extract_atftpd() {
  local dir=${PV_BENCH_TOOLS:-/var/cache/provisor-bench}
  if [ -x "$dir/usr/sbin/atftpd" ]; then
    # An extracted binary brings no libraries: say which one is missing rather than let a test
    # fail on it later.
    local missing_libs
    missing_libs=$(ldd "$dir/usr/sbin/atftpd" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')
    [ -z "$missing_libs" ] || echo "deps: $dir/usr/sbin/atftpd lacks $missing_libs(install the package that ships it)" >&2
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || { echo "deps: atftpd (a test peer) needs root to extract" >&2; return 0; }
  mkdir -p "$dir"
  (cd "$dir" && { apt-get download -qq atftpd >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get download -qq atftpd >/dev/null; }; } &&
    dpkg-deb -x atftpd_*.deb "$dir" && rm -f atftpd_*.deb) ||
    { echo "deps: could not extract atftpd into $dir" >&2; return 0; }
  extract_atftpd # checks its libraries
}

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The browser test's two npm packages, pinned by the lockfile, into tests/browser/node_modules.
browser_modules() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
  [ -f "$dir/package-lock.json" ] || return 0
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
      echo "deps: npm ci in $dir failed (integration.portal_browser will say so)" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  extract_atftpd # the phone tests run atftpd as an independent peer
  browser_modules
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages and not root; run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Bench-only daemons must not grab ports 69/80 when they are installed.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
extract_atftpd
browser_modules
exit 0
