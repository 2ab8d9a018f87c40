/* People and access: argon2id hashing and verification, users (wrong password, disabled,
 * no password), API tokens (format, verify, tamper, revoke, scope), sessions (idle and
 * absolute expiry with an injected clock, logout, disabled user), the login rate limiter,
 * the department tree, and the record-level access matrix -- each role against real tasks
 * and instances made by the engine, through both the pure rules and the SQL lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/auth.h"
#include "flowd/service.h"
#include "flowd/store.h"
#include "flowd/value.h"
#include "svc_fixture.h"

static const struct fl_argon2_cost cheap = {.t_cost = 1, .m_cost_kib = 8, .parallelism = 1};

#define T0 1700000000000LL

struct db {
    char dir[64];
    char url[128];
    struct fl_store *s;
};

static int db_setup(void **state)
{
    struct db *d = calloc(1, sizeof(*d));
    struct fl_store_options o = {.create = true, .synchronous = 0, .synchronous_set = true};
    if (svc_tmpdir(d->dir))
        return -1;
    snprintf(d->url, sizeof(d->url), "sqlite:%s/t.db", d->dir);
    if (fl_store_open(d->url, &o, &d->s, NULL))
        return -1;
    /* Tests of the CLI's default cost would take seconds; the env override is tested below. */
    setenv("FLOWD_ARGON2_MEMORY_KIB", "8", 1);
    setenv("FLOWD_ARGON2_ITERATIONS", "1", 1);
    *state = d;
    return 0;
}

static int db_teardown(void **state)
{
    struct db *d = *state;
    fl_store_close(d->s);
    svc_rmdb(d->dir);
    free(d);
    return 0;
}

static uint64_t add_user(struct fl_store *s, const char *login, const char *password, bool admin,
                         const char *dept, const char *const *roles, size_t n_roles)
{
    struct fl_user_new u = {
        .login = login, .admin = admin, .department = dept, .roles = roles, .n_roles = n_roles};
    char *hash = NULL;
    uint64_t id = 0;
    struct fl_error e;
    fl_error_clear(&e);
    if (password)
        assert_int_equal(fl_password_hash(password, &cheap, &hash, NULL), 0);
    u.password_hash = hash;
    int rc = fl_auth_user_add(s, &u, T0, &id, &e);
    if (rc)
        fprintf(stderr, "user add %s: %s\n", login, e.msg);
    assert_int_equal(rc, 0);
    assert_true(id > 0);
    free(hash);
    return id;
}

/* ---- hashing ---- */

static void test_password_hash_verify(void **state)
{
    char *h1 = NULL, *h2 = NULL, *gen = NULL, *gen2 = NULL;
    struct fl_argon2_cost c;
    (void)state;
    assert_int_equal(fl_password_hash("correct horse", &cheap, &h1, NULL), 0);
    assert_int_equal(fl_password_hash("correct horse", &cheap, &h2, NULL), 0);
    assert_non_null(strstr(h1, "$argon2id$v=19$m=8,t=1,p=1$"));
    assert_string_not_equal(h1, h2); /* fresh salt each time */
    assert_true(fl_password_verify(h1, "correct horse"));
    assert_true(fl_password_verify(h2, "correct horse"));
    assert_false(fl_password_verify(h1, "correct horsE"));
    assert_false(fl_password_verify(h1, "correct hors"));
    assert_false(fl_password_verify(h1, ""));
    assert_false(fl_password_verify("plain", "plain"));
    assert_false(fl_password_verify(NULL, "x"));
    /* a tampered hash never verifies */
    h1[strlen(h1) - 2] = h1[strlen(h1) - 2] == 'A' ? 'B' : 'A';
    assert_false(fl_password_verify(h1, "correct horse"));
    free(h1);
    free(h2);
    assert_int_equal(fl_password_hash("", &cheap, &h1, NULL), FL_EINVAL);
    assert_null(h1);

    /* cost: production default, env override, nonsense ignored */
    unsetenv("FLOWD_ARGON2_MEMORY_KIB");
    unsetenv("FLOWD_ARGON2_ITERATIONS");
    fl_argon2_cost_default(&c);
    assert_int_equal(c.m_cost_kib, 19456);
    assert_int_equal(c.t_cost, 2);
    assert_int_equal(c.parallelism, 1);
    setenv("FLOWD_ARGON2_MEMORY_KIB", "64", 1);
    fl_argon2_cost_default(&c);
    assert_int_equal(c.m_cost_kib, 64);
    setenv("FLOWD_ARGON2_MEMORY_KIB", "64k", 1);
    fl_argon2_cost_default(&c);
    assert_int_equal(c.m_cost_kib, 19456);
    setenv("FLOWD_ARGON2_MEMORY_KIB", "2", 1);
    fl_argon2_cost_default(&c);
    assert_int_equal(c.m_cost_kib, 19456);
    unsetenv("FLOWD_ARGON2_MEMORY_KIB");

    assert_int_equal(fl_password_generate(&gen, NULL), 0);
    assert_int_equal(fl_password_generate(&gen2, NULL), 0);
    assert_int_equal(strlen(gen), 20);
    assert_int_equal(strspn(gen, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
                     20);
    assert_string_not_equal(gen, gen2);
    free(gen);
    free(gen2);

    assert_true(fl_auth_secret_equal("abc", "abc"));
    assert_false(fl_auth_secret_equal("abc", "abd"));
    assert_false(fl_auth_secret_equal("abc", "ab"));
    assert_false(fl_auth_secret_equal("abc", "abcd"));
    assert_false(fl_auth_secret_equal("abc", NULL));
}

/* ---- users ---- */

static void test_users(void **state)
{
    struct db *d = *state;
    struct fl_user_row u;
    struct fl_error e;
    uint64_t id, uid;
    const char *roles[] = {"sales_manager"};
    const char *bad_roles[] = {"nope"};
    struct fl_user_new dup = {.login = "ann"};
    struct fl_user_new badr = {.login = "zoe", .roles = bad_roles, .n_roles = 1};

    assert_int_equal(fl_auth_role_add(d->s, "sales_manager", "Sales", &id, NULL), 0);
    assert_int_equal(fl_auth_role_add(d->s, "sales_manager", NULL, &id, NULL), FL_ECONFLICT);
    assert_int_equal(fl_auth_role_add(d->s, "a,b", NULL, &id, NULL), FL_EINVAL);
    uid = add_user(d->s, "ann", "pw-ann", false, NULL, roles, 1);
    add_user(d->s, "nopass", NULL, false, NULL, NULL, 0);

    fl_error_clear(&e);
    assert_int_equal(fl_auth_user_add(d->s, &dup, T0, &id, &e), FL_ECONFLICT);
    assert_int_equal(fl_auth_user_add(d->s, &badr, T0, &id, NULL), FL_ENOTFOUND);
    /* the failed add left nothing behind */
    assert_int_equal(fl_auth_user_get(d->s, "zoe", 0, &u, NULL), FL_ENOTFOUND);
    struct fl_user_new bad_login = {.login = "ann smith"};
    assert_int_equal(fl_auth_user_add(d->s, &bad_login, T0, &id, &e), FL_EINVAL);
    assert_string_equal(e.field, "login");
    struct fl_user_new bad_dept = {.login = "dan", .department = "Nowhere"};
    assert_int_equal(fl_auth_user_add(d->s, &bad_dept, T0, &id, NULL), FL_ENOTFOUND);

    assert_int_equal(fl_auth_user_get(d->s, "ann", 0, &u, NULL), 0);
    assert_int_equal(u.id, uid);
    assert_int_equal(u.roles.n, 1);
    assert_string_equal(u.roles.items[0], "sales_manager");
    assert_false(u.admin);
    assert_int_equal(u.created_at, T0);
    fl_user_row_release(&u);

    assert_int_equal(fl_auth_check_password(d->s, "ann", "pw-ann", &id, NULL), 0);
    assert_int_equal(id, uid);
    assert_int_equal(fl_auth_check_password(d->s, "ann", "pw-Ann", &id, NULL), FL_ENOTFOUND);
    assert_int_equal(id, 0);
    assert_int_equal(fl_auth_check_password(d->s, "nobody", "pw-ann", &id, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_auth_check_password(d->s, "nopass", "", &id, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_auth_check_password(d->s, "nopass", "x", &id, NULL), FL_ENOTFOUND);

    /* disabled: no login, no principal; enabled again: both back */
    assert_int_equal(fl_auth_user_set_disabled(d->s, "ann", true, NULL), 0);
    assert_int_equal(fl_auth_check_password(d->s, "ann", "pw-ann", &id, NULL), FL_ENOTFOUND);
    struct fl_principal p;
    assert_int_equal(fl_auth_principal_load(d->s, uid, FL_SCOPE_WRITE, &p, NULL), FL_ENOTFOUND);
    fl_principal_release(&p);
    assert_int_equal(fl_auth_user_set_disabled(d->s, "ann", false, NULL), 0);
    assert_int_equal(fl_auth_check_password(d->s, "ann", "pw-ann", &id, NULL), 0);
    assert_int_equal(fl_auth_user_set_disabled(d->s, "ghost", true, NULL), FL_ENOTFOUND);

    /* new password */
    char *h = NULL;
    assert_int_equal(fl_password_hash("pw-new", &cheap, &h, NULL), 0);
    assert_int_equal(fl_auth_user_set_password(d->s, "ann", h, NULL), 0);
    free(h);
    assert_int_equal(fl_auth_check_password(d->s, "ann", "pw-ann", &id, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_auth_check_password(d->s, "ann", "pw-new", &id, NULL), 0);

    struct fl_user_row *rows;
    size_t n;
    assert_int_equal(fl_auth_user_list(d->s, &rows, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].login, "ann");
    assert_string_equal(rows[1].login, "nopass");
    fl_user_rows_free(rows, n);
}

static void test_bootstrap_admin(void **state)
{
    struct db *d = *state;
    struct fl_user_row u;
    bool created;
    char *pw = NULL;
    uint64_t id;

    assert_int_equal(fl_auth_bootstrap_admin(d->s, "admin", NULL, T0, &created, &pw, NULL), 0);
    assert_true(created);
    assert_non_null(pw);
    assert_int_equal(strlen(pw), 20);
    assert_int_equal(fl_auth_check_password(d->s, "admin", pw, &id, NULL), 0);
    assert_int_equal(fl_auth_user_get(d->s, "admin", 0, &u, NULL), 0);
    assert_true(u.admin);
    fl_user_row_release(&u);
    free(pw);
    /* second start: an admin exists, nothing happens */
    pw = NULL;
    assert_int_equal(fl_auth_bootstrap_admin(d->s, "other", "pw", T0, &created, &pw, NULL), 0);
    assert_false(created);
    assert_null(pw);
    assert_int_equal(fl_auth_user_get(d->s, "other", 0, &u, NULL), FL_ENOTFOUND);
}

/* Users without an admin (a demo loaded its people first): the admin is still made; an
 * existing non-admin login is refused, never promoted. */
static void test_bootstrap_admin_among_users(void **state)
{
    struct db *d = *state;
    struct fl_user_row u;
    bool created = true;
    char *pw = NULL;
    add_user(d->s, "ann", "pw", false, NULL, NULL, 0);
    assert_int_equal(fl_auth_bootstrap_admin(d->s, "ann", "pw2", T0, &created, NULL, NULL),
                     FL_ECONFLICT);
    assert_false(created);
    assert_int_equal(fl_auth_user_get(d->s, "ann", 0, &u, NULL), 0);
    assert_false(u.admin);
    fl_user_row_release(&u);
    assert_int_equal(fl_auth_bootstrap_admin(d->s, "boss", NULL, T0, &created, &pw, NULL), 0);
    assert_true(created);
    assert_non_null(pw);
    free(pw);
    pw = NULL;
    assert_int_equal(fl_auth_bootstrap_admin(d->s, "ann", "pw2", T0, &created, &pw, NULL), 0);
    assert_false(created);
    assert_null(pw);
}

static void test_bootstrap_admin_password(void **state)
{
    struct db *d = *state;
    bool created;
    uint64_t id;
    assert_int_equal(fl_auth_bootstrap_admin(d->s, "admin", NULL, T0, &created, NULL, NULL),
                     FL_EINVAL);
    assert_false(created);
    assert_int_equal(fl_auth_bootstrap_admin(d->s, "bad login", "pw", T0, &created, NULL, NULL),
                     FL_EINVAL);
    assert_int_equal(fl_auth_bootstrap_admin(d->s, "admin", "given pw", T0, &created, NULL, NULL),
                     0);
    assert_true(created);
    assert_int_equal(fl_auth_check_password(d->s, "admin", "given pw", &id, NULL), 0);
}

/* ---- tokens ---- */

static void test_tokens(void **state)
{
    struct db *d = *state;
    char text[FL_TOKEN_TEXT_MAX], admin_text[FL_TOKEN_TEXT_MAX], bad[FL_TOKEN_TEXT_MAX];
    uint64_t id, admin_id, uid, ann, root;
    enum fl_scope scope;
    struct fl_token_row *rows;
    size_t n;

    ann = add_user(d->s, "ann", "pw", false, NULL, NULL, 0);
    root = add_user(d->s, "root", "pw", true, NULL, NULL, 0);

    assert_int_equal(fl_auth_token_create(d->s, "ann", "ci", FL_SCOPE_WRITE, T0, text, &id, NULL),
                     0);
    assert_int_equal(strlen(text), 46);
    assert_memory_equal(text, "fl_", 3);
    assert_int_equal(
        strspn(text + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    /* admin scope only for admins; unknown users not at all */
    assert_int_equal(fl_auth_token_create(d->s, "ann", NULL, FL_SCOPE_ADMIN, T0, bad, &uid, NULL),
                     FL_EREFUSED);
    assert_string_equal(bad, "");
    assert_int_equal(fl_auth_token_create(d->s, "ghost", NULL, FL_SCOPE_READ, T0, bad, &uid, NULL),
                     FL_ENOTFOUND);
    assert_int_equal(
        fl_auth_token_create(d->s, "root", "ops", FL_SCOPE_ADMIN, T0, admin_text, &admin_id, NULL),
        0);
    assert_string_not_equal(text, admin_text);

    assert_int_equal(fl_auth_token_verify(d->s, text, T0 + 5, &uid, &scope, NULL), 0);
    assert_int_equal(uid, ann);
    assert_int_equal(scope, FL_SCOPE_WRITE);
    assert_int_equal(fl_auth_token_verify(d->s, admin_text, T0, &uid, &scope, NULL), 0);
    assert_int_equal(uid, root);
    assert_int_equal(scope, FL_SCOPE_ADMIN);

    /* one character changed, truncated, extended, no prefix: all unknown */
    strcpy(bad, text);
    bad[10] = bad[10] == 'a' ? 'b' : 'a';
    assert_int_equal(fl_auth_token_verify(d->s, bad, T0, &uid, &scope, NULL), FL_ENOTFOUND);
    assert_int_equal(uid, 0);
    assert_int_equal(scope, FL_SCOPE_NONE);
    strcpy(bad, text);
    bad[45] = '\0';
    assert_int_equal(fl_auth_token_verify(d->s, bad, T0, &uid, &scope, NULL), FL_ENOTFOUND);
    strcpy(bad, text);
    strcat(bad, "A");
    assert_int_equal(fl_auth_token_verify(d->s, bad, T0, &uid, &scope, NULL), FL_ENOTFOUND);
    strcpy(bad, text);
    memcpy(bad, "xx_", 3);
    assert_int_equal(fl_auth_token_verify(d->s, bad, T0, &uid, &scope, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_auth_token_verify(d->s, NULL, T0, &uid, &scope, NULL), FL_ENOTFOUND);

    /* listing shows use and never the secret */
    assert_int_equal(fl_auth_token_list(d->s, "ann", &rows, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, id);
    assert_string_equal(rows[0].name, "ci");
    assert_int_equal(rows[0].scope, FL_SCOPE_WRITE);
    assert_int_equal(rows[0].last_used_at, T0 + 5);
    assert_int_equal(rows[0].revoked_at, 0);
    fl_token_rows_free(rows, n);
    /* use is recorded at most once a minute */
    assert_int_equal(fl_auth_token_verify(d->s, text, T0 + 30000, &uid, &scope, NULL), 0);
    assert_int_equal(fl_auth_token_list(d->s, "ann", &rows, &n, NULL), 0);
    assert_int_equal(rows[0].last_used_at, T0 + 5);
    fl_token_rows_free(rows, n);
    assert_int_equal(fl_auth_token_verify(d->s, text, T0 + 60005, &uid, &scope, NULL), 0);
    assert_int_equal(fl_auth_token_list(d->s, "ann", &rows, &n, NULL), 0);
    assert_int_equal(rows[0].last_used_at, T0 + 60005);
    fl_token_rows_free(rows, n);

    /* a disabled owner's token stops working */
    assert_int_equal(fl_auth_user_set_disabled(d->s, "ann", true, NULL), 0);
    assert_int_equal(fl_auth_token_verify(d->s, text, T0, &uid, &scope, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_auth_user_set_disabled(d->s, "ann", false, NULL), 0);
    assert_int_equal(fl_auth_token_verify(d->s, text, T0, &uid, &scope, NULL), 0);

    /* revoked: refused for good; revoking twice is fine; unknown id is not found */
    assert_int_equal(fl_auth_token_revoke(d->s, id, T0 + 10, NULL), 0);
    assert_int_equal(fl_auth_token_verify(d->s, text, T0 + 11, &uid, &scope, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_auth_token_revoke(d->s, id, T0 + 20, NULL), 0);
    assert_int_equal(fl_auth_token_revoke(d->s, 999, T0, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_auth_token_list(d->s, NULL, &rows, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[1].id, id); /* newest first */
    assert_int_equal(rows[1].revoked_at, T0 + 10);
    fl_token_rows_free(rows, n);
    assert_int_equal(fl_auth_token_verify(d->s, admin_text, T0, &uid, &scope, NULL), 0);

    /* an admin token whose user lost admin acts with write scope at most */
    struct fl_principal p;
    assert_int_equal(fl_auth_principal_load(d->s, ann, FL_SCOPE_ADMIN, &p, NULL), 0);
    assert_int_equal(p.scope, FL_SCOPE_WRITE);
    assert_false(fl_scope_allows(&p, true, true));
    assert_true(fl_scope_allows(&p, true, false));
    fl_principal_release(&p);
    assert_int_equal(fl_auth_principal_load(d->s, root, FL_SCOPE_READ, &p, NULL), 0);
    assert_true(fl_scope_allows(&p, false, false));
    assert_false(fl_scope_allows(&p, true, false));
    assert_false(fl_scope_allows(&p, false, true));
    fl_principal_release(&p);
    assert_int_equal(fl_auth_principal_load(d->s, root, FL_SCOPE_ADMIN, &p, NULL), 0);
    assert_true(fl_scope_allows(&p, true, true));
    fl_principal_release(&p);

    assert_int_equal(fl_scope_parse("write", &scope), 0);
    assert_int_equal(scope, FL_SCOPE_WRITE);
    assert_int_equal(fl_scope_parse("root", &scope), FL_EINVAL);
    assert_string_equal(fl_scope_name(FL_SCOPE_ADMIN), "admin");
    assert_null(fl_scope_name((enum fl_scope)7));
}

/* ---- sessions ---- */

static void test_sessions(void **state)
{
    struct db *d = *state;
    struct fl_session_policy pol = {.idle_ms = 1000, .absolute_ms = 5000};
    struct fl_session_new s1, s2;
    char csrf[FL_SESSION_TEXT_MAX];
    uint64_t uid, ann;
    int64_t t;

    ann = add_user(d->s, "ann", "pw", false, NULL, NULL, 0);
    assert_int_equal(fl_auth_session_create(d->s, ann, &pol, T0, &s1, NULL), 0);
    assert_int_equal(strlen(s1.id), 43);
    assert_int_equal(strlen(s1.csrf), 43);
    assert_string_not_equal(s1.id, s1.csrf);
    assert_int_equal(s1.expires_at, T0 + 5000);

    assert_int_equal(fl_auth_session_check(d->s, s1.id, &pol, T0 + 999, &uid, csrf, NULL), 0);
    assert_int_equal(uid, ann);
    assert_string_equal(csrf, s1.csrf);
    /* used at +999: alive until +1999, not after */
    assert_int_equal(fl_auth_session_check(d->s, s1.id, &pol, T0 + 1998, &uid, NULL, NULL), 0);
    assert_int_equal(fl_auth_session_check(d->s, s1.id, &pol, T0 + 2998, &uid, NULL, NULL),
                     FL_ENOTFOUND);
    assert_int_equal(uid, 0);
    /* expired sessions are gone, even if asked at an earlier time again */
    assert_int_equal(fl_auth_session_check(d->s, s1.id, &pol, T0 + 1999, &uid, NULL, NULL),
                     FL_ENOTFOUND);

    /* absolute timeout: used every 900 ms, still ends at +5000 */
    assert_int_equal(fl_auth_session_create(d->s, ann, &pol, T0, &s2, NULL), 0);
    for (t = T0 + 900; t < T0 + 5000; t += 900)
        assert_int_equal(fl_auth_session_check(d->s, s2.id, &pol, t, &uid, NULL, NULL), 0);
    assert_int_equal(fl_auth_session_check(d->s, s2.id, &pol, T0 + 5000, &uid, NULL, NULL),
                     FL_ENOTFOUND);

    /* logout, tampering, a wrong-length id */
    assert_int_equal(fl_auth_session_create(d->s, ann, &pol, T0, &s2, NULL), 0);
    char bad[FL_SESSION_TEXT_MAX];
    strcpy(bad, s2.id);
    bad[0] = bad[0] == 'a' ? 'b' : 'a';
    assert_int_equal(fl_auth_session_check(d->s, bad, &pol, T0, &uid, NULL, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_auth_session_check(d->s, "short", &pol, T0, &uid, NULL, NULL),
                     FL_ENOTFOUND);
    assert_int_equal(fl_auth_session_check(d->s, s2.id, &pol, T0, &uid, NULL, NULL), 0);
    assert_int_equal(fl_auth_session_end(d->s, s2.id, NULL), 0);
    assert_int_equal(fl_auth_session_check(d->s, s2.id, &pol, T0, &uid, NULL, NULL), FL_ENOTFOUND);

    /* disabling a user ends their sessions; enabling does not revive them */
    assert_int_equal(fl_auth_session_create(d->s, ann, NULL, T0, &s2, NULL), 0);
    assert_int_equal(s2.expires_at, T0 + 12LL * 3600 * 1000);
    assert_int_equal(fl_auth_session_check(d->s, s2.id, NULL, T0 + 60000, &uid, NULL, NULL), 0);
    assert_int_equal(fl_auth_user_set_disabled(d->s, "ann", true, NULL), 0);
    assert_int_equal(fl_auth_user_set_disabled(d->s, "ann", false, NULL), 0);
    assert_int_equal(fl_auth_session_check(d->s, s2.id, NULL, T0 + 60001, &uid, NULL, NULL),
                     FL_ENOTFOUND);

    /* a new password ends the sessions opened with the old one */
    char *h = NULL;
    assert_int_equal(fl_auth_session_create(d->s, ann, NULL, T0, &s2, NULL), 0);
    assert_int_equal(fl_password_hash("new", &cheap, &h, NULL), 0);
    assert_int_equal(fl_auth_user_set_password(d->s, "ann", h, NULL), 0);
    assert_int_equal(fl_auth_user_set_password(d->s, "ghost", h, NULL), FL_ENOTFOUND);
    free(h);
    assert_int_equal(fl_auth_session_check(d->s, s2.id, NULL, T0 + 1, &uid, NULL, NULL),
                     FL_ENOTFOUND);

    /* a session of the idle step: a check inside the step writes nothing, yet the session
     * stays alive until idle after the last recorded use */
    struct fl_session_policy pol2 = {.idle_ms = 10000, .absolute_ms = 100000};
    assert_int_equal(fl_auth_session_create(d->s, ann, &pol2, T0, &s2, NULL), 0);
    assert_int_equal(fl_auth_session_check(d->s, s2.id, &pol2, T0 + 500, &uid, NULL, NULL), 0);
    assert_int_equal(fl_auth_session_check(d->s, s2.id, &pol2, T0 + 9999, &uid, NULL, NULL), 0);
    assert_int_equal(fl_auth_session_check(d->s, s2.id, &pol2, T0 + 19998, &uid, NULL, NULL), 0);
    assert_int_equal(fl_auth_session_check(d->s, s2.id, &pol2, T0 + 29998, &uid, NULL, NULL),
                     FL_ENOTFOUND);
}

/* ---- rate limit ---- */

static void test_ratelimit(void **state)
{
    struct fl_ratelimit_options o = {.max_failures = 5, .window_ms = 15 * 60000};
    struct fl_ratelimit *rl = fl_ratelimit_new(&o);
    int64_t retry;
    int i;
    (void)state;

    for (i = 0; i < 5; i++) {
        assert_int_equal(fl_ratelimit_check(rl, "ann", "10.0.0.1", T0 + i * 1000, &retry), 0);
        assert_int_equal(retry, 0);
        fl_ratelimit_record(rl, "ann", "10.0.0.1", false, T0 + i * 1000);
    }
    /* sixth attempt refused until the first failure is 15 minutes old */
    assert_int_equal(fl_ratelimit_check(rl, "ann", NULL, T0 + 5000, &retry), FL_ETOOMANY);
    assert_int_equal(retry, 15 * 60000 - 5000);
    assert_int_equal(fl_err_http_status(FL_ETOOMANY), 429);
    assert_string_equal(fl_err_name(FL_ETOOMANY), "TOOMANY");
    assert_int_equal(fl_ratelimit_check(rl, NULL, "10.0.0.1", T0 + 5000, &retry), FL_ETOOMANY);
    /* another login from another address is not affected */
    assert_int_equal(fl_ratelimit_check(rl, "bob", "10.0.0.2", T0 + 5000, &retry), 0);
    /* the same address trying another login is */
    assert_int_equal(fl_ratelimit_check(rl, "bob", "10.0.0.1", T0 + 5000, &retry), FL_ETOOMANY);
    /* the window slides: one failure left it, one attempt allowed */
    assert_int_equal(fl_ratelimit_check(rl, "ann", "10.0.0.1", T0 + 15 * 60000, &retry), 0);
    fl_ratelimit_record(rl, "ann", "10.0.0.1", false, T0 + 15 * 60000);
    assert_int_equal(fl_ratelimit_check(rl, "ann", NULL, T0 + 15 * 60000 + 1, &retry), FL_ETOOMANY);
    assert_int_equal(retry, 1000 - 1);
    /* a success clears the login's failures, not the address's */
    fl_ratelimit_record(rl, "ann", "10.0.0.1", true, T0 + 15 * 60000 + 2);
    assert_int_equal(fl_ratelimit_check(rl, "ann", NULL, T0 + 15 * 60000 + 3, &retry), 0);
    assert_int_equal(fl_ratelimit_check(rl, NULL, "10.0.0.1", T0 + 15 * 60000 + 3, &retry),
                     FL_ETOOMANY);
    fl_ratelimit_free(rl);

    /* bounded memory: many addresses, few keys; the newest keep their count */
    struct fl_ratelimit_options small = {.max_failures = 2, .window_ms = 60000, .max_keys = 4};
    rl = fl_ratelimit_new(&small);
    for (i = 0; i < 50; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "192.0.2.%d", i);
        fl_ratelimit_record(rl, NULL, addr, false, T0 + i);
        fl_ratelimit_record(rl, NULL, addr, false, T0 + i);
    }
    assert_int_equal(fl_ratelimit_check(rl, NULL, "192.0.2.49", T0 + 100, &retry), FL_ETOOMANY);
    assert_int_equal(fl_ratelimit_check(rl, NULL, "192.0.2.0", T0 + 100, &retry), 0);
    fl_ratelimit_free(rl);
    fl_ratelimit_free(NULL);
}

/* ---- departments ---- */

static bool has(const struct fl_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return true;
    return false;
}

static void test_departments(void **state)
{
    struct db *d = *state;
    struct fl_department_row *rows;
    struct fl_principal p;
    uint64_t id, sally, eva, otto;
    size_t n;

    sally = add_user(d->s, "sally", "pw", false, NULL, NULL, 0);
    eva = add_user(d->s, "eva", "pw", false, NULL, NULL, 0);
    assert_int_equal(fl_auth_department_add(d->s, "Sales", NULL, "sally", &id, NULL), 0);
    assert_int_equal(fl_auth_department_add(d->s, "Sales EU", "Sales", "eva", &id, NULL), 0);
    assert_int_equal(fl_auth_department_add(d->s, "Sales DE", "Sales EU", NULL, &id, NULL), 0);
    assert_int_equal(fl_auth_department_add(d->s, "Ops", NULL, NULL, &id, NULL), 0);
    assert_int_equal(fl_auth_department_add(d->s, "Ops", NULL, NULL, &id, NULL), FL_ECONFLICT);
    assert_int_equal(fl_auth_department_add(d->s, "X", "Nowhere", NULL, &id, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_auth_department_add(d->s, "Y", NULL, "ghost", &id, NULL), FL_ENOTFOUND);
    assert_int_equal(fl_auth_department_add(d->s, "", NULL, NULL, &id, NULL), FL_EINVAL);
    add_user(d->s, "ed", "pw", false, "Sales DE", NULL, 0);
    add_user(d->s, "sam", "pw", false, "Sales", NULL, 0);
    otto = add_user(d->s, "otto", "pw", false, "Ops", NULL, 0);

    assert_int_equal(fl_auth_department_list(d->s, &rows, &n, NULL), 0);
    assert_int_equal(n, 4);
    /* parents before children */
    assert_string_equal(rows[0].name, "Ops");
    assert_string_equal(rows[1].name, "Sales");
    assert_string_equal(rows[1].head_login, "sally");
    assert_string_equal(rows[2].name, "Sales EU");
    assert_int_equal(rows[2].parent_id, rows[1].id);
    assert_string_equal(rows[3].name, "Sales DE");
    assert_null(rows[3].head_login);
    fl_department_rows_free(rows, n);

    /* the head of the top sees every level below; the sub-head not the level above */
    assert_int_equal(fl_auth_principal_load(d->s, sally, FL_SCOPE_WRITE, &p, NULL), 0);
    assert_int_equal(p.managed_logins.n, 2);
    assert_true(has(&p.managed_logins, "ed"));
    assert_true(has(&p.managed_logins, "sam"));
    fl_principal_release(&p);
    assert_int_equal(fl_auth_principal_load(d->s, eva, FL_SCOPE_WRITE, &p, NULL), 0);
    assert_int_equal(p.managed_logins.n, 1);
    assert_true(has(&p.managed_logins, "ed"));
    fl_principal_release(&p);
    /* one who heads nothing manages nobody */
    assert_int_equal(fl_auth_principal_load(d->s, otto, FL_SCOPE_WRITE, &p, NULL), 0);
    assert_int_equal(p.managed_logins.n, 0);
    fl_principal_release(&p);
}

/* ---- the access matrix ---- */

#define MATRIX_XML                                                                                 \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                 \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\""                 \
    " xmlns:camunda=\"http://camunda.org/schema/1.0/bpmn\""                                        \
    " xmlns:flowd=\"https://flowd.dev/schema/bpmn/1.0\" id=\"d\" targetNamespace=\"t\">\n"         \
    "  <bpmn:process id=\"review\" isExecutable=\"true\">\n"                                       \
    "    <bpmn:startEvent id=\"s\"/>\n"                                                            \
    "    <bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"rv\"/>\n"                        \
    "    <bpmn:userTask id=\"rv\" name=\"Review\" camunda:assignee=\"=who\""                       \
    " camunda:candidateGroups=\"sales_manager\">\n"                                                \
    "      <bpmn:extensionElements><flowd:stage><flowd:raci responsible=\"sales_manager\""         \
    " accountable=\"head_of_sales\" consulted=\"lawyer\" informed=\"auditor\"/>"                   \
    "</flowd:stage></bpmn:extensionElements>\n"                                                    \
    "    </bpmn:userTask>\n"                                                                       \
    "    <bpmn:sequenceFlow id=\"f2\" sourceRef=\"rv\" targetRef=\"e\"/>\n"                        \
    "    <bpmn:endEvent id=\"e\"/>\n"                                                              \
    "  </bpmn:process>\n"                                                                          \
    "  <bpmn:process id=\"book\" isExecutable=\"true\">\n"                                         \
    "    <bpmn:startEvent id=\"s2\"/>\n"                                                           \
    "    <bpmn:sequenceFlow id=\"g1\" sourceRef=\"s2\" targetRef=\"bk\"/>\n"                       \
    "    <bpmn:userTask id=\"bk\" name=\"Book\" camunda:candidateGroups=\"accountant\""            \
    " camunda:candidateUsers=\"cuz\"/>\n"                                                          \
    "    <bpmn:sequenceFlow id=\"g2\" sourceRef=\"bk\" targetRef=\"e2\"/>\n"                       \
    "    <bpmn:endEvent id=\"e2\"/>\n"                                                             \
    "  </bpmn:process>\n"                                                                          \
    "</bpmn:definitions>\n"

static int64_t clock_t0(void)
{
    return T0;
}

static uint64_t start(struct fl_service *svc, const char *key, const char *actor,
                      const char *vars_json, uint64_t *task)
{
    struct fl_value *vars = NULL;
    struct fl_result res;
    struct fl_command c = {.kind = FL_CMD_START, .process_key = key, .actor = actor};
    if (vars_json)
        assert_int_equal(fl_value_from_json(vars_json, strlen(vars_json), &vars, NULL), 0);
    c.variables = vars;
    int rc = fl_service_run(svc, &c, &res);
    if (rc || res.rc)
        fprintf(stderr, "start %s: %s\n", key, res.err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(res.rc, 0);
    if (vars)
        fl_value_unref(vars);
    *task = res.task_id;
    assert_true(*task > 0);
    return res.instance_id;
}

/* Bit i set: record i visible. */
static unsigned tasks_visible_sql(struct fl_store *s, const struct fl_principal *p,
                                  const uint64_t *ids, size_t n_ids)
{
    struct fl_task_query q = {.viewer = p};
    struct fl_task_row *rows;
    unsigned mask = 0;
    size_t n;
    assert_int_equal(fl_store_task_list(s, &q, &rows, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n_ids; k++)
            if (rows[i].id == ids[k])
                mask |= 1u << k;
    fl_task_rows_free(rows, n);
    return mask;
}

static unsigned instances_visible_sql(struct fl_store *s, const struct fl_principal *p,
                                      const uint64_t *ids, size_t n_ids)
{
    struct fl_instance_query q = {.viewer = p};
    struct fl_instance_row *rows;
    unsigned mask = 0;
    size_t n;
    assert_int_equal(fl_store_instance_list(s, &q, &rows, &n, NULL), 0);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n_ids; k++)
            if (rows[i].id == ids[k])
                mask |= 1u << k;
    fl_instance_rows_free(rows, n);
    return mask;
}

struct expect {
    const char *login;
    /* per record (tasks T1..T3, instances I1..I3): 0 none, 1 read, 2 write */
    int task[3], inst[3];
};

static void test_access_matrix(void **state)
{
    struct db *d = *state;
    struct fl_service_options o = {
        .db_url = d->url, .synchronous = 0, .synchronous_set = true, .clock_ms = clock_t0};
    struct fl_service *svc = NULL;
    struct fl_deploy_result dr[2];
    uint64_t tid[3], iid[3], id;
    size_t n;
    const char *sm[] = {"sales_manager"}, *law[] = {"lawyer"}, *aud[] = {"auditor"},
               *acc[] = {"accountant"};

    /* Sales (sally) > Sales EU (eva) > [ed]; Sales: [sam]; Ops (oscar): [otto] */
    add_user(d->s, "sally", NULL, false, NULL, NULL, 0);
    add_user(d->s, "eva", NULL, false, NULL, NULL, 0);
    add_user(d->s, "oscar", NULL, false, NULL, NULL, 0);
    assert_int_equal(fl_auth_department_add(d->s, "Sales", NULL, "sally", &id, NULL), 0);
    assert_int_equal(fl_auth_department_add(d->s, "Sales EU", "Sales", "eva", &id, NULL), 0);
    assert_int_equal(fl_auth_department_add(d->s, "Ops", NULL, "oscar", &id, NULL), 0);
    assert_int_equal(fl_auth_role_add(d->s, "sales_manager", NULL, &id, NULL), 0);
    assert_int_equal(fl_auth_role_add(d->s, "lawyer", NULL, &id, NULL), 0);
    assert_int_equal(fl_auth_role_add(d->s, "auditor", NULL, &id, NULL), 0);
    assert_int_equal(fl_auth_role_add(d->s, "accountant", NULL, &id, NULL), 0);
    add_user(d->s, "ed", NULL, false, "Sales EU", NULL, 0); /* executor (assignee) */
    add_user(d->s, "sam", NULL, false, "Sales", NULL, 0);   /* executor in the top dept */
    add_user(d->s, "cara", NULL, false, "Ops", sm, 1);      /* candidate by role */
    add_user(d->s, "cuz", NULL, false, NULL, NULL, 0);      /* candidate by name */
    add_user(d->s, "lars", NULL, false, NULL, law, 1);      /* consulted */
    add_user(d->s, "ida", NULL, false, NULL, aud, 1);       /* informed */
    add_user(d->s, "acct", NULL, false, NULL, acc, 1);      /* candidate role of T3 */
    add_user(d->s, "starter", NULL, false, NULL, NULL, 0);  /* started I1 */
    add_user(d->s, "olga", NULL, false, NULL, NULL, 0);     /* owner of I1 */
    add_user(d->s, "otto", NULL, false, "Ops", NULL, 0);    /* stranger in a dept */
    add_user(d->s, "root", NULL, true, NULL, NULL, 0);      /* admin */
    add_user(d->s, "nobody", NULL, false, NULL, NULL, 0);   /* stranger */

    assert_int_equal(fl_service_open(&o, &svc, NULL), 0);
    assert_int_equal(fl_service_deploy(svc, MATRIX_XML, strlen(MATRIX_XML), dr, 2, &n, NULL), 0);
    assert_int_equal(n, 2);
    /* I1: review by ed, started by starter, owned by olga; I2: review by sam, started by
     * sam; I3: book (accountant or cuz), started by ed */
    iid[0] = start(svc, "review", "starter", "{\"who\":\"ed\",\"owner\":\"olga\"}", &tid[0]);
    iid[1] = start(svc, "review", "sam", "{\"who\":\"sam\"}", &tid[1]);
    iid[2] = start(svc, "book", "ed", NULL, &tid[2]);
    fl_service_close(svc);

    static const struct expect matrix[] = {
        /*            T1 T2 T3     I1 I2 I3 */
        {"ed", {2, 0, 0}, {2, 0, 2}},      /* assignee of T1, started I3 */
        {"sam", {0, 2, 0}, {0, 2, 0}},     /* assignee of T2, started I2 */
        {"cara", {2, 2, 0}, {2, 2, 0}},    /* candidate role sales_manager */
        {"cuz", {0, 0, 2}, {0, 0, 2}},     /* candidate user of T3 */
        {"acct", {0, 0, 2}, {0, 0, 2}},    /* candidate role accountant */
        {"sally", {2, 2, 2}, {2, 2, 2}},   /* head of Sales: ed (sub-dept) and sam; T3 is
                                            * for accountants only, but ed started I3 */
        {"eva", {2, 0, 2}, {2, 0, 2}},     /* head of Sales EU: ed only (T3: I3 is his) */
        {"oscar", {0, 0, 0}, {0, 0, 0}},   /* head of Ops: cara's department, no tasks */
        {"lars", {1, 1, 0}, {1, 1, 0}},    /* consulted: read only */
        {"ida", {1, 1, 0}, {1, 1, 0}},     /* informed: read only */
        {"starter", {0, 0, 0}, {2, 0, 0}}, /* started I1 */
        {"olga", {0, 0, 0}, {2, 0, 0}},    /* owner of I1 */
        {"root", {2, 2, 2}, {2, 2, 2}},    /* admin */
        {"otto", {0, 0, 0}, {0, 0, 0}},    /* stranger in a department */
        {"nobody", {0, 0, 0}, {0, 0, 0}},  /* stranger */
    };

    struct fl_task_row *all_tasks;
    struct fl_instance_row inst[3];
    size_t n_tasks;
    struct fl_task_query tq = {0};
    assert_int_equal(fl_store_task_list(d->s, &tq, &all_tasks, &n_tasks, NULL), 0);
    assert_int_equal(n_tasks, 3);
    assert_string_equal(all_tasks[0].watch_roles, "lawyer,auditor");
    assert_null(all_tasks[2].watch_roles);
    for (int i = 0; i < 3; i++)
        assert_int_equal(fl_store_instance_get(d->s, iid[i], &inst[i], NULL), 0);
    assert_string_equal(inst[0].started_by, "starter");
    assert_string_equal(inst[0].owner, "olga");
    assert_null(inst[1].owner);
    assert_string_equal(inst[2].started_by, "ed");

    for (size_t m = 0; m < sizeof(matrix) / sizeof(matrix[0]); m++) {
        const struct expect *x = &matrix[m];
        struct fl_user_row u;
        struct fl_principal p;
        unsigned want_t = 0, want_i = 0;
        assert_int_equal(fl_auth_user_get(d->s, x->login, 0, &u, NULL), 0);
        assert_int_equal(fl_auth_principal_load(d->s, u.id, FL_SCOPE_WRITE, &p, NULL), 0);
        fl_user_row_release(&u);
        for (int k = 0; k < 3; k++) {
            enum fl_access a = fl_access_task(&p, &all_tasks[k]);
            if ((int)a != x->task[k])
                fail_msg("%s: task T%d access %d, expected %d", x->login, k + 1, (int)a,
                         x->task[k]);
            a = fl_access_instance(&p, &inst[k], &all_tasks[k], 1);
            if ((int)a != x->inst[k])
                fail_msg("%s: instance I%d access %d, expected %d", x->login, k + 1, (int)a,
                         x->inst[k]);
            assert_int_equal(fl_access_task_visible(&p, &all_tasks[k]), x->task[k] != 0);
            assert_int_equal(fl_access_instance_visible(&p, &inst[k], &all_tasks[k], 1),
                             x->inst[k] != 0);
            if (x->task[k])
                want_t |= 1u << k;
            if (x->inst[k])
                want_i |= 1u << k;
        }
        /* the SQL lists apply the same rules */
        unsigned got_t = tasks_visible_sql(d->s, &p, tid, 3);
        unsigned got_i = instances_visible_sql(d->s, &p, iid, 3);
        if (got_t != want_t)
            fail_msg("%s: task list %#x, expected %#x", x->login, got_t, want_t);
        if (got_i != want_i)
            fail_msg("%s: instance list %#x, expected %#x", x->login, got_i, want_i);
        fl_principal_release(&p);
    }

    /* tasks of another instance never widen access to this one */
    {
        struct fl_principal p;
        struct fl_user_row u;
        assert_int_equal(fl_auth_user_get(d->s, "cuz", 0, &u, NULL), 0);
        assert_int_equal(fl_auth_principal_load(d->s, u.id, FL_SCOPE_READ, &p, NULL), 0);
        fl_user_row_release(&u);
        assert_int_equal(fl_access_instance(&p, &inst[0], all_tasks, n_tasks), FL_ACCESS_NONE);
        assert_int_equal(fl_access_task(NULL, &all_tasks[0]), FL_ACCESS_NONE);
        fl_principal_release(&p);
    }
    /* a viewer filter combines with the other filters */
    {
        struct fl_principal p;
        struct fl_user_row u;
        struct fl_task_row *rows;
        assert_int_equal(fl_auth_user_get(d->s, "sally", 0, &u, NULL), 0);
        assert_int_equal(fl_auth_principal_load(d->s, u.id, FL_SCOPE_READ, &p, NULL), 0);
        fl_user_row_release(&u);
        struct fl_task_query q2 = {.viewer = &p, .instance_id = iid[1], .open_only = true};
        assert_int_equal(fl_store_task_list(d->s, &q2, &rows, &n, NULL), 0);
        assert_int_equal(n, 1);
        assert_int_equal(rows[0].id, tid[1]);
        fl_task_rows_free(rows, n);
        fl_principal_release(&p);
    }
    fl_task_rows_free(all_tasks, n_tasks);
    for (int i = 0; i < 3; i++)
        fl_instance_row_release(&inst[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_hash_verify),
        cmocka_unit_test_setup_teardown(test_users, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap_admin, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap_admin_password, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap_admin_among_users, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_tokens, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_sessions, db_setup, db_teardown),
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test_setup_teardown(test_departments, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_access_matrix, db_setup, db_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
