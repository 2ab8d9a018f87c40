/* The CLI's HTTP client for remote mode (--server URL): one libcurl handle reused for
 * every request of a command (keep-alive), timeouts, TLS verification on, the bearer
 * token in a header and never anywhere else, an Idempotency-Key on every POST with one
 * retry when the connection was reset, and RFC 9457 problem+json answers turned back into
 * the fl_err codes and detail the local CLI prints. */
#ifndef FLOWD_CLI_HTTP_H
#define FLOWD_CLI_HTTP_H

#include <stddef.h>

#include "flowd/buf.h"
#include "flowd/err.h"

/* Largest answer body read (a BPMN file of FL_BPMN_MAX_BYTES and room to spare). */
#define CLI_HTTP_MAX_BODY ((size_t)64 << 20)

struct cli_http;

/* One answer: HTTP status, Content-Type (may be empty) and body (NUL-terminated). */
struct cli_http_answer {
    long status;
    char ctype[128];
    struct fl_buf body;
};

/* Start a client of base_url ("http://host:port" or "https://...", a trailing '/' is
 * dropped) authenticating with token (NULL: none; borrowed until cli_http_close).
 * FL_EUSAGE for a URL that is not http(s). Caller closes. */
int cli_http_open(const char *base_url, const char *token, struct cli_http **out,
                  struct fl_error *err);

/* Close the client (NULL-safe). */
void cli_http_close(struct cli_http *h);

/* The base URL as given (without a trailing '/'); borrowed from h. */
const char *cli_http_base(const struct cli_http *h);

/* Send method to base_url + path (path starts with '/', may carry a query already
 * escaped) with body (may be NULL) of type ctype, and read the answer into *ans (caller
 * releases ans->body with fl_buf_release, also on error). A POST carries a fresh random
 * Idempotency-Key and is sent once more with the same key when the connection was reset
 * before an answer; a GET likewise. A transport failure (refused, DNS, timeout, TLS) is
 * FL_EIO with one line naming the URL. Any HTTP status is 0 here: see cli_http_check. */
int cli_http_send(struct cli_http *h, const char *method, const char *path, const char *ctype,
                  const char *body, size_t len, struct cli_http_answer *ans, struct fl_error *err);

/* 0 when ans is a 2xx answer; else the fl_err code of its problem+json (type, or status
 * when the type is not one of ours) with detail, field, element, line and column copied
 * into err. 401 and 403 become FL_EINVAL "not authorised: ..." (401 saying whether h sent
 * a token at all). */
int cli_http_check(const struct cli_http *h, const struct cli_http_answer *ans,
                   struct fl_error *err);

/* Map an answer's status, Content-Type and body to an fl_err code and detail; 0 for 2xx.
 * The pure part of cli_http_check (cli_problem.c, unit tested without a network). */
int cli_problem_to_error(long status, const char *ctype, const char *body, size_t len,
                         struct fl_error *err);

/* Append s to b percent-encoded for a URL path segment or query value (RFC 3986
 * unreserved characters and '@' kept). */
void cli_url_escape(struct fl_buf *b, const char *s);

#endif
