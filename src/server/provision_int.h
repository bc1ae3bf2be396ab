/*
 * provision_int.h — what the provisioning handler's files share (private to src/server/
 * provision*.c and prov_*.c that take requests): the handler and its per-loop state, and the
 * answers every path gives the same way.
 *
 * provision.c routes a request and answers profiles; prov_binding.c binds a phone with a
 * code (DESIGN 5); prov_report.c stores its reports (spec 7.1); prov_admit.c makes expensive
 * work wait for the node's admission controller (DESIGN 8). All run on the loop's thread with
 * the loop's store handle; a request is answered exactly once.
 */
#ifndef PV_SERVER_PROVISION_INT_H
#define PV_SERVER_PROVISION_INT_H

#include "core/buf.h"
#include "net/admission.h"
#include "server/identity.h"
#include "server/prov_audit.h"
#include "server/prov_cache.h"
#include "server/provision.h"

#include <stddef.h>

struct pv_provision {
    pv_provision_config cfg; /* policy strings point into owned[] */
    char *owned[16];
    char *db_path, *master_key;
    pv_fileserver firmware; /* <data>/firmware, beneath-root opens */
    pv_admission admission; /* DESIGN 8: renders and firmware downloads, across every loop */
    pv_provision_configured_fn configured; /* SEC-PRV-1 → 2, called on the loop's thread */
    void *configured_data;
};

struct pv_provision_loop {
    pv_handler handler;
    pv_provision *p;
    pv_store *s;
    pv_prov_cache *cache;  /* finished profiles: an unchanged phone reads nothing (prov_cache.h) */
    pv_admit_queue *admit; /* this loop's waiting requests */
    bool timer_open;
    /* Held answers and sampled rows (prov_audit.h): flushed at the end of
     * every loop pass (check) and every second (tick: also the store probe
     * and retention). */
    pv_prov_audit *audit;
    uv_check_t check;
    uv_timer_t tick;
};

/* The address alone ("192.0.2.7"), empty when unknown. */
void pv__prov_addr_text(const struct sockaddr *sa, char *out, size_t size);
/* The host phones use for us in generated rules: configured, else the address this request
 * came to. */
void pv__prov_host_for(const pv_provision *p, const pv_request *req, char *out, size_t size);
/* Answers status with reason (over TFTP a refused read is a missing file) and samples the
 * refusal's audit row under action (a literal: a bounded metric label). */
void pv__prov_refuse(pv_provision_loop *l, pv_request *req, const pv_ident *id, int status,
                     const char *action, const char *reason);
/* A store outcome rc != 0: status, or for a store failure 503 + Retry-After, never an answer
 * the phone would believe (spec 8.3 class C). */
void pv__prov_refuse_rc(pv_provision_loop *l, pv_request *req, const pv_ident *id, int rc,
                        int status, const char *action, const pv_error *e);
/* A body built in memory, kept by the exchange until it is written. */
void pv__prov_respond_body(pv_request *req, int status, pv_buf *body, const char *type,
                           const char *who);
/* Routes an admitted request (provision.c). */
void pv__prov_route(pv_provision_loop *l, pv_request *req);

/* prov_report.c: a report upload for mac of kind (its identity already admitted). */
void pv__prov_on_report(pv_provision_loop *l, pv_request *req, const pv_mac *mac, const char *kind);
/* prov_binding.c: everything under /<binding_prefix>/; is_code when the path names a code. */
void pv__prov_on_binding_path(pv_provision_loop *l, pv_request *req, pv_slice code, bool is_code);
/* prov_admit.c: the node's admission controller from the policy, and a request made to wait
 * for its class (routed, or for firmware served, once admitted; refused with a spread
 * Retry-After past the deadline). */
void pv__prov_admission_init(pv_admission *a, const pv_prov_policy *pol);
void pv__prov_admit(pv_provision_loop *l, pv_request *req, pv_admit_class c);

#endif
