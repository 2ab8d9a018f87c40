/* libcurl under the CLI's remote mode. One easy handle per client, so every request of a
 * command rides one kept-alive connection; curl_global_init and cleanup run once around
 * the (single) client of the process. The token goes only into the Authorization header
 * list: it is never logged, never part of an error message (errors name the URL). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_http.h"
#include "flowd/alloc.h"
#include "flowd/auth.h"

#define CONNECT_TIMEOUT_MS 10000L
#define REQUEST_TIMEOUT_MS 120000L /* a large deployment waits for the writer */

struct cli_http {
    CURL *curl;
    char *base;          /* without a trailing '/' */
    char *auth;          /* "Authorization: Bearer ..." or NULL; wiped on close */
    struct fl_buf *sink; /* body of the answer being read */
    char ctype[128];
};

/* curl_global_init is not thread-safe and should run once per process; the CLI has one
 * client at a time, counted here so nested opens (none today) would stay balanced. */
static int global_users;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct cli_http *h = arg;
    if (fl_buf_add(h->sink, p, size * n) != 0)
        return 0; /* past CLI_HTTP_MAX_BODY: curl aborts with CURLE_WRITE_ERROR */
    return size * n;
}

int cli_http_open(const char *base_url, const char *token, struct cli_http **out,
                  struct fl_error *err)
{
    struct cli_http *h;
    size_t len;

    *out = NULL;
    if (strncasecmp(base_url, "http://", 7) != 0 && strncasecmp(base_url, "https://", 8) != 0)
        return fl_error_set(err, FL_EUSAGE, "--server '%s' is not an http:// or https:// URL",
                            base_url);
    if (global_users++ == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        global_users--;
        return fl_error_set(err, FL_EINTERNAL, "cannot initialise libcurl");
    }
    h = fl_calloc(1, sizeof(*h));
    h->base = fl_strdup(base_url);
    len = strlen(h->base);
    while (len > 0 && h->base[len - 1] == '/')
        h->base[--len] = '\0';
    if (token && token[0]) {
        struct fl_buf b = FL_BUF_INIT;
        fl_buf_addf(&b, "Authorization: Bearer %s", token);
        h->auth = fl_buf_detach(&b, NULL);
    }
    if (!(h->curl = curl_easy_init())) {
        cli_http_close(h);
        return fl_error_set(err, FL_EINTERNAL, "cannot initialise libcurl");
    }
    *out = h;
    return 0;
}

void cli_http_close(struct cli_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    if (h->auth) {
        memset(h->auth, 0, strlen(h->auth));
        free(h->auth);
    }
    free(h->base);
    free(h);
    if (--global_users == 0)
        curl_global_cleanup();
}

const char *cli_http_base(const struct cli_http *h)
{
    return h->base;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct cli_http *h = arg;
    size_t len = size * n;
    if (len > 13 && !strncasecmp(p, "Content-Type:", 13)) {
        const char *v = p + 13;
        size_t vl = len - 13;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        snprintf(h->ctype, sizeof(h->ctype), "%.*s", (int)vl, v);
    }
    return len;
}

/* A fresh key per command: 128 random bits in hex. A retry reuses it, so the server
 * answers the retry with the first answer instead of running the command twice. */
static int idempotency_header(char *out, size_t n, struct fl_error *err)
{
    unsigned char raw[16];
    int rc = fl_random_bytes(raw, sizeof(raw), err);
    size_t k;
    if (rc)
        return rc;
    k = (size_t)snprintf(out, n, "Idempotency-Key: ");
    for (size_t i = 0; i < sizeof(raw) && k + 2 < n; i++, k += 2)
        snprintf(out + k, n - k, "%02x", raw[i]);
    return 0;
}

/* Failures where the request may not have reached the server, or its answer was lost
 * with the connection (a kept-alive connection the server closed meanwhile). */
static bool reset_before_answer(CURLcode cc)
{
    return cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING;
}

static int transport_error(const struct cli_http *h, CURLcode cc, const char *detail,
                           struct fl_error *err)
{
    const char *what = detail[0] ? detail : curl_easy_strerror(cc);
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return fl_error_set(err, FL_EIO, "no answer from the server at %s in time: %s", h->base,
                            what);
    return fl_error_set(err, FL_EIO, "cannot reach the server at %s: %s", h->base, what);
}

int cli_http_send(struct cli_http *h, const char *method, const char *path, const char *ctype,
                  const char *body, size_t len, struct cli_http_answer *ans, struct fl_error *err)
{
    struct curl_slist *headers = NULL;
    struct fl_buf url = FL_BUF_INIT, ct = FL_BUF_INIT;
    char key[64], detail[CURL_ERROR_SIZE];
    bool post = strcmp(method, "GET") != 0;
    CURLcode cc = CURLE_OK;
    int rc = 0;

    memset(ans, 0, sizeof(*ans));
    fl_buf_init(&ans->body, CLI_HTTP_MAX_BODY);
    fl_buf_addf(&url, "%s%s", h->base, path);
    headers = curl_slist_append(headers, "Accept: application/json, application/problem+json");
    if (h->auth)
        headers = curl_slist_append(headers, h->auth);
    if (post) {
        if ((rc = idempotency_header(key, sizeof(key), err)))
            goto out;
        headers = curl_slist_append(headers, key);
        fl_buf_addf(&ct, "Content-Type: %s", ctype ? ctype : "application/json");
        headers = curl_slist_append(headers, ct.ptr);
        /* No "Expect: 100-continue" round trip before a large body (a deployment). */
        headers = curl_slist_append(headers, "Expect:");
    }
    /* A retry goes through this loop once more; the key above stays the same. */
    for (int attempt = 0; attempt < 2; attempt++) {
        CURL *c = h->curl;
        curl_easy_reset(c);
        fl_buf_reset(&ans->body);
        h->sink = &ans->body;
        h->ctype[0] = '\0';
        detail[0] = '\0';
        curl_easy_setopt(c, CURLOPT_URL, url.ptr);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "flowd-cli/0.1.0");
        if (post) {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
            if (strcmp(method, "POST") != 0)
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        } else {
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        }
        cc = curl_easy_perform(c);
        if (cc == CURLE_OK || !reset_before_answer(cc))
            break;
    }
    h->sink = NULL;
    if (cc == CURLE_WRITE_ERROR && ans->body.err) {
        rc = fl_error_set(err, FL_ETOOBIG, "the answer of %s is larger than %zu bytes", url.ptr,
                          (size_t)CLI_HTTP_MAX_BODY);
        goto out;
    }
    if (cc != CURLE_OK) {
        rc = transport_error(h, cc, detail, err);
        goto out;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &ans->status);
    snprintf(ans->ctype, sizeof(ans->ctype), "%s", h->ctype);
out:
    curl_slist_free_all(headers);
    fl_buf_release(&url);
    fl_buf_release(&ct);
    return rc;
}

int cli_http_check(const struct cli_http *h, const struct cli_http_answer *ans,
                   struct fl_error *err)
{
    int rc = cli_problem_to_error(ans->status, ans->ctype, ans->body.ptr, ans->body.len, err);
    /* The server answers every authentication failure alike (nothing leaks); the client
     * knows whether it sent a token at all, and says which fix applies. */
    if (rc && ans->status == 401)
        fl_error_set(err, rc, "not authorised: %s",
                     h->auth ? "the server does not accept the token (--token or FLOWD_TOKEN)"
                             : "the server wants a token (--token or FLOWD_TOKEN)");
    return rc;
}
