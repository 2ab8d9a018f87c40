/* Authentication of API requests and the login route. A request carries either an API
 * token (Authorization: Bearer fl_...) checked on a reader connection, or the session
 * cookie set by POST /api/v1/login, checked on the people connection (a check slides the
 * idle timeout, a write). Cookie-authenticated writes must echo the session's CSRF token
 * in X-CSRF-Token. Every failure answers the same 401 so nothing about accounts leaks. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"

#define SESSION_COOKIE "flowd_session"

static int64_t now_ms(void)
{
    return api_now_us() / 1000;
}

static int load_principal(struct api_req *r, struct fl_store *s, uint64_t user_id,
                          enum fl_scope scope)
{
    struct fl_error e;
    fl_principal_init(&r->who);
    if (fl_auth_principal_load(s, user_id, scope, &r->who, &e) != 0) {
        fl_principal_release(&r->who);
        return FL_EREFUSED;
    }
    r->authed = true;
    return 0;
}

static int by_token(struct api_req *r, const char *token)
{
    struct fl_store *s = NULL;
    struct fl_error e;
    uint64_t uid = 0;
    enum fl_scope scope = FL_SCOPE_NONE;
    int rc;
    if (api_reader_get(r->srv, &s, &e) != 0)
        return FL_EREFUSED;
    rc = fl_auth_token_verify(s, token, now_ms(), &uid, &scope, &e);
    if (rc == 0)
        rc = load_principal(r, s, uid, scope);
    api_reader_put(r->srv, s);
    return rc ? FL_EREFUSED : 0;
}

static int by_cookie(struct api_req *r, const char *sid)
{
    struct fl_error e;
    uint64_t uid = 0;
    int rc;
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_auth_session_check(r->srv->admin, sid, &r->srv->session, now_ms(), &uid, r->csrf, &e);
    if (rc == 0)
        rc = load_principal(r, r->srv->admin, uid, FL_SCOPE_ADMIN);
    pthread_mutex_unlock(&r->srv->admin_lock);
    if (rc == 0) {
        r->by_cookie = true;
        return 0;
    }
    /* Unknown, ended or expired: tell the browser to drop the cookie with the 401. */
    snprintf(r->set_cookie, sizeof(r->set_cookie),
             SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    return FL_EREFUSED;
}

int api_authenticate(struct api_req *r)
{
    const char *h =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *c;
    if (h) {
        if (strncasecmp(h, "Bearer ", 7) != 0)
            return FL_EREFUSED;
        h += 7;
        while (*h == ' ')
            h++;
        return by_token(r, h);
    }
    c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
    if (c && *c)
        return by_cookie(r, c);
    return FL_EREFUSED;
}

int api_authorize(struct api_req *r, bool admin_route)
{
    bool write = strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
    if (!r->authed)
        return api_problem_status(r, 401, "unauthenticated", "authentication required",
                                  "send a session cookie or an Authorization: Bearer token");
    if (!fl_scope_allows(&r->who, write, admin_route))
        return api_problem_status(r, 403, "forbidden", "forbidden",
                                  admin_route ? "this route needs an administrator"
                                              : "the token's scope does not allow this");
    if (write && r->by_cookie) {
        const char *t = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
        if (!t || !fl_auth_secret_equal(r->csrf, t))
            return api_problem_status(r, 403, "csrf", "CSRF token missing or wrong",
                                      "cookie-authenticated writes need the X-CSRF-Token "
                                      "header given at login");
    }
    return -1;
}

const char *api_actor(const struct api_req *r)
{
    return r->authed ? r->who.login : NULL;
}

static void client_address(struct api_req *r, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ci->client_addr;
        inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)n);
    }
}

/* POST /api/v1/login {login, password} -> session cookie + {login, csrf_token, expires_at}. */
int api_login(struct api_req *r)
{
    static const char *const allowed[] = {"login", "password", NULL};
    struct fl_value *body = NULL;
    struct fl_session_new sess;
    struct fl_error e;
    const char *login = NULL, *password = NULL;
    char addr[64], cookie[256];
    int64_t retry = 0;
    uint64_t uid = 0;
    int rc;
    bool f = true;

    fl_error_clear(&e);
    if ((rc = api_body_object(r, allowed, &body, &e)) != 0 ||
        (rc = api_field_str(body, "login", &login, &e)) != 0 ||
        (rc = api_field_str(body, "password", &password, &e)) != 0)
        goto problem;
    if (!login || !password) {
        rc = fl_error_set(&e, FL_EINVAL, "login and password are required");
        snprintf(e.field, sizeof(e.field), "%s", login ? "password" : "login");
        goto problem;
    }
    client_address(r, addr, sizeof(addr));
    if ((rc = fl_ratelimit_check(r->srv->ratelimit, login, addr, now_ms(), &retry)) != 0) {
        rc = api_problemf(r, rc, NULL, "too many failed logins; try again in %lld s",
                          (long long)(retry + 999) / 1000);
        goto out;
    }
    pthread_mutex_lock(&r->srv->admin_lock);
    rc = fl_auth_check_password(r->srv->admin, login, password, &uid, &e);
    if (rc == 0)
        rc = fl_auth_session_create(r->srv->admin, uid, &r->srv->session, now_ms(), &sess, &e);
    pthread_mutex_unlock(&r->srv->admin_lock);
    fl_ratelimit_record(r->srv->ratelimit, login, addr, rc == 0, now_ms());
    if (rc != 0) {
        rc = api_problem_status(r, 401, "unauthenticated", "login failed",
                                "unknown login or wrong password");
        goto out;
    }
    snprintf(cookie, sizeof(cookie), SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict",
             sess.id);
    snprintf(r->set_cookie, sizeof(r->set_cookie), "%s", cookie);
    api_json_begin(r, 200);
    fl_buf_addc(&r->out, '{');
    api_jkey(&r->out, &f, "login");
    fl_json_cstring(&r->out, login);
    api_jkey(&r->out, &f, "csrf_token");
    fl_json_cstring(&r->out, sess.csrf);
    api_jkey(&r->out, &f, "expires_at");
    api_jtime(&r->out, sess.expires_at);
    fl_buf_addc(&r->out, '}');
    rc = API_DONE;
    goto out;
problem:
    rc = api_problem(r, rc, &e);
out:
    fl_value_unref(body);
    return rc;
}
