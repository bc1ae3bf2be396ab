#!/usr/bin/env bash
# Every module of src/ (each .c file) is named by the header of some test — the comment a test
# file starts with, where it says what it covers ("Covers src/net/fetch_curl.c ..."; a glob such
# as console*.c names every module it matches) — so that a reader finds a module's tests from
# its name, and a module no test names shows here: the test fails with their list. The check
# is run once on a small tree first, to see it find an unnamed module and accept a named one.
# Covers the headers of the test tree itself (tests/: unit, integration, fuzz, browser).
. "$(dirname "$0")/lib.sh"

unnamed() { # TREE: the modules of TREE/src no header of TREE/tests names, one a line
  python3 - "$1" <<'PY'
import fnmatch, glob, os, re, sys

tree = sys.argv[1]

def header(path):
    """The comment a test file starts with: up to its first include, import or command."""
    out = []
    with open(path, errors="replace") as f:
        for n, line in enumerate(f):
            s = line.strip()
            if n == 80:  # a header is shorter: a long file without one ends here
                break
            if s.startswith(("#include", "import ", ". ", "source ")) or (
                    path.endswith((".sh", ".bash", ".py")) and s and not s.startswith("#")):
                break
            out.append(line)
    return "".join(out)

tests = [p for p in glob.glob(os.path.join(tree, "tests", "**", "*"), recursive=True)
         if "node_modules" not in p.split(os.sep) and os.path.isfile(p)
         and p.endswith((".c", ".h", ".sh", ".bash", ".py", ".mjs", ".js"))]
text = "\n".join(header(p) for p in tests)
globs = {os.path.basename(g)[:-2] for g in re.findall(r"[\w/.-]*\*[\w*/.-]*\.c\b", text)}
for m in sorted(glob.glob(os.path.join(tree, "src", "**", "*.c"), recursive=True)):
    stem = os.path.basename(m)[:-2]
    if not any(fnmatch.fnmatch(stem, g) for g in globs) and \
            not re.search(r"(?<!\w)" + re.escape(stem) + r"(?!\w)", text):
        print(os.path.relpath(m, tree))
PY
}

# the check itself, on a tree of three modules: one named, one by a glob, one by nobody
mkdir -p "$T/tree/src/net" "$T/tree/tests/unit"
for m in fetch_curl console_a nobody_tests_me; do echo 'int f(void);' >"$T/tree/src/net/$m.c"; done
printf '/* Covers src/net/fetch_curl.c and console*.c. */\n#include "x.h"\n/* nobody_tests_me */\n' \
  >"$T/tree/tests/unit/test_x.c"
expect_eq "$(unnamed "$T/tree")" "src/net/nobody_tests_me.c" "the check finds the unnamed module"

unnamed "$PV_SRC" >"$T/unnamed"
[ ! -s "$T/unnamed" ] || fail "modules no test header names: $(tr '\n' ' ' <"$T/unnamed")"
ok
done_ok
