#!/usr/bin/env bash
# `provisor phone` looks its provisioning server up in DNS as a phone does (spec 1.1 --srv,
# 1.2, 2.2 $SERVIP), against dnsmasq serving SRV and A records on a loopback port. The domain
# prov.test has two SRV targets: priority 10 on 127.0.0.2, where nothing listens, and priority
# 20 on 127.0.0.3, where a plain HTTP server (python's) serves the profile. The phone must ask
# for _ciscoprov-http._tcp.prov.test, try the first target, fail over to the second (RFC 2782
# order), apply its profile and log the resync with $SERVIP = the address that answered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/phone_lib.bash"
need dnsmasq python3

PORT=$(free_port tcp)
DNS=$(free_port udp)
mkdir -p "$T/www"
cat >"$T/www/8841-3PCC.xml" <<'XML'
<flat-profile>
  <Station_Name>found-by-srv</Station_Name>
</flat-profile>
XML
chmod -R a+rX "$T/www"

python3 -m http.server --bind 127.0.0.3 --directory "$T/www" "$PORT" >"$T/http.log" 2>&1 &
PV_CLEANUP+=("kill $! 2>/dev/null")
wait_until 10 "http server on 127.0.0.3:$PORT" bash -c "exec 3<>/dev/tcp/127.0.0.3/$PORT"

# dnsmasq: no upstream, no /etc/hosts, only these records (the rest of .test: NXDOMAIN); on
# loopback, in the foreground.
dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-dhcp-interface= --bind-interfaces \
  --listen-address=127.0.0.1 --port="$DNS" --pid-file= --user="$(id -un)" --local=/test/ \
  --log-queries --log-facility="$T/dnsmasq.log" \
  --srv-host=_ciscoprov-http._tcp.prov.test,first.prov.test,"$PORT",10,0 \
  --srv-host=_ciscoprov-http._tcp.prov.test,second.prov.test,"$PORT",20,0 \
  --host-record=first.prov.test,127.0.0.2 \
  --host-record=second.prov.test,127.0.0.3 2>>"$T/dnsmasq.err" &
PV_CLEANUP+=("kill $! 2>/dev/null")
wait_until 10 "dnsmasq bound (err: $(cat "$T/dnsmasq.err" 2>/dev/null))" udp_bound "$DNS"

phone_start p1 --mac 000e08aabbcc --model CP-8841-3PCC --dns "127.0.0.1:$DNS"

# the one-shot resync (spec 5.5) with the rule the guide shows: [--srv] http://DOMAIN/$PSN.xml
expect_contains "$("$PV_BIN" phone resync '[--srv] http://prov.test/$PSN.xml' --state-dir "$T/p1")" \
  "resync started" "the --srv rule accepted"
wait_until 10 "profile from the second SRV target" param_is Station_Name found-by-srv
expect_status 0 grep -q '_ciscoprov-http._tcp.prov.test' "$T/dnsmasq.log"
expect_status 0 grep -q 'phone.lookup.*type=SRV name=_ciscoprov-http._tcp.prov.test' "$T/p1.log"
# RFC 2782: priority 10 first; nothing listens there, so the next target (spec 1.2)
expect_status 0 grep -q "phone.request.*address=127.0.0.2 url=http://first.prov.test:$PORT/8841-3PCC.xml" "$T/p1.log"
expect_status 0 grep -q "phone.request.*address=127.0.0.3 url=http://second.prov.test:$PORT/8841-3PCC.xml" "$T/p1.log"
expect_status 0 grep -q '"GET /8841-3PCC.xml HTTP/1.1" 200' "$T/http.log"
# spec 2.2, 7.3: $SERVIP in the success log is the address that answered
wait_until 5 "success logged with \$SERVIP" \
  grep -q "Successful resync http://127.0.0.3:$PORT/8841-3PCC.xml" "$T/p1.log"

# A domain without SRV records: the resync fails on DNS, and says so ($ERR)
"$PV_BIN" phone resync '[--srv] http://none.test/$PSN.xml' --state-dir "$T/p1" >/dev/null
wait_until 10 "DNS failure in \$ERR" grep -q 'DNS lookup failed: none.test' "$T/p1.log"

phone_stop
done_ok
