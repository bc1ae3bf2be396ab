/*
 * The provisioning handler's records (server/prov_audit.h) on a real SQLite store: a held
 * answer leaves only after its rows committed, and becomes 503 + Retry-After when the commit
 * fails (never a 200 without its row); sampled rows stop at PV_AUDIT_SAMPLES per action and
 * window, and one audit.sampled row counts the rest. Answers go through real exchanges
 * (net/exchange.h), as the transports hold them.
 */
/* Covers src/server/prov_audit.c. */
#include "server/prov_test.h"

#include "net/exchange.h"
#include "server/prov_audit.h"
#include "server/store_fault.h"

#include <arpa/inet.h>
#include <time.h>

#define MAC "000e08aaaaaa"

typedef struct held_answer {
    pv_exchange ex;
    int calls, status;
    unsigned retry_after;
    char body[64], who[32];
} held_answer;

static void on_answer(pv_exchange *ex)
{
    held_answer *h = ex->owner;
    h->calls++;
    h->status = ex->resp.status;
    h->retry_after = ex->resp.retry_after;
    snprintf(h->body, sizeof h->body, "%.*s", (int)ex->resp.body_len,
             ex->resp.body ? ex->resp.body : "");
    snprintf(h->who, sizeof h->who, "%s", ex->resp.identity_log ? ex->resp.identity_log : "");
}

static void never_orphaned(pv_exchange *ex)
{
    fail_msg("no orphan here");
}

static const pv_exchange_ops ops = {.send = on_answer, .owner_free = never_orphaned};

static struct sockaddr_in peer = {.sin_family = AF_INET};

/* The handler's side: a profile answer held as provision.c's on_secure holds one. */
typedef struct holder {
    pv_handler handler;
    pv_prov_audit *a;
    const char *body;
} holder;

static void hold_handle(pv_handler *self, pv_request *req)
{
    holder *k = self->data;
    pv_response r = {.status = 200, .body_kind = PV_BODY_MEMORY, .fd = -1};
    r.body = pv_request_strdup(req, k->body);
    r.body_len = strlen(k->body);
    r.identity_log = pv_request_strdup(req, MAC);
    pv_prov_row row;
    pv_prov_audit_row(&row, MAC, "profile.served", NULL, "held");
    pv_prov_audit_hold(k->a, req, &r, &row, NULL);
}

/* A request for h's exchange, given to a handler that holds its answer. */
static void hold(pv_prov_audit *a, held_answer *h, const char *body)
{
    holder k = {.handler = {.handle = hold_handle}, .a = a, .body = body};
    k.handler.data = &k;
    pv_exchange_init(&h->ex, &ops, h, PV_PROTO_HTTP, "test.request", (struct sockaddr *)&peer,
                     NULL);
    pv_exchange_open(&h->ex, 0);
    h->ex.req.method = PV_METHOD_GET;
    h->ex.req.path = PV_SLICE_LIT("/dir/" MAC ".cfg");
    pv_exchange_dispatch(&h->ex, &k.handler);
}

static int64_t count_rows(pv_store *s, const char *action)
{
    pv_store_page page = {.limit = 1000};
    pv_store_audit *rows = NULL;
    size_t n = 0;
    int64_t count = 0;
    assert_ok(pv_store_audit_list(s, NULL, &page, &rows, &n, e));
    for (size_t i = 0; i < n; i++)
        count += strcmp(rows[i].action, action) == 0;
    pv_store_audits_free(rows, n);
    return count;
}

static void held_answers_leave_after_their_rows(void **state)
{
    store_fixture *f = *state;
    pv_prov_audit *a = pv_prov_audit_new(f->s);
    held_answer h[3] = {0};
    for (int i = 0; i < 3; i++)
        hold(a, &h[i], "<profile/>");
    assert_true(pv_prov_audit_pending(a));
    for (int i = 0; i < 3; i++)
        assert_int_equal(h[i].calls, 0); /* held: nothing sent yet */
    assert_int_equal(count_rows(f->s, "profile.served"), 0);
    assert_int_equal(pv_prov_audit_flush(a), 0);
    assert_int_equal(count_rows(f->s, "profile.served"), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h[i].calls, 1);
        assert_int_equal(h[i].status, 200);
        assert_string_equal(h[i].body, "<profile/>");
        assert_string_equal(h[i].who, MAC);
        pv_exchange_end(&h[i].ex, h[i].status, NULL, false);
    }
    assert_false(pv_prov_audit_pending(a));
    pv_prov_audit_free(a);
}

static void a_failed_commit_turns_held_answers_into_503(void **state)
{
    store_fixture *f = *state;
    if (store_test_pg() != NULL)
        skip(); /* the failure below is SQLite's trigger syntax */
    pv_prov_audit *a = pv_prov_audit_new(f->s);
    held_answer h = {0};
    hold(a, &h, "<secret-profile/>");
    store_test_sql(f->db, "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log "
                          "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END");
    assert_int_not_equal(pv_prov_audit_flush(a), 0);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.status, 503); /* never the profile without its row */
    assert_int_equal(h.retry_after, PV_STORE_RETRY_AFTER_S);
    assert_string_equal(h.body, "");
    assert_string_equal(h.who, MAC);
    pv_exchange_end(&h.ex, h.status, NULL, false);
    store_test_sql(f->db, "DROP TRIGGER no_audit");
    pv_prov_audit_free(a);
    pv_store_health_reset(); /* the next test starts with a healthy store */
}

static void sampled_rows_stop_and_are_summarised(void **state)
{
    store_fixture *f = *state;
    pv_prov_audit *a = pv_prov_audit_new(f->s);
    int64_t window_start = (int64_t)time(NULL) - 2 * PV_AUDIT_WINDOW_S; /* a window that ended */
    for (int i = 0; i < PV_AUDIT_SAMPLES + 15; i++) {
        pv_prov_row row;
        pv_prov_audit_row(&row, MAC, "identity.refused", NULL, "refused");
        row.at = window_start;
        pv_prov_audit_sample(a, &row);
    }
    assert_int_equal(pv_prov_audit_flush(a), 0);
    assert_int_equal(count_rows(f->s, "identity.refused"), PV_AUDIT_SAMPLES);
    pv_store_page page = {.limit = 1000};
    pv_store_audit *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_audit_list(f->s, "identity.refused", &page, &rows, &n, e));
    bool summary = false;
    for (size_t i = 0; i < n; i++)
        summary |= strcmp(rows[i].action, "audit.sampled") == 0 && rows[i].detail != NULL &&
                   strstr(rows[i].detail, "not_recorded=15") != NULL;
    pv_store_audits_free(rows, n);
    assert_true(summary);
    pv_prov_audit_free(a);
}

int main(void)
{
    inet_pton(AF_INET, "127.0.0.2", &peer.sin_addr);
    const struct CMUnitTest tests[] = {
        PROV_TEST(held_answers_leave_after_their_rows),
        PROV_TEST(a_failed_commit_turns_held_answers_into_503),
        PROV_TEST(sampled_rows_stop_and_are_summarised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
