#!/usr/bin/env python3
"""Spoofed-source abuse of a TFTP server, played on loopback (tests/integration/security_tftp.sh).

Linux routes all of 127.0.0.0/8 to lo, so a socket bound to 127.a.b.c plays a host of its own:
a "spoofed" source is a real socket that never answers, no raw packets needed. Every loop is
bounded in count and time.

    tftp_abuse.py answer HOST PORT PATH [--src ADDR] [--write]
        prints the first answer to a plain RRQ: "ERROR <code> <message>" or "OP<n> <len>";
        with --write, a WRQ whose one short block is sent once the server acknowledges it,
        and the answer to that block
    tftp_abuse.py silent HOST PORT [--src ADDR]
        sends an ERROR packet; exits 1 if anything answers within 1 s (RFC 1350: never)
    tftp_abuse.py reflect HOST PORT PATH --src ADDR [--count N] [--opt NAME=VALUE ...]
        sends N read requests from one address, never answers, and prints
        "sent S received R seconds T bound B factor F" once the server fell silent (2 s):
        T from the first request to the last byte received, B = 3 S + 516 (1 + ceil T)
    tftp_abuse.py flood HOST PORT PATH --sources N [--rounds R] [--prefix 127.5] [--during CMD]
        sends R rounds of one read request from each of N addresses PREFIX.x.y, never
        answering, and runs CMD (a real client, through sh) after the first round; prints
        "requests Q most_bytes_to_one_source M bound B client_status C client_seconds T"
        (B as for reflect, per source)
"""
import argparse
import select
import selectors
import socket
import struct
import subprocess
import sys
import time


def rrq(path, opts=()):
    body = path.encode() + b"\0octet\0"
    for o in opts:
        name, value = o.split("=", 1)
        body += name.encode() + b"\0" + value.encode() + b"\0"
    return struct.pack("!H", 1) + body


def bound(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    return s


def drain(socks, quiet):
    """Bytes received per socket until `quiet` seconds pass with nothing (at most 30 s), and
    when the last byte came."""
    got = {s: 0 for s in socks}
    last = time.monotonic()
    end = last + 30
    with selectors.DefaultSelector() as sel:  # epoll: more than FD_SETSIZE sockets
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        while time.monotonic() < end:
            ready = sel.select(quiet)
            if not ready:
                break
            last = time.monotonic()
            for key, _ in ready:
                got[key.fileobj] += len(key.fileobj.recv(70000))
    return got, last


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=("answer", "silent", "reflect", "flood"))
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("path", nargs="?", default="")
    p.add_argument("--src", default="127.0.0.1")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--opt", action="append", default=[])
    p.add_argument("--sources", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--prefix", default="127.5")
    p.add_argument("--during", default=None)
    p.add_argument("--write", action="store_true")
    a = p.parse_args()
    to = (a.host, a.port)
    if a.case == "answer":
        s = bound(a.src)
        req = rrq(a.path)
        s.sendto(struct.pack("!H", 2) + req[2:] if a.write else req, to)
        s.settimeout(5)
        data, peer = s.recvfrom(70000)
        if a.write and data[:2] == struct.pack("!H", 4):  # ACK 0: the body, one short block
            s.sendto(struct.pack("!HH", 3, 1) + b"<flat-profile/>", peer)
            data, _ = s.recvfrom(70000)
        op = struct.unpack("!H", data[:2])[0]
        if op == 5:
            print("ERROR %d %s" % (struct.unpack("!H", data[2:4])[0], data[4:].rstrip(b"\0").decode()))
        else:
            print("OP%d %d" % (op, len(data)))
    elif a.case == "silent":
        s = bound(a.src)
        s.sendto(struct.pack("!HH", 5, 0) + b"oops\0", to)
        if select.select([s], [], [], 1.0)[0]:
            sys.exit("an ERROR was answered: %r" % s.recv(1000))
        print("no answer")
    elif a.case == "reflect":
        s = bound(a.src)
        pkt = rrq(a.path, a.opt)
        start = time.monotonic()
        for _ in range(a.count):
            s.sendto(pkt, to)
        sent = len(pkt) * a.count
        got, last = drain([s], 2.0)
        seconds = last - start
        # docs/security.md: 3 x what it sent, plus first answers of one block a second
        bound_bytes = 3 * sent + 516 * (1 + int(seconds + 0.999))
        print("sent %d received %d seconds %.2f bound %d factor %.2f"
              % (sent, got[s], seconds, bound_bytes, got[s] / sent))
    else:
        socks = []
        for i in range(a.sources):
            socks.append(bound("%s.%d.%d" % (a.prefix, i // 250, i % 250 + 1)))
        pkt = rrq(a.path)
        client, started, start = None, 0.0, time.monotonic()
        for r in range(a.rounds):
            for s in socks:
                s.sendto(pkt, to)
            if r == 0 and a.during:
                started = time.monotonic()
                client = subprocess.Popen(a.during, shell=True)
        got, last = drain(socks, 1.0)
        status = client.wait(timeout=60) if client else -1
        seconds = time.monotonic() - started if client else 0
        # per source, as for reflect: 3 x what it sent, plus one block a second
        bound_bytes = 3 * len(pkt) * a.rounds + 516 * (1 + int(last - start + 0.999))
        print("requests %d most_bytes_to_one_source %d bound %d client_status %d client_seconds %.2f"
              % (a.sources * a.rounds, max(got.values()), bound_bytes, status, seconds))


if __name__ == "__main__":
    main()
