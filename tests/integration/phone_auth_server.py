#!/usr/bin/env python3
"""phone_auth_server.py — a small HTTP server that serves profiles only to the right
credentials, for tests/integration/phone_auth.sh (spec 8.2).

Paths: /md5/F and /sha256/F ask for Digest (RFC 7616, qop=auth, algorithm MD5 or SHA-256),
/basic/F for Basic (RFC 7617), /open/F for nobody; F is a file under ROOT. POST or PUT to
/upload/NAME stores the body as ROOT/uploads/NAME.N (reports, spec 7.1). Every request is logged to LOG as one
line "METHOD PATH SCHEME STATUS" (SCHEME: none, basic or digest), so a test can count what
went over the wire. The Digest check is the server's own (hashlib), not the client's code.
Loopback only, bounded: it exits after --lifetime seconds or --max-requests requests.
"""
import argparse
import hashlib
import http.server
import os
import re
import secrets
import sys
import time

ALGS = {"md5": ("MD5", hashlib.md5), "sha256": ("SHA-256", hashlib.sha256)}


def parse_params(text):
    """auth-params of a Digest Authorization header (quoted strings or tokens)."""
    out = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]+)', text):
        value = m.group(3) if m.group(3) is not None else m.group(2)
        out[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # the request log below is the only output
        pass

    def record(self, scheme, status):
        with open(self.server.log, "a") as f:
            f.write(f"{self.command} {self.path} {scheme} {status}\n")

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def challenge(self, kind):
        if kind == "basic":
            return 'Basic realm="phones"'
        nonce = secrets.token_urlsafe(24)
        self.server.nonces[nonce] = 0
        if len(self.server.nonces) > 64:  # bounded: forget the oldest nonces
            self.server.nonces.pop(next(iter(self.server.nonces)))
        name = ALGS[kind][0]
        return (f'Digest realm="{self.server.realm}", qop="auth", algorithm={name}, '
                f'nonce="{nonce}", opaque="{self.server.opaque}"')

    def check_digest(self, kind, auth):
        p = parse_params(auth)
        name, h = ALGS[kind]
        H = lambda s: h(s.encode()).hexdigest()
        nonce = p.get("nonce", "")
        if nonce not in self.server.nonces or p.get("qop") != "auth":
            return False
        nc = int(p.get("nc", "0"), 16)
        if nc <= self.server.nonces[nonce]:  # RFC 7616 §3.4: nc grows with each use
            return False
        if (p.get("username") != self.server.user or p.get("realm") != self.server.realm or
                p.get("uri") != self.path or p.get("algorithm", "MD5").upper() != name.upper() or
                p.get("opaque") != self.server.opaque):
            return False
        ha1 = H(f"{self.server.user}:{self.server.realm}:{self.server.password}")
        ha2 = H(f"{self.command}:{p['uri']}")
        want = H(f"{ha1}:{nonce}:{p['nc']}:{p.get('cnonce', '')}:auth:{ha2}")
        if not secrets.compare_digest(want, p.get("response", "")):
            return False
        self.server.nonces[nonce] = nc
        return True

    def check_basic(self, auth):
        import base64
        try:
            user, _, pw = base64.b64decode(auth).decode().partition(":")
        except Exception:
            return False
        return user == self.server.user and pw == self.server.password

    def do_POST(self):
        self.server.count += 1
        m = re.match(r"^/upload/([A-Za-z0-9._-]+)$", self.path)
        n = int(self.headers.get("Content-Length", "0"))
        if not m or n > (1 << 20):  # bounded: a report is small
            self.record("none", 404)
            return self.reply(404, b"no such path\n")
        body = self.rfile.read(n)
        d = os.path.join(self.server.root, "uploads")
        os.makedirs(d, exist_ok=True)
        self.server.uploads += 1
        with open(os.path.join(d, f"{m.group(1)}.{self.server.uploads}"), "wb") as f:
            f.write(body)
        self.record("none", 200)
        self.reply(200, b"stored\n")

    do_PUT = do_POST

    def do_GET(self):
        self.server.count += 1
        m = re.match(r"^/(md5|sha256|basic|open)/([A-Za-z0-9._-]+)$", self.path)
        if not m:
            self.record("none", 404)
            return self.reply(404, b"no such path\n")
        kind, name = m.groups()
        auth = self.headers.get("Authorization", "")
        scheme, _, rest = auth.partition(" ")
        scheme = scheme.lower() or "none"
        good = kind == "open" or \
               (kind == "basic" and scheme == "basic" and self.check_basic(rest)) or \
               (kind != "basic" and scheme == "digest" and self.check_digest(kind, rest))
        if not good:
            self.record(scheme, 401)
            return self.reply(401, b"credentials needed\n",
                              [("WWW-Authenticate", self.challenge(kind))])
        path = os.path.join(self.server.root, name)
        if not os.path.isfile(path):
            self.record(scheme, 404)
            return self.reply(404, b"not found\n")
        with open(path, "rb") as f:
            body = f.read()
        self.record(scheme, 200)
        self.reply(200, body, [("Content-Type", "text/xml")])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--max-requests", type=int, default=500)
    a = ap.parse_args()
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    srv.root, srv.log, srv.user, srv.password = a.root, a.log, a.user, a.password
    srv.realm, srv.opaque, srv.nonces, srv.count = "phones@provisor.test", secrets.token_hex(8), {}, 0
    srv.uploads = 0
    open(a.log, "a").close()
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    deadline = time.monotonic() + a.lifetime
    srv.timeout = 0.5
    while time.monotonic() < deadline and srv.count < a.max_requests:
        srv.handle_request()
    return 0


if __name__ == "__main__":
    sys.exit(main())
