/* The test clock: GET /api/v1/admin/clock tells the server's time; POST sets it
 * ({"now":"ISO 8601"}) or moves it ({"advance":"PT1H"}, negative durations go back), then
 * waits until every timer due at the new time has fired and committed, so a test reads
 * the results at once without sleeping. Only a server started with `flowd serve
 * --test-clock` has one: otherwise both answer 404, as if the route did not exist. */
#include <string.h>

#include "api/api_int.h"
#include "flowd/timecalc.h"

#define SETTLE_MS 60000 /* longest wait for the timers to fire (real time) */

static int no_clock(struct api_req *r)
{
    return api_problem_status(r, 404, "not-found", "Not Found",
                              "the server runs on the real clock (start it with --test-clock)");
}

static void clock_body(struct api_req *r, bool settled)
{
    fl_buf_adds(&r->out, "{\"now\":");
    api_jtime(&r->out, fl_service_now(r->srv->svc));
    fl_buf_addf(&r->out, ",\"test_clock\":true,\"settled\":%s}", settled ? "true" : "false");
}

int api_clock_get(struct api_req *r)
{
    if (!fl_service_has_test_clock(r->srv->svc))
        return no_clock(r);
    api_json_begin(r, 200);
    clock_body(r, true);
    return API_DONE;
}

int api_clock_set(struct api_req *r)
{
    static const char *const allowed[] = {"now", "advance", NULL};
    struct fl_value *body = NULL;
    const char *now = NULL, *advance = NULL;
    struct fl_error e;
    int64_t to = 0;
    int rc;

    if (!fl_service_has_test_clock(r->srv->svc))
        return no_clock(r);
    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "now", &now, &e)) != 0 ||
        (rc = api_field_str(body, "advance", &advance, &e)) != 0)
        goto problem;
    if (!now == !advance) {
        rc = api_problemf(r, FL_EINVAL, now ? "advance" : "now",
                          "give exactly one of 'now' (ISO 8601 time) or 'advance' (duration)");
        goto out;
    }
    if (now && fl_time_parse(now, &to) != 0) {
        rc = api_problemf(r, FL_EINVAL, "now", "'now' must be an ISO 8601 date and time, not '%s'",
                          now);
        goto out;
    }
    if (advance) {
        struct fl_iso_duration d;
        if (fl_iso_duration_parse(advance, &d, &e) != 0) {
            rc = api_problemf(r, FL_EINVAL, "advance",
                              "'advance' must be an ISO 8601 duration, not '%s': %s", advance,
                              e.msg);
            goto out;
        }
        to = fl_iso_duration_add(fl_service_now(r->srv->svc), &d);
    }
    fl_service_clock_set(r->srv->svc, to);
    rc = fl_service_timers_settle(r->srv->svc, SETTLE_MS);
    api_json_begin(r, 200);
    clock_body(r, rc == 0);
    rc = API_DONE;
    goto out;
problem:
    rc = api_problem(r, rc, &e);
out:
    fl_value_unref(body);
    return rc;
}
