/* Internals of the HTTP API shared by its files: the server struct (service, reader pool,
 * metrics), one request in flight (body, route parameters, principal, response being
 * built, the command it waits for), the route table entry, and the helpers every resource
 * file uses to read JSON requests and write JSON and problem+json responses. */
#ifndef FLOWD_API_INT_H
#define FLOWD_API_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "flowd/auth.h"
#include "flowd/buf.h"
#include "flowd/jobs.h"
#include "flowd/server.h"
#include "flowd/service.h"
#include "flowd/store.h"
#include "flowd/value.h"
#include "flowd/value.h"

#define API_MAX_JSON_BODY ((size_t)1 << 20) /* 1 MiB; deployments: FL_BPMN_MAX_BYTES */
#define API_MAX_ROUTES 96
#define API_N_LAT_BUCKETS 12
#define API_IDEM_MAX_KEY 200

/* Handler outcome: the response is ready, or a command was submitted and the request
 * resumes in its continuation once the command is durable. */
enum api_outcome { API_DONE = 0, API_PENDING = 1 };

struct api_req;
typedef int (*api_handler)(struct api_req *r);
typedef void (*api_cont)(struct api_req *r, const struct fl_result *res);

#define API_PUBLIC 1u   /* no authentication */
#define API_LOOPBACK 2u /* no authentication when the peer is loopback (/metrics) */
#define API_BIGBODY 4u  /* body up to FL_BPMN_MAX_BYTES (deployments) */
#define API_ADMIN 8u    /* administrators only (admin scope and admin user) */
#define API_SECRET 16u  /* the answer holds a secret shown once: never kept for replay */

struct api_route {
    const char *method;
    const char *pattern; /* segments; "{id}" captures a number, "{key}" any segment */
    api_handler fn;
    unsigned flags;
};

struct api_metrics {
    _Atomic uint64_t requests[API_MAX_ROUTES + 1][6]; /* by route (last: unmatched), class */
    _Atomic uint64_t by_status[600];                  /* by exact status */
    _Atomic uint64_t lat_count[API_N_LAT_BUCKETS];    /* command latency, cumulative later */
    _Atomic uint64_t lat_sum_us, lat_n;
};

struct fl_server {
    struct fl_service *svc;
    char *db_url;
    struct MHD_Daemon *daemon;
    unsigned port;
    FILE *log;
    pthread_mutex_t pool_lock;
    struct fl_store **pool; /* idle read-only connections */
    size_t n_pool, cap_pool;
    pthread_mutex_t flight_lock;
    pthread_cond_t flight_cond;
    size_t in_flight; /* commands submitted, not yet answered */
    _Atomic uint64_t next_req_id;
    atomic_bool stopping; /* set by fl_server_stop: new requests get 503 */
    struct api_metrics metrics;
    /* People records (sessions, users, tokens) are written on this connection, under
     * admin_lock: they are rare and outside the process engine's group commit. */
    pthread_mutex_t admin_lock;
    struct fl_store *admin;
    struct fl_ratelimit *ratelimit;
    struct fl_session_policy session; /* lifetimes of login sessions */
    pthread_mutex_t idem_lock;
    struct api_idem_entry *idem; /* idempotency records (api_idem.c) */
};

enum api_state { REQ_BODY, REQ_PENDING, REQ_READY };

struct api_req {
    struct fl_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    char *path;
    int route; /* index in the table, -1 when none matched */
    char param[2][256];
    uint64_t id; /* first {id} parameter */
    struct fl_buf body;
    bool too_big;
    enum api_state state;
    struct fl_principal who; /* valid when authed */
    bool authed;
    bool by_cookie; /* writes then need the CSRF header */
    char csrf[FL_SESSION_TEXT_MAX];
    uint64_t req_id;
    int64_t t0_us, cmd_t0_us;
    /* response */
    int status;
    const char *ctype;
    char location[128];
    char set_cookie[256];
    struct fl_buf out;
    /* command in flight */
    api_cont cont;
    struct fl_result res;
    uint64_t scratch_id;
    /* job activation in flight (api_jobs.c): the jobs handed over, owned until answered;
     * a long poll is no command, so its wait stays out of the command latency figures */
    struct fl_activated_job *jobs;
    size_t n_jobs;
    bool long_poll;
    /* idempotency */
    char idem_key[API_IDEM_MAX_KEY + 1];
    char body_hash[65];
    char *idem_scope;        /* "login\nMETHOD pattern\nkey" while idem_key is set */
    bool idem_kept;          /* the answer was kept in the transaction of the request's effects */
    char idem_redacted[512]; /* what an API_SECRET route keeps instead of its answer */
};

/* ---- routes (api_routes.c) ---- */
extern const struct api_route api_routes[];
extern const size_t api_n_routes;
/* Match method and path; fills r->param/id. Returns the index, -1 (no path) or -2 (path
 * exists with another method). */
int api_route_match(struct api_req *r, const char *method, const char *path);

/* ---- server helpers (server.c) ---- */
int64_t api_now_us(void);
/* Borrow a read-only store connection (opened on demand); give it back with api_reader_put.
 * Between api_render_begin and api_render_end on the calling thread, it lends s instead. */
int api_reader_get(struct fl_server *srv, struct fl_store **out, struct fl_error *err);
void api_reader_put(struct fl_server *srv, struct fl_store *s);
/* Answers built on this thread read through s (a connection inside an open transaction),
 * so an answer kept with the request's effects shows them before they commit. */
void api_render_begin(struct fl_store *s);
void api_render_end(void);
/* Forget the response built so far (status, body, type, Location). */
void api_response_reset(struct api_req *r);
/* Submit cmd; cont runs on an MHD thread once the result is durable. Returns API_PENDING,
 * or API_DONE with a problem response when the service refuses at once. */
int api_submit(struct api_req *r, const struct fl_command *cmd, api_cont cont);

/* ---- responses (api_json.c) ---- */
/* Problem+json from code and detail (status from fl_err_http_status). Returns API_DONE. */
int api_problem(struct api_req *r, int code, const struct fl_error *e);
/* Problem with a printf message and an optional field. Returns API_DONE. */
int api_problemf(struct api_req *r, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Problem with an explicit HTTP status and type name (e.g. 401 "unauthenticated"). */
int api_problem_status(struct api_req *r, int status, const char *type, const char *title,
                       const char *detail);
/* Start a JSON response of status (r->out is then filled by the caller). */
void api_json_begin(struct api_req *r, int status);

/* JSON writer over fl_buf: the caller writes keys and separators; these escape. */
void api_jkey(struct fl_buf *b, bool *first, const char *key);
void api_jtime(struct fl_buf *b, int64_t ms); /* ISO 8601 UTC, 0 -> null */
void api_json_task(struct fl_buf *b, const struct fl_task_row *t);
void api_json_instance(struct fl_buf *b, const struct fl_instance_row *i, bool with_vars);

/* ---- request bodies (api_json.c) ---- */
/* Parse the body as a JSON object (exact numbers) and check each key is in allowed (NULL
 * terminated): FL_EPARSE / FL_ETYPE / FL_EINVAL naming the field. Empty body -> {}. */
int api_body_object(struct api_req *r, const char *const *allowed, struct fl_value **out,
                    struct fl_error *err);
/* Optional string field: *out NULL when absent; FL_ETYPE naming it otherwise. */
int api_field_str(const struct fl_value *obj, const char *name, const char **out,
                  struct fl_error *err);
/* Optional object field (variables). */
int api_field_obj(const struct fl_value *obj, const char *name, const struct fl_value **out,
                  struct fl_error *err);
/* Optional integer field. */
int api_field_int(const struct fl_value *obj, const char *name, int64_t *out, bool *present,
                  struct fl_error *err);
/* Query parameter (NULL when absent). */
const char *api_query(struct api_req *r, const char *name);
/* Parse ?after= and ?limit= (limit 1..1000, default 100): -1 to go on, or API_DONE with
 * a problem response. */
int api_paging(struct api_req *r, uint64_t *after, size_t *limit);

/* ---- authentication (api_auth.c) ---- */
/* Fill r->who from the cookie or bearer token; 0, or FL_EREFUSED for no/bad credentials. */
int api_authenticate(struct api_req *r);
/* May r->who use this method on a route (scope, admin, CSRF)? API_DONE with 403 if not,
 * else -1. */
int api_authorize(struct api_req *r, bool admin_route);
/* The actor name of commands: the principal's login. */
const char *api_actor(const struct api_req *r);

/* ---- idempotency (api_idem.c) ---- */
/* Before a POST with Idempotency-Key: API_DONE with a replayed (or 422/409) response, or
 * -1 to go on (then api_idem_save after the response is built). */
int api_idem_check(struct api_req *r);
void api_idem_save(struct api_req *r);
/* r's response as the record of its Idempotency-Key (strings borrowed from r): 0, or 1 when
 * it must not be kept (no key, a 5xx answer). */
int api_idem_row(struct api_req *r, struct fl_idem_row *row);
/* fl_service_render_cb of commands with an Idempotency-Key: builds the answer with the
 * request's continuation on the writer's connection (see api_submit). */
int api_idem_render(void *arg, struct fl_store *s, const struct fl_result *res,
                    struct fl_idem_row *row);
void api_idem_release(struct fl_server *srv);
/* The request ended without an answer (client gone): forget that it runs, keep nothing. */
void api_idem_abandon(struct api_req *r);

/* ---- metrics (api_health.c) ---- */
void api_metrics_request(struct fl_server *srv, int route, int status);
void api_metrics_command(struct fl_server *srv, int64_t us);

/* ---- instances and control points (api_instances.c, api_control.c) ---- */
/* 0 when r->who may see instance id (*acc set); else a problem (404) was written. */
int api_instance_access(struct api_req *r, struct fl_store *s, uint64_t id, enum fl_access *acc);
/* Answer instance id as GET /api/v1/instances/{id} does, with status. API_DONE. */
int api_instance_answer(struct api_req *r, uint64_t id, int status);
/* 0 when r->who may act on instance id; else a problem (404 or 403) was written. */
int api_instance_require_write(struct api_req *r, uint64_t id);
/* A control point as a JSON object; state "open", "overdue" (due at or before now) or
 * "done". */
void api_json_control(struct fl_buf *b, const struct fl_control_row *c, int64_t now);
/* Append the JSON array of instance id's control points to r->out. */
int api_json_instance_controls(struct api_req *r, struct fl_store *s, uint64_t id,
                               struct fl_error *err);

/* ---- resource handlers ---- */
int api_healthz(struct api_req *r);
int api_metrics(struct api_req *r);
int api_login(struct api_req *r);
int api_deploy(struct api_req *r);
int api_process_list(struct api_req *r);
int api_process_get(struct api_req *r);
int api_process_versions(struct api_req *r);
int api_process_xml(struct api_req *r);
/* DMN decisions (api_decisions.c) */
int api_decision_list(struct api_req *r);
int api_decision_evaluate(struct api_req *r);
int api_instance_start(struct api_req *r);
int api_instance_list(struct api_req *r);
int api_instance_get(struct api_req *r);
int api_instance_cancel(struct api_req *r);
int api_instance_history(struct api_req *r);
int api_message_publish(struct api_req *r);
int api_signal_broadcast(struct api_req *r);
int api_outbox_list(struct api_req *r);
int api_outbox_delivered(struct api_req *r);
/* Migration and modification (api_migrate.c) */
int api_instance_migrate(struct api_req *r);
int api_instance_modify(struct api_req *r);
int api_migration_create(struct api_req *r);
int api_control_list_instance(struct api_req *r);
int api_control_set(struct api_req *r);
int api_control_clear(struct api_req *r);
int api_control_list(struct api_req *r);
int api_task_list(struct api_req *r);
int api_task_get(struct api_req *r);
int api_task_claim(struct api_req *r);
int api_task_unclaim(struct api_req *r);
int api_task_assign(struct api_req *r);
int api_task_complete(struct api_req *r);
int api_task_action(struct api_req *r);
int api_user_list(struct api_req *r);
int api_user_add(struct api_req *r);
int api_user_password(struct api_req *r);
int api_user_disable(struct api_req *r);
int api_user_enable(struct api_req *r);
int api_role_list(struct api_req *r);
int api_role_add(struct api_req *r);
int api_department_list(struct api_req *r);
int api_department_add(struct api_req *r);
int api_token_list(struct api_req *r);
int api_token_create(struct api_req *r);
int api_token_revoke(struct api_req *r);
int api_notification_list(struct api_req *r);
int api_notification_read(struct api_req *r);
int api_clock_get(struct api_req *r);
int api_clock_set(struct api_req *r);
int api_calendar_list(struct api_req *r);
int api_calendar_get(struct api_req *r);
int api_calendar_put(struct api_req *r);
int api_calendar_delete(struct api_req *r);
/* job workers and incidents (api_jobs.c) */
int api_job_activate(struct api_req *r);
int api_job_list(struct api_req *r);
int api_job_get(struct api_req *r);
int api_job_complete(struct api_req *r);
int api_job_fail(struct api_req *r);
int api_job_throw_error(struct api_req *r);
int api_incident_list(struct api_req *r);
int api_incident_get(struct api_req *r);
int api_incident_resolve(struct api_req *r);
/* CRM records (api_crm.c) */
int api_company_create(struct api_req *r);
int api_company_list(struct api_req *r);
int api_company_get(struct api_req *r);
int api_company_patch(struct api_req *r);
int api_company_delete(struct api_req *r);
int api_contact_create(struct api_req *r);
int api_contact_list(struct api_req *r);
int api_contact_get(struct api_req *r);
int api_contact_patch(struct api_req *r);
int api_contact_delete(struct api_req *r);
int api_lead_create(struct api_req *r);
int api_lead_list(struct api_req *r);
int api_lead_get(struct api_req *r);
int api_lead_patch(struct api_req *r);
int api_lead_delete(struct api_req *r);
int api_deal_create(struct api_req *r);
int api_deal_list(struct api_req *r);
int api_deal_get(struct api_req *r);
int api_deal_patch(struct api_req *r);
int api_deal_delete(struct api_req *r);
int api_activity_create(struct api_req *r);
int api_activity_list(struct api_req *r);
int api_activity_get(struct api_req *r);
int api_activity_patch(struct api_req *r);
int api_activity_delete(struct api_req *r);

#endif
