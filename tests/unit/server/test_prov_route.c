/*
 * Which route a provisioning request takes (server/prov_route.h), over a real static root:
 * path components, the binding prefix before anything reads a MAC, firmware, a provider's
 * own file winning over a generated answer, a known device's profile, the bootstrap names
 * and MAC paths with and without a certificate, and which routes are a device's own.
 */
/* Covers src/server/prov_route.c. */
#include "pv_test.h"

#include "server/prov_route.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#define MAC "000e08abcdef"

static char g_root[256];
static pv_fileserver g_files;

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_root, sizeof g_root, "%s/pv-route-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(g_root));
    char path[320];
    snprintf(path, sizeof path, "%s/provider.xml", g_root);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "<x/>", 4), 4);
    close(fd);
    pv_error err;
    assert_int_equal(pv_fileserver_init(&g_files, g_root, NULL, &err), 0);
    return 0;
}

static int teardown(void **state)
{
    pv_fileserver_free(&g_files);
    char path[320];
    snprintf(path, sizeof path, "%s/provider.xml", g_root);
    unlink(path);
    rmdir(g_root);
    return 0;
}

static void paths_split_into_components(void **state)
{
    pv_slice c[4];
    assert_int_equal(pv_prov_components(PV_SLICE_LIT("/"), c), 0);
    assert_int_equal(pv_prov_components(PV_SLICE_LIT("//a//b/"), c), 2);
    assert_slice_equal(c[0], "a");
    assert_slice_equal(c[1], "b");
    assert_int_equal(pv_prov_components(PV_SLICE_LIT("a/b/c"), c), 3);
    assert_int_equal(pv_prov_components(PV_SLICE_LIT("/a/b/c/d"), c), 4); /* more than 3 */
    assert_true(pv_prov_is_read(PV_METHOD_GET) && pv_prov_is_read(PV_METHOD_HEAD) &&
                pv_prov_is_read(PV_METHOD_TFTP_READ));
    assert_false(pv_prov_is_read(PV_METHOD_POST) || pv_prov_is_read(PV_METHOD_TFTP_WRITE));
}

static void the_binding_prefix_is_recognised_first(void **state)
{
    pv_prov_policy pol;
    pv_prov_policy_defaults(&pol);
    pv_slice c[4];
    size_t n = pv_prov_components(PV_SLICE_LIT("/init/000e08abcdef"), c); /* a code like a MAC */
    assert_true(pv_prov_is_binding(&pol, c, n));
    n = pv_prov_components(PV_SLICE_LIT("/init"), c);
    assert_true(pv_prov_is_binding(&pol, c, n));
    n = pv_prov_components(PV_SLICE_LIT("/initial/x"), c);
    assert_false(pv_prov_is_binding(&pol, c, n));
}

/* The route of a read of path over proto, with cert (or none), for a known device or not. */
static pv_prov_route route(const char *path, pv_proto proto, bool with_cert, bool known,
                           char *model, size_t model_size)
{
    pv_peer_identity cert = {0}; /* a phone's certificate: ST= its MAC (spec 4.4) */
    pv_peer_identity_add(&cert, "CN", "SEP" MAC);
    pv_peer_identity_add(&cert, "ST", MAC);
    pv_request req = {.proto = proto,
                      .method = proto == PV_PROTO_TFTP ? PV_METHOD_TFTP_READ : PV_METHOD_GET,
                      .path = pv_slice_from(path),
                      .identity = with_cert ? &cert : NULL};
    pv_ident id;
    pv_error err;
    assert_int_equal(pv_identify(req.identity, req.path, PV_SLICE_LIT(""), &id, &err), 0);
    pv_slice c[4];
    size_t n = pv_prov_components(req.path, c);
    char scratch[64];
    return pv_prov_route_of(&g_files, &req, c, n, &id, known, model ? model : scratch,
                            model ? model_size : sizeof scratch);
}

static void reads_take_the_route_of_what_they_name(void **state)
{
    assert_int_equal(route("/firmware/cp8841.loads", PV_PROTO_HTTP, false, false, NULL, 0),
                     PV_PROV_FIRMWARE);
    /* A provider's own file wins over anything generated. */
    assert_int_equal(route("/provider.xml", PV_PROTO_HTTP, false, false, NULL, 0), PV_PROV_FILES);
    /* /<dir>/<mac>.cfg: the profile of a known device; else the static files (404). */
    assert_int_equal(route("/d1/" MAC ".cfg", PV_PROTO_HTTPS, true, true, NULL, 0),
                     PV_PROV_SECURE);
    assert_int_equal(route("/d1/" MAC ".cfg", PV_PROTO_HTTPS, true, false, NULL, 0),
                     PV_PROV_FILES);
    /* A factory default name: the bootstrap profile, with the model it implies. */
    char model[64] = "";
    assert_int_equal(route("/spa2102.cfg", PV_PROTO_TFTP, false, false, model, sizeof model),
                     PV_PROV_BOOTSTRAP);
    assert_string_equal(model, "SPA2102");
    /* /$MA.xml: SEC-PRV-1 over HTTPS with the phone's certificate when known; bootstrap
     * without one; nothing (the files' 404) over HTTPS for a device not bound yet. */
    assert_int_equal(route("/" MAC ".xml", PV_PROTO_HTTPS, true, true, NULL, 0),
                     PV_PROV_MAC_PATH);
    assert_int_equal(route("/" MAC ".xml", PV_PROTO_HTTP, false, true, NULL, 0),
                     PV_PROV_BOOTSTRAP);
    assert_int_equal(route("/" MAC ".xml", PV_PROTO_HTTPS, true, false, NULL, 0), PV_PROV_FILES);
    assert_int_equal(route("/a/b/c/d", PV_PROTO_HTTP, false, false, NULL, 0), PV_PROV_FILES);
}

static void only_a_devices_own_content_is_device_kind(void **state)
{
    assert_int_equal(pv_prov_route_kind(PV_PROV_REPORT), PV_ROUTE_DEVICE);
    assert_int_equal(pv_prov_route_kind(PV_PROV_SECURE), PV_ROUTE_DEVICE);
    assert_int_equal(pv_prov_route_kind(PV_PROV_MAC_PATH), PV_ROUTE_DEVICE);
    assert_int_equal(pv_prov_route_kind(PV_PROV_BOOTSTRAP), PV_ROUTE_SHARED);
    assert_int_equal(pv_prov_route_kind(PV_PROV_FIRMWARE), PV_ROUTE_SHARED);
    assert_int_equal(pv_prov_route_kind(PV_PROV_FILES), PV_ROUTE_SHARED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths_split_into_components),
        cmocka_unit_test(the_binding_prefix_is_recognised_first),
        cmocka_unit_test(reads_take_the_route_of_what_they_name),
        cmocka_unit_test(only_a_devices_own_content_is_device_kind),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
