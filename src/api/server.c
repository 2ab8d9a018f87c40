/* The HTTP server on libmicrohttpd: a pool of MHD threads reads each request's body,
 * matches it against the route table, authenticates it and runs its handler. A handler
 * that submits a command suspends its connection (MHD_suspend_connection), so no MHD
 * thread sleeps while the group commit runs; the service's callback resumes it and the
 * continuation builds the answer. Reads borrow read-only connections from a small pool.
 * Every request ends in one logfmt line on the log stream. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "api/api_int.h"
#include "flowd/alloc.h"
#include "flowd/model.h"

#define DEFAULT_THREADS 4

int64_t api_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The connection answers are read through while they are built inside a transaction (an
 * Idempotency-Key answer kept with its command): per thread, because the writer thread
 * builds such answers while MHD threads read from the pool. */
static _Thread_local struct fl_store *render_store;

void api_render_begin(struct fl_store *s)
{
    render_store = s;
}

void api_render_end(void)
{
    render_store = NULL;
}

void api_response_reset(struct api_req *r)
{
    r->status = 0;
    r->ctype = NULL;
    r->location[0] = '\0';
    fl_buf_reset(&r->out);
}

int api_reader_get(struct fl_server *srv, struct fl_store **out, struct fl_error *err)
{
    struct fl_store_options so = {.read_only = true};
    struct fl_store *s = NULL;
    int rc = 0;
    /* Inside the writer's transaction (a kept answer being rendered): that connection, as
     * it is -- it is in a write transaction, so no read snapshot of its own. */
    if (render_store) {
        *out = render_store;
        return 0;
    }
    *out = NULL;
    pthread_mutex_lock(&srv->pool_lock);
    if (srv->n_pool)
        s = srv->pool[--srv->n_pool];
    pthread_mutex_unlock(&srv->pool_lock);
    /* At most one connection per concurrent reader, so the pool never outgrows the MHD
     * threads plus resumed continuations. */
    if (!s && (rc = fl_store_open(srv->db_url, &so, &s, err)) != 0)
        return rc;
    /* The queries of one borrowing (a token check: three) share one read snapshot: with
     * the writer committing all the time, starting a read transaction per query cost more
     * than the queries. Borrowers keep it short and never hold it across a command. */
    if ((rc = fl_store_read_begin(s, err)) != 0) {
        fl_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void api_reader_put(struct fl_server *srv, struct fl_store *s)
{
    if (!s || s == render_store)
        return;
    fl_store_read_end(s);
    pthread_mutex_lock(&srv->pool_lock);
    if (srv->n_pool == srv->cap_pool) {
        srv->cap_pool = srv->cap_pool ? srv->cap_pool * 2 : 8;
        srv->pool = fl_realloc(srv->pool, srv->cap_pool * sizeof(*srv->pool));
    }
    srv->pool[srv->n_pool++] = s;
    pthread_mutex_unlock(&srv->pool_lock);
}

/* Runs on the writer thread: keep it short (copy, resume). */
static void command_done(void *arg, const struct fl_result *res)
{
    struct api_req *r = arg;
    r->res = *res;
    r->state = REQ_READY;
    MHD_resume_connection(r->conn);
}

int api_submit(struct api_req *r, const struct fl_command *cmd, api_cont cont)
{
    struct fl_server *srv = r->srv;
    int rc;
    r->cont = cont;
    r->cmd_t0_us = api_now_us();
    r->state = REQ_PENDING;
    pthread_mutex_lock(&srv->flight_lock);
    srv->in_flight++;
    pthread_mutex_unlock(&srv->flight_lock);
    /* Suspend before submitting: the callback may resume before fl_service_submit returns. */
    MHD_suspend_connection(r->conn);
    /* With an Idempotency-Key the answer is built on the writer thread and kept in the
     * command's own transaction (api_idem_render), so a crash cannot separate them. */
    if (r->idem_key[0])
        rc = fl_service_submit_answered(srv->svc, cmd, api_idem_render, command_done, r);
    else
        rc = fl_service_submit(srv->svc, cmd, command_done, r);
    if (rc != 0) {
        memset(&r->res, 0, sizeof(r->res));
        r->res.rc = rc;
        fl_error_set(&r->res.err, rc, "the server is shutting down");
        r->state = REQ_READY;
        MHD_resume_connection(r->conn);
    }
    return API_PENDING;
}

static void flight_done(struct fl_server *srv)
{
    pthread_mutex_lock(&srv->flight_lock);
    srv->in_flight--;
    if (srv->in_flight == 0)
        pthread_cond_broadcast(&srv->flight_cond);
    pthread_mutex_unlock(&srv->flight_lock);
}

static bool peer_is_loopback(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr_in *sin;
    if (!ci || !ci->client_addr)
        return false;
    if (ci->client_addr->sa_family == AF_INET6)
        return false;
    if (ci->client_addr->sa_family != AF_INET)
        return false;
    sin = (const struct sockaddr_in *)(const void *)ci->client_addr;
    return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
}

static int dispatch(struct api_req *r)
{
    const struct api_route *rt;
    int rc;

    /* Keep-alive clients would otherwise keep the drain below from ever ending. */
    if (atomic_load(&r->srv->stopping))
        return api_problemf(r, FL_ECLOSED, NULL, "the server is shutting down");
    if (r->route == -1)
        return api_problem_status(r, 404, "notfound", "not found", "no such route");
    if (r->route == -2)
        return api_problem_status(r, 405, "method_not_allowed", "method not allowed",
                                  "this route does not take that method");
    rt = &api_routes[r->route];
    if (!(rt->flags & API_PUBLIC) && !((rt->flags & API_LOOPBACK) && peer_is_loopback(r->conn)) &&
        api_authenticate(r) != 0)
        return api_problem_status(r, 401, "unauthenticated", "authentication required",
                                  "send a session cookie or an Authorization: Bearer token");
    if (r->authed && api_authorize(r, (rt->flags & API_ADMIN) != 0) == API_DONE)
        return API_DONE;
    if (r->too_big)
        return api_problemf(r, FL_ETOOBIG, NULL, "the request body exceeds %zu bytes", r->body.max);
    if (!strcmp(r->method, "POST") && (rc = api_idem_check(r)) == API_DONE)
        return API_DONE;
    return rt->fn(r);
}

static enum MHD_Result respond(struct api_req *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    char rid[32];
    size_t len = 0;
    char *body;

    if (r->idem_key[0])
        api_idem_save(r);
    if (r->status == 204)
        fl_buf_reset(&r->out);
    body = fl_buf_detach(&r->out, &len);
    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (r->ctype && r->status != 204)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
    if (r->location[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (atomic_load(&r->srv->stopping))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (r->set_cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
    snprintf(rid, sizeof(rid), "%llu", (unsigned long long)r->req_id);
    MHD_add_response_header(resp, "X-Request-Id", rid);
    ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct fl_server *srv = cls;
    struct api_req *r = *con_cls;
    (void)version;

    if (!r) {
        const char *cl;
        size_t max;
        r = fl_calloc(1, sizeof(*r));
        r->srv = srv;
        r->conn = conn;
        r->method = method;
        r->path = fl_strdup(url);
        r->t0_us = api_now_us();
        r->req_id = atomic_fetch_add(&srv->next_req_id, 1) + 1;
        r->route = api_route_match(r, method, url);
        max = (r->route >= 0 && (api_routes[r->route].flags & API_BIGBODY)) ? FL_BPMN_MAX_BYTES
                                                                            : API_MAX_JSON_BODY;
        fl_buf_init(&r->body, max);
        fl_buf_init(&r->out, 0);
        /* A declared length past the cap is refused without reading the body. */
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > max)
            r->too_big = true;
        *con_cls = r;
        return MHD_YES;
    }
    if (r->state == REQ_BODY && *upload_size) {
        if (!r->too_big && fl_buf_add(&r->body, upload_data, *upload_size) != 0)
            r->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->state == REQ_BODY) {
        if (dispatch(r) == API_PENDING)
            return MHD_YES; /* suspended until command_done */
        r->state = REQ_READY;
    } else if (r->state == REQ_PENDING) {
        return MHD_YES; /* spurious call while suspended */
    } else if (r->cont) {
        api_cont cont = r->cont;
        r->cont = NULL;
        if (!r->long_poll)
            api_metrics_command(srv, api_now_us() - r->cmd_t0_us);
        /* A kept answer was built before the commit and is the response as it stands. */
        r->idem_kept = r->res.answer_kept;
        if (!r->idem_kept) {
            api_response_reset(r);
            cont(r, &r->res);
        }
        flight_done(srv);
    }
    return respond(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct fl_server *srv = cls;
    struct api_req *r = *con_cls;
    char ts[32];
    time_t now;
    struct tm tm;
    (void)conn;
    if (!r)
        return;
    /* Resumed but never answered (the client went away): the command is done all the
     * same, and fl_server_stop waits for it. */
    if (r->cont)
        flight_done(srv);
    if (r->idem_key[0])
        api_idem_abandon(r);
    /* Jobs activated for a client that went away: their locks run out. */
    fl_activated_jobs_free(r->jobs, r->n_jobs);
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    api_metrics_request(srv, r->route, r->status);
    fprintf(srv->log,
            "ts=%s level=%s req=%llu method=%s path=\"%s\" status=%d duration_ms=%.3f%s\n", ts,
            r->status >= 500 || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK ? "error" : "info",
            (unsigned long long)r->req_id, r->method, r->path, r->status,
            (double)(api_now_us() - r->t0_us) / 1000.0,
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=true");
    if (r->authed)
        fl_principal_release(&r->who);
    fl_buf_release(&r->body);
    fl_buf_release(&r->out);
    free(r->path);
    free(r);
    *con_cls = NULL;
}

int fl_server_start(const struct fl_server_options *opt, struct fl_server **out,
                    struct fl_error *err)
{
    struct fl_service_options so = {0};
    struct fl_server *srv;
    struct sockaddr_in sin;
    const union MHD_DaemonInfo *di;
    unsigned threads;
    int rc;

    *out = NULL;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)opt->port);
    if (inet_pton(AF_INET, opt->addr ? opt->addr : "127.0.0.1", &sin.sin_addr) != 1)
        return fl_error_set(err, FL_EINVAL, "'%s' is not an IPv4 address", opt->addr);
    if (opt->port > 65535)
        return fl_error_set(err, FL_EINVAL, "port %u is out of range", opt->port);
    /* libxml2 wants its one-time setup before threads parse (deploys run on MHD threads
     * while the writer compiles models). */
    xmlInitParser();
    srv = fl_calloc(1, sizeof(*srv));
    srv->db_url = fl_strdup(opt->db_url);
    srv->log = opt->log ? opt->log : stderr;
    pthread_mutex_init(&srv->pool_lock, NULL);
    pthread_mutex_init(&srv->flight_lock, NULL);
    pthread_cond_init(&srv->flight_cond, NULL);
    pthread_mutex_init(&srv->idem_lock, NULL);
    pthread_mutex_init(&srv->admin_lock, NULL);
    srv->ratelimit = fl_ratelimit_new(NULL);
    srv->session = opt->session;
    so.db_url = opt->db_url;
    so.synchronous = opt->synchronous;
    so.synchronous_set = opt->synchronous_set;
    so.run_timers = true;
    so.test_clock = opt->test_clock;
    so.test_clock_start_ms = opt->test_clock_start_ms;
    if ((rc = fl_service_open(&so, &srv->svc, err)) != 0)
        goto fail;
    /* After the service: it created and migrated the database. */
    if ((rc = fl_store_open(opt->db_url, NULL, &srv->admin, err)) != 0)
        goto fail;
    threads = opt->threads ? opt->threads : DEFAULT_THREADS;
    srv->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!srv->daemon) {
        rc = fl_error_set(err, FL_EIO, "cannot listen on %s:%u",
                          opt->addr ? opt->addr : "127.0.0.1", opt->port);
        goto fail;
    }
    di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : opt->port;
    *out = srv;
    return 0;
fail:
    fl_server_stop(srv);
    return rc;
}

unsigned fl_server_port(const struct fl_server *srv)
{
    return srv->port;
}

void fl_server_stop(struct fl_server *srv)
{
    if (!srv)
        return;
    if (srv->daemon) {
        /* Stop accepting, then let every submitted command come back and be answered. */
        MHD_socket ls;
        atomic_store(&srv->stopping, true);
        /* Long polls would hold the drain below for minutes: answer them now. */
        fl_service_jobs_drain(srv->svc);
        ls = MHD_quiesce_daemon(srv->daemon);
        if (ls != MHD_INVALID_SOCKET)
            close(ls); /* quiesce hands the listening socket to us */
        pthread_mutex_lock(&srv->flight_lock);
        while (srv->in_flight > 0)
            pthread_cond_wait(&srv->flight_cond, &srv->flight_lock);
        pthread_mutex_unlock(&srv->flight_lock);
        MHD_stop_daemon(srv->daemon);
    }
    fl_service_close(srv->svc);
    fl_store_close(srv->admin);
    fl_ratelimit_free(srv->ratelimit);
    pthread_mutex_destroy(&srv->admin_lock);
    for (size_t i = 0; i < srv->n_pool; i++)
        fl_store_close(srv->pool[i]);
    free(srv->pool);
    api_idem_release(srv);
    pthread_mutex_destroy(&srv->idem_lock);
    pthread_cond_destroy(&srv->flight_cond);
    pthread_mutex_destroy(&srv->flight_lock);
    pthread_mutex_destroy(&srv->pool_lock);
    free(srv->db_url);
    free(srv);
}
