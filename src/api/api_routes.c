/* The one route table of the HTTP API and its matcher. Every route the server answers is
 * a line here; `flowd routes`, the OpenAPI check and the anonymous-access test all read
 * this table, so a route cannot exist without being documented and guarded. */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

const struct api_route api_routes[] = {
    {"GET", "/healthz", api_healthz, API_PUBLIC},
    {"GET", "/metrics", api_metrics, API_LOOPBACK},
    {"POST", "/api/v1/login", api_login, API_PUBLIC},
    {"POST", "/api/v1/deployments", api_deploy, API_BIGBODY | API_ADMIN},
    {"GET", "/api/v1/processes", api_process_list, 0},
    {"GET", "/api/v1/processes/{key}", api_process_get, 0},
    {"GET", "/api/v1/processes/{key}/versions", api_process_versions, 0},
    {"GET", "/api/v1/processes/{key}/xml", api_process_xml, 0},
    {"GET", "/api/v1/decisions", api_decision_list, 0},
    {"POST", "/api/v1/decisions/{key}/evaluate", api_decision_evaluate, 0},
    {"POST", "/api/v1/instances", api_instance_start, 0},
    {"GET", "/api/v1/instances", api_instance_list, 0},
    {"GET", "/api/v1/instances/{id}", api_instance_get, 0},
    {"POST", "/api/v1/instances/{id}/cancel", api_instance_cancel, 0},
    {"POST", "/api/v1/messages", api_message_publish, 0},
    {"POST", "/api/v1/signals", api_signal_broadcast, 0},
    {"GET", "/api/v1/outbox", api_outbox_list, API_ADMIN},
    {"POST", "/api/v1/outbox/{id}/delivered", api_outbox_delivered, API_ADMIN},
    {"GET", "/api/v1/instances/{id}/history", api_instance_history, 0},
    {"POST", "/api/v1/instances/{id}/migrate", api_instance_migrate, API_ADMIN},
    {"POST", "/api/v1/instances/{id}/modify", api_instance_modify, API_ADMIN},
    {"POST", "/api/v1/migrations", api_migration_create, API_ADMIN},
    {"GET", "/api/v1/instances/{id}/control-points", api_control_list_instance, 0},
    {"POST", "/api/v1/instances/{id}/control-points", api_control_set, 0},
    {"DELETE", "/api/v1/instances/{id}/control-points/{name}", api_control_clear, 0},
    {"GET", "/api/v1/control-points", api_control_list, 0},
    {"GET", "/api/v1/tasks", api_task_list, 0},
    {"GET", "/api/v1/tasks/{id}", api_task_get, 0},
    {"POST", "/api/v1/tasks/{id}/claim", api_task_claim, 0},
    {"POST", "/api/v1/tasks/{id}/unclaim", api_task_unclaim, 0},
    {"POST", "/api/v1/tasks/{id}/assign", api_task_assign, 0},
    {"POST", "/api/v1/tasks/{id}/complete", api_task_complete, 0},
    {"POST", "/api/v1/tasks/{id}/action", api_task_action, 0},
    {"GET", "/api/v1/users", api_user_list, API_ADMIN},
    {"POST", "/api/v1/users", api_user_add, API_ADMIN},
    {"POST", "/api/v1/users/{key}/password", api_user_password, API_ADMIN},
    {"POST", "/api/v1/users/{key}/disable", api_user_disable, API_ADMIN},
    {"POST", "/api/v1/users/{key}/enable", api_user_enable, API_ADMIN},
    {"GET", "/api/v1/roles", api_role_list, API_ADMIN},
    {"POST", "/api/v1/roles", api_role_add, API_ADMIN},
    {"GET", "/api/v1/departments", api_department_list, API_ADMIN},
    {"POST", "/api/v1/departments", api_department_add, API_ADMIN},
    {"GET", "/api/v1/tokens", api_token_list, API_ADMIN},
    {"POST", "/api/v1/tokens", api_token_create, API_ADMIN | API_SECRET},
    {"POST", "/api/v1/tokens/{id}/revoke", api_token_revoke, API_ADMIN},
    {"GET", "/api/v1/notifications", api_notification_list, 0},
    {"POST", "/api/v1/notifications/{id}/read", api_notification_read, 0},
    {"GET", "/api/v1/admin/clock", api_clock_get, API_ADMIN},
    {"POST", "/api/v1/admin/clock", api_clock_set, API_ADMIN},
    {"GET", "/api/v1/calendars", api_calendar_list, 0},
    {"GET", "/api/v1/calendars/{key}", api_calendar_get, 0},
    {"PUT", "/api/v1/calendars/{key}", api_calendar_put, API_ADMIN},
    {"DELETE", "/api/v1/calendars/{key}", api_calendar_delete, API_ADMIN},
    {"POST", "/api/v1/companies", api_company_create, 0},
    {"GET", "/api/v1/companies", api_company_list, 0},
    {"GET", "/api/v1/companies/{id}", api_company_get, 0},
    {"PATCH", "/api/v1/companies/{id}", api_company_patch, 0},
    {"DELETE", "/api/v1/companies/{id}", api_company_delete, 0},
    {"POST", "/api/v1/contacts", api_contact_create, 0},
    {"GET", "/api/v1/contacts", api_contact_list, 0},
    {"GET", "/api/v1/contacts/{id}", api_contact_get, 0},
    {"PATCH", "/api/v1/contacts/{id}", api_contact_patch, 0},
    {"DELETE", "/api/v1/contacts/{id}", api_contact_delete, 0},
    {"POST", "/api/v1/leads", api_lead_create, 0},
    {"GET", "/api/v1/leads", api_lead_list, 0},
    {"GET", "/api/v1/leads/{id}", api_lead_get, 0},
    {"PATCH", "/api/v1/leads/{id}", api_lead_patch, 0},
    {"DELETE", "/api/v1/leads/{id}", api_lead_delete, 0},
    {"POST", "/api/v1/deals", api_deal_create, 0},
    {"GET", "/api/v1/deals", api_deal_list, 0},
    {"GET", "/api/v1/deals/{id}", api_deal_get, 0},
    {"PATCH", "/api/v1/deals/{id}", api_deal_patch, 0},
    {"DELETE", "/api/v1/deals/{id}", api_deal_delete, 0},
    {"POST", "/api/v1/activities", api_activity_create, 0},
    {"GET", "/api/v1/activities", api_activity_list, 0},
    {"GET", "/api/v1/activities/{id}", api_activity_get, 0},
    {"PATCH", "/api/v1/activities/{id}", api_activity_patch, 0},
    {"DELETE", "/api/v1/activities/{id}", api_activity_delete, 0},
    {"POST", "/api/v1/jobs/activate", api_job_activate, 0},
    {"GET", "/api/v1/jobs", api_job_list, API_ADMIN},
    {"GET", "/api/v1/jobs/{id}", api_job_get, API_ADMIN},
    {"POST", "/api/v1/jobs/{id}/complete", api_job_complete, 0},
    {"POST", "/api/v1/jobs/{id}/fail", api_job_fail, 0},
    {"POST", "/api/v1/jobs/{id}/throw-error", api_job_throw_error, 0},
    {"GET", "/api/v1/incidents", api_incident_list, API_ADMIN},
    {"GET", "/api/v1/incidents/{id}", api_incident_get, API_ADMIN},
    {"POST", "/api/v1/incidents/{id}/resolve", api_incident_resolve, API_ADMIN},
};

const size_t api_n_routes = sizeof(api_routes) / sizeof(api_routes[0]);

_Static_assert(sizeof(api_routes) / sizeof(api_routes[0]) <= API_MAX_ROUTES,
               "raise API_MAX_ROUTES");

/* Next segment of a path: [*p, end) without the leading '/'; advances *p. */
static bool next_segment(const char **p, const char **seg, size_t *len)
{
    const char *s = *p;
    const char *e;
    if (*s != '/')
        return false;
    s++;
    e = strchr(s, '/');
    if (!e)
        e = s + strlen(s);
    *seg = s;
    *len = (size_t)(e - s);
    *p = e;
    return true;
}

static bool match_pattern(struct api_req *r, const char *pattern, const char *path)
{
    const char *pp = pattern, *up = path;
    const char *ps, *us;
    size_t pl, ul;
    int n_param = 0;

    r->id = 0;
    for (;;) {
        bool pmore = next_segment(&pp, &ps, &pl);
        bool umore = next_segment(&up, &us, &ul);
        if (!pmore || !umore)
            return !pmore && !umore && *up == '\0';
        if (pl >= 2 && ps[0] == '{') {
            if (ul == 0 || ul >= sizeof(r->param[0]) || n_param >= 2)
                return false;
            memcpy(r->param[n_param], us, ul);
            r->param[n_param][ul] = '\0';
            if (!strncmp(ps, "{id}", pl)) {
                char *end;
                unsigned long long v;
                if (us[0] < '0' || us[0] > '9')
                    return false;
                v = strtoull(r->param[n_param], &end, 10);
                if (*end || v == 0)
                    return false;
                r->id = v;
            }
            n_param++;
        } else if (pl != ul || memcmp(ps, us, pl) != 0) {
            return false;
        }
    }
}

int api_route_match(struct api_req *r, const char *method, const char *path)
{
    bool path_seen = false;
    for (size_t i = 0; i < api_n_routes; i++) {
        if (!match_pattern(r, api_routes[i].pattern, path))
            continue;
        if (!strcmp(api_routes[i].method, method))
            return (int)i;
        path_seen = true;
    }
    return path_seen ? -2 : -1;
}

const struct fl_route_info *fl_server_routes(size_t *n)
{
    /* Filled on each call with the same values: callers (CLI, tests) are single threaded. */
    static struct fl_route_info info[API_MAX_ROUTES];
    *n = api_n_routes;
    for (size_t i = 0; i < api_n_routes; i++) {
        info[i].method = api_routes[i].method;
        info[i].pattern = api_routes[i].pattern;
        info[i].public_route = (api_routes[i].flags & (API_PUBLIC | API_LOOPBACK)) != 0;
    }
    return info;
}
