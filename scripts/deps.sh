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
  libpq-dev libjansson-dev libinih-dev
  # tests: cmocka and the real peers
  libcmocka-dev openssl curl atftp tftp-hpa sqlite3 valgrind procps iproute2
)
[ "${1:-}" = "--bench" ] && want+=(nginx-light atftpd tftpd-hpa wrk hyperfine)

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

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
