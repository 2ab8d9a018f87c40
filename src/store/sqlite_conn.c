/* SQLite back end, connection layer: opening (URL path, create or not, read-only), the
 * pragmas that make commits durable (WAL, synchronous FULL by default), the per-connection
 * statement cache, transactions, and the mapping of SQLite errors to enum fl_err. The
 * vtable of the back end is assembled here. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flowd/alloc.h"
#include "store/sqlite_int.h"

static const char *const sql_text[FL__SQ_COUNT] = {
#define FL__SQ_TEXT(name, sql) sql,
    FL__SQ_STMTS(FL__SQ_TEXT)
#undef FL__SQ_TEXT
};

int fl__sq_fail(struct fl_sqlite *q, int rc, struct fl_error *err, const char *what)
{
    int code;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = FL_EBUSY;
        break;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
        code = FL_EIO;
        break;
    case SQLITE_CONSTRAINT:
        code = FL_ECONFLICT;
        break;
    case SQLITE_NOMEM:
        code = FL_ENOMEM;
        break;
    default:
        code = FL_ESTORE;
        break;
    }
    return fl_error_set(err, code, "%s: %s", what,
                        q && q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
}

sqlite3_stmt *fl__sq_prepare_slot(struct fl_sqlite *q, sqlite3_stmt **slot, const char *sql,
                                  struct fl_error *err)
{
    int rc;
    if (*slot)
        return *slot;
    rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
    if (rc != SQLITE_OK) {
        fl__sq_fail(q, rc, err, "cannot prepare statement");
        *slot = NULL;
        return NULL;
    }
    return *slot;
}

sqlite3_stmt *fl__sq_stmt(struct fl_sqlite *q, enum fl__sq_stmt id, struct fl_error *err)
{
    return fl__sq_prepare_slot(q, &q->stmt[id], sql_text[id], err);
}

int fl__sq_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

int fl__sq_bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
    if (!v)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_int64(st, i, v);
}

char *fl__sq_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return NULL;
    return fl_strndup((const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

/* Run one cached no-result statement. */
static int exec_stmt(struct fl_sqlite *q, enum fl__sq_stmt id, struct fl_error *err,
                     const char *what)
{
    sqlite3_stmt *st = fl__sq_stmt(q, id, err);
    int rc;
    if (!st)
        return err ? err->code : FL_ESTORE;
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, what);
    return 0;
}

static void sq_close(struct fl_store *s)
{
    struct fl_sqlite *q = fl__sq(s);
    size_t i;
    fl__sq_ckpt_stop(q);
    if (q->in_tx || q->in_read)
        exec_stmt(q, FL__SQ_ROLLBACK, NULL, "rollback");
    for (i = 0; i < FL__SQ_COUNT; i++)
        sqlite3_finalize(q->stmt[i]);
    for (i = 0; i < FL__SQ_INST_LIST_VARIANTS; i++)
        sqlite3_finalize(q->inst_list[i]);
    for (i = 0; i < FL__SQ_TASK_LIST_VARIANTS; i++)
        sqlite3_finalize(q->task_list[i]);
    for (i = 0; i < FL__SQ_HISTORY_ROWS; i++)
        sqlite3_finalize(q->history_rows[i]);
    for (i = 0; i < FL__SQ_CONTROL_LIST_VARIANTS; i++)
        sqlite3_finalize(q->control_list[i]);
    sqlite3_finalize(q->data_version_st);
    for (i = 0; i < FL_CRM_NTYPES; i++)
        for (size_t k = 0; k < FL__SQ_CRM_SLOTS; k++)
            sqlite3_finalize(q->crm[i][k]);
    fl__sq_messages_release(q);
    sqlite3_close(q->db);
    fl_buf_release(&q->json);
    fl_buf_release(&q->json2);
    fl__sq_timer_release(q);
    free(q->path);
    free(q);
}

static int pragma(struct fl_sqlite *q, const char *sql, struct fl_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        fl_error_set(err, rc == SQLITE_NOTADB ? FL_ESTORE : FL_EIO, "'%s': %s: %s", q->path, sql,
                     msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return err ? err->code : FL_EIO;
    }
    return 0;
}

static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static void configure_sqlite(void)
{
    /* Memory statistics take a global mutex on every allocation; flowd never reads them.
     * Fails harmlessly (SQLITE_MISUSE) if the process initialised SQLite already. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sq_open(const char *path, const struct fl_store_options *opt, struct fl_store **out,
                   struct fl_error *err)
{
    struct fl_store_options def = {.create = true};
    struct fl_sqlite *q;
    struct stat st;
    int flags, rc, sync, version = 0;
    char sql[64];

    pthread_once(&config_once, configure_sqlite);
    if (!opt)
        opt = &def;
    if (opt == &def || !opt->synchronous_set)
        sync = 2;
    else
        sync = opt->synchronous < 0 ? 0 : opt->synchronous > 3 ? 3 : opt->synchronous;
    if ((opt->read_only || !opt->create) && stat(path, &st) != 0 && errno == ENOENT)
        return fl_error_set(err, FL_ENOTFOUND, "database '%s' does not exist", path);

    q = fl_calloc(1, sizeof(*q));
    q->base.ops = &fl__sqlite_ops;
    q->path = fl_strdup(path);
    q->data_version = -1;
    q->read_only = opt->read_only;
    q->synchronous = sync;
    fl_buf_init(&q->json, 0);
    fl_buf_init(&q->json2, 0);
    /* NOMUTEX: a connection is used by one thread at a time (see store.h). */
    flags = SQLITE_OPEN_NOMUTEX |
            (opt->read_only ? SQLITE_OPEN_READONLY
                            : SQLITE_OPEN_READWRITE | (opt->create ? SQLITE_OPEN_CREATE : 0));
    rc = sqlite3_open_v2(path, &q->db, flags, NULL);
    if (rc != SQLITE_OK) {
        rc = fl_error_set(err, FL_EIO, "cannot open database '%s': %s", path,
                          q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms
                                                         : FL__STORE_BUSY_TIMEOUT_MS);
    if (!opt->read_only) {
        /* WAL: readers never block the writer, and a commit is one append + fsync. */
        if ((rc = pragma(q, "PRAGMA journal_mode=WAL", err)) != 0)
            goto fail;
    }
    snprintf(sql, sizeof(sql), "PRAGMA synchronous=%d", sync);
    if ((rc = pragma(q, sql, err)) != 0)
        goto fail;
    /* The engine keeps references consistent; foreign keys would cost a lookup per row
     * on the write path for no protection the single writer needs. */
    if ((rc = pragma(q,
                     "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;"
                     " PRAGMA cache_size=-16384; PRAGMA wal_autocheckpoint=8192",
                     err)) != 0)
        goto fail;
    if (!opt->read_only) {
        if ((rc = fl__sq_migrate(q, err)) != 0)
            goto fail;
    } else {
        if ((rc = fl__sq_read_version(q, &version, err)) != 0)
            goto fail;
        if (version == 0) {
            rc = fl_error_set(err, FL_ESTORE, "'%s' is not a flowd database", path);
            goto fail;
        }
        if (version < fl__sq_current_version()) {
            rc = fl_error_set(err, FL_ESTORE,
                              "database '%s' has schema version %d, this flowd needs %d:"
                              " open it writable once to migrate",
                              path, version, fl__sq_current_version());
            goto fail;
        }
        if (version > fl__sq_current_version()) {
            rc = fl_error_set(err, FL_ESTORE,
                              "database '%s' has schema version %d, newer than this flowd (%d)",
                              path, version, fl__sq_current_version());
            goto fail;
        }
        q->schema_version = version;
    }
    *out = &q->base;
    return 0;
fail:
    sq_close(&q->base);
    return rc ? rc : (err ? err->code : FL_ESTORE);
}

static int sq_schema_version(struct fl_store *s)
{
    return fl__sq(s)->schema_version;
}

static int sq_begin(struct fl_store *s, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    int rc;
    if (q->in_tx || q->in_read)
        return fl_error_set(err, FL_EINVAL, "transaction already open");
    if (q->read_only)
        return fl_error_set(err, FL_EINVAL, "store opened read-only");
    fl__sq_ckpt_before_begin(q);
    if ((rc = exec_stmt(q, FL__SQ_BEGIN, err, "cannot begin transaction")) != 0)
        return rc;
    q->in_tx = true;
    return 0;
}

/* PRAGMA data_version moves only for commits of other connections (SQLite's own file
 * change counter as this connection sees it), so it is exactly the question asked. */
static int sq_changed_elsewhere(struct fl_store *s, bool *changed, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    int64_t v;
    int rc = SQLITE_OK;
    /* Asked at every write transaction of the writer: prepared once per connection. */
    if (!q->data_version_st)
        rc = sqlite3_prepare_v2(q->db, "PRAGMA data_version", -1, &q->data_version_st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(q->data_version_st)) == SQLITE_ROW) {
        v = sqlite3_column_int64(q->data_version_st, 0);
        *changed = q->data_version != v;
        q->data_version = v;
        rc = SQLITE_OK;
    }
    if (q->data_version_st)
        sqlite3_reset(q->data_version_st);
    return rc == SQLITE_OK ? 0 : fl__sq_fail(q, rc, err, "cannot read the data version");
}

static int sq_commit(struct fl_store *s, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    int rc;
    if (!q->in_tx)
        return fl_error_set(err, FL_EINVAL, "no transaction open");
    if (q->token_hw > q->token_hw_saved) {
        if (!(st = fl__sq_stmt(q, FL__SQ_COUNTER_RAISE, err)))
            return err ? err->code : FL_ESTORE;
        sqlite3_bind_text(st, 1, "token", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)q->token_hw);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return fl__sq_fail(q, rc, err, "cannot record token id");
    }
    if ((rc = exec_stmt(q, FL__SQ_COMMIT, err, "cannot commit")) != 0) {
        /* A failed COMMIT may leave the transaction open (SQLITE_BUSY): end it, so the
         * caller's view (nothing written) is the database's. */
        if (!sqlite3_get_autocommit(q->db))
            exec_stmt(q, FL__SQ_ROLLBACK, NULL, "rollback");
        q->in_tx = false;
        q->token_hw = q->token_hw_saved;
        return rc;
    }
    q->in_tx = false;
    q->token_hw_saved = q->token_hw;
    return 0;
}

/* A deferred BEGIN takes no lock: the first query starts the read transaction (its WAL
 * snapshot) and every later one reuses it, until COMMIT ends it. */
static int sq_read_begin(struct fl_store *s, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    int rc;
    if (q->in_tx || q->in_read)
        return fl_error_set(err, FL_EINVAL, "transaction already open");
    if ((rc = exec_stmt(q, FL__SQ_READ_BEGIN, err, "cannot begin a read")) != 0)
        return rc;
    q->in_read = true;
    return 0;
}

static void sq_read_end(struct fl_store *s)
{
    struct fl_sqlite *q = fl__sq(s);
    if (!q->in_read)
        return;
    /* Nothing was written: ROLLBACK ends it as COMMIT would, and cannot leave it open. */
    if (!sqlite3_get_autocommit(q->db))
        exec_stmt(q, FL__SQ_ROLLBACK, NULL, "end read");
    q->in_read = false;
}

static int sq_rollback(struct fl_store *s)
{
    struct fl_sqlite *q = fl__sq(s);
    int rc = 0;
    if (!q->in_tx)
        return 0;
    if (!sqlite3_get_autocommit(q->db))
        rc = exec_stmt(q, FL__SQ_ROLLBACK, NULL, "rollback");
    q->in_tx = false;
    q->token_hw = q->token_hw_saved;
    return rc;
}

const struct fl_store_ops fl__sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .changed_elsewhere = sq_changed_elsewhere,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .read_begin = sq_read_begin,
    .read_end = sq_read_end,
    .background_start = fl__sq_ckpt_start,
    .definition_put = fl__sq_definition_put,
    .definition_find = fl__sq_definition_find,
    .definition_get = fl__sq_definition_get,
    .definition_list = fl__sq_definition_list,
    .decision_put = fl__sq_decision_put,
    .decision_get = fl__sq_decision_get,
    .decision_head = fl__sq_decision_head,
    .decision_list = fl__sq_decision_list,
    .instance_load = fl__sq_instance_load,
    .apply = fl__sq_apply,
    .max_id = fl__sq_max_id,
    .instance_list = fl__sq_instance_list,
    .instance_get = fl__sq_instance_get,
    .task_list = fl__sq_task_list,
    .task_get = fl__sq_task_get,
    .task_set_assignee = fl__sq_task_set_assignee,
    .count_open = fl__sq_count_open,
    .idem_get = fl__sq_idem_get,
    .idem_put = fl__sq_idem_put,
    .job_instance = fl__sq_job_instance,
    .history = fl__sq_history,
    .timers_due = fl__sq_timers_due,
    .timer_count = fl__sq_timer_count,
    .start_timers_clear = fl__sq_start_timers_clear,
    .start_timer_put = fl__sq_start_timer_put,
    .timer_get = fl__sq_timer_get,
    .timer_delete = fl__sq_timer_delete,
    .control_list = fl__sq_control_list,
    .notification_list = fl__sq_notification_list,
    .notification_read = fl__sq_notification_read,
    .user_add = fl__sq_user_add,
    .user_get = fl__sq_user_get,
    .user_list = fl__sq_user_list,
    .user_set_disabled = fl__sq_user_set_disabled,
    .user_set_password = fl__sq_user_set_password,
    .role_add = fl__sq_role_add,
    .role_list = fl__sq_role_list,
    .user_grant_role = fl__sq_user_grant_role,
    .department_add = fl__sq_department_add,
    .department_list = fl__sq_department_list,
    .managed_logins = fl__sq_managed_logins,
    .token_insert = fl__sq_token_insert,
    .token_find = fl__sq_token_find,
    .token_touch = fl__sq_token_touch,
    .token_revoke = fl__sq_token_revoke,
    .token_list = fl__sq_token_list,
    .session_insert = fl__sq_session_insert,
    .session_find = fl__sq_session_find,
    .session_touch = fl__sq_session_touch,
    .session_delete = fl__sq_session_delete,
    .calendar_put = fl__sq_calendar_put,
    .calendar_get = fl__sq_calendar_get,
    .calendar_list = fl__sq_calendar_list,
    .calendar_delete = fl__sq_calendar_delete,
    .calendar_revision = fl__sq_calendar_revision,
    .crm_get = fl__sq_crm_get,
    .crm_list = fl__sq_crm_list,
    .crm_resolve = fl__sq_crm_resolve,
    .crm_insert = fl__sq_crm_insert,
    .crm_update = fl__sq_crm_update,
    .crm_delete = fl__sq_crm_delete,
    .job_get = fl__sq_job_get,
    .job_list = fl__sq_job_list,
    .job_activate = fl__sq_job_activate,
    .job_next_activatable = fl__sq_job_next_activatable,
    .job_set_error_code = fl__sq_job_set_error_code,
    .incident_get = fl__sq_incident_get,
    .incident_list = fl__sq_incident_list,
    .messages = &fl__sq_msg_ops,
};
