/*
 * Unit tests for firmware rollouts (server/rollout.h over store/store_rollouts.h) on a real
 * store: SQLite here, PostgreSQL under integration.store_postgres. The evaluator is driven
 * with explicit clock readings, the phones' word through the same calls the server makes
 * for a fetch (pv_store_device_seen) and a stored report (pv_rollout_note_report).
 */
#include "store/store_test.h"

#include "server/rollout.h"
#include "store/store_rollouts.h"

#include <string.h>

#define MODEL "CP-8841-3PCC"
#define OLD "sip88xx.11-3-1MPP-678"
#define NEW "sip88xx.11-3-2MPP-100"
#define BASE "http://prov.example.net"
#define T0 1800000000

/* ten devices of MODEL on OLD, the plan, both images registered */
static void fleet(pv_store *s)
{
    for (int i = 0; i < 10; i++) {
        pv_store_device d = {.model = MODEL};
        snprintf(d.mac, sizeof d.mac, "00562b0000%02x", i);
        assert_ok(pv_store_device_create(s, &d, T0, e));
    }
    const char *versions[] = {OLD, NEW};
    for (int i = 0; i < 2; i++) {
        char file[64], sha[65];
        snprintf(file, sizeof file, "%s.bin", versions[i]);
        memset(sha, 'a', 64);
        sha[64] = '\0';
        pv_store_firmware f = {.model = MODEL,
                               .version = (char *)versions[i],
                               .file_name = file,
                               .sha256 = sha,
                               .size = 1,
                               .kind = "bin",
                               .files = "[]"};
        int64_t id = 0;
        assert_ok(pv_store_firmware_add(s, &f, T0, &id, e));
    }
    pv_store_plan p = {.model = MODEL, .target_version = NEW, .stages = "[]"};
    assert_ok(pv_store_plan_put(s, &p, T0, e));
}

static void create(pv_store *s, const char *name, unsigned canary, unsigned soak)
{
    pv_rollout_spec spec;
    pv_rollout_spec_default(&spec);
    spec.name = name;
    spec.model = MODEL;
    spec.from_version = OLD;
    spec.canary = canary;
    spec.cohorts[0] = 50;
    spec.cohorts[1] = 100;
    spec.ncohorts = 2;
    spec.max_in_flight = 3;
    spec.soak_s = soak;
    int64_t id = 0;
    assert_ok(pv_store_begin(s, e));
    assert_ok(pv_rollout_create(s, &spec, T0, &id, e));
    assert_ok(pv_store_commit(s, e));
}

static void members(pv_store *s, const char *name, pv_store_rollout_member **rows, size_t *n)
{
    pv_store_rollout r = {0};
    pv_store_page page = {.limit = 100};
    assert_ok(pv_store_rollout_get(s, name, &r, e));
    assert_ok(pv_store_rollout_members(s, r.id, &page, rows, n, e));
    pv_store_rollout_free(&r);
}

static int count_state(pv_store *s, const char *name, const char *state)
{
    pv_store_rollout_member *m = NULL;
    size_t n = 0;
    members(s, name, &m, &n);
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += strcmp(m[i].state, state) == 0;
    pv_store_rollout_members_free(m, n);
    return k;
}

/* The MAC at admission position pos. */
static void mac_at(pv_store *s, const char *name, size_t pos, char mac[13])
{
    pv_store_rollout_member *m = NULL;
    size_t n = 0;
    members(s, name, &m, &n);
    assert_true(pos < n);
    memcpy(mac, m[pos].mac, 13);
    pv_store_rollout_members_free(m, n);
}

static void rule_of(pv_store *s, const char *mac, pv_buf *rule)
{
    bool governed = false;
    pv_buf_reset(rule);
    pv_store_render_input in; /* what a render reads: the rollout view, the model's images */
    assert_ok(pv_store_render_load(s, mac, false, &in, e));
    assert_ok(pv_rollout_rule(s, in.rollout, MODEL, mac, in.firmware, in.nfirmware, BASE, rule,
                              &governed, e));
    pv_store_render_input_free(&in);
    assert_true(governed);
}

static void state_of(pv_store *s, const char *name, char *state, int64_t *stage)
{
    pv_store_rollout r = {0};
    assert_ok(pv_store_rollout_get(s, name, &r, e));
    strcpy(state, r.state);
    *stage = r.stage;
    pv_store_rollout_free(&r);
}

/* Members of stage (all stages when stage < 0) not yet admitted, as `rollout show` reads them. */
static int64_t pending_in(pv_store *s, const char *name, int64_t stage)
{
    pv_store_rollout r = {0};
    pv_store_rollout_counts c;
    assert_ok(pv_store_rollout_get(s, name, &r, e));
    assert_ok(pv_store_rollout_count(s, r.id, stage, 0, &c, e));
    pv_store_rollout_free(&r);
    return c.pending;
}

static void tick(pv_store *s, int64_t now)
{
    assert_ok(pv_rollout_tick(s, now, e));
}

static void report(pv_store *s, const char *mac, const char *name, const char *value)
{
    pv_params p = {0};
    pv_params_set_str(&p, name, value, PV_UA_RO);
    assert_ok(pv_rollout_note_report(s, mac, &p, T0, e));
    pv_params_free(&p);
}

/* A canary, phones back at the new load (as their User-Agent says it), a call that never
 * counts as a failure, then a failure that halts at once; resume, rollback. */
static void stages_health_and_halt(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    fleet(s);
    create(s, "spring", 2, 0);
    pv_buf rule = {0};
    char mac0[13], mac1[13], mac5[13], st[16];
    int64_t stage = 0;
    mac_at(s, "spring", 0, mac0);
    mac_at(s, "spring", 1, mac1);
    mac_at(s, "spring", 5, mac5);
    rule_of(s, mac0, &rule);
    assert_int_equal(rule.len, 0); /* nobody admitted before the first evaluation */

    tick(s, T0 + 1);
    assert_int_equal(count_state(s, "spring", "admitted"), 2); /* the canary */
    rule_of(s, mac0, &rule);
    assert_non_null(strstr(rule.data, "($SWVER lt " NEW ")? " BASE "/firmware/" NEW ".bin"));
    rule_of(s, mac5, &rule);
    assert_int_equal(rule.len, 0); /* pending: no rule */

    /* both come back: a multiplatform User-Agent names 11.3.2 */
    assert_ok(pv_store_device_seen(s, mac0, T0 + 2, "11.3.2", NULL, NULL, NULL, e));
    assert_ok(pv_store_device_seen(s, mac1, T0 + 2, "11.3.2", NULL, NULL, NULL, e));
    tick(s, T0 + 3); /* settled: the soak starts */
    assert_int_equal(count_state(s, "spring", "upgraded"), 2);
    tick(s, T0 + 4); /* soak 0: the canary passed */
    state_of(s, "spring", st, &stage);
    assert_string_equal(st, "running");
    assert_int_equal(stage, 1);
    tick(s, T0 + 5); /* stage 1 (50 % = 5 members): 3 more, the in-flight budget */
    assert_int_equal(count_state(s, "spring", "admitted"), 3);

    /* a phone in a call is not a failure, and does not hold the stage */
    char mac2[13], mac3[13];
    mac_at(s, "spring", 2, mac2);
    mac_at(s, "spring", 3, mac3);
    report(s, mac2, "Call_State", "Busy");
    assert_int_equal(count_state(s, "spring", "in_call"), 1);
    /* its own Last_Upgrade_Result: failed, 1 of 3 is over 2 %: halted at once */
    report(s, mac3, "Last_Upgrade_Result", "corrupt file: sha256 mismatch");
    tick(s, T0 + 6);
    state_of(s, "spring", st, &stage);
    assert_string_equal(st, "halted");
    assert_int_equal(count_state(s, "spring", "failed"), 1);
    assert_int_equal(count_state(s, "spring", "pending"), 5); /* nobody new admitted */
    /* each stage's pending are its own cohort's: they add up to the rollout's */
    assert_int_equal(pending_in(s, "spring", -1), 5);
    assert_int_equal(pending_in(s, "spring", 0), 0);
    assert_int_equal(pending_in(s, "spring", 1), 0);
    assert_int_equal(pending_in(s, "spring", 2), 5);
    rule_of(s, mac2, &rule);
    assert_int_equal(rule.len, 0); /* halted: the rule is withdrawn */
    pv_store_audit *a = NULL;
    size_t na = 0;
    pv_store_page page = {.limit = 10};
    assert_ok(pv_store_audit_list(s, "spring", &page, &a, &na, e));
    assert_int_equal(na, 1);
    assert_string_equal(a[0].action, "rollout.halt");
    assert_non_null(strstr(a[0].detail, "1 of 3 devices failed"));
    pv_store_audits_free(a, na);

    /* resume accepts stage 1 and goes on with stage 2 */
    assert_ok(pv_rollout_act(s, "spring", PV_ROLLOUT_RESUME, T0 + 7, e));
    state_of(s, "spring", st, &stage);
    assert_string_equal(st, "running");
    assert_int_equal(stage, 2);
    /* rollback: admitted devices get the previous version's rule, pending ones nothing */
    assert_ok(pv_rollout_act(s, "spring", PV_ROLLOUT_ROLLBACK, T0 + 8, e));
    rule_of(s, mac0, &rule);
    assert_string_equal(rule.data, "($SWVER gt " OLD ")? " BASE "/firmware/" OLD ".bin");
    rule_of(s, mac5, &rule);
    assert_int_equal(rule.len, 0);
    pv_error err = {{0}};
    assert_int_equal(pv_rollout_act(s, "spring", PV_ROLLOUT_RESUME, T0 + 9, &err), PV_ECONFLICT);
    assert_non_null(strstr(err.msg, "rolled_back: cannot resume"));
    pv_buf_free(&rule);
}

/* A phone served the rule that does not come back within the soak is missing: halted. A
 * member never served (the phone is off) is not counted. */
static void missing_after_soak(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    fleet(s);
    create(s, "brick", 2, 30);
    tick(s, T0);
    pv_buf rule = {0};
    char mac0[13], st[16];
    int64_t stage = 0;
    mac_at(s, "brick", 0, mac0);
    rule_of(s, mac0, &rule); /* served now (wall clock): its soak starts */
    pv_buf_free(&rule);
    int64_t now = time(NULL);
    tick(s, now + 10);
    state_of(s, "brick", st, &stage);
    assert_string_equal(st, "running"); /* within the soak */
    tick(s, now + 31);
    state_of(s, "brick", st, &stage);
    assert_string_equal(st, "halted");
    assert_int_equal(count_state(s, "brick", "missing"), 1);
    assert_int_equal(count_state(s, "brick", "admitted"), 1); /* never served: not counted */
}

/* What creation refuses, and the stages it makes. */
static void create_checks(void **state)
{
    store_fixture *f = *state;
    pv_store *s = f->s;
    pv_rollout_spec spec;
    pv_rollout_spec_default(&spec);
    spec.name = "x";
    spec.model = MODEL;
    int64_t id = 0;
    pv_error err = {{0}};
    assert_int_equal(pv_rollout_create(s, &spec, T0, &id, &err), PV_ENOENT); /* no plan */
    assert_non_null(strstr(err.msg, "no upgrade plan"));
    fleet(s);
    const char *odd[] = {"000e08000001"};
    spec.devices = odd;
    spec.ndevices = 1;
    assert_int_equal(pv_rollout_create(s, &spec, T0, &id, &err), PV_EINVAL);
    assert_non_null(strstr(err.msg, "1 of the 1 devices given are not " MODEL " devices"));
    spec.devices = NULL;
    spec.ndevices = 0;
    spec.percent = 50; /* about half of ten, by a hash */
    spec.canary = 1;
    assert_ok(pv_rollout_create(s, &spec, T0, &id, e));
    pv_store_rollout_stage *st = NULL;
    size_t n = 0;
    assert_ok(pv_store_rollout_stages(s, id, &st, &n, e));
    assert_true(n >= 2);
    assert_string_equal(st[0].label, "canary 1");
    assert_int_equal(st[0].upto, 1);
    int64_t total = st[n - 1].upto;
    assert_true(total > 0 && total < 10);
    for (size_t i = 1; i < n; i++)
        assert_true(st[i].upto > st[i - 1].upto); /* stages grow */
    free(st);
    spec.name = "x"; /* the name is taken */
    assert_int_equal(pv_rollout_create(s, &spec, T0, &id, &err), PV_EEXIST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(stages_health_and_halt),
        STORE_TEST(missing_after_soak),
        STORE_TEST(create_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
