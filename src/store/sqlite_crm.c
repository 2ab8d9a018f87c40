/* SQLite back end of CRM records (flowd/crm.h): one table per record type whose columns
 * follow the type's field table, an FTS5 index per searchable type kept in step in the
 * same transaction as the row, and the record-level rules of docs/auth.md as a fixed SQL
 * fragment. Statements are built once per type (and per filter combination) from the
 * constant field names and cached on the connection; values are always bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/auth.h"
#include "flowd/crm.h"
#include "store/sqlite_int.h"

#define FAIL_CODE(err) ((err) ? (err)->code : FL_ESTORE)

/* Viewer parameters, as in sqlite_read.c: ?10 login, ?11 user id. */
#define CRM_MANAGED_CTE                                                                            \
    "WITH RECURSIVE managed(id) AS (SELECT id FROM departments WHERE head_user_id = ?11"           \
    " UNION SELECT d.id FROM departments d JOIN managed m ON d.parent_id = m.id) "

static bool restricted(const struct fl_principal *p)
{
    return p && !p->admin;
}

static bool searchable(enum fl_crm_type t)
{
    return t != FL_CRM_ACTIVITY;
}

static const char *column(const struct fl_crm_field *f)
{
    return f->kind == FL_CRMK_DEPARTMENT ? "department_id" : f->name;
}

static bool numeric(enum fl_crm_kind k)
{
    return k == FL_CRMK_TIME || k == FL_CRMK_INT || k == FL_CRMK_REF || k == FL_CRMK_INSTANCE ||
           k == FL_CRMK_DEPARTMENT;
}

/* Who may see a record of type t in table alias a (the owner, heads of the owner's
 * department and those above, for deals heads of the deal's department); activities are
 * visible when the record they are on is. */
static void add_visible(struct fl_buf *b, enum fl_crm_type t, const char *a)
{
    if (t == FL_CRM_ACTIVITY) {
        fl_buf_addf(b, "(CASE %s.subject_type", a);
        for (int k = 0; k < FL_CRM_ACTIVITY; k++) {
            const struct fl_crm_type_desc *d = fl_crm_type_get((enum fl_crm_type)k);
            fl_buf_addf(b,
                        " WHEN '%s' THEN EXISTS (SELECT 1 FROM %s s WHERE s.id = %s.subject_id"
                        " AND ",
                        d->name, d->plural, a);
            add_visible(b, (enum fl_crm_type)k, "s");
            fl_buf_addc(b, ')');
        }
        fl_buf_adds(b, " ELSE 0 END)");
        return;
    }
    fl_buf_addf(b,
                "(%s.owner = ?10 OR %s.owner IN (SELECT mu.login FROM users mu"
                " WHERE mu.department_id IN managed)",
                a, a);
    if (t == FL_CRM_DEAL)
        fl_buf_addf(b, " OR %s.department_id IN managed", a);
    fl_buf_addc(b, ')');
}

static void bind_viewer(sqlite3_stmt *st, const struct fl_principal *p)
{
    sqlite3_bind_text(st, 10, p->login ? p->login : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)p->user_id);
}

static void add_columns(struct fl_buf *b, const struct fl_crm_type_desc *d)
{
    fl_buf_adds(b, "SELECT r.id");
    for (size_t i = 0; i < d->n_fields; i++) {
        if (d->fields[i].kind == FL_CRMK_DEPARTMENT)
            fl_buf_adds(b, ", r.department_id,"
                           " (SELECT name FROM departments WHERE id = r.department_id)");
        else
            fl_buf_addf(b, ", r.%s", d->fields[i].name);
    }
    fl_buf_addf(b, ", r.created_by, r.created_at, r.updated_at FROM %s r", d->plural);
}

static void read_record(sqlite3_stmt *st, enum fl_crm_type t, struct fl_crm_record *rec)
{
    const struct fl_crm_type_desc *d = fl_crm_type_get(t);
    int c = 1;
    fl_crm_record_init(rec, t);
    rec->id = (uint64_t)sqlite3_column_int64(st, 0);
    for (size_t i = 0; i < d->n_fields; i++, c++) {
        struct fl_crm_value *v = &rec->values[i];
        enum fl_crm_kind k = d->fields[i].kind;
        v->set = sqlite3_column_type(st, c) != SQLITE_NULL;
        if (numeric(k))
            v->num = sqlite3_column_int64(st, c);
        else
            v->text = fl__sq_col_text(st, c);
        if (k == FL_CRMK_DEPARTMENT)
            v->text = fl__sq_col_text(st, ++c);
    }
    rec->created_by = fl__sq_col_text(st, c);
    rec->created_at = sqlite3_column_int64(st, c + 1);
    rec->updated_at = sqlite3_column_int64(st, c + 2);
}

/* The cached statement of slot, built by build() on first use. */
static sqlite3_stmt *cached(struct fl_sqlite *q, enum fl_crm_type t, int slot,
                            void (*build)(struct fl_buf *, enum fl_crm_type, unsigned),
                            unsigned variant, struct fl_error *err)
{
    sqlite3_stmt **p = &q->crm[t][slot];
    if (!*p) {
        struct fl_buf sql = FL_BUF_INIT;
        build(&sql, t, variant);
        fl__sq_prepare_slot(q, p, sql.ptr, err);
        fl_buf_release(&sql);
    }
    return *p;
}

enum {
    SLOT_INSERT,
    SLOT_UPDATE,
    SLOT_DELETE,
    SLOT_FTS_DEL,
    SLOT_FTS_INS,
    SLOT_GET,                   /* + 1: with viewer */
    SLOT_EXISTS = SLOT_GET + 2, /* + 1: with viewer */
    SLOT_LIST = SLOT_EXISTS + 2
};
_Static_assert(SLOT_LIST + FL__SQ_CRM_LIST_VARIANTS <= FL__SQ_CRM_SLOTS, "raise FL__SQ_CRM_SLOTS");

static void build_insert(struct fl_buf *b, enum fl_crm_type t, unsigned v)
{
    const struct fl_crm_type_desc *d = fl_crm_type_get(t);
    (void)v;
    fl_buf_addf(b, "INSERT INTO %s(", d->plural);
    for (size_t i = 0; i < d->n_fields; i++)
        fl_buf_addf(b, "%s, ", column(&d->fields[i]));
    fl_buf_adds(b, "created_by, created_at, updated_at) VALUES(");
    for (size_t i = 0; i < d->n_fields + 3; i++)
        fl_buf_addf(b, "%s?%zu", i ? ", " : "", i + 1);
    fl_buf_addc(b, ')');
}

static void build_update(struct fl_buf *b, enum fl_crm_type t, unsigned v)
{
    const struct fl_crm_type_desc *d = fl_crm_type_get(t);
    (void)v;
    fl_buf_addf(b, "UPDATE %s SET ", d->plural);
    for (size_t i = 0; i < d->n_fields; i++)
        fl_buf_addf(b, "%s = ?%zu, ", column(&d->fields[i]), i + 2);
    fl_buf_addf(b, "updated_at = ?%zu WHERE id = ?1 AND deleted_at IS NULL", d->n_fields + 2);
}

static void build_delete(struct fl_buf *b, enum fl_crm_type t, unsigned v)
{
    (void)v;
    fl_buf_addf(b, "UPDATE %s SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
                fl_crm_type_get(t)->plural);
}

static void build_fts_del(struct fl_buf *b, enum fl_crm_type t, unsigned v)
{
    (void)v;
    fl_buf_addf(b, "DELETE FROM %s_fts WHERE rowid = ?1", fl_crm_type_get(t)->plural);
}

static void build_fts_ins(struct fl_buf *b, enum fl_crm_type t, unsigned v)
{
    (void)v;
    fl_buf_addf(b, "INSERT INTO %s_fts(rowid, body) VALUES(?1, ?2)", fl_crm_type_get(t)->plural);
}

static void build_get(struct fl_buf *b, enum fl_crm_type t, unsigned viewer)
{
    if (viewer)
        fl_buf_adds(b, CRM_MANAGED_CTE);
    add_columns(b, fl_crm_type_get(t));
    fl_buf_adds(b, " WHERE r.id = ?1 AND r.deleted_at IS NULL");
    if (viewer) {
        fl_buf_adds(b, " AND ");
        add_visible(b, t, "r");
    }
}

static void build_exists(struct fl_buf *b, enum fl_crm_type t, unsigned viewer)
{
    if (viewer)
        fl_buf_adds(b, CRM_MANAGED_CTE);
    fl_buf_addf(b, "SELECT 1 FROM %s r WHERE r.id = ?1 AND r.deleted_at IS NULL",
                fl_crm_type_get(t)->plural);
    if (viewer) {
        fl_buf_adds(b, " AND ");
        add_visible(b, t, "r");
    }
}

enum {
    F_OWNER = 1u,
    F_STATUS = 2u,
    F_COMPANY = 4u,
    F_SEARCH = 8u,
    F_SUBJECT_TYPE = 16u,
    F_SUBJECT_ID = 32u,
    F_KIND = 64u,
    F_VIEWER = 128u
};

static void build_list(struct fl_buf *b, enum fl_crm_type t, unsigned v)
{
    const struct fl_crm_type_desc *d = fl_crm_type_get(t);
    if (v & F_VIEWER)
        fl_buf_adds(b, CRM_MANAGED_CTE);
    add_columns(b, d);
    fl_buf_adds(b, " WHERE r.id > ?1 AND r.deleted_at IS NULL");
    if (v & F_OWNER)
        fl_buf_adds(b, " AND r.owner = ?2");
    if (v & F_STATUS)
        fl_buf_adds(b, " AND r.status = ?3");
    if (v & F_COMPANY)
        fl_buf_adds(b, " AND r.company_id = ?4");
    if (v & F_SEARCH)
        fl_buf_addf(b, " AND r.id IN (SELECT rowid FROM %s_fts WHERE %s_fts MATCH ?5)", d->plural,
                    d->plural);
    if (v & F_SUBJECT_TYPE)
        fl_buf_adds(b, " AND r.subject_type = ?6");
    if (v & F_SUBJECT_ID)
        fl_buf_adds(b, " AND r.subject_id = ?7");
    if (v & F_KIND)
        fl_buf_adds(b, " AND r.kind = ?8");
    if (v & F_VIEWER) {
        fl_buf_adds(b, " AND ");
        add_visible(b, t, "r");
    }
    fl_buf_adds(b, " ORDER BY r.id LIMIT ?9");
}

/* ---- reads ---- */

int fl__sq_crm_get(struct fl_store *s, enum fl_crm_type t, uint64_t id,
                   const struct fl_principal *viewer, struct fl_crm_record *out,
                   struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    unsigned vis = restricted(viewer) ? 1u : 0u;
    sqlite3_stmt *st = cached(q, t, SLOT_GET + (int)vis, build_get, vis, err);
    int rc;
    memset(out, 0, sizeof(*out));
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    if (vis)
        bind_viewer(st, viewer);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_record(st, t, out);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "%s %llu not found", fl_crm_type_get(t)->name,
                            (unsigned long long)id);
    return fl__sq_fail(q, rc, err, "cannot read record");
}

/* FTS5 query from what a person typed: every word (letters and digits, any script) as a
 * quoted prefix term, all required. Operators and quotes typed by the user are dropped,
 * so no text can be an FTS syntax error. Digit groups split only by phone punctuation are
 * one number ("030 765-43" -> 03076543), as the index holds phones unsplit. */
static int fts_query(const char *text, struct fl_buf *out, struct fl_error *err)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t words = 0;
    bool open = false, digits = false, phone_gap = false;
    for (;;) {
        size_t n = 0;
        bool all_digits = true;
        while (p[n] && (p[n] >= 0x80 || (p[n] >= '0' && p[n] <= '9') ||
                        (p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z'))) {
            all_digits = all_digits && p[n] >= '0' && p[n] <= '9';
            n++;
        }
        if (n) {
            if (open && !(digits && all_digits && phone_gap)) {
                fl_buf_adds(out, "\"*");
                open = false;
            }
            if (!open)
                fl_buf_adds(out, words++ ? " \"" : "\"");
            fl_buf_add(out, p, n);
            open = true;
            digits = all_digits;
            phone_gap = true;
            p += n;
            continue;
        }
        if (!*p)
            break;
        if (!strchr(" -()./", *p))
            phone_gap = false;
        p++;
    }
    if (open)
        fl_buf_adds(out, "\"*");
    if (!words) {
        int rc = fl_error_set(err, FL_EINVAL, "search text '%.60s' has no words", text);
        if (err)
            snprintf(err->field, sizeof(err->field), "q");
        return rc;
    }
    return 0;
}

int fl__sq_crm_list(struct fl_store *s, const struct fl_crm_query *qy, struct fl_crm_record **rows,
                    size_t *n, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    struct fl_crm_record *v = NULL;
    struct fl_buf match = FL_BUF_INIT;
    size_t cnt = 0, cap = 0, limit = qy->limit;
    unsigned variant;
    sqlite3_stmt *st;
    int rc;

    *rows = NULL;
    *n = 0;
    if (qy->q && searchable(qy->type) && (rc = fts_query(qy->q, &match, err)) != 0)
        return rc;
    variant = (qy->owner ? F_OWNER : 0) | (qy->status ? F_STATUS : 0) |
              (qy->company_id ? F_COMPANY : 0) | (qy->q ? F_SEARCH : 0) |
              (qy->subject_type ? F_SUBJECT_TYPE : 0) | (qy->subject_id ? F_SUBJECT_ID : 0) |
              (qy->kind ? F_KIND : 0) | (restricted(qy->viewer) ? F_VIEWER : 0);
    if (!(st = cached(q, qy->type, SLOT_LIST + (int)variant, build_list, variant, err))) {
        fl_buf_release(&match);
        return FAIL_CODE(err);
    }
    if (limit == 0)
        limit = FL__STORE_LIST_LIMIT;
    if (limit > FL__STORE_LIST_MAX)
        limit = FL__STORE_LIST_MAX;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)qy->after_id);
    if (variant & F_OWNER)
        sqlite3_bind_text(st, 2, qy->owner, -1, SQLITE_STATIC);
    if (variant & F_STATUS)
        sqlite3_bind_text(st, 3, qy->status, -1, SQLITE_STATIC);
    if (variant & F_COMPANY)
        sqlite3_bind_int64(st, 4, (sqlite3_int64)qy->company_id);
    if (variant & F_SEARCH)
        sqlite3_bind_text(st, 5, match.ptr, (int)match.len, SQLITE_STATIC);
    if (variant & F_SUBJECT_TYPE)
        sqlite3_bind_text(st, 6, qy->subject_type, -1, SQLITE_STATIC);
    if (variant & F_SUBJECT_ID)
        sqlite3_bind_int64(st, 7, (sqlite3_int64)qy->subject_id);
    if (variant & F_KIND)
        sqlite3_bind_text(st, 8, qy->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)limit);
    if (variant & F_VIEWER)
        bind_viewer(st, qy->viewer);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        read_record(st, qy->type, &v[cnt++]);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    fl_buf_release(&match);
    if (rc != SQLITE_DONE) {
        fl_crm_records_free(v, cnt);
        return fl__sq_fail(q, rc, err, "cannot list records");
    }
    *rows = v;
    *n = cnt;
    return 0;
}

/* ---- references ---- */

static int exists(struct fl_sqlite *q, enum fl_crm_type t, uint64_t id,
                  const struct fl_principal *viewer, bool *found, struct fl_error *err)
{
    unsigned vis = restricted(viewer) ? 1u : 0u;
    sqlite3_stmt *st = cached(q, t, SLOT_EXISTS + (int)vis, build_exists, vis, err);
    int rc;
    *found = false;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    if (vis)
        bind_viewer(st, viewer);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        *found = true;
    else if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot look up record");
    return 0;
}

/* A reference must name a record the actor may see: an invisible one is answered exactly
 * like a missing one, so references do not leak what exists. */
static int check_ref(struct fl_sqlite *q, enum fl_crm_type t, int64_t id, const char *field,
                     const struct fl_principal *viewer, struct fl_error *err)
{
    bool found;
    int rc = exists(q, t, (uint64_t)id, viewer, &found, err);
    if (rc)
        return rc;
    if (found)
        return 0;
    rc = fl_error_set(err, FL_EINVAL, "unknown %s %lld", fl_crm_type_get(t)->name, (long long)id);
    if (err)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return rc;
}

static int lookup_name(struct fl_sqlite *q, enum fl__sq_stmt sid, const char *name,
                       const char *field, const char *what, int64_t *id, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, sid, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && id)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot look up name");
    rc = fl_error_set(err, FL_EINVAL, "unknown %s '%.100s'", what, name);
    if (err)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return rc;
}

int fl__sq_crm_resolve(struct fl_store *s, struct fl_crm_record *rec, const bool *check,
                       const struct fl_principal *viewer, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    const struct fl_crm_type_desc *d = fl_crm_type_get(rec->type);
    int rc = 0;
    for (size_t i = 0; i < d->n_fields && rc == 0; i++) {
        const struct fl_crm_field *f = &d->fields[i];
        struct fl_crm_value *v = &rec->values[i];
        /* A patch checks what it changes: a reference that was valid when written stays
         * valid even if its record was deleted or is not visible to this actor. */
        if (!v->set || (check && !check[i]))
            continue;
        switch (f->kind) {
        case FL_CRMK_REF:
            rc = check_ref(q, f->ref, v->num, f->name, viewer, err);
            break;
        case FL_CRMK_REFS:
            /* Stored as a checked JSON array of positive integers: "[3,5]". */
            for (const char *p = v->text + 1; *p && rc == 0;) {
                char *end;
                long long id = strtoll(p, &end, 10);
                if (end == p)
                    break;
                rc = check_ref(q, f->ref, id, f->name, viewer, err);
                p = *end ? end + 1 : end;
            }
            break;
        case FL_CRMK_USER:
            rc = lookup_name(q, FL__SQ_USER_ID, v->text, f->name, "user", NULL, err);
            break;
        case FL_CRMK_DEPARTMENT:
            rc = lookup_name(q, FL__SQ_DEPT_ID, v->text, f->name, "department", &v->num, err);
            break;
        case FL_CRMK_PROCESS:
            rc = lookup_name(q, FL__SQ_DEF_FIND_LATEST, v->text, f->name, "pipeline (process)",
                             NULL, err);
            break;
        default:
            break;
        }
    }
    if (rc == 0 && rec->type == FL_CRM_ACTIVITY && !check) { /* the subject is fixed */
        const struct fl_crm_value *ty = fl_crm_record_value(rec, "subject_type");
        const struct fl_crm_value *id = fl_crm_record_value(rec, "subject_id");
        enum fl_crm_type st;
        if (fl_crm_type_parse(ty->text, &st) != 0)
            return fl_error_set(err, FL_EINTERNAL, "subject type '%s'", ty->text);
        rc = check_ref(q, st, id->num, "subject_id", viewer, err);
    }
    return rc;
}

/* ---- writes ---- */

static void bind_values(sqlite3_stmt *st, const struct fl_crm_record *rec, int first)
{
    const struct fl_crm_type_desc *d = fl_crm_type_get(rec->type);
    for (size_t i = 0; i < d->n_fields; i++) {
        const struct fl_crm_value *v = &rec->values[i];
        int at = first + (int)i;
        if (!v->set)
            sqlite3_bind_null(st, at);
        else if (numeric(d->fields[i].kind))
            sqlite3_bind_int64(st, at, v->num);
        else
            sqlite3_bind_text(st, at, v->text, -1, SQLITE_STATIC);
    }
}

/* The searchable text of a record: its search fields, and each phone also without its
 * country code and with a trunk 0, so "030 1234567" finds "+49301234567". */
static void search_body(const struct fl_crm_record *rec, struct fl_buf *b)
{
    const struct fl_crm_type_desc *d = fl_crm_type_get(rec->type);
    for (size_t i = 0; i < d->n_fields; i++) {
        const struct fl_crm_value *v = &rec->values[i];
        if (!(d->fields[i].flags & FL_CRMF_SEARCH) || !v->set || !v->text)
            continue;
        fl_buf_adds(b, v->text);
        fl_buf_addc(b, ' ');
        if (d->fields[i].kind != FL_CRMK_PHONE && d->fields[i].kind != FL_CRMK_PHONES)
            continue;
        for (const char *p = strchr(v->text, '+'); p; p = strchr(p + 1, '+')) {
            int cc = fl_phone_cc_len(p + 1);
            size_t nd = strspn(p + 1, "0123456789");
            /* national forms: without the country code, and as dialled at home (trunk 0) */
            if (cc && (size_t)cc < nd)
                fl_buf_addf(b, "%.*s 0%.*s ", (int)(nd - (size_t)cc), p + 1 + cc,
                            (int)(nd - (size_t)cc), p + 1 + cc);
        }
    }
}

static int write_search(struct fl_sqlite *q, const struct fl_crm_record *rec, bool replace,
                        struct fl_error *err)
{
    struct fl_buf body = FL_BUF_INIT;
    sqlite3_stmt *st;
    int rc;
    if (!searchable(rec->type))
        return 0;
    if (replace) {
        if (!(st = cached(q, rec->type, SLOT_FTS_DEL, build_fts_del, 0, err)))
            return FAIL_CODE(err);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)rec->id);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return fl__sq_fail(q, rc, err, "cannot update search index");
    }
    if (!(st = cached(q, rec->type, SLOT_FTS_INS, build_fts_ins, 0, err)))
        return FAIL_CODE(err);
    search_body(rec, &body);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)rec->id);
    sqlite3_bind_text(st, 2, body.ptr, (int)body.len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    fl_buf_release(&body);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot update search index");
    return 0;
}

/* The only UNIQUE constraint of a record table besides the id is its external id; other
 * constraint failures (a CHECK) are store errors: the front checked those values. */
static int write_failed(struct fl_sqlite *q, int rc, const struct fl_crm_record *rec,
                        struct fl_error *err)
{
    if ((rc & 0xff) == SQLITE_CONSTRAINT &&
        sqlite3_extended_errcode(q->db) == SQLITE_CONSTRAINT_UNIQUE) {
        const struct fl_crm_value *x = fl_crm_record_value(rec, "external_id");
        rc = fl_error_set(err, FL_ECONFLICT, "another %s has external_id '%.100s'",
                          fl_crm_type_get(rec->type)->name, x && x->text ? x->text : "");
        if (err)
            snprintf(err->field, sizeof(err->field), "external_id");
        return rc;
    }
    return fl__sq_fail(q, rc, err, "cannot write record");
}

int fl__sq_crm_insert(struct fl_store *s, const struct fl_crm_record *rec, uint64_t *id,
                      struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    const struct fl_crm_type_desc *d = fl_crm_type_get(rec->type);
    sqlite3_stmt *st = cached(q, rec->type, SLOT_INSERT, build_insert, 0, err);
    struct fl_crm_record written = *rec;
    int rc, at = (int)d->n_fields + 1;
    *id = 0;
    if (!st)
        return FAIL_CODE(err);
    bind_values(st, rec, 1);
    fl__sq_bind_text(st, at, rec->created_by);
    sqlite3_bind_int64(st, at + 1, rec->created_at);
    sqlite3_bind_int64(st, at + 2, rec->updated_at);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return write_failed(q, rc, rec, err);
    written.id = *id = (uint64_t)sqlite3_last_insert_rowid(q->db);
    return write_search(q, &written, false, err);
}

int fl__sq_crm_update(struct fl_store *s, const struct fl_crm_record *rec, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    const struct fl_crm_type_desc *d = fl_crm_type_get(rec->type);
    sqlite3_stmt *st = cached(q, rec->type, SLOT_UPDATE, build_update, 0, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)rec->id);
    bind_values(st, rec, 2);
    sqlite3_bind_int64(st, (int)d->n_fields + 2, rec->updated_at);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return write_failed(q, rc, rec, err);
    if (sqlite3_changes(q->db) == 0)
        return fl_error_set(err, FL_ENOTFOUND, "%s %llu not found", d->name,
                            (unsigned long long)rec->id);
    return write_search(q, rec, true, err);
}

int fl__sq_crm_delete(struct fl_store *s, enum fl_crm_type t, uint64_t id, int64_t now_ms,
                      struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = cached(q, t, SLOT_DELETE, build_delete, 0, err);
    int rc;
    if (!st)
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, now_ms);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot delete record");
    if (sqlite3_changes(q->db) == 0)
        return fl_error_set(err, FL_ENOTFOUND, "%s %llu not found", fl_crm_type_get(t)->name,
                            (unsigned long long)id);
    if (!searchable(t))
        return 0;
    if (!(st = cached(q, t, SLOT_FTS_DEL, build_fts_del, 0, err)))
        return FAIL_CODE(err);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot update search index");
    return 0;
}
