#!/usr/bin/env bash
# The command line's contract: help, version, exit codes 0/1/2.
# Covers src/cli/main.c.
. "$(dirname "$0")/lib.sh"

expect_status 0 "$PV_BIN" --help
expect_contains "$(cat "$T/.out")" "commands:" "top-level help lists commands"
expect_status 0 "$PV_BIN" --version
expect_contains "$(cat "$T/.out")" "provisor " "version"
expect_status 2 "$PV_BIN"
expect_status 2 "$PV_BIN" no-such-command
expect_contains "$(cat "$T/.err")" "unknown command" "unknown command explained"
done_ok
