/*
 * Unit tests for CSV imports run by the server (server/import_job.h over
 * store/store_imports.h) on a real store: SQLite here, PostgreSQL under
 * integration.store_postgres. A file with the faults a delivery note has is applied slice by
 * slice as the admin loop does; a runner dropped mid-way (a restart) resumes at the store's
 * checkpoint; two runners at the same checkpoint never apply a slice twice; two nodes' runners
 * take turns by the job's lease (schema step 11): one works, the other waits until it expires.
 */
#include "store/store_test.h"

#include "core/buf.h"
#include "server/import_job.h"

#include <string.h>
#include <time.h>

#define T0 1800000000
#define ROWS 1300

/* ROWS rows: line 1 the header, data from line 2 (row i on line i + 2); bad rows at i = 100
 * (short MAC), 700 (unknown model), 1100 (unknown account), 1250 (the MAC of row 3 again). */
static void delivery(pv_buf *csv)
{
    pv_buf_append_str(csv, "MAC,Model,Account,Serial\r\n");
    for (int i = 0; i < ROWS; i++) {
        if (i == 100)
            pv_buf_append_str(csv, "00:0e:08:12:34,SPA504G,acme-telecom,FCHBAD1\r\n");
        else if (i == 700)
            pv_buf_appendf(csv, "00:0e:08:00:%02x:%02x,CP-9999-XXX,acme-telecom,FCH%07d\r\n",
                           i >> 8, i & 255, i);
        else if (i == 1100)
            pv_buf_appendf(csv, "00:0e:08:00:%02x:%02x,SPA504G,nobody-inc,FCH%07d\r\n", i >> 8,
                           i & 255, i);
        else if (i == 1250)
            pv_buf_append_str(csv, "00:0e:08:00:00:03,SPA504G,acme-telecom,FCHDUP\r\n");
        else
            pv_buf_appendf(csv, "00:0e:08:00:%02x:%02x,%s,acme-telecom,FCH%07d\r\n", i >> 8,
                           i & 255, i % 3 ? "CP-8841-3PCC" : "SPA504G", i);
    }
}

static int64_t start_job(pv_store *s, const pv_buf *csv, int expect)
{
    pv_store_import_job j;
    int64_t running = 0;
    pv_error err = {""};
    assert_ok(pv_store_begin(s, e));
    int rc = pv_import_job_create(s, "login:ops", "delivery.csv", pv_buf_slice(csv), T0, &j,
                                  &running, &err);
    assert_int_equal(rc, expect);
    if (rc != 0) {
        pv_store_rollback(s);
        return running;
    }
    assert_ok(pv_store_commit(s, e));
    int64_t id = j.id;
    assert_int_equal(j.total, ROWS);
    pv_store_import_job_free(&j);
    return id;
}

static void account(pv_store *s)
{
    pv_store_account a = {.name = "acme-telecom", .customer = "", .settings = "{}"};
    int64_t id = 0;
    assert_ok(pv_store_account_create(s, &a, T0, &id, e));
}

/* The account the file names, the file, its job started. */
static int64_t begin(pv_store *s, pv_buf *csv)
{
    account(s);
    delivery(csv);
    return start_job(s, csv, 0);
}

static void job(pv_store *s, int64_t id, pv_store_import_job *j)
{
    assert_ok(pv_store_import_job_get(s, id, false, j, e));
}

/* The job's counts once it is done: each row once, the four faults as errors. */
static void check_done(pv_store *s, int64_t id)
{
    pv_store_import_job j;
    job(s, id, &j);
    assert_string_equal(j.state, "done");
    assert_int_equal(j.done_rows, ROWS);
    assert_int_equal(j.created, ROWS - 4);
    assert_int_equal(j.updated + j.unchanged, 0);
    assert_int_equal(j.errors, 4);
    assert_true(j.finished_at > 0);
    pv_store_import_job_free(&j);
    pv_store_import_error *rows = NULL;
    size_t n = 0;
    assert_ok(pv_store_import_error_list(s, id, 0, 100, &rows, &n, e));
    assert_int_equal(n, 4);
    assert_int_equal(rows[0].line, 102);
    assert_string_equal(rows[0].mac, "00:0e:08:12:34");
    assert_string_equal(rows[0].field, "mac");
    assert_int_equal(rows[1].line, 702);
    assert_non_null(strstr(rows[1].reason, "unknown model 'CP-9999-XXX'"));
    assert_int_equal(rows[2].line, 1102);
    assert_non_null(strstr(rows[2].reason, "no account named 'nobody-inc'"));
    assert_int_equal(rows[3].line, 1252);
    assert_non_null(strstr(rows[3].reason, "already on line 5"));
    free(rows);
}

static int run(pv_import_runner *r, pv_store *s)
{
    pv_error err = {""};
    int steps = 0, rc;
    while ((rc = pv_import_runner_step(r, s, NULL, &err)) == 1)
        steps++;
    assert_int_equal(rc, 0);
    return steps;
}

static void slices_counts_errors_and_audit(void **state)
{
    pv_store *s = ((store_fixture *)*state)->s;
    pv_buf csv = {0};
    int64_t id = begin(s, &csv);
    /* one job at a time: a second file waits for the first to finish */
    assert_int_equal(start_job(s, &csv, PV_EBUSY), id);
    pv_import_runner r = {0};
    int steps = run(&r, s);
    assert_true(steps >= 3); /* 500 rows at most per slice */
    check_done(s, id);
    /* the audit names the person who uploaded it, with the counts */
    pv_store_page pg = {.limit = 10};
    pv_store_audit *a = NULL;
    size_t n = 0;
    char subject[32];
    snprintf(subject, sizeof subject, "import:%lld", (long long)id);
    assert_ok(pv_store_audit_list(s, subject, &pg, &a, &n, e));
    assert_int_equal(n, 1);
    assert_string_equal(a[0].action, "device.import_job.finished");
    assert_string_equal(a[0].actor, "login:ops");
    assert_non_null(strstr(a[0].detail, "\"created\":1296"));
    for (size_t i = 0; i < n; i++)
        pv_store_audit_free(&a[i]);
    free(a);
    /* the next file may go now; the same rows change nothing */
    int64_t again = start_job(s, &csv, 0);
    run(&r, s);
    pv_store_import_job j;
    job(s, again, &j);
    assert_int_equal(j.unchanged, ROWS - 4);
    assert_int_equal(j.created + j.updated, 0);
    pv_store_import_job_free(&j);
    pv_import_runner_free(&r);
    pv_buf_free(&csv);
}

/* A job whose runner was dropped after two slices (the server stopped); *j its state then. */
static int64_t stopped_after_two_slices(pv_store *s, pv_buf *csv, pv_store_import_job *j)
{
    int64_t id = begin(s, csv);
    pv_import_runner r = {0};
    pv_error err = {""};
    assert_int_equal(pv_import_runner_step(&r, s, NULL, &err), 1);
    assert_int_equal(pv_import_runner_step(&r, s, NULL, &err), 1);
    pv_import_runner_free(&r);
    job(s, id, j);
    assert_string_equal(j->state, "running");
    assert_true(j->done_rows > 0 && j->done_rows < ROWS);
    assert_true(j->next_line > 2);
    return id;
}

/* A runner dropped after two slices (the server stopped) and a new one (the next start): the
 * job goes on at its checkpoint, and the MAC given twice across the checkpoint is still seen. */
static void a_restart_resumes_at_the_checkpoint(void **state)
{
    pv_store *s = ((store_fixture *)*state)->s;
    pv_buf csv = {0};
    pv_store_import_job j;
    int64_t id = stopped_after_two_slices(s, &csv, &j);
    pv_store_import_job_free(&j);
    pv_import_runner again = {0};
    run(&again, s);
    check_done(s, id);
    pv_import_runner_free(&again);
    pv_buf_free(&csv);
}

/* A clock on which every slice is over its time at once: each slice reads one row. */
static int64_t slow_clock_ms(void)
{
    static int64_t t;
    return t += 1000;
}

/* The same restart when the new runner's slices run out of time while they read the rows
 * before the checkpoint again (a slow store, or a big file): the checkpoint never moves back,
 * so no row after it is applied twice (make test SAN=1 counted 700 rows twice). */
static void a_slow_restart_never_moves_the_checkpoint_back(void **state)
{
    pv_store *s = ((store_fixture *)*state)->s;
    pv_buf csv = {0};
    pv_store_import_job before;
    int64_t id = stopped_after_two_slices(s, &csv, &before);
    pv_import_runner again = {.clock_ms = slow_clock_ms};
    pv_error err = {""};
    assert_int_equal(pv_import_runner_step(&again, s, NULL, &err), 1); /* one row read again */
    pv_store_import_job j;
    job(s, id, &j);
    assert_int_equal(j.next_line, before.next_line);
    assert_int_equal(j.done_rows, before.done_rows);
    pv_store_import_job_free(&j);
    pv_store_import_job_free(&before);
    assert_true(run(&again, s) > ROWS / 2); /* a row a slice from here on */
    check_done(s, id);
    pv_import_runner_free(&again);
    pv_buf_free(&csv);
}

/* Two runners under one lease (one node's name: a runner replaced mid-job) take the same job:
 * the one whose checkpoint moved under it is refused and rolled back, reads the job again, and
 * nothing is counted twice. */
static void two_runners_never_apply_a_slice_twice(void **state)
{
    pv_store *s = ((store_fixture *)*state)->s;
    pv_buf csv = {0};
    int64_t id = begin(s, &csv);
    pv_import_runner a = {0}, b = {0};
    pv_error err = {""};
    assert_int_equal(pv_import_runner_step(&a, s, NULL, &err), 1); /* a: the first slice */
    assert_int_equal(pv_import_runner_step(&b, s, NULL, &err), 1); /* b: the second */
    assert_int_equal(pv_import_runner_step(&a, s, NULL, &err), PV_ECONFLICT); /* a is behind */
    assert_non_null(strstr(err.msg, "no longer running at line"));
    run(&a, s); /* a reads the job again and finishes it */
    /* b: the job is no longer running, so no longer leased to anyone: b lets it go */
    assert_int_equal(pv_import_runner_step(&b, s, NULL, &err), 0);
    assert_int_equal(b.job, 0);
    check_done(s, id);
    pv_import_runner_free(&a);
    pv_import_runner_free(&b);
    pv_buf_free(&csv);
}

/* The lease itself (store_imports.h): taken only when expired or already the asker's, by
 * one UPDATE whose row count decides; renewed by its holder; gone with the job. */
static void the_lease_goes_to_one_node_at_a_time(void **state)
{
    pv_store *s = ((store_fixture *)*state)->s;
    pv_buf csv = {0};
    int64_t id = begin(s, &csv);
    bool held = false;
    assert_ok(pv_store_import_lease(s, id, "node-a:1", T0, T0 + 10, &held, e));
    assert_true(held); /* a new job's lease has expired long ago */
    assert_ok(pv_store_import_lease(s, id, "node-b:2", T0 + 5, T0 + 15, &held, e));
    assert_false(held); /* a's until T0 + 10 */
    assert_ok(pv_store_import_lease(s, id, "node-a:1", T0 + 9, T0 + 19, &held, e));
    assert_true(held); /* renewed by its holder */
    assert_ok(pv_store_import_lease(s, id, "node-b:2", T0 + 19, T0 + 29, &held, e));
    assert_false(held); /* not before it expires (lease_until < now) */
    assert_ok(pv_store_import_lease(s, id, "node-b:2", T0 + 20, T0 + 30, &held, e));
    assert_true(held); /* a stopped renewing: b takes over */
    assert_ok(pv_store_import_lease(s, id, "node-a:1", T0 + 21, T0 + 31, &held, e));
    assert_false(held);
    assert_ok(pv_store_import_lease(s, id + 1, "node-a:1", T0 + 21, T0 + 31, &held, e));
    assert_false(held); /* no such job */
    pv_buf_free(&csv);
}

/* Two nodes' runners: the first takes the job and works it, the second gets nothing to do (its
 * poll answers 0) and applies nothing; when the first stops renewing and the lease expires,
 * the second takes the job over at the checkpoint, the first finds its lease gone and stops,
 * and the job ends complete, each row once. */
static void a_second_node_waits_for_the_lease(void **state)
{
    pv_store *s = ((store_fixture *)*state)->s;
    pv_buf csv = {0};
    int64_t id = begin(s, &csv);
    pv_import_runner a = {.id = "node-a:1"}, b = {.id = "node-b:2"};
    pv_error err = {""};
    assert_int_equal(pv_import_runner_step(&a, s, NULL, &err), 1);
    pv_store_import_job j;
    job(s, id, &j);
    int64_t at = j.next_line;
    pv_store_import_job_free(&j);
    assert_int_equal(pv_import_runner_step(&b, s, NULL, &err), 0); /* a holds it */
    assert_int_equal(b.job, 0);
    assert_int_equal(pv_import_runner_step(&a, s, NULL, &err), 1);
    job(s, id, &j);
    assert_true(j.next_line > at); /* a went on; b did nothing */
    at = j.next_line;
    pv_store_import_job_free(&j);
    /* a's node stops (its lease runs out): b asks once the lease has expired */
    bool held = false;
    int64_t later = (int64_t)time(NULL) + PV_IMPORT_LEASE_S + 1;
    assert_ok(pv_store_import_lease(s, id, "node-b:2", later, later + PV_IMPORT_LEASE_S, &held,
                                    e));
    assert_true(held);
    assert_int_equal(pv_import_runner_step(&a, s, NULL, &err), 0); /* a: lease lost, stops */
    assert_int_equal(a.job, 0);
    job(s, id, &j);
    assert_int_equal(j.next_line, at); /* nothing moved by a */
    pv_store_import_job_free(&j);
    run(&b, s); /* b resumes at the checkpoint and finishes */
    check_done(s, id);
    assert_int_equal(pv_import_runner_step(&a, s, NULL, &err), 0);
    pv_import_runner_free(&a);
    pv_import_runner_free(&b);
    pv_buf_free(&csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(slices_counts_errors_and_audit),
        STORE_TEST(a_restart_resumes_at_the_checkpoint),
        STORE_TEST(a_slow_restart_never_moves_the_checkpoint_back),
        STORE_TEST(two_runners_never_apply_a_slice_twice),
        STORE_TEST(the_lease_goes_to_one_node_at_a_time),
        STORE_TEST(a_second_node_waits_for_the_lease),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
