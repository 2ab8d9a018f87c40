/* SQLite back end, schema: the ordered list of migration steps and the code that brings a
 * database to the current version in one transaction at open. A step is never edited once
 * released; a schema change is a new step appended to the array. Only the indexes the
 * queries need exist, because every index is paid for on each write. */
#include <stdio.h>
#include <stdlib.h>

#include "store/sqlite_int.h"

/* The CRM search tables (migration 4): one text column; diacritics folded ("muller" finds
 * "Müller"). */
#define CRM_FTS_BODY "(body, tokenize = 'unicode61 remove_diacritics 2');"

/* Step i takes the schema from version i to version i + 1. */
static const char *const migrations[] = {
    /* 1: the foundation tables */
    "CREATE TABLE definitions ("
    " id INTEGER PRIMARY KEY, key TEXT NOT NULL, version INTEGER NOT NULL, name TEXT,"
    " xml BLOB NOT NULL, checksum TEXT NOT NULL, deployed_at INTEGER NOT NULL,"
    " UNIQUE (key, version));"
    "CREATE TABLE instances ("
    " id INTEGER PRIMARY KEY, definition_id INTEGER NOT NULL, business_key TEXT,"
    " status INTEGER NOT NULL, incident INTEGER NOT NULL, started_at INTEGER NOT NULL,"
    " ended_at INTEGER, revision INTEGER NOT NULL);"
    "CREATE TABLE tokens ("
    " id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, node INTEGER NOT NULL,"
    " node_id TEXT, flow INTEGER, state INTEGER NOT NULL, task_id INTEGER, job_id INTEGER,"
    " main_action_done INTEGER NOT NULL);"
    "CREATE INDEX tokens_instance ON tokens (instance_id);"
    "CREATE TABLE variables ("
    " instance_id INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (instance_id, name)) WITHOUT ROWID;"
    "CREATE TABLE tasks ("
    " id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, token_id INTEGER,"
    " node_id TEXT NOT NULL, name TEXT, assignee TEXT, candidate_roles TEXT,"
    " candidate_users TEXT, status INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    " due_at INTEGER, remind_at INTEGER, closed_at INTEGER, closed_by TEXT,"
    " main_action_kind TEXT, main_action_required INTEGER NOT NULL,"
    " main_action_done INTEGER NOT NULL, main_action_ref TEXT);"
    "CREATE INDEX tasks_status ON tasks (status);"
    "CREATE INDEX tasks_assignee ON tasks (assignee) WHERE assignee IS NOT NULL;"
    "CREATE INDEX tasks_instance ON tasks (instance_id);"
    "CREATE TABLE jobs ("
    " id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, token_id INTEGER,"
    " node_id TEXT, type TEXT NOT NULL, retries INTEGER NOT NULL, status INTEGER NOT NULL,"
    " error TEXT, created_at INTEGER NOT NULL, closed_at INTEGER);"
    "CREATE TABLE incidents ("
    " id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, token_id INTEGER,"
    " job_id INTEGER, node_id TEXT, message TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " resolved_at INTEGER);"
    "CREATE TABLE history ("
    " seq INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, type INTEGER NOT NULL,"
    " node_id TEXT, token_id INTEGER, ref_id INTEGER, actor TEXT, detail TEXT,"
    " at INTEGER NOT NULL);"
    "CREATE INDEX history_instance ON history (instance_id);"
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO counters (name, value) VALUES ('token', 0);",
    /* 2: people and access. started_by and watch_roles (stage RACI C/I) let list queries
     * apply the record-level rules; tokens and sessions are kept only as SHA-256 hashes. */
    "ALTER TABLE instances ADD COLUMN started_by TEXT;"
    "ALTER TABLE tasks ADD COLUMN watch_roles TEXT;"
    "CREATE INDEX instances_started_by ON instances (started_by) WHERE started_by IS NOT NULL;"
    "CREATE TABLE users ("
    " id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE, display_name TEXT, email TEXT,"
    " password_hash TEXT, disabled INTEGER NOT NULL DEFAULT 0,"
    " admin INTEGER NOT NULL DEFAULT 0, department_id INTEGER, created_at INTEGER NOT NULL);"
    "CREATE INDEX users_department ON users (department_id);"
    "CREATE TABLE roles (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT);"
    "CREATE TABLE user_roles (user_id INTEGER NOT NULL, role_id INTEGER NOT NULL,"
    " PRIMARY KEY (user_id, role_id)) WITHOUT ROWID;"
    "CREATE TABLE departments ("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, parent_id INTEGER,"
    " head_user_id INTEGER);"
    "CREATE INDEX departments_parent ON departments (parent_id);"
    "CREATE INDEX departments_head ON departments (head_user_id);"
    "CREATE TABLE api_tokens ("
    " id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT, user_id INTEGER NOT NULL,"
    " scope INTEGER NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER,"
    " revoked_at INTEGER);"
    "CREATE TABLE sessions ("
    " hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, csrf TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX sessions_user ON sessions (user_id);",
    /* 3: first answers to POST requests by Idempotency-Key (scope = principal, route, key) */
    "CREATE TABLE idempotency ("
    " scope TEXT PRIMARY KEY, body_hash TEXT NOT NULL, status INTEGER NOT NULL,"
    " content_type TEXT, location TEXT, body BLOB NOT NULL,"
    " created_at INTEGER NOT NULL) WITHOUT ROWID;",
    /* 4: time and control. Pending timers are deleted when they fire, so the highest id
     * handed out is kept in counters (as for tokens): an id is never reused, and a stale
     * entry of the scheduler can never fire a newer timer. Notifications are the in-app
     * inbox, one row per addressed user; control points are dated obligations on a case
     * (rows stay, done_at set when met or cleared). */
    "CREATE TABLE timers ("
    " id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, token_id INTEGER,"
    " ref_id INTEGER, node INTEGER, kind INTEGER NOT NULL, level INTEGER NOT NULL,"
    " repeat INTEGER NOT NULL, due_at INTEGER NOT NULL, base_at INTEGER);"
    "CREATE INDEX timers_due ON timers (due_at);"
    "CREATE INDEX timers_instance ON timers (instance_id);"
    "INSERT INTO counters (name, value) VALUES ('timer', 0);"
    "CREATE TABLE notifications ("
    " id INTEGER PRIMARY KEY, user_login TEXT NOT NULL, kind TEXT NOT NULL,"
    " instance_id INTEGER, task_id INTEGER, control_id INTEGER, node_id TEXT,"
    " message TEXT NOT NULL, created_at INTEGER NOT NULL, read_at INTEGER);"
    "CREATE INDEX notifications_user ON notifications (user_login, read_at, id);"
    "CREATE TABLE control_points ("
    " id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, name TEXT NOT NULL,"
    " due_at INTEGER, remind_at INTEGER, done_at INTEGER);"
    "CREATE INDEX control_points_instance ON control_points (instance_id);",
    /* 5: control points remember when they were set or last moved, and the "overdue
     * control points" list reads the open ones by due time. */
    ("ALTER TABLE control_points ADD COLUMN set_at INTEGER;"
     "CREATE INDEX control_points_open ON control_points (due_at) WHERE done_at IS NULL;"),
    /* 6: business calendars by name (canonical JSON); counters 'calendars' is their
     * revision, bumped by every change so caches of parsed calendars know to forget */
    "CREATE TABLE calendars ("
    " name TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counters (name, value) VALUES ('calendars', 0);",
    /* 7: CRM records (flowd/crm.h). Columns follow the field tables of src/store/crm.c in
     * order. References are declared for the reader; foreign keys stay off (see
     * docs/store.md) and the store checks each reference when it writes. Rows are
     * soft-deleted (deleted_at). One FTS5 table per searchable type, rowid = record id,
     * written in the same transaction as the row. instance_id is the pipeline link. */
    "CREATE TABLE companies ("
    " id INTEGER PRIMARY KEY, external_id TEXT, name TEXT NOT NULL, tax_id TEXT,"
    " industry TEXT, addresses TEXT, phones TEXT, emails TEXT, website TEXT,"
    " owner TEXT REFERENCES users(login), created_by TEXT, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL, deleted_at INTEGER);"
    "CREATE UNIQUE INDEX companies_external_id ON companies (external_id)"
    " WHERE external_id IS NOT NULL;"
    "CREATE INDEX companies_owner ON companies (owner);"
    "CREATE TABLE contacts ("
    " id INTEGER PRIMARY KEY, external_id TEXT, first_name TEXT, last_name TEXT, phones TEXT,"
    " emails TEXT, company_id INTEGER REFERENCES companies(id), position TEXT, birthday TEXT,"
    " owner TEXT REFERENCES users(login), created_by TEXT, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL, deleted_at INTEGER);"
    "CREATE UNIQUE INDEX contacts_external_id ON contacts (external_id)"
    " WHERE external_id IS NOT NULL;"
    "CREATE INDEX contacts_owner ON contacts (owner);"
    "CREATE INDEX contacts_company ON contacts (company_id) WHERE company_id IS NOT NULL;"
    "CREATE TABLE leads ("
    " id INTEGER PRIMARY KEY, external_id TEXT, title TEXT NOT NULL, status TEXT NOT NULL,"
    " source TEXT, channel TEXT, utm_source TEXT, utm_medium TEXT, utm_campaign TEXT,"
    " utm_term TEXT, utm_content TEXT, tracking_phone TEXT,"
    " contact_id INTEGER REFERENCES contacts(id), company_id INTEGER REFERENCES companies(id),"
    " owner TEXT REFERENCES users(login), first_response_due INTEGER, created_by TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER);"
    "CREATE UNIQUE INDEX leads_external_id ON leads (external_id) WHERE external_id IS NOT NULL;"
    "CREATE INDEX leads_owner ON leads (owner);"
    "CREATE INDEX leads_status ON leads (status);"
    "CREATE INDEX leads_company ON leads (company_id) WHERE company_id IS NOT NULL;"
    "CREATE TABLE deals ("
    " id INTEGER PRIMARY KEY, external_id TEXT, title TEXT NOT NULL, pipeline TEXT,"
    " status TEXT NOT NULL, amount TEXT, currency TEXT, expected_close TEXT,"
    " probability INTEGER CHECK (probability BETWEEN 0 AND 100),"
    " owner TEXT REFERENCES users(login), department_id INTEGER REFERENCES departments(id),"
    " company_id INTEGER REFERENCES companies(id), contact_ids TEXT, loss_reason TEXT,"
    " won_at INTEGER, lost_at INTEGER, instance_id INTEGER REFERENCES instances(id),"
    " created_by TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " deleted_at INTEGER);"
    "CREATE UNIQUE INDEX deals_external_id ON deals (external_id) WHERE external_id IS NOT NULL;"
    "CREATE INDEX deals_owner ON deals (owner);"
    "CREATE INDEX deals_status ON deals (status);"
    "CREATE INDEX deals_company ON deals (company_id) WHERE company_id IS NOT NULL;"
    "CREATE INDEX deals_department ON deals (department_id) WHERE department_id IS NOT NULL;"
    "CREATE INDEX deals_instance ON deals (instance_id) WHERE instance_id IS NOT NULL;"
    "CREATE TABLE activities ("
    " id INTEGER PRIMARY KEY, subject_type TEXT NOT NULL, subject_id INTEGER NOT NULL,"
    " kind TEXT NOT NULL, direction TEXT, duration_s INTEGER, outcome TEXT, summary TEXT,"
    " at INTEGER NOT NULL, created_by TEXT, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL, deleted_at INTEGER);"
    "CREATE INDEX activities_subject ON activities (subject_type, subject_id);"
    "CREATE VIRTUAL TABLE companies_fts USING fts5" CRM_FTS_BODY
    "CREATE VIRTUAL TABLE contacts_fts USING fts5" CRM_FTS_BODY
    "CREATE VIRTUAL TABLE leads_fts USING fts5" CRM_FTS_BODY
    "CREATE VIRTUAL TABLE deals_fts USING fts5" CRM_FTS_BODY,
    /* 8: scopes. A token remembers the SCOPE token it runs inside (subprocesses, event
     * subprocesses, multi-instance bodies), the instance a call activity started, its
     * loop counter and whether it is a multi-instance body; an instance started by a call
     * activity remembers its caller. Local variables are kept per scope token and dropped
     * with it. */
    "ALTER TABLE tokens ADD COLUMN scope_id INTEGER;"
    "ALTER TABLE tokens ADD COLUMN call_id INTEGER;"
    "ALTER TABLE tokens ADD COLUMN loop INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tokens ADD COLUMN mi_body INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE instances ADD COLUMN parent_instance_id INTEGER;"
    "ALTER TABLE instances ADD COLUMN parent_token_id INTEGER;"
    "CREATE INDEX instances_parent ON instances (parent_instance_id)"
    " WHERE parent_instance_id IS NOT NULL;"
    "CREATE TABLE local_variables ("
    " instance_id INTEGER NOT NULL, scope_id INTEGER NOT NULL, name TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY (instance_id, scope_id, name)) WITHOUT ROWID;",
    /* 9: messages and signals. Open subscriptions, found by (trigger, name, key) when a
     * message or signal arrives; published messages (status 0 buffered until expires_at,
     * else kept for their client message_id until then); the outbox of messages processes
     * sent (delivered_at once delivered inside flowd or by a relay); the message and
     * signal start events of the latest version of each process. Subscription and message
     * ids are never reused (counters, as tokens). */
    "CREATE TABLE subscriptions ("
    " id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, token_id INTEGER,"
    " node INTEGER NOT NULL, node_id TEXT, trigger INTEGER NOT NULL, name TEXT NOT NULL,"
    " correlation_key TEXT, interrupting INTEGER NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE INDEX subscriptions_match ON subscriptions (trigger, name, correlation_key);"
    "CREATE INDEX subscriptions_instance ON subscriptions (instance_id);"
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, correlation_key TEXT, variables TEXT,"
    " message_id TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " status INTEGER NOT NULL, instance_id INTEGER);"
    "CREATE INDEX messages_buffered ON messages (name, correlation_key) WHERE status = 0;"
    "CREATE INDEX messages_client_id ON messages (message_id) WHERE message_id IS NOT NULL;"
    "CREATE INDEX messages_expires ON messages (expires_at);"
    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY, instance_id INTEGER NOT NULL, node_id TEXT, name TEXT NOT NULL,"
    " correlation_key TEXT, variables TEXT, created_at INTEGER NOT NULL,"
    " delivered_at INTEGER);"
    "CREATE INDEX outbox_undelivered ON outbox (id) WHERE delivered_at IS NULL;"
    "CREATE TABLE message_starts ("
    " definition_id INTEGER NOT NULL, process_key TEXT NOT NULL, node_id TEXT NOT NULL,"
    " trigger INTEGER NOT NULL, name TEXT NOT NULL);"
    "CREATE INDEX message_starts_name ON message_starts (trigger, name);"
    "CREATE INDEX message_starts_key ON message_starts (process_key);"
    "INSERT INTO counters (name, value) VALUES ('subscription', 0), ('message', 0);",
    /* 10: job workers. A job is activatable from next_at on: its creation, the end of a
     * failure's backoff, or the end of the lock a worker holds (activation moves next_at
     * to lock_until), so one index answers "activatable jobs of a type". An incident
     * remembers whether its token was leaving its node (a retry leaves again). */
    "ALTER TABLE jobs ADD COLUMN worker TEXT;"
    "ALTER TABLE jobs ADD COLUMN lock_until INTEGER;"
    "ALTER TABLE jobs ADD COLUMN next_at INTEGER;"
    "ALTER TABLE jobs ADD COLUMN error_code TEXT;"
    "UPDATE jobs SET next_at = created_at;"
    "CREATE INDEX jobs_activatable ON jobs (type, status, next_at);"
    "CREATE INDEX jobs_instance ON jobs (instance_id);"
    "ALTER TABLE incidents ADD COLUMN leaving INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX incidents_instance ON incidents (instance_id);",
    /* 11: DMN decisions, by decision id with versions; each row keeps its whole document */
    "CREATE TABLE decisions ("
    " id INTEGER PRIMARY KEY, key TEXT NOT NULL, version INTEGER NOT NULL, name TEXT,"
    " xml BLOB NOT NULL, checksum TEXT NOT NULL, deployed_at INTEGER NOT NULL,"
    " UNIQUE (key, version));",
    /* 17: compensation records (completed activities whose handler a compensate event may
     * still start), in order of completion; they go when used or when the instance ends.
     * (12-16 are the CRM and BPMN migrations of this session's other branches.) */
    "CREATE TABLE compensables ("
    " instance_id INTEGER NOT NULL, seq INTEGER NOT NULL, token_id INTEGER NOT NULL,"
    " node INTEGER NOT NULL, node_id TEXT, scope_id INTEGER,"
    " PRIMARY KEY (instance_id, seq)) WITHOUT ROWID;",
    /* 18: variables keep their FEEL types. `value` stays plain JSON (dates as ISO text) for
     * the API and SQL; a value holding dates, times or durations also has typed_value,
     * where each is marked (fl_value_to_json_typed), and instances load from that. */
    "ALTER TABLE variables ADD COLUMN typed_value TEXT;"
    "ALTER TABLE local_variables ADD COLUMN typed_value TEXT;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int fl__sq_current_version(void)
{
    return N_MIGRATIONS;
}

int fl__sq_read_version(struct fl_sqlite *q, int *version, struct fl_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc;
    *version = 0;
    rc = sqlite3_prepare_v2(q->db,
                            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                            " AND name = 'schema_version'",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        goto fail;
    if (sqlite3_column_int(st, 0) == 0) {
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_finalize(st);
    rc = sqlite3_prepare_v2(q->db, "SELECT max(version) FROM schema_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        goto fail;
    *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    if ((rc & 0xff) == SQLITE_NOTADB)
        return fl_error_set(err, FL_ESTORE, "'%s' is not a database", q->path);
    return fl__sq_fail(q, rc, err, "cannot read schema version");
}

static int exec(struct fl_sqlite *q, const char *sql, struct fl_error *err, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    if ((rc & 0xff) == SQLITE_NOTADB)
        rc = fl_error_set(err, FL_ESTORE, "'%s' is not a database", q->path);
    else
        rc = fl_error_set(err, FL_ESTORE, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc;
}

static int load_token_mark(struct fl_sqlite *q, struct fl_error *err)
{
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_COUNTER_GET, err);
    int rc;
    if (!st)
        return err ? err->code : FL_ESTORE;
    sqlite3_bind_text(st, 1, "token", -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        q->token_hw = q->token_hw_saved = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read counters");
    return 0;
}

int fl__sq_migrate(struct fl_sqlite *q, struct fl_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc, version, v;
    /* IMMEDIATE: two writers opening a fresh database at once must not both migrate. */
    if ((rc = exec(q, "BEGIN IMMEDIATE", err, "cannot begin migration")) != 0)
        return rc;
    if ((rc = exec(q, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", err,
                   "cannot create schema_version")) != 0)
        goto out;
    if ((rc = fl__sq_read_version(q, &version, err)) != 0)
        goto out;
    if (version > N_MIGRATIONS) {
        rc = fl_error_set(err, FL_ESTORE,
                          "database '%s' has schema version %d, newer than this flowd (%d)",
                          q->path, version, N_MIGRATIONS);
        goto out;
    }
    for (v = version; v < N_MIGRATIONS; v++) {
        char what[64];
        snprintf(what, sizeof(what), "migration %d failed", v + 1);
        if ((rc = exec(q, migrations[v], err, what)) != 0)
            goto out;
    }
    if (version < N_MIGRATIONS) {
        if ((rc = exec(q, "DELETE FROM schema_version", err, "cannot set schema version")))
            goto out;
        rc = sqlite3_prepare_v2(q->db, "INSERT INTO schema_version (version) VALUES (?1)", -1, &st,
                                NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int(st, 1, N_MIGRATIONS);
            rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            rc = fl__sq_fail(q, rc, err, "cannot set schema version");
            goto out;
        }
        rc = 0;
    }
    rc = exec(q, "COMMIT", err, "cannot commit migration");
out:
    if (rc) {
        if (!sqlite3_get_autocommit(q->db))
            sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    q->schema_version = N_MIGRATIONS;
    return load_token_mark(q, err);
}
