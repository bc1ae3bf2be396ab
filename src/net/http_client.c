/* http_client.c — blocking HTTP(S) requests over libcurl; see http_client.h. */
#include "net/http_client.h"

#include "core/alloc.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct pv_http_client {
    CURL *curl;
    char *base;
    char *auth; /* "Authorization: Bearer ...", or NULL */
    unsigned timeout_ms;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *data)
{
    pv_buf_append(data, ptr, size * nmemb);
    return size * nmemb;
}

int pv_http_client_new(const char *base_url, const char *bearer, unsigned timeout_ms,
                       pv_http_client **out, pv_error *err)
{
    static bool initialised; /* the command line is single-threaded */
    if (!initialised && curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return pv_error_set(err, PV_EIO, "libcurl cannot initialise");
    initialised = true;
    if (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0)
        return pv_error_set(err, PV_EINVAL, "server URL '%.200s': want http://HOST:PORT", base_url);
    pv_http_client *c = pv_calloc(1, sizeof *c);
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        free(c);
        return pv_error_set(err, PV_EIO, "libcurl cannot create a handle");
    }
    size_t len = strlen(base_url);
    while (len > 0 && base_url[len - 1] == '/')
        len--;
    c->base = pv_strndup(base_url, len);
    if (bearer != NULL) {
        pv_buf b = {0};
        pv_buf_appendf(&b, "Authorization: Bearer %s", bearer);
        c->auth = pv_buf_take(&b, NULL);
    }
    c->timeout_ms = timeout_ms ? timeout_ms : 60000;
    *out = c;
    return 0;
}

void pv_http_client_free(pv_http_client *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->curl);
    free(c->base);
    free(c->auth);
    free(c);
}

int pv_http_client_request(pv_http_client *c, const char *method, const char *path,
                           const void *body, size_t len, const char *content_type, int *status,
                           pv_buf *resp, pv_error *err)
{
    pv_buf url = {0};
    pv_buf_appendf(&url, "%s%s", c->base, path);
    pv_buf ct = {0};
    pv_buf_appendf(&ct, "Content-Type: %s", content_type ? content_type : "application/json");
    struct curl_slist *headers = NULL;
    if (c->auth)
        headers = curl_slist_append(headers, c->auth);
    headers = curl_slist_append(headers, ct.data);
    headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
    pv_buf_reset(resp);
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps the connection cache */
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    }
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    int ret = 0;
    if (rc != CURLE_OK)
        ret = pv_error_set(err, PV_ECONN, "%s %s: %s", method, url.data, curl_easy_strerror(rc));
    *status = (int)code;
    pv_buf_free(&url);
    pv_buf_free(&ct);
    return ret;
}

void pv_http_client_escape(pv_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == ':' || *p == '@')
            pv_buf_append_char(out, (char)*p);
        else
            pv_buf_appendf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
}
