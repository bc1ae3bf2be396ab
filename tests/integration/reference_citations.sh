#!/usr/bin/env bash
# Every citation in the code points into the repository (docs/reference/README.md):
# `spec N.N` (and `spec N`) must be a heading of docs/reference/phones.md, `DESIGN n` (also
# "DESIGN decision n", "DESIGN decisions 4 and 7") a "Decision n" heading of
# docs/reference/design.md, `DESIGN "Name"` a heading of design.md, and a bare `DESIGN:` /
# "DESIGN open questions" needs design.md's open-questions section. Citations may wrap across
# comment lines and list several numbers ("spec 1.3, 5.1, 10").
#
# Run alone: ctest -R integration.reference_citations --output-on-failure
source "$(dirname "$0")/lib.sh"

REF="$PV_SRC/docs/reference"
for f in README.md phones.md design.md; do
  [ -f "$REF/$f" ] || fail "docs/reference/$f is missing"
  ok
done

# The checker reads the sources itself (python3 is a test dependency, docs/architecture.md) and
# prints one line per citation that points nowhere, then "checked N".
out=$(python3 - "$PV_SRC" <<'EOF'
import os, re, sys
src = sys.argv[1]
ref = os.path.join(src, "docs", "reference")

def headings(name):
    with open(os.path.join(ref, name), encoding="utf-8") as f:
        return [l.lstrip("#").strip() for l in f if l.startswith("#")]

phones = headings("phones.md")
design = headings("design.md")
# "## 1. Profile_Rule" -> "1", "### 1.4 Conditions" -> "1.4"
spec_ids = set()
for h in phones:
    m = re.match(r"(\d+(?:\.\d+)?)\.?\s", h)
    if m:
        spec_ids.add(m.group(1))
decision_ids = set()
for h in design:
    m = re.match(r"Decision (\d+)\.", h)
    if m:
        decision_ids.add(m.group(1))
design_lower = [h.lower() for h in design]

NUM = r"\d+(?:\.\d+)?"
spec_re = re.compile(r"\b[Ss]pec (" + NUM + r"(?:(?:, ?| and |/)" + NUM + r"(?![\w.]))*)")
design_num_re = re.compile(r"\bDESIGN (?:decisions? )?(\d+(?:(?:, ?| and |/)\d+(?!\w))*)")
design_name_re = re.compile(r'\bDESIGN "([^"]+)"')
design_bare_re = re.compile(r"\bDESIGN(?:[:,)]| open questions)")

bad, checked = [], 0
for root, _, files in os.walk(os.path.join(src, "src")):
    for name in sorted(files):
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.join(root, name)
        rel = os.path.relpath(path, src)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # Join comment lines so that a citation broken over two lines is read whole.
        flat = re.sub(r"\n[ \t]*(?:\*(?!/)|//)?[ \t]*", " ", text)
        for m in spec_re.finditer(flat):
            for n in re.findall(NUM, m.group(1)):
                checked += 1
                if n not in spec_ids:
                    bad.append(f"{rel}: 'spec {n}' (in '{m.group(0)}') is no heading of docs/reference/phones.md")
        for m in design_num_re.finditer(flat):
            for n in re.findall(r"\d+", m.group(1)):
                checked += 1
                if n not in decision_ids:
                    bad.append(f"{rel}: 'DESIGN {n}' is no 'Decision {n}.' heading of docs/reference/design.md")
        for m in design_name_re.finditer(flat):
            checked += 1
            want = m.group(1).lower()
            if not any(want in h for h in design_lower):
                bad.append(f"{rel}: 'DESIGN \"{m.group(1)}\"' is no heading of docs/reference/design.md")
        for m in design_bare_re.finditer(flat):
            checked += 1
            if not any("open questions" in h for h in design_lower):
                bad.append(f"{rel}: '{m.group(0)}' needs the open questions of docs/reference/design.md")
        if "origin chapter" in flat:
            checked += 1
            if not any("origin chapter" in h for h in phones):
                bad.append(f"{rel}: 'the origin chapter' is no heading of docs/reference/phones.md")
for b in bad:
    print(b)
print(f"checked {checked}")
EOF
)
n=$(sed -n 's/^checked \([0-9]*\)$/\1/p' <<<"$out")
problems=$(grep -v '^checked ' <<<"$out" || true)
[ -z "$problems" ] || fail "citations that point nowhere:
$problems"
ok
# The code cites hundreds of rules; a checker that finds only a few has stopped reading.
echo "citations checked in src/: ${n:-0}"
[ "${n:-0}" -ge 300 ] || fail "only ${n:-0} citations found in src/: the patterns no longer match the code"
ok

# Nothing in the repository points at the briefs' files outside it.
if grep -rnE 'spec/cisco-provisioning\.md|\bDESIGN\.md\b' "$PV_SRC/src" "$PV_SRC/include" \
  "$PV_SRC/docs" "$PV_SRC/README.md" "$PV_SRC/CMakeLists.txt" "$PV_SRC/scripts" 2>/dev/null; then
  fail "a file names a reference document that is not in the repository (use docs/reference/)"
fi
ok

# The mapping is written down where a reader looks first.
grep -q 'phones.md' "$REF/README.md" && grep -q 'design.md' "$REF/README.md" ||
  fail "docs/reference/README.md does not map the citations to phones.md and design.md"
ok
done_ok
