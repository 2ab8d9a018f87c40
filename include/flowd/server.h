/* The HTTP server: the REST API under /api/v1, /healthz and /metrics on libmicrohttpd.
 * Commands go through the service (group commit; a request is answered only after its
 * command is durable), reads through a pool of read-only store connections. The server
 * runs on its own threads; the caller starts it, waits for a signal and stops it. */
#ifndef FLOWD_SERVER_H
#define FLOWD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flowd/auth.h"
#include "flowd/err.h"

struct fl_server; /* opaque */

struct fl_server_options {
    const char *db_url; /* see fl_store_open */
    const char *addr;   /* IPv4 address to bind; NULL = "127.0.0.1" */
    unsigned port;      /* 0 = any free port (see fl_server_port) */
    unsigned threads;   /* MHD worker threads; 0 = 4 */
    FILE *log;          /* logfmt request log; NULL = stderr */
    int synchronous;    /* SQLite synchronous level of the writer (see fl_service_options) */
    bool synchronous_set;
    struct fl_session_policy session; /* login session lifetimes; zeros = 30 min idle, 12 h */
};

/* Open the service and the store, then start listening. Caller stops. */
int fl_server_start(const struct fl_server_options *opt, struct fl_server **out,
                    struct fl_error *err);

/* The TCP port the server listens on (the one picked when 0 was asked for). */
unsigned fl_server_port(const struct fl_server *srv);

/* Stop accepting, wait for the requests in flight (their commands are drained), stop the
 * threads, close the service and the stores. NULL-safe. */
void fl_server_stop(struct fl_server *srv);

/* One entry of the route table, for `flowd routes` and the tests. */
struct fl_route_info {
    const char *method;
    const char *pattern; /* "/api/v1/tasks/{id}/complete" */
    bool public_route;   /* answered without authentication */
};

/* The route table: *n gets its length. Static storage. */
const struct fl_route_info *fl_server_routes(size_t *n);

#endif
