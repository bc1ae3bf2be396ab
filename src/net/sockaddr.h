/*
 * sockaddr.h — a socket address as text, written once for every log line, listener address,
 * upload name and phone page that shows one (it was formatted in six places, each slightly
 * differently).
 *
 * Both functions write into a caller-owned buffer (PV_SOCKADDR_TEXT_MAX bytes always suffice),
 * never fail, and handle AF_INET and AF_INET6; anything else, or NULL, is "unknown" as each
 * function says.
 */
#ifndef PV_NET_SOCKADDR_H
#define PV_NET_SOCKADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* "[" + the longest IPv6 text + "]:" + 5 digits + NUL, rounded up. */
#define PV_SOCKADDR_TEXT_MAX 64

/* Address and port: "192.0.2.7:69", "[2001:db8::7]:8443"; "-" when unknown. Returns out. */
const char *pv_sockaddr_text(const struct sockaddr *sa, char *out, size_t size);

/* The address alone, IPv6 without brackets: "192.0.2.7", "2001:db8::7". When unknown, out is
 * left as it was (so the caller's default stays) and the result is false. */
bool pv_sockaddr_host(const struct sockaddr *sa, char *out, size_t size);

#endif
