/* prov_route.c — the provisioning handler's routing table; see prov_route.h. */
#include "server/prov_route.h"

#include "server/bootstrap.h"

#include <unistd.h>

size_t pv_prov_components(pv_slice path, pv_slice *c)
{
    size_t n = 0, i = 0;
    while (i < path.len && n < 3) {
        while (i < path.len && path.ptr[i] == '/')
            i++;
        size_t j = i;
        while (j < path.len && path.ptr[j] != '/')
            j++;
        if (j > i)
            c[n++] = pv_slice_make(path.ptr + i, j - i);
        i = j;
    }
    return i < path.len ? 4 : n;
}

bool pv_prov_is_read(pv_method m)
{
    return m == PV_METHOD_GET || m == PV_METHOD_HEAD || m == PV_METHOD_TFTP_READ;
}

bool pv_prov_is_binding(const pv_prov_policy *pol, const pv_slice *c, size_t n)
{
    return n >= 1 && pv_slice_eq_cstr(c[0], pol->binding_prefix); /* DESIGN 5, issue 10 */
}

static bool static_exists(pv_fileserver *files, pv_slice path)
{
    int fd = -1;
    if (pv_fileserver_open(files, path, &fd, NULL) != 0)
        return false;
    close(fd);
    return true;
}

pv_prov_route pv_prov_route_of(pv_fileserver *files, const pv_request *req, const pv_slice *c,
                               size_t n, const pv_ident *id, bool known, char *model,
                               size_t model_size)
{
    if (n >= 2 && pv_slice_eq_cstr(c[0], "firmware"))
        return PV_PROV_FIRMWARE;
    if (static_exists(files, req->path))
        return PV_PROV_FILES;
    if (n == 2 && id->path_has_mac)
        return known ? PV_PROV_SECURE : PV_PROV_FILES;
    if (n == 1 && id->path_has_mac && !known && req->proto == PV_PROTO_HTTPS)
        return PV_PROV_FILES; /* not bound yet: nothing here (404) */
    if (n == 1 && pv_bootstrap_path(req->path, model, model_size))
        return PV_PROV_BOOTSTRAP;
    if (n == 1 && id->path_has_mac)
        return req->proto == PV_PROTO_HTTPS && id->cert_has_mac ? PV_PROV_MAC_PATH
                                                                 : PV_PROV_BOOTSTRAP;
    return PV_PROV_FILES;
}

pv_route_kind pv_prov_route_kind(pv_prov_route r)
{
    return r == PV_PROV_REPORT || r == PV_PROV_SECURE || r == PV_PROV_MAC_PATH ? PV_ROUTE_DEVICE
                                                                               : PV_ROUTE_SHARED;
}
