/*
 * phone_syslog.h — the emulated phone's syslog sender (spec 7.3).
 *
 * What it is for: the engine's LOG actions become UDP datagrams to
 * Syslog_Server (`host[:port]`, port 514), RFC 3164 style, or lines on stderr
 * when no server is set or it cannot be reached. A Syslog_Server given as a
 * host name is resolved with uv_getaddrinfo on libuv's thread pool — the
 * phone's loop never blocks on DNS; lines that arrive meanwhile wait (at
 * most PV_PHONE_SYSLOG_PENDING of them, then stderr). A resolved name is
 * kept for PV_PHONE_SYSLOG_TTL_MS, and resolved again when Syslog_Server
 * changes.
 *
 * Ownership: the phone owns one sender per loop; close it with
 * pv_phone_syslog_close() (a lookup in flight is cancelled) and it frees
 * itself when its handles are closed.
 */
#ifndef PV_PHONE_PHONE_SYSLOG_H
#define PV_PHONE_PHONE_SYSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define PV_PHONE_SYSLOG_PENDING 32
#define PV_PHONE_SYSLOG_TTL_MS 300000 /* a resolved Syslog_Server name: 5 minutes */

typedef struct pv_phone_syslog pv_phone_syslog;

pv_phone_syslog *pv_phone_syslog_new(uv_loop_t *loop);
/* One message: to server (NULL or "": stderr), from host (the MAC), at now_ms. */
void pv_phone_syslog_send(pv_phone_syslog *s, const char *server, int level, uint64_t now_ms,
                          const char *host, const char *text);
/* done (may be NULL) runs once everything is closed and freed. */
void pv_phone_syslog_close(pv_phone_syslog *s, void (*done)(void *data), void *data);

/* Formats one syslog datagram (RFC 3164): "<PRI>Mmm dd hh:mm:ss HOST TAG: text". */
int pv_phone_syslog_format(char *buf, size_t size, int level, uint64_t now_ms, const char *host,
                           const char *text);

#endif
