#!/usr/bin/env bash
# docs/openapi.yaml is the admin API's contract: it parses (YAML and as an
# OpenAPI 3.0 shape), every route of the table in src/server/api.c is in it
# with its method, it names no route the code does not serve, and every
# $ref resolves.
. "$(dirname "$0")/lib.sh"

python3 - "$PV_SRC/docs/openapi.yaml" "$PV_SRC/src/server/api.c" <<'PY' || fail "openapi check"
import re, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
assert doc["openapi"].startswith("3.0"), "not OpenAPI 3.0"
code = open(sys.argv[2]).read()
routes = set(re.findall(r'\{"(GET|POST|PUT|PATCH|DELETE)",\s*"(/[^"]*)"', code))
# each route's role in the table (server/roles.h) is the one the document states
roles = {(m, p): (r.lower(), c == "true") for m, p, r, c in re.findall(
    r'\{"(GET|POST|PUT|PATCH|DELETE)",\s*"(/[^"]*)",[^}]*?,\s*(VIEWER|OPERATOR|ADMIN),\s*(true|false)\}', code)}
assert set(roles) == routes, f"routes without a role in api.c: {sorted(routes - set(roles))}"
assert len(routes) >= 40, f"only {len(routes)} routes found in api.c"
documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops if m != "parameters"}
missing = routes - documented
extra = documented - routes
assert not missing, f"routes missing from openapi.yaml: {sorted(missing)}"
assert not extra, f"documented but not served: {sorted(extra)}"
def walk(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                target = doc
                for part in v.lstrip("#/").split("/"):
                    target = target[part]
            else:
                walk(v)
    elif isinstance(node, list):
        for v in node:
            walk(v)
walk(doc)
for p, ops in doc["paths"].items():
    for m, op in ops.items():
        if m != "parameters":
            assert op.get("responses"), f"{m} {p} has no responses"
            stated = (op.get("x-provisor-role"), bool(op.get("x-provisor-customer", False)))
            assert stated == roles[(m.upper(), p)], \
                f"{m} {p}: openapi.yaml states {stated}, api.c has {roles[(m.upper(), p)]}"
            # read-only means read-only: nothing but GET is open to a viewer
            assert m == "get" or stated[0] != "viewer", f"{m} {p} changes something: not viewer"
print(f"{len(routes)} routes documented")
PY
ok
done_ok
