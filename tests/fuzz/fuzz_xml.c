/*
 * fuzz_xml — the `<flat-profile>` parser (core/xml_profile) on any bytes. It
 * must never crash or grow past its limits, and whatever parses must survive
 * serialize → parse unchanged (spec 3.1 round trip), and also the trip through
 * the text form once the two things text cannot say (unset access and
 * preserve-value) are normalized, and the form an ATA 19x gets, with its
 * router parameters inside <router-configuration> (core/router_config.h).
 * Inputs starting with 'A' are parsed with an alias list, to reach the
 * foreign-XML path.
 */
#include "core/param.h"
#include "core/text_profile.h"
#include "core/xml_profile.h"

#include <stdint.h>
#include <stdlib.h>

static void check_text_trip(const pv_params *p)
{
    pv_params want = {0}, got = {0};
    size_t it = 0;
    pv_param e;
    while (pv_params_next(p, &it, &e)) {
        e.preserve = false;
        if (e.ua == PV_UA_UNSET)
            e.ua = PV_UA_NA; /* spec 3.3: no marker = na */
        if (pv_params_set(&want, &e, NULL) != 0)
            abort();
    }
    pv_buf text = {0};
    if (pv_text_serialize(p, &text, NULL) != 0)
        abort();
    if (pv_text_parse(pv_buf_slice(&text), &got, NULL, NULL) != 0 || !pv_params_equal(&want, &got))
        abort();
    pv_buf_free(&text);
    pv_params_free(&want);
    pv_params_free(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const pv_profile_limits lim = {
        .max_input = 1 << 16, .max_params = 500, .max_value = 4096, .max_depth = 24};
    pv_xml_aliases *aliases = NULL;
    if (size > 0 && data[0] == 'A' &&
        pv_xml_aliases_parse(pv_slice_from("/a/b = /flat-profile/Alias_B; c = /flat-profile/C_1_"),
                             &aliases, NULL) != 0)
        abort();
    pv_xml_opts opts = {.limits = &lim, .aliases = aliases};
    pv_params p = {0};
    if (pv_xml_parse(pv_slice_make(data, size), &p, &opts, NULL) == 0) {
        pv_buf out = {0};
        if (pv_xml_serialize(&p, &out, NULL) != 0)
            abort(); /* what expat accepted, we can write */
        pv_params again = {0};
        pv_error err;
        if (pv_xml_parse(pv_buf_slice(&out), &again, NULL, &err) != 0 ||
            !pv_params_equal(&p, &again))
            abort();
        check_text_trip(&p);
        pv_params_free(&again);
        pv_buf_reset(&out);
        pv_params ata = {0};
        if (pv_xml_serialize_for_model(&p, "ATA191", &out, NULL) != 0 ||
            pv_xml_parse(pv_buf_slice(&out), &ata, NULL, &err) != 0 || !pv_params_equal(&p, &ata))
            abort();
        pv_params_free(&ata);
        pv_buf_free(&out);
    }
    pv_params_free(&p);
    pv_xml_aliases_free(aliases);
    return 0;
}
