/* i18n.c — message catalogs and language choice; see i18n.h. */
#include "server/i18n.h"

#include "server/web_assets.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const codes[PV_LANG__COUNT] = {"en", "ja"};
static json_t *catalogs[PV_LANG__COUNT];
static pv_error load_error;
static int load_rc;
static pthread_once_t once = PTHREAD_ONCE_INIT;

const char *pv_lang_code(pv_lang lang)
{
    return (unsigned)lang < PV_LANG__COUNT ? codes[lang] : "en";
}

bool pv_lang_parse(const char *code, pv_lang *out)
{
    for (int i = 0; code != NULL && i < PV_LANG__COUNT; i++)
        if (strcmp(code, codes[i]) == 0) {
            *out = (pv_lang)i;
            return true;
        }
    return false;
}

/* One range of Accept-Language: "ja-JP;q=0.8". */
static void consider(const char *p, const char *end, double *best_q, pv_lang *best)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const char *tag_end = p;
    while (tag_end < end && *tag_end != ';' && *tag_end != ' ')
        tag_end++;
    double q = 1.0;
    const char *qp = memchr(p, ';', (size_t)(end - p));
    if (qp != NULL) {
        while (++qp < end && (*qp == ' ' || *qp == '\t'))
            ;
        if (end - qp >= 2 && (qp[0] == 'q' || qp[0] == 'Q') && qp[1] == '=') {
            char num[8] = {0};
            size_t n =
                (size_t)(end - qp - 2) < sizeof num - 1 ? (size_t)(end - qp - 2) : sizeof num - 1;
            memcpy(num, qp + 2, n);
            q = strtod(num, NULL);
        }
    }
    for (int i = 0; i < PV_LANG__COUNT; i++) {
        size_t len = (size_t)(tag_end - p);
        /* "ja" matches ja and ja-JP (the primary subtag) */
        if (len >= 2 && strncasecmp(p, codes[i], 2) == 0 && (len == 2 || p[2] == '-') &&
            q > *best_q) {
            *best_q = q;
            *best = (pv_lang)i;
        }
    }
}

pv_lang pv_i18n_pick(const char *choice, pv_slice accept_language, pv_lang fallback)
{
    pv_lang lang;
    if (pv_lang_parse(choice, &lang))
        return lang;
    double best_q = 0.0;
    pv_lang best = fallback;
    const char *p = accept_language.ptr, *end = p + accept_language.len;
    for (int ranges = 0; p != NULL && p < end && ranges < 32; ranges++) { /* bounded work */
        const char *comma = memchr(p, ',', (size_t)(end - p));
        consider(p, comma != NULL ? comma : end, &best_q, &best);
        p = comma != NULL ? comma + 1 : NULL;
    }
    return best;
}

static void load_once(void)
{
    for (int i = 0; i < PV_LANG__COUNT && load_rc == 0; i++) {
        char name[32];
        snprintf(name, sizeof name, "i18n/%s.json", codes[i]);
        const pv_web_asset *a = pv_web_asset_find(name);
        json_error_t jerr;
        catalogs[i] = a != NULL ? json_loadb((const char *)a->data, a->len, 0, &jerr) : NULL;
        if (catalogs[i] == NULL || !json_is_object(catalogs[i]))
            load_rc = pv_error_set(&load_error, PV_EFORMAT, "web/%s: %s", name,
                                   a == NULL ? "not built in" : jerr.text);
    }
}

int pv_i18n_load(pv_error *err)
{
    pthread_once(&once, load_once);
    if (load_rc != 0 && err != NULL)
        *err = load_error;
    return load_rc;
}

const char *pv_i18n(pv_lang lang, const char *key)
{
    const char *s = json_string_value(json_object_get(catalogs[lang], key));
    if (s == NULL)
        s = json_string_value(json_object_get(catalogs[PV_LANG_EN], key));
    return s != NULL ? s : key;
}

void pv_i18n_missing(pv_lang lang, pv_buf *out)
{
    const char *key;
    json_t *v;
    json_t *other = catalogs[lang == PV_LANG_EN ? PV_LANG_JA : PV_LANG_EN];
    json_object_foreach(catalogs[lang], key, v)
    {
        if (json_object_get(other, key) == NULL) {
            pv_buf_append_str(out, key);
            pv_buf_append_char(out, '\n');
        }
    }
}

const pv_web_asset *pv_web_asset_find(const char *name)
{
    for (const pv_web_asset *a = pv_web_assets; a->name != NULL; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}
