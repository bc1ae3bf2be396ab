# api_helpers.bash — sourced by tests/integration/api_*.sh after lib.sh and
# serve_helpers.bash: start a server with the admin API and call it with curl.
# (Not a .sh file, so CTest does not run it as a test of its own.)

# api_start NAME — serve_start with only HTTP and the admin listener; sets TOKEN
# (the first-run admin token) when this run created the data directory, and API.
api_start() {
  serve_ports
  serve_start "$1" --tftp off --https off "${@:2}"
  local t
  t=$(grep -A1 '^Admin token' "$T/$1.out" | tail -1 | tr -d ' ' || true)
  [ -n "$t" ] && TOKEN=$t
  API="http://127.0.0.1:$ADMIN_PORT/api/v1"
  export PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
}

# call METHOD PATH [BODY] — curl with the token; body in $T/body, status in STATUS.
call() {
  local args=(-sS -o "$T/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer ${CALL_TOKEN:-$TOKEN}")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  STATUS=$(curl "${args[@]}" "$API$2")
  BODY=$(cat "$T/body")
}

# expect_call STATUS METHOD PATH [BODY] — call, then check the status.
expect_call() {
  local want=$1
  shift
  call "$@"
  [ "$STATUS" = "$want" ] || fail "$1 $2: status $STATUS, want $want; body: $BODY"
  ok
}

# jq_py EXPR — evaluates a python expression on the last body, bound to j.
jq_py() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/body" "$1"
}
