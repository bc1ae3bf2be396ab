/*
 * admin.h — the admin listener's handler: what an operator's tools ask the
 * running server (issue 3, "Logs and metrics"; DESIGN decision 10).
 *
 *   GET /metrics   Prometheus text (net/metrics.h)
 *   GET /healthz   "ok" while the server serves, 503 "draining" during a drain
 *
 * Anything else is 404; methods other than GET/HEAD are 405. The admin
 * listener is plain HTTP on loopback by default and runs on the first loop
 * thread only. The JSON admin API (its own issue) will grow here, behind the
 * admin token of server/datadir.h. The handler holds no state but a flag and
 * is safe on any thread.
 */
#ifndef PV_SERVER_ADMIN_H
#define PV_SERVER_ADMIN_H

#include "net/handler.h"

#include <stdatomic.h>

typedef struct pv_admin {
    pv_handler handler; /* handler.data points back here */
    atomic_bool draining;
} pv_admin;

void pv_admin_init(pv_admin *admin);

#endif
