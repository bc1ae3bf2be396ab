/* Unit tests for server/job_metrics: label sets stay bounded (the series beyond
 * PV_JOBM_MAX_SERIES count under "other"), label values are escaped as the Prometheus text
 * format wants, histograms count, certificate expiry is read from a PEM bundle (its
 * earliest), and the admin listener's requests are counted apart (net/metrics.h). */
#include "pv_test.h"

#include "core/alloc.h"
#include "net/metrics.h"
#include "server/job_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *text(void)
{
    pv_buf b = {0};
    pv_jobm_render_text(&b);
    return pv_buf_take(&b, NULL);
}

static size_t count_lines(const char *s, const char *prefix)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, prefix)) != NULL; p++)
        if (p == s || p[-1] == '\n')
            n++;
    return n;
}

/* A store with many models cannot grow /metrics without bound. */
static void label_sets_are_bounded(void **state)
{
    for (int i = 0; i < PV_JOBM_MAX_SERIES + 50; i++) {
        char model[32];
        snprintf(model, sizeof model, "M-%d", i);
        pv_jobm_profile_served(model, "SEC-PRV-2", PV_PROTO_HTTPS);
    }
    pv_jobm_profile_served("M-0", "SEC-PRV-2", PV_PROTO_HTTPS); /* a known set still counts */
    char *t = text();
    assert_int_equal(count_lines(t, "provisor_profiles_served_total{"), PV_JOBM_MAX_SERIES + 1);
    assert_non_null(strstr(t, "provisor_profiles_served_total{model=\"M-0\",state=\"SEC-PRV-2\","
                              "transport=\"https\"} 2\n"));
    assert_non_null(strstr(t, "provisor_profiles_served_total{model=\"other\",state=\"other\","
                              "transport=\"other\"} 50\n"));
    free(t);
}

static void label_values_are_escaped(void **state)
{
    pv_jobm_binding_refused("say \"no\" \\ twice\nplease");
    pv_jobm_firmware_download(PV_SLICE_LIT("fw-1.2.3.loads"));
    pv_jobm_refusal("identity.refused", 403);
    /* A long value is cut at 64 bytes, never inside a character: "a" + 35 "é" (71 bytes)
     * keeps "a" + 31 "é" (63 bytes). */
    char longer[80] = "a", kept[80] = "reason=\"a";
    for (int i = 0; i < 35; i++)
        strcat(longer, "\xc3\xa9");
    for (int i = 0; i < 31; i++)
        strcat(kept, "\xc3\xa9");
    strcat(kept, "\"} 1\n");
    pv_jobm_binding_refused(longer);
    char *t = text();
    assert_non_null(strstr(t, kept));
    assert_non_null(strstr(t, "provisor_binding_refusals_total{reason=\"say \\\"no\\\" \\\\ twice"
                              "\\nplease\"} 1\n"));
    assert_non_null(strstr(t, "provisor_firmware_downloads_total{image=\"fw-1.2.3.loads\"} 1\n"));
    assert_non_null(strstr(t, "provisor_refusals_total{action=\"identity.refused\",status=\"403\"} 1\n"));
    free(t);
}

static void histograms_and_counters(void **state)
{
    pv_jobm_render(0.002, false);
    pv_jobm_render(0.2, true);
    pv_jobm_store(PV_JOBM_STORE_COMMIT, 0.0007);
    pv_jobm_firmware_queue(+1, 0, false);
    pv_jobm_firmware_queue(+1, 0, false);
    pv_jobm_firmware_queue(-1, 3.0, true);
    pv_jobm_key_rotated();
    char *t = text();
    assert_non_null(strstr(t, "provisor_render_duration_seconds_bucket{le=\"0.0025\"} 1\n"));
    assert_non_null(strstr(t, "provisor_render_duration_seconds_count 2\n"));
    assert_non_null(strstr(t, "provisor_render_errors_total 1\n"));
    assert_non_null(strstr(t, "provisor_key_rotations_total 1\n"));
    assert_non_null(strstr(t, "provisor_firmware_queue_depth 1\n"));
    assert_non_null(strstr(t, "provisor_firmware_queue_timeouts_total 1\n"));
    assert_non_null(strstr(t, "provisor_firmware_queue_wait_seconds_bucket{le=\"5\"} 1\n"));
    assert_non_null(strstr(t, "provisor_store_duration_seconds_bucket{op=\"commit\",le=\"0.001\"} 1\n"));
    assert_non_null(strstr(t, "provisor_store_duration_seconds_count{op=\"probe\"} 0\n"));
    free(t);
}

/* The CA bundle's earliest certificate; a file that cannot be read: no series. */
static void certificate_expiry_from_pem(void **state)
{
    char dir[] = "/tmp/pv-jobm-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && for d in 30 10; do openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:P-256 -nodes -keyout k$d.pem -subj /CN=ca$d -days $d -out c$d.pem "
             "2>/dev/null || exit 1; done; cat c30.pem c10.pem > bundle.pem && "
             "date -d \"$(openssl x509 -in c10.pem -noout -enddate | cut -d= -f2)\" +%%s > end",
             dir);
    assert_int_equal(system(cmd), 0);
    char path[512], end_path[512];
    snprintf(path, sizeof path, "%s/bundle.pem", dir);
    snprintf(end_path, sizeof end_path, "%s/end", dir);
    FILE *f = fopen(end_path, "r");
    assert_non_null(f);
    long long want = 0;
    assert_int_equal(fscanf(f, "%lld", &want), 1);
    fclose(f);
    pv_jobm_certificate("client_ca", path);
    pv_jobm_certificate("server", "/nonexistent/server.pem");
    char *t = text();
    char line[128];
    snprintf(line, sizeof line,
             "provisor_certificate_expiry_timestamp_seconds{cert=\"client_ca\"} %lld\n", want);
    assert_non_null(strstr(t, line));
    assert_null(strstr(t, "cert=\"server\""));
    free(t);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Admin requests: by method, route and status, never in provisor_requests_total. */
static void admin_requests_are_apart(void **state)
{
    pv_metrics_reset();
    pv_metrics_admin_request("/devices/{mac}", PV_SLICE_LIT("GET"), 200, 0.01);
    pv_metrics_admin_request("/devices/{mac}", PV_SLICE_LIT("GET"), 200, 0.01);
    pv_metrics_admin_request("/metrics", PV_SLICE_LIT("BREW"), 405, 0.001);
    pv_buf b = {0};
    pv_metrics_render(&b);
    const char *t = b.data;
    assert_non_null(strstr(t, "provisor_admin_requests_total{method=\"GET\",route=\"/devices/{mac}\","
                              "status=\"200\"} 2\n"));
    assert_non_null(strstr(t, "provisor_admin_requests_total{method=\"other\",route=\"/metrics\","
                              "status=\"405\"} 1\n"));
    assert_null(strstr(t, "provisor_requests_total{"));
    pv_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_sets_are_bounded),
        cmocka_unit_test(label_values_are_escaped),
        cmocka_unit_test(histograms_and_counters),
        cmocka_unit_test(certificate_expiry_from_pem),
        cmocka_unit_test(admin_requests_are_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
