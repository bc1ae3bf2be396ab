/*
 * web_assets.h — the files of web/ (HTML fragments, CSS, JavaScript, the
 * message catalogs of i18n.h) compiled into the binary at build time by
 * scripts/embed_web.cmake, so the portal needs nothing beside `provisor`.
 * Read-only, static storage: safe on every thread, never freed.
 */
#ifndef PV_SERVER_WEB_ASSETS_H
#define PV_SERVER_WEB_ASSETS_H

#include <stddef.h>

typedef struct pv_web_asset {
    const char *name;          /* path under web/, e.g. "portal.css", "i18n/ja.json" */
    const unsigned char *data; /* NUL-terminated (not counted in len) */
    size_t len;
} pv_web_asset;

/* Every file, ended by a row whose name is NULL. */
extern const pv_web_asset pv_web_assets[];

/* The asset named name, or NULL. */
const pv_web_asset *pv_web_asset_find(const char *name);

#endif
