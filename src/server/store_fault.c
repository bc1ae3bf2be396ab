/* store_fault.c — store failures: their status, and the store's health; see store_fault.h. */
#include "server/store_fault.h"

#include "core/log.h"

#include <stdatomic.h>
#include <time.h>

#define REPEAT_NS (60LL * 1000000000LL) /* a burst longer than this logs again */

static atomic_bool down;
static atomic_llong failures_total;  /* every failed call since the start */
static atomic_llong burst_failures;  /* failed calls in the current burst */
static atomic_llong burst_start_ns;  /* when the current burst began */
static atomic_llong burst_logged_ns; /* when its line was last written */

static long long now_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

bool pv_store_fault(int rc)
{
    /* store.h: PV_ESTORE for a database that failed (a lost connection
     * included), PV_EBUSY for a lock held too long, PV_EIO for a file that
     * could not be read or written. Everything else is an answer. */
    return rc == PV_ESTORE || rc == PV_EBUSY || rc == PV_EIO;
}

int pv_store_fault_status(int rc, int answer)
{
    return pv_store_fault(rc) ? 503 : answer;
}

void pv_store_health_failed(const char *what, const pv_error *err)
{
    atomic_fetch_add_explicit(&failures_total, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&burst_failures, 1, memory_order_relaxed);
    long long t = now_ns();
    bool was_down = atomic_exchange(&down, true);
    if (!was_down) {
        atomic_store(&burst_start_ns, t);
        atomic_store(&burst_logged_ns, t);
    } else {
        long long last = atomic_load(&burst_logged_ns);
        /* One thread wins the right to repeat the line. */
        if (t - last < REPEAT_NS || !atomic_compare_exchange_strong(&burst_logged_ns, &last, t))
            return;
    }
    long long n = atomic_load_explicit(&burst_failures, memory_order_relaxed);
    pv_log_line line;
    pv_log_begin(&line, PV_LOG_ERROR, "store.unavailable");
    pv_log_str(&line, "during", what ? what : "-");
    pv_log_int(&line, "failures", n);
    pv_log_ms(&line, "down_ms", (double)(t - atomic_load(&burst_start_ns)) / 1e6);
    pv_log_str(&line, "error", err != NULL ? err->msg : "");
    pv_log_end(&line);
}

void pv_store_health_ok(void)
{
    if (!atomic_load_explicit(&down, memory_order_relaxed))
        return; /* the common case: one load */
    if (!atomic_exchange(&down, false))
        return; /* another thread ended the burst */
    long long n = atomic_exchange(&burst_failures, 0);
    pv_logf(PV_LOG_WARN, "store.recovered", "failures=%lld down_ms=%.3f", n,
            (double)(now_ns() - atomic_load(&burst_start_ns)) / 1e6);
}

bool pv_store_health_up(void)
{
    return !atomic_load(&down);
}

void pv_store_health_render(pv_buf *out)
{
    pv_buf_appendf(out,
                   "# HELP provisor_store_up 1 while the store answers, 0 from a failed call "
                   "until the next success.\n"
                   "# TYPE provisor_store_up gauge\n"
                   "provisor_store_up %d\n"
                   "# HELP provisor_store_failures_total Store calls that failed (each answered "
                   "503 or retried).\n"
                   "# TYPE provisor_store_failures_total counter\n"
                   "provisor_store_failures_total %lld\n",
                   pv_store_health_up() ? 1 : 0, (long long)atomic_load(&failures_total));
}

void pv_store_health_reset(void)
{
    atomic_store(&down, false);
    atomic_store(&failures_total, 0);
    atomic_store(&burst_failures, 0);
}
