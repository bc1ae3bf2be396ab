/*
 * http_conn.h — private map of the HTTP server (not for other modules):
 * the listener state (http_server.c) and one connection's state machine
 * (http_conn.c; its answers, head and body, in http_conn_answer.c), and the
 * few calls between these files.
 *
 * A connection owns its socket, timer, optional poll handle (sendfile),
 * TLS state, input buffer, parser and its exchange (the request with the
 * handler or the answer being sent: net/exchange.h). It is freed when its
 * handles have closed and its exchange lets it go; a connection whose peer
 * left while the handler still works is detached from the server and freed
 * when the handler answers (the exchange's orphan rule).
 */
#ifndef PV_NET_HTTP_CONN_H
#define PV_NET_HTTP_CONN_H

#include "net/exchange.h"
#include "net/http_request.h"
#include "net/http_response.h"
#include "net/http_server.h"
#include "net/source_count.h"

#include <sys/socket.h>

#define PV_HTTP_READ_CHUNK (64 * 1024)   /* one socket read */
#define PV_HTTP_FILE_CHUNK (64 * 1024)   /* one TLS file chunk: bounded memory per connection */
#define PV_HTTP_SENDFILE_SLICE (1 << 20) /* per wakeup, so one big file cannot starve the loop */
#define PV_HTTP_ADMIT_HOLD (16 * 1024 + 5) /* kept while a handshake waits: one TLS record */

typedef struct pv__http_conn pv__http_conn;

struct pv_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    pv_handler *handler;
    pv_tls_slot *tls;
    pv_admit_queue *admit; /* TLS handshakes wait here (NULL: never) */
    pv_http_limits limits;
    bool allow_other_methods;
    char address[80];
    pv__http_conn *conns; /* doubly linked, every connection not yet detached */
    size_t conn_count;
    pv_source_counts sources;  /* connections per peer address */
    char *read_buf;            /* shared by the loop's reads: consumed in the read callback */
    char *file_buf;            /* shared TLS file chunk: encrypted before the next use */
    pv_buf head_out;           /* shared answer head: sent or queued before the next use */
    pv_buf tls_out;            /* shared ciphertext: sent or queued before the next use */
    /* Draining (pv_http_server_close). */
    bool closing;
    bool listener_closed;
    bool drain_timer_closing;
    uv_timer_t drain_timer;
    void (*done_cb)(void *data);
    void *done_data;
};

typedef enum {
    PV__CONN_HANDSHAKE, /* TLS handshake in progress */
    PV__CONN_READING,   /* waiting for (the rest of) a request */
    PV__CONN_HANDLING,  /* the handler has the request */
    PV__CONN_SENDING,   /* the answer is being written */
    PV__CONN_LINGER,    /* last answer sent, write side shut: draining input until EOF */
} pv__conn_state;

struct pv__http_conn {
    pv_http_server *server; /* NULL once detached */
    pv__http_conn *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_poll_t poll; /* writability for sendfile, on a dup of the socket */
    uv_shutdown_t shutdown;
    int poll_fd;
    bool poll_inited, poll_active;
    int handles_open;
    bool closing;
    pv__conn_state state;
    pv_tls_conn *tls;
    /* Accepted beyond the per-source limit (issue 15): it must prove who it is — a verified
     * client certificate — in its handshake, or it is closed right after it. */
    bool beyond_source;
    /* Its handshake verified a client certificate: it no longer counts against its address
     * (issue 15), the identity answers for it (the handler's limits by device). */
    bool identified;
    /* Its TLS handshake waits for admission (issue 15): what the client sends meanwhile is
     * kept in `in` (bounded), unread by TLS; a close takes it out of the queue. */
    bool admit_waiting;
    pv_admit_wait admit_wait;
    uint64_t handshake_start_ms; /* uv_now() at admission: handshake_max_ms counts from it */
    pv_http_limits limits;
    struct sockaddr_storage peer, local;
    /* Input. */
    pv_buf in;
    size_t in_off;
    pv_http_parser parser;
    bool reading;
    bool processing; /* conn_process() is on the stack: it takes the next request */
    bool sent_continue;
    bool request_timer_armed;
    uint64_t request_start_ns;
    uint64_t bytes_received;
    unsigned requests_served;
    /* The request, its answer and its orphan state (one at a time: no pipelining of
     * answers); reused for the next request on the connection. */
    pv_exchange ex;
    /* The answer being sent. */
    pv_http_plan plan;
    bool keep_alive;
    uint64_t file_pos, file_left;
    unsigned writes_pending;
};

/* http_conn.c */
void pv__http_conn_start(pv_http_server *server, pv__http_conn *conn);
void pv__http_conn_close(pv__http_conn *conn);
/* Idle: no request in progress (the drain closes these at once). */
bool pv__http_conn_idle(const pv__http_conn *conn);
/* What pv__http_conn_send did with the bytes. */
typedef enum {
    PV__SENT_ALL,     /* every byte is in the kernel already: nothing pending */
    PV__SENT_PENDING, /* the rest is queued; the write callback continues */
    PV__SENT_FAILED,  /* the connection is closing */
} pv__send_result;
/* Sends plaintext to the peer (encrypted first over TLS) and empties data; try_first: straight
 * to the socket when nothing is pending, else queued (a long body yields between chunks). */
pv__send_result pv__http_conn_send(pv__http_conn *conn, pv_buf *data, bool try_first);
/* The answer moved on: a client that stops reading is cut idle_timeout_ms from now. */
void pv__http_conn_progress(pv__http_conn *conn);
/* The answer has left: the exchange ends; the next request (keep-alive) or the close. */
void pv__http_conn_answered(pv__http_conn *conn);

/* http_conn_answer.c */
/* The answer in conn->ex.resp: its head, then a memory body with it or a file body after. */
void pv__http_conn_begin_response(pv__http_conn *conn, bool allow_header);
/* exchange.h's send: the handler answered and the peer is still there. */
void pv__http_conn_send_answer(pv_exchange *ex);
/* Goes on with the answer once nothing is pending (the file body's next slice, or the end). */
void pv__http_conn_pump(pv__http_conn *conn);

/* http_server.c */
/* The connection's handles have closed: forget it (counts, per-source table). */
void pv__http_server_detach(pv_http_server *server, pv__http_conn *conn);
/* Its handshake proved who it is: it leaves its address's count (issue 15). */
void pv__http_server_identified(pv_http_server *server, pv__http_conn *conn);

#endif
