#!/usr/bin/env bash
# `make run`: start the server on its embedded defaults (README "A short tour" goes on from here).
set -euo pipefail
build=${1:-build}
exec "$build/provisor" serve
