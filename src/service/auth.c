/* Secrets of people and access: argon2id password hashes (libargon2), random passwords,
 * API tokens and session ids (32 bytes from getrandom(2), given out once in base64url and
 * stored only as SHA-256 hex), their checks in constant time, and loading the principal a
 * request acts as. The store keeps the records (src/store/people.c); this file is the only
 * place that sees a secret in clear. */
#include <argon2.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "flowd/alloc.h"
#include "flowd/auth.h"
#include "flowd/sha256.h"
#include "store/store_impl.h"

#define PASSWORD_MAX 1024
#define SALT_LEN 16
#define HASH_LEN 32
#define SECRET_LEN 32

/* OWASP's argon2id minimum: 19 MiB, two passes, one lane. */
#define ARGON2_DEFAULT_T 2
#define ARGON2_DEFAULT_M_KIB 19456
#define ARGON2_DEFAULT_P 1

#define SESSION_IDLE_MS (30 * 60 * 1000LL)
#define SESSION_ABSOLUTE_MS (12 * 60 * 60 * 1000LL)
#define TOKEN_TOUCH_MS (60 * 1000LL)

int fl_random_bytes(void *buf, size_t n, struct fl_error *err)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return fl_error_set(err, FL_EIO, "no randomness: %s", strerror(errno));
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64url of n bytes into out (4*ceil(n/3) + 1 bytes at least). */
static void base64url(const unsigned char *in, size_t n, char *out)
{
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
    }
    out[o] = '\0';
}

/* A fresh secret as base64url text (43 characters for 32 bytes). */
static int new_secret(char *out, size_t size, struct fl_error *err)
{
    unsigned char raw[SECRET_LEN];
    char text[48];
    int rc = fl_random_bytes(raw, sizeof(raw), err);
    if (rc)
        return rc;
    base64url(raw, sizeof(raw), text);
    snprintf(out, size, "%s", text);
    memset(raw, 0, sizeof(raw));
    return 0;
}

bool fl_auth_secret_equal(const char *expected, const char *presented)
{
    size_t ne, np, i;
    unsigned char diff;
    if (!expected || !presented)
        return false;
    ne = strlen(expected);
    np = strlen(presented);
    /* Walk the expected length whatever is presented, so the time says nothing about
     * where the first difference is; a length mismatch only fails at the end. */
    diff = (unsigned char)(ne != np);
    for (i = 0; i < ne; i++)
        diff |= (unsigned char)(expected[i] ^ (i < np ? presented[i] : 0));
    return diff == 0;
}

static uint32_t env_u32(const char *name, uint32_t def, uint32_t lo, uint32_t hi)
{
    const char *v = getenv(name);
    char *end;
    unsigned long n;
    if (!v || !*v)
        return def;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || *end || n < lo || n > hi)
        return def;
    return (uint32_t)n;
}

void fl_argon2_cost_default(struct fl_argon2_cost *c)
{
    /* libargon2 wants at least 8 KiB per lane; a test value of 8..64 KiB keeps tests fast. */
    c->t_cost = env_u32("FLOWD_ARGON2_ITERATIONS", ARGON2_DEFAULT_T, 1, 16);
    c->m_cost_kib = env_u32("FLOWD_ARGON2_MEMORY_KIB", ARGON2_DEFAULT_M_KIB, 8, 4u << 20);
    c->parallelism = ARGON2_DEFAULT_P;
}

int fl_password_hash(const char *password, const struct fl_argon2_cost *c, char **out,
                     struct fl_error *err)
{
    struct fl_argon2_cost def;
    unsigned char salt[SALT_LEN];
    size_t len, enc_len;
    char *enc;
    int rc;
    *out = NULL;
    if (!password || !*password)
        return fl_error_set(err, FL_EINVAL, "empty password");
    len = strlen(password);
    if (len > PASSWORD_MAX)
        return fl_error_set(err, FL_EINVAL, "password longer than %d bytes", PASSWORD_MAX);
    if (!c) {
        fl_argon2_cost_default(&def);
        c = &def;
    }
    if ((rc = fl_random_bytes(salt, sizeof(salt), err)) != 0)
        return rc;
    enc_len =
        argon2_encodedlen(c->t_cost, c->m_cost_kib, c->parallelism, SALT_LEN, HASH_LEN, Argon2_id);
    enc = fl_malloc(enc_len);
    rc = argon2id_hash_encoded(c->t_cost, c->m_cost_kib, c->parallelism, password, len, salt,
                               SALT_LEN, HASH_LEN, enc, enc_len);
    if (rc != ARGON2_OK) {
        free(enc);
        if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
            return fl_error_set(err, FL_ENOMEM, "argon2: %s", argon2_error_message(rc));
        return fl_error_set(err, FL_EINVAL, "argon2: %s", argon2_error_message(rc));
    }
    *out = enc;
    return 0;
}

bool fl_password_verify(const char *encoded, const char *password)
{
    size_t len;
    if (!encoded || !password || strncmp(encoded, "$argon2id$", 10) != 0)
        return false;
    len = strlen(password);
    if (len == 0 || len > PASSWORD_MAX)
        return false;
    /* libargon2 compares the recomputed hash in constant time. */
    return argon2id_verify(encoded, password, len) == ARGON2_OK;
}

int fl_password_generate(char **out, struct fl_error *err)
{
    /* 20 symbols of 62 without modulo bias (reject bytes >= 248): about 119 bits. */
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char *p = fl_malloc(21);
    size_t got = 0;
    int rc = 0;
    while (got < 20) {
        unsigned char raw[32];
        if ((rc = fl_random_bytes(raw, sizeof(raw), err)) != 0)
            break;
        for (size_t i = 0; i < sizeof(raw) && got < 20; i++)
            if (raw[i] < 248)
                p[got++] = alphabet[raw[i] % 62];
    }
    if (rc) {
        free(p);
        *out = NULL;
        return rc;
    }
    p[20] = '\0';
    *out = p;
    return 0;
}

int fl_auth_check_password(struct fl_store *s, const char *login, const char *password,
                           uint64_t *user_id, struct fl_error *err)
{
    struct fl_user_row u;
    bool ok = false;
    int rc;
    *user_id = 0;
    if (!login || !password)
        return fl_error_set(err, FL_ENOTFOUND, "wrong login or password");
    rc = s->ops->user_get(s, login, 0, &u, NULL);
    if (rc == FL_ENOTFOUND || (rc == 0 && !u.password_hash)) {
        /* Spend what a real check spends, so timing does not tell which logins exist. */
        char *dummy = NULL;
        fl_password_hash("flowd-timing-equaliser", NULL, &dummy, NULL);
        free(dummy);
    } else if (rc) {
        return fl_error_set(err, rc, "cannot check password");
    } else {
        ok = fl_password_verify(u.password_hash, password) && !u.disabled;
        if (ok)
            *user_id = u.id;
    }
    fl_user_row_release(&u);
    if (!ok)
        return fl_error_set(err, FL_ENOTFOUND, "wrong login or password");
    return 0;
}

int fl_auth_bootstrap_admin(struct fl_store *s, const char *login, const char *password,
                            int64_t now_ms, bool *created, char **generated, struct fl_error *err)
{
    struct fl_user_new u = {.login = login, .admin = true};
    struct fl_user_row *rows = NULL;
    char *pw = NULL, *hash = NULL;
    uint64_t id;
    size_t n = 0;
    int rc;
    *created = false;
    if (generated)
        *generated = NULL;
    if ((rc = s->ops->user_list(s, &rows, &n, err)) != 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (rows[i].admin)
            rc = 1; /* an admin exists: nothing to do */
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (login && strcmp(rows[i].login, login) == 0)
            rc = fl_error_set(err, FL_ECONFLICT,
                              "user '%s' exists and is not an admin; make the first admin "
                              "with another login or 'flowd user add --admin'",
                              login);
    }
    fl_user_rows_free(rows, n);
    if (rc)
        return rc < 0 ? rc : 0;
    if (!password) {
        if (!generated)
            return fl_error_set(err, FL_EINVAL, "no password for the first admin");
        if ((rc = fl_password_generate(&pw, err)) != 0)
            return rc;
    }
    if ((rc = fl_password_hash(password ? password : pw, NULL, &hash, err)) == 0) {
        u.password_hash = hash;
        rc = fl_auth_user_add(s, &u, now_ms, &id, err);
    }
    free(hash);
    if (rc) {
        free(pw);
        return rc;
    }
    *created = true;
    if (generated)
        *generated = pw;
    return 0;
}

/* ---- principal ---- */

int fl_auth_principal_load(struct fl_store *s, uint64_t user_id, enum fl_scope scope,
                           struct fl_principal *out, struct fl_error *err)
{
    struct fl_user_row u;
    int rc;
    fl_principal_init(out);
    if ((rc = s->ops->user_get(s, NULL, user_id, &u, err)) != 0)
        return rc;
    if (u.disabled) {
        fl_user_row_release(&u);
        return fl_error_set(err, FL_ENOTFOUND, "user %llu not found", (unsigned long long)user_id);
    }
    out->user_id = u.id;
    out->login = u.login;
    u.login = NULL;
    out->admin = u.admin;
    out->department_id = u.department_id;
    out->roles = u.roles;
    u.roles.items = NULL;
    u.roles.n = 0;
    /* A token of admin scope held by someone who is no longer admin only reads/writes. */
    out->scope = scope == FL_SCOPE_ADMIN && !u.admin ? FL_SCOPE_WRITE : scope;
    fl_user_row_release(&u);
    if ((rc = s->ops->managed_logins(s, user_id, &out->managed_logins, err)) != 0)
        fl_principal_release(out);
    return rc;
}

/* ---- API tokens ---- */

static void secret_hash(const char *secret, char hex[65])
{
    fl_sha256_hex(secret, strlen(secret), hex);
}

int fl_auth_token_create(struct fl_store *s, const char *login, const char *name,
                         enum fl_scope scope, int64_t now_ms, char text[FL_TOKEN_TEXT_MAX],
                         uint64_t *id, struct fl_error *err)
{
    struct fl_user_row u;
    char secret[48], hash[65];
    int rc;
    *id = 0;
    text[0] = '\0';
    if (!fl_scope_name(scope))
        return fl_error_set(err, FL_EINVAL, "invalid token scope %d", (int)scope);
    if (name && strlen(name) > 128)
        return fl_error_set(err, FL_EINVAL, "token name longer than 128 bytes");
    if (!login)
        return fl_error_set(err, FL_EINVAL, "token needs a user");
    if ((rc = s->ops->user_get(s, login, 0, &u, err)) != 0)
        return rc;
    if (scope == FL_SCOPE_ADMIN && !u.admin)
        rc = fl_error_set(err, FL_EREFUSED, "user '%s' is not an admin: no admin token", login);
    else if (u.disabled)
        rc = fl_error_set(err, FL_EREFUSED, "user '%s' is disabled", login);
    if (rc == 0 && (rc = new_secret(secret, sizeof(secret), err)) == 0) {
        snprintf(text, FL_TOKEN_TEXT_MAX, FL_TOKEN_PREFIX "%s", secret);
        secret_hash(text, hash);
        rc = s->ops->token_insert(s, u.id, name, (int)scope, hash, now_ms, id, err);
        memset(secret, 0, sizeof(secret));
        if (rc)
            text[0] = '\0';
    }
    fl_user_row_release(&u);
    return rc;
}

int fl_auth_token_verify(struct fl_store *s, const char *text, int64_t now_ms, uint64_t *user_id,
                         enum fl_scope *scope, struct fl_error *err)
{
    struct fl__token_rec t;
    char hash[65];
    size_t len;
    int rc;
    *user_id = 0;
    *scope = FL_SCOPE_NONE;
    len = text ? strlen(text) : 0;
    if (len != strlen(FL_TOKEN_PREFIX) + 43 || strncmp(text, FL_TOKEN_PREFIX, 3) != 0)
        return fl_error_set(err, FL_ENOTFOUND, "invalid token");
    secret_hash(text, hash);
    if ((rc = s->ops->token_find(s, hash, &t, NULL)) != 0)
        return fl_error_set(err, rc == FL_ENOTFOUND ? FL_ENOTFOUND : rc, "invalid token");
    /* The lookup went by hash through an index; compare again in constant time so no
     * early-exit comparison of secret-derived bytes decides the answer. */
    if (!fl_auth_secret_equal(t.hash, hash) || t.revoked_at || t.user_disabled)
        return fl_error_set(err, FL_ENOTFOUND, "invalid token");
    *user_id = t.user_id;
    *scope = (enum fl_scope)t.scope;
    /* last_used_at is bookkeeping: a read-only or busy store must not fail the request,
     * and it is written at most once a minute so that a busy integration does not turn
     * every request into a write. */
    if (now_ms - t.last_used_at >= TOKEN_TOUCH_MS)
        s->ops->token_touch(s, t.id, now_ms, NULL);
    return 0;
}

int fl_auth_token_revoke(struct fl_store *s, uint64_t id, int64_t now_ms, struct fl_error *err)
{
    return s->ops->token_revoke(s, id, now_ms, err);
}

int fl_auth_token_list(struct fl_store *s, const char *login, struct fl_token_row **rows, size_t *n,
                       struct fl_error *err)
{
    return s->ops->token_list(s, login, rows, n, err);
}

/* ---- sessions ---- */

static void policy(const struct fl_session_policy *pol, int64_t *idle, int64_t *absolute)
{
    *idle = pol && pol->idle_ms > 0 ? pol->idle_ms : SESSION_IDLE_MS;
    *absolute = pol && pol->absolute_ms > 0 ? pol->absolute_ms : SESSION_ABSOLUTE_MS;
}

int fl_auth_session_create(struct fl_store *s, uint64_t user_id,
                           const struct fl_session_policy *pol, int64_t now_ms,
                           struct fl_session_new *out, struct fl_error *err)
{
    struct fl__session_rec r;
    int64_t idle, absolute;
    int rc;
    memset(out, 0, sizeof(*out));
    memset(&r, 0, sizeof(r));
    policy(pol, &idle, &absolute);
    if ((rc = new_secret(out->id, sizeof(out->id), err)) != 0 ||
        (rc = new_secret(out->csrf, sizeof(out->csrf), err)) != 0)
        goto fail;
    secret_hash(out->id, r.hash);
    snprintf(r.csrf, sizeof(r.csrf), "%s", out->csrf);
    r.user_id = user_id;
    r.created_at = r.last_seen_at = now_ms;
    r.expires_at = out->expires_at = now_ms + absolute;
    if ((rc = s->ops->session_insert(s, &r, err)) != 0)
        goto fail;
    return 0;
fail:
    memset(out, 0, sizeof(*out));
    return rc;
}

int fl_auth_session_check(struct fl_store *s, const char *id, const struct fl_session_policy *pol,
                          int64_t now_ms, uint64_t *user_id, char csrf[FL_SESSION_TEXT_MAX],
                          struct fl_error *err)
{
    struct fl__session_rec r;
    int64_t idle, absolute;
    char hash[65];
    int rc;
    *user_id = 0;
    if (csrf)
        csrf[0] = '\0';
    if (!id || strlen(id) != 43)
        return fl_error_set(err, FL_ENOTFOUND, "invalid session");
    policy(pol, &idle, &absolute);
    secret_hash(id, hash);
    if ((rc = s->ops->session_find(s, hash, &r, NULL)) != 0)
        return fl_error_set(err, rc == FL_ENOTFOUND ? FL_ENOTFOUND : rc, "invalid session");
    if (!fl_auth_secret_equal(r.hash, hash) || r.user_disabled)
        return fl_error_set(err, FL_ENOTFOUND, "invalid session");
    /* Both limits are checked against the stored times, so a policy tightened after
     * login applies to sessions already open. */
    if (now_ms >= r.expires_at || now_ms >= r.created_at + absolute ||
        now_ms >= r.last_seen_at + idle) {
        s->ops->session_delete(s, hash, NULL);
        return fl_error_set(err, FL_ENOTFOUND, "session expired");
    }
    *user_id = r.user_id;
    if (csrf)
        snprintf(csrf, FL_SESSION_TEXT_MAX, "%s", r.csrf);
    /* Sliding the idle timeout is a write: do it only when a tenth of the idle time (at
     * most a minute) has passed, so a page's burst of requests costs one write. The idle
     * limit is thereby enforced to within that step. */
    if (now_ms - r.last_seen_at >= (idle / 10 < TOKEN_TOUCH_MS ? idle / 10 : TOKEN_TOUCH_MS))
        s->ops->session_touch(s, hash, now_ms, NULL);
    return 0;
}

int fl_auth_session_end(struct fl_store *s, const char *id, struct fl_error *err)
{
    char hash[65];
    if (!id)
        return 0;
    secret_hash(id, hash);
    return s->ops->session_delete(s, hash, err);
}
