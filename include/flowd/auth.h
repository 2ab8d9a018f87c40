/* People and access: users (argon2id password hashes), roles, departments (a tree with
 * heads), API tokens and browser sessions (stored only as SHA-256 hashes of random
 * secrets), login rate limiting, and the record-level access rules every route applies.
 * The rules are pure functions over a struct fl_principal and store rows; list queries
 * apply the same rules in SQL when fl_task_query/fl_instance_query carry a viewer.
 * Times are Unix milliseconds and always come from the caller (tests inject a clock). */
#ifndef FLOWD_AUTH_H
#define FLOWD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/err.h"
#include "flowd/model.h"
#include "flowd/store.h"

/* ---- principal and record-level rules (pure: no I/O, thread-safe) ---- */

/* What a token may do; sessions of a person always have FL_SCOPE_ADMIN's reach limited by
 * the user's own admin flag (see fl_principal.scope). */
enum fl_scope {
    FL_SCOPE_NONE = 0,
    FL_SCOPE_READ = 1,  /* GET only */
    FL_SCOPE_WRITE = 2, /* commands on records the user may see */
    FL_SCOPE_ADMIN =
        3 /* also users, roles, departments, tokens, deployments (user must be admin) */
};

/* "read", "write", "admin"; NULL for anything else. */
const char *fl_scope_name(enum fl_scope s);

/* Parse "read" | "write" | "admin"; FL_EINVAL otherwise. */
int fl_scope_parse(const char *text, enum fl_scope *out);

/* Who is asking. Built by fl_auth_principal_load (or by hand in tests); every string and
 * list is owned by the principal and freed by fl_principal_release. */
struct fl_principal {
    uint64_t user_id;
    char *login;
    bool admin;
    uint64_t department_id;  /* 0 = none */
    struct fl_strlist roles; /* role names the user holds */
    enum fl_scope scope;     /* FL_SCOPE_ADMIN for a session; the token's scope otherwise */
    /* Logins of every user in a department this user heads or in any of its
     * sub-departments (the user's own login included when they are such a member). */
    struct fl_strlist managed_logins;
};

/* Zero *p (allocates nothing). */
void fl_principal_init(struct fl_principal *p);

/* Free what *p owns and zero it. NULL-safe. */
void fl_principal_release(struct fl_principal *p);

/* How much of a record a principal may see. NONE must answer 404 (never 403). */
enum fl_access {
    FL_ACCESS_NONE = 0,
    FL_ACCESS_READ = 1, /* RACI consulted/informed: see, not act */
    FL_ACCESS_WRITE = 2 /* may act on it (still subject to the principal's scope) */
};

/* Access of p to task t: admin all; WRITE when p is the assignee, a candidate user, holds a
 * candidate role, or heads (transitively) the department of a member the task belongs to
 * (its assignee, a candidate user, or who started or owns its instance:
 * t->instance_started_by, t->instance_owner); READ when p holds one of the task's watch
 * roles (stage RACI C/I); else NONE. Definition in docs/auth.md. */
enum fl_access fl_access_task(const struct fl_principal *p, const struct fl_task_row *t);

/* True when fl_access_task is not NONE. */
bool fl_access_task_visible(const struct fl_principal *p, const struct fl_task_row *t);

/* Access of p to instance i whose tasks (all of them, open and closed) are tasks[0..n):
 * admin all; WRITE when p started it, is its owner (variable "owner"), has WRITE on one of
 * its tasks, or heads (transitively) the department of who started or owns it; READ when
 * p has READ on one of its tasks; else NONE. Tasks of another instance are ignored. */
enum fl_access fl_access_instance(const struct fl_principal *p, const struct fl_instance_row *i,
                                  const struct fl_task_row *tasks, size_t n);

/* True when fl_access_instance is not NONE. */
bool fl_access_instance_visible(const struct fl_principal *p, const struct fl_instance_row *i,
                                const struct fl_task_row *tasks, size_t n);

/* True when a principal of this scope may use an HTTP method: read for GET/HEAD, write for
 * others, admin additionally needs p->admin (for admin routes: pass admin_route true). */
bool fl_scope_allows(const struct fl_principal *p, bool write, bool admin_route);

/* ---- password hashing (argon2id) ---- */

/* Cost of argon2id. Defaults (OWASP): t=2, m=19456 KiB, p=1. FLOWD_ARGON2_MEMORY_KIB and
 * FLOWD_ARGON2_ITERATIONS in the environment override them (tests use small values). */
struct fl_argon2_cost {
    uint32_t t_cost;
    uint32_t m_cost_kib;
    uint32_t parallelism;
};

/* Production defaults, then the environment overrides; values out of range are ignored. */
void fl_argon2_cost_default(struct fl_argon2_cost *c);

/* Hash password into an encoded "$argon2id$v=19$m=...,t=...,p=...$salt$hash" string with a
 * fresh 16-byte salt from getrandom(2). c NULL: fl_argon2_cost_default. Caller frees *out.
 * FL_EINVAL for an empty password or one over 1024 bytes; FL_EIO when no randomness. */
int fl_password_hash(const char *password, const struct fl_argon2_cost *c, char **out,
                     struct fl_error *err);

/* True when password matches encoded (constant time in the hash comparison). */
bool fl_password_verify(const char *encoded, const char *password);

/* A strong random password (20 characters, ~119 bits) for "user add" without one. Caller
 * frees. FL_EIO when no randomness. */
int fl_password_generate(char **out, struct fl_error *err);

/* Fill buf with n bytes from getrandom(2) (retries on EINTR). FL_EIO on failure. */
int fl_random_bytes(void *buf, size_t n, struct fl_error *err);

/* ---- people records (store operations; run on a writable store for writes) ---- */

struct fl_user_row {
    uint64_t id;
    char *login;
    char *display_name;  /* or NULL */
    char *email;         /* or NULL */
    char *password_hash; /* encoded argon2id, or NULL (no password login) */
    bool disabled, admin;
    uint64_t department_id; /* 0 = none */
    char *department;       /* department name, or NULL */
    struct fl_strlist roles;
    int64_t created_at;
};

void fl_user_row_release(struct fl_user_row *r);
void fl_user_rows_free(struct fl_user_row *rows, size_t n);

struct fl_user_new {
    const char *login;         /* 1..64 of [A-Za-z0-9._@-], required */
    const char *display_name;  /* may be NULL */
    const char *email;         /* may be NULL */
    const char *password_hash; /* encoded hash (fl_password_hash) or NULL */
    bool admin;
    const char *department;   /* name, or NULL; FL_ENOTFOUND when missing */
    const char *const *roles; /* names; each must exist (FL_ENOTFOUND) */
    size_t n_roles;
};

/* Insert a user; FL_ECONFLICT when the login exists, FL_EINVAL for a bad login. Wraps its
 * own transaction. Fills *id. */
int fl_auth_user_add(struct fl_store *s, const struct fl_user_new *u, int64_t now_ms, uint64_t *id,
                     struct fl_error *err);

/* Load a user by login (id 0) or id (login NULL), with roles. FL_ENOTFOUND. Caller releases. */
int fl_auth_user_get(struct fl_store *s, const char *login, uint64_t id, struct fl_user_row *out,
                     struct fl_error *err);

/* All users in login order, with roles. Caller frees. */
int fl_auth_user_list(struct fl_store *s, struct fl_user_row **rows, size_t *n,
                      struct fl_error *err);

/* Enable or disable a user (disabling also ends their sessions). FL_ENOTFOUND. */
int fl_auth_user_set_disabled(struct fl_store *s, const char *login, bool disabled,
                              struct fl_error *err);

/* Replace the password hash. FL_ENOTFOUND. */
int fl_auth_user_set_password(struct fl_store *s, const char *login, const char *password_hash,
                              struct fl_error *err);

struct fl_role_row {
    uint64_t id;
    char *name, *description;
};

void fl_role_rows_free(struct fl_role_row *rows, size_t n);

/* Add a role (name 1..64 of [A-Za-z0-9._-]); FL_ECONFLICT when it exists. */
int fl_auth_role_add(struct fl_store *s, const char *name, const char *description, uint64_t *id,
                     struct fl_error *err);

/* All roles in name order. Caller frees. */
int fl_auth_role_list(struct fl_store *s, struct fl_role_row **rows, size_t *n,
                      struct fl_error *err);

/* Give login role (idempotent). FL_ENOTFOUND for either. */
int fl_auth_user_grant_role(struct fl_store *s, const char *login, const char *role,
                            struct fl_error *err);

struct fl_department_row {
    uint64_t id;
    char *name;
    uint64_t parent_id;    /* 0 = top */
    uint64_t head_user_id; /* 0 = none */
    char *head_login;      /* or NULL */
};

void fl_department_rows_free(struct fl_department_row *rows, size_t n);

/* Add a department under parent (NULL = top) with head (login or NULL). FL_ECONFLICT when
 * the name exists, FL_ENOTFOUND when parent or head does not. */
int fl_auth_department_add(struct fl_store *s, const char *name, const char *parent,
                           const char *head, uint64_t *id, struct fl_error *err);

/* All departments, parents before children (then by name). Caller frees. */
int fl_auth_department_list(struct fl_store *s, struct fl_department_row **rows, size_t *n,
                            struct fl_error *err);

/* First start: when the database has no admin user (enabled or not), add login as an admin
 * with password (NULL: a generated one, returned once in *generated for the caller to
 * print; caller frees). *created false (and nothing written) when an admin exists, so
 * running it on every start is safe. FL_ECONFLICT when login exists as a user who is not
 * an admin (it is never promoted silently); FL_EINVAL for a bad login or password. */
int fl_auth_bootstrap_admin(struct fl_store *s, const char *login, const char *password,
                            int64_t now_ms, bool *created, char **generated, struct fl_error *err);

/* ---- principal loading ---- */

/* Build the principal of an enabled user: roles, department, managed logins (departments
 * they head, transitively). scope as given. FL_ENOTFOUND for a missing or disabled user
 * (the caller answers 401 without saying which). Caller releases *out. */
int fl_auth_principal_load(struct fl_store *s, uint64_t user_id, enum fl_scope scope,
                           struct fl_principal *out, struct fl_error *err);

/* ---- passwords: login ---- */

/* Check login and password: FL_ENOTFOUND for an unknown login, a disabled user, a user
 * without a password or a wrong password (one answer, so logins are not enumerable; an
 * unknown login still costs one hash). Fills *user_id on success. */
int fl_auth_check_password(struct fl_store *s, const char *login, const char *password,
                           uint64_t *user_id, struct fl_error *err);

/* ---- API tokens ---- */

#define FL_TOKEN_PREFIX "fl_"
#define FL_TOKEN_TEXT_MAX 64 /* "fl_" + 43 base64url characters + NUL fits */

struct fl_token_row {
    uint64_t id;
    char *name; /* or NULL */
    uint64_t user_id;
    char *login;
    enum fl_scope scope;
    int64_t created_at, last_used_at, revoked_at; /* 0 = never */
};

void fl_token_rows_free(struct fl_token_row *rows, size_t n);

/* Create a token for login with scope: 32 random bytes, returned once as
 * "fl_<base64url>" in text; only its SHA-256 is stored. An admin-scope token needs an
 * admin user (FL_EREFUSED). FL_ENOTFOUND for an unknown login. Fills *id. */
int fl_auth_token_create(struct fl_store *s, const char *login, const char *name,
                         enum fl_scope scope, int64_t now_ms, char text[FL_TOKEN_TEXT_MAX],
                         uint64_t *id, struct fl_error *err);

/* Verify a presented token: FL_ENOTFOUND when malformed, unknown, revoked or its user is
 * disabled. On success fills *user_id and *scope and records last_used_at (writable store
 * only; a read-only store skips it). The hash is compared in constant time. */
int fl_auth_token_verify(struct fl_store *s, const char *text, int64_t now_ms, uint64_t *user_id,
                         enum fl_scope *scope, struct fl_error *err);

/* Revoke token id (idempotent). FL_ENOTFOUND for an unknown id. */
int fl_auth_token_revoke(struct fl_store *s, uint64_t id, int64_t now_ms, struct fl_error *err);

/* Tokens of login (NULL = all), newest first, without secrets. Caller frees. */
int fl_auth_token_list(struct fl_store *s, const char *login, struct fl_token_row **rows, size_t *n,
                       struct fl_error *err);

/* ---- sessions ---- */

#define FL_SESSION_TEXT_MAX 64 /* base64url of 32 bytes + NUL */

struct fl_session_policy {
    int64_t idle_ms;     /* 0 = 30 minutes: ended after this long without use */
    int64_t absolute_ms; /* 0 = 12 hours: ended this long after login whatever the use */
};

/* A session as handed to the HTTP layer once: the id for the cookie and the CSRF token
 * for the page (both secrets; only the id's SHA-256 is stored). */
struct fl_session_new {
    char id[FL_SESSION_TEXT_MAX];
    char csrf[FL_SESSION_TEXT_MAX];
    int64_t expires_at; /* absolute end */
};

/* Start a session for user_id (after fl_auth_check_password). */
int fl_auth_session_create(struct fl_store *s, uint64_t user_id,
                           const struct fl_session_policy *pol, int64_t now_ms,
                           struct fl_session_new *out, struct fl_error *err);

/* Look a session id up: FL_ENOTFOUND when unknown, ended, idle too long or past its
 * absolute end, or its user is disabled. On success fills *user_id and the CSRF token
 * (csrf may be NULL) and slides the idle timeout. */
int fl_auth_session_check(struct fl_store *s, const char *id, const struct fl_session_policy *pol,
                          int64_t now_ms, uint64_t *user_id, char csrf[FL_SESSION_TEXT_MAX],
                          struct fl_error *err);

/* End a session (logout); unknown ids are not an error. */
int fl_auth_session_end(struct fl_store *s, const char *id, struct fl_error *err);

/* True when presented equals expected, in time independent of where they differ. */
bool fl_auth_secret_equal(const char *expected, const char *presented);

/* ---- login rate limiting (in memory, per process) ---- */

/* Sliding window of failed logins per login name and per client address: after
 * max_failures failures within window_ms further attempts are refused with FL_ETOOMANY until
 * the oldest of them leaves the window. A success clears the login's failures (not the
 * address's). Thread-safe (one mutex). Memory bounded: at most max_keys keys, the least
 * recently failed dropped first. */
struct fl_ratelimit;

struct fl_ratelimit_options {
    unsigned max_failures; /* 0 = 5 (at most 15) */
    int64_t window_ms;     /* 0 = 15 minutes */
    size_t max_keys;       /* 0 = 4096 (about 2.5 MB) */
};

/* Create a limiter (opt may be NULL). Caller frees. */
struct fl_ratelimit *fl_ratelimit_new(const struct fl_ratelimit_options *opt);
void fl_ratelimit_free(struct fl_ratelimit *rl);

/* May login from address try now? 0, or FL_ETOOMANY (HTTP 429) with *retry_after_ms (may be NULL)
 * set. login or address may be NULL (not checked). */
int fl_ratelimit_check(struct fl_ratelimit *rl, const char *login, const char *address,
                       int64_t now_ms, int64_t *retry_after_ms);

/* Record the outcome of an attempt. */
void fl_ratelimit_record(struct fl_ratelimit *rl, const char *login, const char *address,
                         bool success, int64_t now_ms);

#endif
