/*
 * i18n.h — the languages of the web pages (the customer portal, the
 * operator console to come): English and Japanese. The messages live in
 * web/i18n/<lang>.json (key → text, compiled in: web_assets.h), so a
 * translator edits JSON, not C; integration.portal_browser and
 * unit.portal_text check that both catalogs have the same keys.
 *
 * Which language a page is in: the person's choice (the `lang` cookie the
 * switch on every page sets), else the first of Accept-Language (RFC 9110
 * §12.5.4, by q-value) that we have, else the configured default.
 *
 * Thread-safe: the catalogs are parsed once and only read afterwards.
 */
#ifndef PV_SERVER_I18N_H
#define PV_SERVER_I18N_H

#include "core/buf.h"
#include "core/error.h"

#include <stdbool.h>

typedef enum { PV_LANG_EN, PV_LANG_JA, PV_LANG__COUNT } pv_lang;

/* "en", "ja". */
const char *pv_lang_code(pv_lang lang);
/* Exactly "en" or "ja" (the cookie's and the configuration's values). */
bool pv_lang_parse(const char *code, pv_lang *out);
/* The language of a request: choice (a cookie's value, may be NULL), else Accept-Language,
 * else fallback. */
pv_lang pv_i18n_pick(const char *choice, pv_slice accept_language, pv_lang fallback);

/* Parses the catalogs (once; later calls return the first outcome). */
int pv_i18n_load(pv_error *err);
/* The text of key in lang: the English one when lang lacks it, the key itself when both do
 * (a missing message shows, it does not crash). pv_i18n_load must have succeeded. */
const char *pv_i18n(pv_lang lang, const char *key);
/* Every key of lang's catalog that the other catalog lacks, one per line, into out. */
void pv_i18n_missing(pv_lang lang, pv_buf *out);

#endif
