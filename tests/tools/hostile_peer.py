#!/usr/bin/env python3
"""hostile_peer.py — a misbehaving TFTP, HTTP and TLS client for serve_hostile.sh.

Each call plays one attack against a running `provisor serve` and checks that the
server answered it the way a server under attack must: with an error (TFTP ERROR,
HTTP 4xx) or by closing the connection — never with the file, never by hanging.

    hostile_peer.py tftp HOST PORT CASE [ARG] [--src ADDR] [--hold SECONDS]
    hostile_peer.py http HOST PORT CASE [ARG] [--src ADDR] [--hold SECONDS]
    hostile_peer.py tls  HOST PORT CASE [ARG] [--ca F] [--cert F --key F] [--hold SECONDS]

It prints one line saying what it saw, and exits 0 when the answer was acceptable,
1 (with the reason on stderr) when it was not. Deterministic: the "garbage" bytes
come from a seeded generator, so a failure can be replayed.
"""
import argparse
import random
import select
import socket
import ssl
import struct
import sys
import time

WAIT = 20.0  # seconds to wait for any answer: the server may run under valgrind


class Refused(Exception):
    """The server's answer was not acceptable."""


def say(msg):
    print(msg, flush=True)


# ---- TFTP (RFC 1350, 2347, 2348) -----------------------------------------------------------

def rrq(name, opts=(), op=1):
    pkt = struct.pack("!H", op) + name + b"\0octet\0"
    for k, v in opts:
        pkt += k + b"\0" + v + b"\0"
    return pkt


def tftp_socket(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(WAIT)
    return s


def tftp_answer(s):
    data, peer = s.recvfrom(70000)
    if len(data) < 2:
        raise Refused("answer of %d bytes" % len(data))
    return struct.unpack("!H", data[:2])[0], data, peer


def describe_error(data):
    code = struct.unpack("!H", data[2:4])[0]
    return "ERROR %d %r" % (code, data[4:].rstrip(b"\0").decode("latin-1"))


def tftp_expect_error(host, port, pkt, src, what):
    """Sends pkt; the one acceptable answer is a TFTP ERROR packet."""
    s = tftp_socket(src)
    s.sendto(pkt, (host, port))
    try:
        op, data, peer = tftp_answer(s)
    except socket.timeout:
        raise Refused("%s: no answer within %.0f s" % (what, WAIT))
    if op != 5:
        abort(s, peer)
        raise Refused("%s: answered with opcode %d, not ERROR (%r)" % (what, op, data[:40]))
    say("%s: %s" % (what, describe_error(data)))


def abort(s, peer):
    """Ends a transfer the server started, as a client giving up politely would."""
    s.sendto(struct.pack("!HH", 5, 0) + b"client abort\0", peer)


def tftp_blksize(host, port, value, src):
    """blksize out of range (RFC 2348: 8..65464): refused, ignored or clamped, never obeyed."""
    s = tftp_socket(src)
    s.sendto(rrq(b"sample.xml", [(b"blksize", value)]), (host, port))
    op, data, peer = tftp_answer(s)
    if op == 5:
        say("blksize %s: %s" % (value.decode(), describe_error(data)))
        return
    if op == 6:  # OACK
        fields = data[2:].split(b"\0")
        got = dict(zip(fields[0::2], fields[1::2]))
        granted = int(got.get(b"blksize", b"512"))
        abort(s, peer)
        if not 8 <= granted <= 65464:
            raise Refused("blksize %s: OACK granted blksize %d" % (value.decode(), granted))
        say("blksize %s: OACK blksize %d" % (value.decode(), granted))
        return
    if op == 3:  # option ignored: plain DATA, block of 512 at most
        abort(s, peer)
        if len(data) - 4 > 512:
            raise Refused("blksize %s: DATA of %d bytes" % (value.decode(), len(data) - 4))
        say("blksize %s: ignored, DATA %d" % (value.decode(), len(data) - 4))
        return
    raise Refused("blksize %s: opcode %d" % (value.decode(), op))


def hold_silent(s, hold):
    """Keeps the port open without answering for hold seconds — a peer that went silent,
    not one whose port is closed (that ICMP would end the transfer at once) — and says
    how the server behaved: some retransmissions, then nothing."""
    if hold <= 0:
        return "port closed at once"
    end = time.monotonic() + hold
    count = 0
    last = None
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            s.recvfrom(70000)
        except socket.timeout:
            break
        count += 1
        last = time.monotonic()
    if last is not None and end - last < 0.5:
        raise Refused("still retransmitting %.1f s after the peer went silent" % hold)
    return "%d retransmissions in %.0f s, then nothing" % (count, hold)


def tftp_long_timeout(host, port, value, src, bound):
    """RFC 2349 lets a client ask for a timeout of up to 255 s; granted, one request that
    is never acknowledged would hold a transfer slot (socket, file, memory) for minutes.
    The server must decline a timeout longer than it ever waits, and retransmit within
    bound seconds."""
    s = tftp_socket(src)
    s.sendto(rrq(b"mid.bin", [(b"timeout", value), (b"blksize", b"1024")]), (host, port))
    op, data, peer = tftp_answer(s)
    if op != 6:
        raise Refused("timeout %s: expected OACK (blksize), got opcode %d" % (value.decode(), op))
    fields = data[2:].split(b"\0")
    got = dict(zip(fields[0::2], fields[1::2]))
    if b"timeout" in got and int(got[b"timeout"]) * 1000 > bound * 1000:
        abort(s, peer)
        raise Refused("timeout %s: granted timeout %s" % (value.decode(), got[b"timeout"].decode()))
    start = time.monotonic()
    s.settimeout(bound)
    try:
        s.recvfrom(70000)  # the OACK again: the server's own timer, not the client's 255 s
    except socket.timeout:
        raise Refused("timeout %s: no retransmission within %.0f s" % (value.decode(), bound))
    abort(s, peer)
    say("timeout %s: %s, OACK sent again after %.1f s" %
        (value.decode(), "granted " + got[b"timeout"].decode() if b"timeout" in got
         else "declined", time.monotonic() - start))


def tftp_vanish(host, port, name, src, hold):
    """Reads a few blocks, then stops acknowledging: the server must give up on its own."""
    s = tftp_socket(src)
    s.sendto(rrq(name.encode()), (host, port))
    for want in (1, 2, 3):
        op, data, peer = tftp_answer(s)
        if op != 3 or struct.unpack("!H", data[2:4])[0] != want:
            raise Refused("vanish: expected DATA %d, got opcode %d" % (want, op))
        s.sendto(struct.pack("!HH", 4, want), peer)
    again = hold_silent(s, hold)
    say("vanish: read 3 blocks of %s, then silence (%s)" % (name, again))


def tftp_vanish_write(host, port, name, src, hold):
    """A write request that sends one block and vanishes."""
    s = tftp_socket(src)
    s.sendto(struct.pack("!H", 2) + name.encode() + b"\0octet\0", (host, port))
    op, data, peer = tftp_answer(s)
    if op == 5:
        say("vanish-write: %s" % describe_error(data))
        return
    if op != 4:
        raise Refused("vanish-write: expected ACK 0, got opcode %d" % op)
    s.sendto(struct.pack("!HH", 3, 1) + b"<x>" * 170 + b"xx", peer)  # 512 bytes: not the last
    op, data, peer = tftp_answer(s)
    if op != 4:
        raise Refused("vanish-write: expected ACK 1, got opcode %d" % op)
    again = hold_silent(s, hold)
    say("vanish-write: sent block 1 of %s, then silence (%s)" % (name, again))


# Linux's SO_TIMESTAMPNS (asm-generic/socket.h), which Python's socket module may not name.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def window_peak(times, width):
    """The most events within any span of width seconds (all of them when width is 0)."""
    times = sorted(times)
    if not width:
        return len(times)
    peak, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] > width:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def tftp_wrq_flood(host, port, count, src, name, limit, lifetime):
    """count write requests at once, from count ports of one address; none sends data.
    At most limit are admitted (ACK/OACK) at a time, the others refused with ERROR — or, once
    the per-source rate limit trips, with silence (no reflection).
    "At a time": an admitted transfer lives at least lifetime seconds (the server's timeout
    times its tries) from its ACK, so ACKs the kernel received within lifetime of each other
    belong to live transfers together; those are counted, by their kernel receive times
    (SO_TIMESTAMPNS, immune to this script being descheduled). On a busy machine the server
    may take longer than lifetime over the flood, and a slot freed by a timed-out transfer is
    rightly given to a later request. lifetime 0: every ACK counts."""
    socks = []
    for _ in range(count):
        s = tftp_socket(src)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.sendto(struct.pack("!H", 2) + name.encode() + b"\0octet\0", (host, port))
        socks.append(s)
    acked_at = []
    errors = 0
    pending = {s.fileno(): s for s in socks}
    quiet = 3.0  # the rate limit may stay silent (no reflection): stop after a quiet spell
    last = time.monotonic()
    while pending and time.monotonic() - last < quiet:
        ready, _, _ = select.select(list(pending.values()), [], [], 0.2)
        for s in ready:
            data, ancillary, _, _ = s.recvmsg(70000, socket.CMSG_SPACE(16))
            op = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else -1
            if op == 5:
                errors += 1
            elif op in (4, 6):
                stamp = time.time()
                for level, kind, value in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        sec, nsec = struct.unpack("qq", value[:16])
                        stamp = sec + nsec / 1e9
                acked_at.append(stamp)
            else:
                raise Refused("wrq flood: opcode %d" % op)
            del pending[s.fileno()]
            s.close()
            last = time.monotonic()
    silent = len(pending)
    peak = window_peak(acked_at, lifetime)
    say("wrq flood: %d admitted (at most %d within %.1f s), %d refused, %d unanswered" %
        (len(acked_at), peak, lifetime, errors, silent))
    if errors == 0:
        raise Refused("wrq flood: nothing refused")
    if limit and peak > limit:
        raise Refused("wrq flood: %d admitted within %.1f s, over the limit of %d" %
                      (peak, lifetime, limit))


def tftp_main(a):
    host, port, src = a.host, a.port, a.src
    rnd = random.Random(3)
    simple = {
        "truncated": b"\x00",
        "no-nul": b"\x00\x01sample.xml",
        "no-mode": b"\x00\x01sample.xml\x00",
        # The largest UDP datagram IPv4 can carry (70 000 bytes cannot be sent).
        "oversized": rrq(b"sample.xml") + b"A" * (65507 - len(rrq(b"sample.xml"))),
        "garbage": bytes(rnd.randrange(256) for _ in range(300)),
        "opcode9": struct.pack("!H", 9) + b"sample.xml\0octet\0",
        "opcode0": struct.pack("!H", 0) + b"sample.xml\0octet\0",
        "data-to-listener": struct.pack("!HH", 3, 1) + b"x" * 512,
        "ack-to-listener": struct.pack("!HH", 4, 1),
        "option-flood": rrq(b"sample.xml", [(b"o%d" % i, b"1") for i in range(200)]),
        # More options than any RFC defines, within the 512 bytes of RFC 2347.
        "option-count": rrq(b"sample.xml", [(b"o%d" % i, b"1") for i in range(60)]),
        "bad-mode": b"\x00\x01sample.xml\x00mail\x00",
    }
    if a.case in simple:
        tftp_expect_error(host, port, simple[a.case], src, a.case)
    elif a.case == "rrq-error":  # a path that must be refused (traversal, symlink out)
        tftp_expect_error(host, port, rrq(a.arg.encode()), src, "RRQ %s" % a.arg)
    elif a.case == "blksize":
        tftp_blksize(host, port, a.arg.encode(), src)
    elif a.case == "long-timeout":
        tftp_long_timeout(host, port, a.arg.encode(), src, a.hold or 10)
    elif a.case == "vanish":
        tftp_vanish(host, port, a.arg, src, a.hold)
    elif a.case == "vanish-write":
        tftp_vanish_write(host, port, a.arg, src, a.hold)
    elif a.case == "wrq-write":  # one short (so final) block to a name that tries to escape
        s = tftp_socket(src)
        s.sendto(struct.pack("!H", 2) + a.arg.encode() + b"\0octet\0", (host, port))
        op, data, peer = tftp_answer(s)
        if op == 4:
            s.sendto(struct.pack("!HH", 3, 1) + b"hello", peer)
            op, data, peer = tftp_answer(s)
        if op not in (4, 5):
            raise Refused("WRQ %s: opcode %d" % (a.arg, op))
        say("WRQ %s: %s" % (a.arg, "stored" if op == 4 else describe_error(data)))
    elif a.case == "wrq-flood":
        tftp_wrq_flood(host, port, 200, src, a.arg, a.limit, a.lifetime)
    else:
        raise SystemExit("unknown tftp case " + a.case)


# ---- HTTP ------------------------------------------------------------------------------------

def connect(host, port, src=None):
    return socket.create_connection((host, port), timeout=WAIT,
                                    source_address=(src, 0) if src else None)


def conn_flood(host, port, count, hold, src):
    """count connections at once from one address, held open hold seconds without a byte.
    Those over the per-source limit must be closed by the server; the rest by the request
    (or handshake) timeout. Every one must be closed by the server within hold seconds."""
    socks = [connect(host, port, src) for _ in range(count)]
    start = time.monotonic()
    open_ = list(socks)
    early = 0
    while open_ and time.monotonic() - start < hold:
        for s in list(open_):
            s.settimeout(0.01)
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if chunk.startswith(b"HTTP/1.1 2"):
                raise Refused("connection flood: a silent connection got %r" % chunk[:40])
            open_.remove(s)  # closed, or an error answer before the close
            if time.monotonic() - start < 0.5:
                early += 1
        time.sleep(0.05)
    for s in socks:
        s.close()
    if open_:
        raise Refused("connection flood: %d of %d still open after %.0f s" %
                      (len(open_), count, hold))
    say("connection flood: %d connections from %s, %d closed at once, all closed in %.1f s" %
        (count, src, early, time.monotonic() - start))


def slow_reader(host, port, path, hold, tls_ctx=None):
    """Asks for a large file and reads nothing for hold seconds: the server must give up
    on the stalled send (and free what it held), not wait forever."""
    s = connect(host, port)  # (a tiny SO_RCVBUF would stall the kernel's own send on loopback)
    if tls_ctx is not None:
        s = tls_ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(hold)
    # What the server sent before it gave up is in the socket buffers: a few MB at most.
    got = read_to_close(s, limit=32 << 20)
    s.close()
    if status_of(got) != 200:
        raise Refused("slow reader: %r" % got[:60])
    if len(got) >= 32 << 20:
        raise Refused("slow reader: the server kept sending (%d bytes)" % len(got))
    say("slow reader: the server gave up after %d bytes of %s" % (len(got), path))


def rst_close(s):
    """Closes with a RST instead of a FIN: the abrupt disconnect of a dead client."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def send_all(s, data):
    """Sends what the server accepts; a server that closes early is answering too."""
    try:
        s.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def read_to_close(s, limit=1 << 20):
    """Everything the server sends until it closes; Refused if it does not close in time."""
    got = bytearray()
    deadline = time.monotonic() + WAIT
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Refused("connection still open after %.0f s (got %r)" % (WAIT, got[:80]))
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return bytes(got)
        except socket.timeout:
            continue
        if not chunk:
            return bytes(got)
        got += chunk
        if len(got) > limit:
            raise Refused("more than %d bytes answered" % limit)


def status_of(answer):
    if not answer.startswith(b"HTTP/1."):
        return None
    return int(answer[9:12])


def expect_refusal(answer, what, allowed):
    """A 4xx from allowed, or a close with no answer at all."""
    st = status_of(answer)
    if b"root:" in answer:
        raise Refused("%s: served /etc/passwd" % what)
    if answer and st not in allowed:
        raise Refused("%s: answered %r, want one of %s or a close" % (what, answer[:60], allowed))
    say("%s: %s" % (what, "HTTP %d" % st if answer else "closed without answer"))


def http_oneshot(host, port, data, what, allowed, half_close=False):
    s = connect(host, port)
    send_all(s, data)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    expect_refusal(read_to_close(s), what, allowed)
    s.close()


def http_request_path(host, port, path, allowed):
    """One request with the path exactly as given (no client-side normalisation)."""
    req = b"GET " + path.encode("latin-1") + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    http_oneshot(host, port, req, "GET %s" % path, allowed)


def http_slowloris(host, port, bound):
    """Headers one byte at a time, forever: the request timeout must end it within bound s."""
    s = connect(host, port)
    start = time.monotonic()
    send_all(s, b"GET /sample.xml HTTP/1.1\r\nHost: x\r\n")
    s.settimeout(0.25)
    answer = b""
    while time.monotonic() - start < bound:
        if not send_all(s, b"X"):
            break
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        answer += chunk
    took = time.monotonic() - start
    s.close()
    if took >= bound:
        raise Refused("slowloris: still connected after %.1f s" % took)
    expect_refusal(answer, "slowloris (%.1f s)" % took, (408,))


def http_disconnect_mid_response(host, port, path, tls_ctx=None):
    """Asks for a large file, reads a little of it, then resets the connection."""
    s = connect(host, port)
    if tls_ctx is not None:
        s = tls_ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while len(got) < 256 * 1024:
        chunk = s.recv(65536)
        if not chunk:
            raise Refused("mid-response: closed after %d bytes" % len(got))
        got += chunk
    if status_of(got) != 200:
        raise Refused("mid-response: %r" % got[:60])
    if tls_ctx is not None:
        raw = socket.socket(fileno=s.detach())  # reset under TLS, no close_notify
        rst_close(raw)
    else:
        rst_close(s)
    say("mid-response: read %d bytes of %s, then reset" % (len(got), path))


def http_main(a):
    host, port = a.host, a.port
    rnd = random.Random(5)
    big = b"X-Big: " + b"a" * 65536 + b"\r\n"
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(10000))
    head = b"GET /sample.xml HTTP/1.1\r\nHost: x\r\n"
    post = b"POST /report/000e08abcdef.xml HTTP/1.1\r\nHost: x\r\n"
    cases = {
        "garbage": (bytes(rnd.randrange(256) for _ in range(2000)) + b"\r\n\r\n", (400,)),
        "bad-version": (b"GET /sample.xml HTTP/9.9\r\nHost: x\r\n\r\n", (400, 505)),
        "nul-in-header": (head + b"X-A: a\x00b\r\n\r\n", (400,)),
        "big-header": (head + big + b"\r\n", (431, 400)),
        "many-headers": (head + many + b"\r\n", (431, 400)),
        "long-uri": (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", (414, 431, 400)),
        # Chunk sizes that lie: a chunk longer than its size, a size that overflows.
        "chunk-lie": (post + b"Transfer-Encoding: chunked\r\n\r\n5\r\nabcdefghij\r\n0\r\n\r\n",
                      (400,)),
        "chunk-overflow": (post + b"Transfer-Encoding: chunked\r\n\r\n"
                           + b"f" * 40 + b"\r\nabc\r\n0\r\n\r\n", (400, 413)),
        "chunk-garbage": (post + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
                          (400,)),
        "cl-and-te": (post + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"3\r\nabc\r\n0\r\n\r\n", (400,)),
        "two-cl": (post + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", (400,)),
        "negative-cl": (post + b"Content-Length: -1\r\n\r\n", (400,)),
        "huge-cl": (post + b"Content-Length: 10000000000\r\n\r\nabc", (413, 400)),
        # Chunked body past the limit: 2 MiB in 64 KiB chunks.
        "chunked-over-limit": (post + b"Transfer-Encoding: chunked\r\n\r\n"
                               + (b"10000\r\n" + b"b" * 65536 + b"\r\n") * 32 + b"0\r\n\r\n",
                               (413,)),
        # A 405 keeps the connection (the request was well framed): ask for the close.
        "bad-method-metrics": (b"DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                               (405,)),
        "post-metrics": (b"POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         b"Content-Length: 2\r\n\r\nhi", (405,)),
    }
    if a.case in cases:
        data, allowed = cases[a.case]
        http_oneshot(host, port, data, a.case, allowed)
    elif a.case == "path":
        http_request_path(host, port, a.arg, (400, 403, 404))
    elif a.case == "slowloris":
        http_slowloris(host, port, float(a.arg))
    elif a.case == "truncated-body":  # says 1000 bytes, sends 10, then the FIN
        http_oneshot(host, port, post + b"Content-Length: 1000\r\n\r\n0123456789",
                     "truncated-body", (400, 408), half_close=True)
    elif a.case == "reset-mid-request":
        s = connect(host, port)
        s.sendall(head + b"X-Partial: ab")
        time.sleep(0.2)
        rst_close(s)
        say("reset-mid-request: sent half the headers, then reset")
    elif a.case == "reset-mid-body":
        s = connect(host, port)
        s.sendall(post + b"Transfer-Encoding: chunked\r\n\r\n100\r\n" + b"z" * 100)
        time.sleep(0.2)
        rst_close(s)
        say("reset-mid-body: sent part of a chunk, then reset")
    elif a.case == "mid-response":
        http_disconnect_mid_response(host, port, a.arg)
    elif a.case == "slow-reader":
        slow_reader(host, port, a.arg, a.hold)
    elif a.case == "conn-flood":
        conn_flood(host, port, int(a.arg), a.hold, a.src)
    elif a.case == "put":  # an upload whose name tries to leave the upload directory
        req = (b"PUT " + a.arg.encode("latin-1") + b" HTTP/1.1\r\nHost: x\r\n"
               b"Content-Length: 5\r\nConnection: close\r\n\r\nhello")
        s = connect(host, port)
        send_all(s, req)
        answer = read_to_close(s)
        st = status_of(answer)
        if st is None or not (200 <= st < 300 or 400 <= st < 500):
            raise Refused("PUT %s: %r" % (a.arg, answer[:60]))
        say("PUT %s: HTTP %d" % (a.arg, st))
    else:
        raise SystemExit("unknown http case " + a.case)


# ---- TLS -------------------------------------------------------------------------------------

def client_hello():
    """The bytes of a real ClientHello, taken from an ssl object over memory BIOs."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def tls_expect_close(host, port, data, what, then_wait=True):
    """Sends data; the server must close (an alert first is fine), never answer HTTP."""
    s = connect(host, port)
    send_all(s, data)
    answer = read_to_close(s) if then_wait else b""
    s.close()
    if b"HTTP/1." in answer and b" 200 " in answer:
        raise Refused("%s: served over a broken handshake" % what)
    kind = "alert" if answer[:1] == b"\x15" else ("%d bytes" % len(answer) if answer else "none")
    say("%s: closed (answer: %s)" % (what, kind))


def tls_rogue(host, port, a):
    """A client certificate from a CA the server does not trust: refused."""
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    s = connect(host, port)
    try:
        t = ctx.wrap_socket(s, server_hostname="localhost")
        t.sendall(b"GET /sample.xml HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = t.recv(4096)  # TLS 1.3: the refusal arrives after the client's Finished
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as e:
        say("rogue certificate: refused (%s)" % getattr(e, "reason", e))
        return
    if b" 200 " in answer:
        raise Refused("rogue certificate: served %r" % answer[:60])
    say("rogue certificate: %r" % answer[:40])


def tls_main(a):
    host, port = a.host, a.port
    rnd = random.Random(7)
    hello = client_hello()
    if a.case == "garbage":
        tls_expect_close(host, port, bytes(rnd.randrange(256) for _ in range(3000)), "garbage")
    elif a.case == "fake-record":  # a handshake record header announcing 16 KiB, then garbage
        tls_expect_close(host, port, b"\x16\x03\x01\x40\x00" + b"\x01" * 600 + b"\x00" * 20000,
                         "fake record")
    elif a.case == "plain-http":
        tls_expect_close(host, port, b"GET /sample.xml HTTP/1.1\r\nHost: x\r\n\r\n", "plain HTTP")
    elif a.case == "half-hello":  # half a ClientHello, then close
        s = connect(host, port)
        s.sendall(hello[: len(hello) // 2])
        s.close()
        say("half ClientHello (%d of %d bytes), then close" % (len(hello) // 2, len(hello)))
    elif a.case == "half-hello-wait":  # half a ClientHello, then wait: the handshake timeout
        start = time.monotonic()
        tls_expect_close(host, port, hello[: len(hello) // 2], "half ClientHello, waiting")
        took = time.monotonic() - start
        if took > float(a.arg):
            raise Refused("half ClientHello held %.1f s" % took)
    elif a.case == "mid-handshake":  # whole ClientHello, read part of the answer, reset
        s = connect(host, port)
        s.sendall(hello)
        got = s.recv(100)
        rst_close(s)
        if got[:1] != b"\x16":
            raise Refused("mid-handshake: answer %r is no handshake record" % got[:10])
        say("mid-handshake: read %d bytes of the server's flight, then reset" % len(got))
    elif a.case == "rogue-cert":
        tls_rogue(host, port, a)
    elif a.case == "mid-response":
        ctx = ssl.create_default_context(cafile=a.ca)
        http_disconnect_mid_response(host, port, a.arg, ctx)
    elif a.case == "slow-reader":
        slow_reader(host, port, a.arg, a.hold, ssl.create_default_context(cafile=a.ca))
    elif a.case == "conn-flood":
        conn_flood(host, port, int(a.arg), a.hold, a.src)
    else:
        raise SystemExit("unknown tls case " + a.case)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("proto", choices=("tftp", "http", "tls"))
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("case")
    p.add_argument("arg", nargs="?", default="")
    p.add_argument("--src", default="127.0.0.1", help="source address to send from")
    p.add_argument("--hold", type=float, default=0,
                   help="seconds to stay silent (vanish, slow-reader, conn-flood)")
    p.add_argument("--limit", type=int, default=0, help="TFTP wrq-flood: most admitted")
    p.add_argument("--lifetime", type=float, default=0.0,
                   help="TFTP wrq-flood: seconds an admitted transfer lives at least")
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    a = p.parse_args()
    try:
        {"tftp": tftp_main, "http": http_main, "tls": tls_main}[a.proto](a)
    except Refused as e:
        print("hostile_peer: %s %s: %s" % (a.proto, a.case, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
