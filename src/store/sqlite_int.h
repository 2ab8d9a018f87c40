/* Internals of the SQLite back end shared by its files: the connection struct, the table
 * of fixed SQL statements (prepared once per connection, then reset and reused), and the
 * helpers that bind values and map SQLite result codes to enum fl_err. All SQL with
 * values goes through bound parameters; no value is ever pasted into SQL text. */
#ifndef FLOWD_SQLITE_INT_H
#define FLOWD_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "flowd/buf.h"
#include "flowd/crm.h"
#include "flowd/jobs.h"
#include "store/store_impl.h"

/* The "owner" variable of instance i as plain text when it is a JSON string (else NULL). */
#define FL__SQ_OWNER_COL                                                                           \
    "(SELECT CASE WHEN json_valid(v.value) THEN CASE WHEN json_type(v.value) = 'text'"             \
    " THEN json_extract(v.value, '$') END END FROM variables v WHERE v.instance_id = i.id"         \
    " AND v.name = 'owner')"

/* X(NAME, SQL) -- the fixed statements; lists with optional filters are built from fixed
 * fragments in sqlite_read.c and cached per filter combination. */
#define FL__SQ_STMTS(X)                                                                            \
    X(BEGIN, "BEGIN IMMEDIATE")                                                                    \
    X(READ_BEGIN, "BEGIN")                                                                         \
    X(COMMIT, "COMMIT")                                                                            \
    X(ROLLBACK, "ROLLBACK")                                                                        \
    X(COUNTER_GET, "SELECT value FROM counters WHERE name = ?1")                                   \
    X(COUNTER_RAISE, "UPDATE counters SET value = ?2 WHERE name = ?1 AND value < ?2")              \
    X(DEF_LATEST, "SELECT id, version, xml FROM definitions WHERE key = ?1"                        \
                  " ORDER BY version DESC LIMIT 1")                                                \
    X(DEF_INSERT, "INSERT INTO definitions(key, version, name, xml, checksum, deployed_at)"        \
                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6)")                                               \
    X(DEF_FIND_LATEST, "SELECT id FROM definitions WHERE key = ?1"                                 \
                       " ORDER BY version DESC LIMIT 1")                                           \
    X(DEF_FIND_VERSION, "SELECT id FROM definitions WHERE key = ?1 AND version = ?2")              \
    X(DEF_GET, "SELECT id, key, version, name, xml, checksum, deployed_at"                         \
               " FROM definitions WHERE id = ?1")                                                  \
    X(DEF_LIST, "SELECT id, key, version, name, xml, checksum, deployed_at"                        \
                " FROM definitions ORDER BY id DESC")                                              \
    X(DEC_LATEST, "SELECT id, version, xml FROM decisions WHERE key = ?1"                          \
                  " ORDER BY version DESC LIMIT 1")                                                \
    X(DEC_INSERT, "INSERT INTO decisions(key, version, name, xml, checksum, deployed_at)"          \
                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6)")                                               \
    X(DEC_GET_ID, "SELECT id, key, version, name, xml, checksum, deployed_at"                      \
                  " FROM decisions WHERE id = ?1")                                                 \
    X(DEC_GET_KEY, "SELECT id, key, version, name, xml, checksum, deployed_at FROM decisions"      \
                   " WHERE key = ?1 AND (?2 = 0 OR version = ?2) ORDER BY version DESC LIMIT 1")   \
    X(DEC_HEAD, "SELECT id, checksum FROM decisions WHERE key = ?1"                                \
                " ORDER BY version DESC LIMIT 1")                                                  \
    X(DEC_LIST, "SELECT id, key, version, name, '', checksum, deployed_at"                         \
                " FROM decisions ORDER BY id DESC")                                                \
    X(INST_INSERT, "INSERT INTO instances(id, definition_id, business_key, status,"                \
                   " incident, started_at, ended_at, revision, started_by,"                        \
                   " parent_instance_id, parent_token_id)"                                         \
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")                        \
    X(INST_UPDATE, "UPDATE instances SET business_key = ?3, status = ?4, incident = ?5,"           \
                   " ended_at = ?7, revision = ?8 WHERE id = ?1 AND revision = ?8 - 1"             \
                   " AND definition_id = ?2 AND started_at = ?6")                                  \
    X(TOKEN_UPSERT, "INSERT INTO tokens(id, instance_id, node, node_id, flow, state,"              \
                    " task_id, job_id, main_action_done, scope_id, call_id, loop, mi_body)"        \
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"              \
                    " ON CONFLICT(id) DO UPDATE"                                                   \
                    " SET node = excluded.node, node_id = excluded.node_id,"                       \
                    " flow = excluded.flow, state = excluded.state,"                               \
                    " task_id = excluded.task_id, job_id = excluded.job_id,"                       \
                    " main_action_done = excluded.main_action_done,"                               \
                    " scope_id = excluded.scope_id, call_id = excluded.call_id,"                   \
                    " loop = excluded.loop, mi_body = excluded.mi_body")                           \
    X(TOKEN_DEL, "DELETE FROM tokens WHERE id = ?1")                                               \
    X(VAR_UPSERT, "INSERT INTO variables(instance_id, name, value, typed_value)"                  \
                  " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(instance_id, name)"                         \
                  " DO UPDATE SET value = excluded.value, typed_value = excluded.typed_value")     \
    X(LOCAL_UPSERT, "INSERT INTO local_variables(instance_id, scope_id, name, value, typed_value)" \
                    " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(instance_id, scope_id, name)"         \
                    " DO UPDATE SET value = excluded.value, typed_value = excluded.typed_value")   \
    X(LOCALS_DEL, "DELETE FROM local_variables WHERE instance_id = ?1 AND scope_id = ?2")          \
    X(COMP_UPSERT, "INSERT INTO compensables(instance_id, seq, token_id, node, node_id, scope_id)" \
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(instance_id, seq) DO UPDATE"        \
                   " SET token_id = excluded.token_id, node = excluded.node,"                      \
                   " node_id = excluded.node_id, scope_id = excluded.scope_id")                    \
    X(COMP_DEL, "DELETE FROM compensables WHERE instance_id = ?1 AND seq = ?2")                    \
    X(COMPS_CLEAR, "DELETE FROM compensables WHERE instance_id = ?1")                              \
    X(COMPS_LOAD, "SELECT seq, token_id, node, scope_id FROM compensables WHERE instance_id = ?1"  \
                  " ORDER BY seq")                                                                 \
    X(LOCALS_LOAD, "SELECT scope_id, name, coalesce(typed_value, value), typed_value IS NOT NULL"  \
                   " FROM local_variables WHERE instance_id = ?1"                                  \
                   " ORDER BY scope_id")                                                           \
    X(TASK_INSERT, "INSERT INTO tasks(id, instance_id, token_id, node_id, name, assignee,"         \
                   " candidate_roles, candidate_users, status, created_at, due_at,"                \
                   " remind_at, main_action_kind, main_action_required, main_action_done,"         \
                   " watch_roles)"                                                                 \
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13, 0, ?14)")   \
    X(TASK_ASSIGN, "UPDATE tasks SET assignee = ?2 WHERE id = ?1 AND status = 0")               \
    X(TASK_STATUS, "SELECT status FROM tasks WHERE id = ?1")                                       \
    X(IDEM_GET, "SELECT body_hash, status, content_type, location, body, created_at"               \
                " FROM idempotency WHERE scope = ?1")                                              \
    X(IDEM_PUT, "INSERT OR IGNORE INTO idempotency(scope, body_hash, status, content_type,"        \
                " location, body, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")                 \
    X(COUNT_OPEN, "SELECT (SELECT count(*) FROM tasks WHERE status = 0),"                          \
                  " (SELECT count(*) FROM instances WHERE status = 0)")                           \
    X(TASK_CLOSE, "UPDATE tasks SET status = ?2, closed_at = ?3, closed_by = ?4"                   \
                  " WHERE id = ?1")                                                                \
    X(TASK_ACTION, "UPDATE tasks SET main_action_done = 1,"                                        \
                   " main_action_kind = coalesce(?2, main_action_kind),"                           \
                   " main_action_ref = ?3 WHERE id = ?1")                                          \
    X(JOB_INSERT, "INSERT INTO jobs(id, instance_id, token_id, node_id, type, retries,"            \
                  " status, created_at, next_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?7)")       \
    X(JOB_CLOSE, "UPDATE jobs SET status = ?2, retries = ?3, error = ?4, closed_at = ?5"           \
                 " WHERE id = ?1")                                                                 \
    X(JOB_RETRY, "UPDATE jobs SET retries = ?2, error = ?3, next_at = ?4, lock_until = NULL"       \
                 " WHERE id = ?1")                                                                 \
    X(INCIDENT_INSERT, "INSERT INTO incidents(id, instance_id, token_id, job_id, node_id,"         \
                       " message, created_at, leaving) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")    \
    X(INST_LOAD, "SELECT definition_id, business_key, status, incident, started_at,"               \
                 " ended_at, revision, started_by, parent_instance_id, parent_token_id"            \
                 " FROM instances WHERE id = ?1")                                                  \
    X(TOKENS_LOAD, "SELECT id, node, flow, state, task_id, job_id, main_action_done,"              \
                   " scope_id, call_id, loop, mi_body"                                             \
                   " FROM tokens WHERE instance_id = ?1 ORDER BY id")                              \
    X(VARS_LOAD, "SELECT name, value, typed_value FROM variables WHERE instance_id = ?1")          \
    X(INST_GET, "SELECT i.id, i.definition_id, d.key, d.version, i.business_key,"                  \
                " i.status, i.incident, i.started_at, i.ended_at, i.started_by, " FL__SQ_OWNER_COL \
                " FROM instances i JOIN definitions d ON d.id = i.definition_id WHERE i.id = ?1")  \
    X(TASK_GET, "SELECT t.id, t.instance_id, t.token_id, t.node_id, t.name, d.key,"                \
                " t.assignee, t.candidate_roles, t.candidate_users, t.status,"                     \
                " t.created_at, t.due_at, t.remind_at, t.closed_at, t.closed_by,"                  \
                " t.main_action_kind, t.main_action_required, t.main_action_done, t.watch_roles,"  \
                " i.started_by, " FL__SQ_OWNER_COL                                                 \
                " FROM tasks t JOIN instances i ON i.id = t.instance_id"                           \
                " JOIN definitions d ON d.id = i.definition_id WHERE t.id = ?1")                   \
    X(JOB_INSTANCE, "SELECT instance_id FROM jobs WHERE id = ?1")                                  \
    X(HISTORY, "SELECT seq, type, instance_id, token_id, ref_id, node_id, actor, detail,"          \
               " at FROM history WHERE instance_id = ?1 ORDER BY seq")                             \
    X(MAX_INSTANCE, "SELECT max(id) FROM instances")                                               \
    X(MAX_TOKEN, "SELECT max(id) FROM tokens")                                                     \
    X(MAX_TASK, "SELECT max(id) FROM tasks")                                                       \
    X(MAX_JOB, "SELECT max(id) FROM jobs")                                                         \
    X(MAX_INCIDENT, "SELECT max(id) FROM incidents")                                               \
    FL__SQ_PEOPLE_STMTS(X)                                                                         \
    FL__SQ_TIMER_STMTS(X)                                                                          \
    FL__SQ_CONTROL_STMTS(X)                                                                        \
    FL__SQ_JOB_STMTS(X)                                                                            \
    FL__SQ_MIGRATE_STMTS(X)

/* Jobs and incidents (sqlite_jobs.c). */
#define FL__SQ_JOB_COLS                                                                            \
    "SELECT j.id, j.instance_id, j.token_id, i.definition_id, j.node_id, j.type, d.key,"           \
    " d.version, j.retries, j.status, j.worker, j.lock_until, j.next_at, j.error,"                 \
    " j.error_code, j.created_at, j.closed_at FROM jobs j"                                         \
    " JOIN instances i ON i.id = j.instance_id JOIN definitions d ON d.id = i.definition_id"
#define FL__SQ_INCIDENT_COLS                                                                       \
    "SELECT n.id, n.instance_id, n.token_id, n.job_id, n.node_id, n.message, d.key,"               \
    " n.created_at, n.resolved_at FROM incidents n"                                                \
    " JOIN instances i ON i.id = n.instance_id JOIN definitions d ON d.id = i.definition_id"
#define FL__SQ_JOB_STMTS(X)                                                                        \
    X(JOB_GET, FL__SQ_JOB_COLS " WHERE j.id = ?1")                                                 \
    X(JOB_LIST, FL__SQ_JOB_COLS " WHERE (?1 IS NULL OR j.type = ?1) AND (?2 < 0 OR"               \
                " j.status = ?2) AND (?3 = 0 OR j.instance_id = ?3) AND j.id > ?4"                 \
                " ORDER BY j.id LIMIT ?5")                                                         \
    X(JOB_PICK, "SELECT id FROM jobs WHERE type = ?1 AND status = 0 AND next_at <= ?2"             \
                " ORDER BY next_at, id LIMIT ?3")                                                  \
    X(JOB_LOCK, "UPDATE jobs SET worker = ?2, lock_until = ?3, next_at = ?3"                       \
                " WHERE id = ?1 AND status = 0")                                                   \
    X(JOB_NEXT, "SELECT min(next_at) FROM jobs WHERE type = ?1 AND status = 0 AND next_at > ?2")   \
    X(JOB_ERROR_CODE, "UPDATE jobs SET error_code = ?2 WHERE id = ?1")                             \
    X(INCIDENT_GET, FL__SQ_INCIDENT_COLS " WHERE n.id = ?1")                                       \
    X(INCIDENT_LIST, FL__SQ_INCIDENT_COLS " WHERE (?1 = 0 OR (n.resolved_at IS NULL"               \
                     " AND i.status = 0)) AND (?2 = 0 OR n.instance_id = ?2) AND n.id > ?3"        \
                     " ORDER BY n.id LIMIT ?4")                                                    \
    X(INCIDENT_RESOLVE, "UPDATE incidents SET resolved_at = ?3 WHERE resolved_at IS NULL AND"      \
                        " (id = ?1 OR (?1 = 0 AND token_id = ?2))")                                \
    X(INCIDENTS_LOAD, "SELECT id, token_id, leaving FROM incidents WHERE instance_id = ?1"         \
                      " AND resolved_at IS NULL")

/* Migration between versions (sqlite_write.c, FL_FX_MIGRATE): the instance's definition,
 * then the node ids of its open tasks, jobs and incidents from its tokens just written. */
#define FL__SQ_MIGRATE_STMTS(X)                                                                    \
    X(INST_MIGRATE, "UPDATE instances SET definition_id = ?2 WHERE id = ?1 AND definition_id = ?3") \
    X(TASKS_RENODE, "UPDATE tasks SET node_id = (SELECT k.node_id FROM tokens k"                   \
                    " WHERE k.task_id = tasks.id AND k.instance_id = ?1) WHERE instance_id = ?1"   \
                    " AND status = 0 AND id IN (SELECT task_id FROM tokens"                        \
                    " WHERE instance_id = ?1 AND task_id IS NOT NULL)")                            \
    X(JOBS_RENODE, "UPDATE jobs SET node_id = (SELECT k.node_id FROM tokens k"                     \
                   " WHERE k.job_id = jobs.id AND k.instance_id = ?1) WHERE instance_id = ?1"      \
                   " AND status = 0 AND id IN (SELECT job_id FROM tokens"                          \
                   " WHERE instance_id = ?1 AND job_id IS NOT NULL)")                              \
    X(INCIDENTS_RENODE, "UPDATE incidents SET node_id = (SELECT k.node_id FROM tokens k"           \
                        " WHERE k.id = incidents.token_id) WHERE instance_id = ?1"                 \
                        " AND resolved_at IS NULL AND token_id IN (SELECT id FROM tokens"          \
                        " WHERE instance_id = ?1)")

/* Control points (sqlite_control.c); lists are built per filter there. */
#define FL__SQ_CONTROL_STMTS(X)                                                                    \
    X(CONTROL_UPSERT, "INSERT INTO control_points(id, instance_id, name, due_at, remind_at,"      \
                      " set_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE"          \
                      " SET due_at = excluded.due_at, remind_at = excluded.remind_at,"             \
                      " set_at = excluded.set_at, done_at = NULL")                                 \
    X(CONTROL_DONE, "UPDATE control_points SET done_at = ?2 WHERE id = ?1")                        \
    X(CONTROLS_LOAD, "SELECT id, name, due_at, remind_at, set_at FROM control_points"              \
                     " WHERE instance_id = ?1 AND done_at IS NULL ORDER BY id")

/* Timers, notifications and control points (sqlite_timer.c). */
#define FL__SQ_TIMER_STMTS(X)                                                                      \
    X(TIMER_UPSERT, "INSERT INTO timers(id, instance_id, token_id, ref_id, node, kind, level,"     \
                    " repeat, due_at, base_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"    \
                    " ON CONFLICT(id) DO UPDATE SET token_id = excluded.token_id,"                 \
                    " ref_id = excluded.ref_id, node = excluded.node, kind = excluded.kind,"       \
                    " level = excluded.level, repeat = excluded.repeat,"                           \
                    " due_at = excluded.due_at, base_at = excluded.base_at")                       \
    X(TIMER_DEL, "DELETE FROM timers WHERE id = ?1")                                               \
    X(TIMERS_LOAD, "SELECT id, token_id, ref_id, node, kind, level, repeat, due_at, base_at"       \
                   " FROM timers WHERE instance_id = ?1 ORDER BY id")                              \
    X(TIMERS_DUE, "SELECT id, instance_id, due_at FROM timers WHERE (due_at, id) > (?1, ?2)"       \
                  " ORDER BY due_at, id LIMIT ?3")                                                 \
    X(TIMER_COUNT, "SELECT count(*) FROM timers")                                                  \
    X(MAX_TIMER, "SELECT max(id) FROM timers")                                                     \
    X(MAX_CONTROL, "SELECT max(id) FROM control_points")                                           \
    X(NOTIFY_INSERT, "INSERT INTO notifications(user_login, kind, instance_id, task_id,"          \
                     " control_id, node_id, message, created_at)"                                  \
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")                                    \
    X(NOTIFY_USER_DISABLED, "SELECT disabled FROM users WHERE login = ?1")                         \
    X(NOTIFY_TASK_PEOPLE, "SELECT assignee, candidate_users, candidate_roles FROM tasks"           \
                          " WHERE id = ?1")                                                        \
    X(NOTIFY_ROLE_USERS, "SELECT u.login FROM roles r JOIN user_roles ur ON ur.role_id = r.id"     \
                         " JOIN users u ON u.id = ur.user_id WHERE r.name = ?1"                    \
                         " AND u.disabled = 0 ORDER BY u.login")                                   \
    X(NOTIFY_HEAD_OF, "WITH RECURSIVE up(id, depth) AS (SELECT department_id, 0 FROM users"        \
                      " WHERE login = ?1 AND department_id IS NOT NULL UNION ALL"                  \
                      " SELECT d.parent_id, up.depth + 1 FROM departments d JOIN up"               \
                      " ON d.id = up.id WHERE d.parent_id IS NOT NULL AND up.depth < 64)"          \
                      " SELECT h.login FROM up JOIN departments d ON d.id = up.id"                 \
                      " JOIN users h ON h.id = d.head_user_id WHERE h.disabled = 0"                \
                      " AND h.login <> ?1 ORDER BY up.depth LIMIT 1")                              \
    X(NOTIF_LIST, "SELECT id, user_login, kind, instance_id, task_id, control_id, node_id,"        \
                  " message, created_at, read_at FROM notifications WHERE user_login = ?1"         \
                  " AND id > ?2 ORDER BY id LIMIT ?3")                                             \
    X(NOTIF_LIST_UNREAD, "SELECT id, user_login, kind, instance_id, task_id, control_id,"          \
                         " node_id, message, created_at, read_at FROM notifications"               \
                         " WHERE user_login = ?1 AND read_at IS NULL AND id > ?2"                  \
                         " ORDER BY id LIMIT ?3")                                                  \
    X(NOTIF_READ, "UPDATE notifications SET read_at = coalesce(read_at, ?3)"                       \
                  " WHERE id = ?1 AND user_login = ?2")

/* People and access (sqlite_people.c). */
#define FL__USER_COLUMNS                                                                           \
    "SELECT u.id, u.login, u.display_name, u.email, u.password_hash, u.disabled, u.admin,"         \
    " u.department_id, d.name, u.created_at FROM users u"                                          \
    " LEFT JOIN departments d ON d.id = u.department_id"
#define FL__SQ_PEOPLE_STMTS(X)                                                                     \
    X(USER_INSERT, "INSERT INTO users(login, display_name, email, password_hash, admin,"           \
                   " department_id, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")               \
    X(USER_BY_LOGIN, FL__USER_COLUMNS " WHERE u.login = ?1")                                       \
    X(USER_BY_ID, FL__USER_COLUMNS " WHERE u.id = ?1")                                             \
    X(USER_LIST, FL__USER_COLUMNS " ORDER BY u.login")                                             \
    X(USER_ROLES, "SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id"             \
                  " WHERE ur.user_id = ?1 ORDER BY r.name")                                        \
    X(USER_ID, "SELECT id FROM users WHERE login = ?1")                                            \
    X(USER_SET_DISABLED, "UPDATE users SET disabled = ?2 WHERE login = ?1")                        \
    X(USER_SET_PASSWORD, "UPDATE users SET password_hash = ?2 WHERE login = ?1")                   \
    X(USER_END_SESSIONS, "DELETE FROM sessions WHERE user_id = ?1")                                \
    X(ROLE_INSERT, "INSERT INTO roles(name, description) VALUES(?1, ?2)")                          \
    X(ROLE_ID, "SELECT id FROM roles WHERE name = ?1")                                             \
    X(ROLE_LIST, "SELECT id, name, description FROM roles ORDER BY name")                          \
    X(USER_ROLE_INSERT, "INSERT OR IGNORE INTO user_roles(user_id, role_id) VALUES(?1, ?2)")       \
    X(DEPT_ID, "SELECT id FROM departments WHERE name = ?1")                                       \
    X(DEPT_INSERT, "INSERT INTO departments(name, parent_id, head_user_id) VALUES(?1, ?2, ?3)")    \
    X(DEPT_LIST, "WITH RECURSIVE tree(id, depth) AS (SELECT id, 0 FROM departments"                \
                 " WHERE parent_id IS NULL UNION ALL SELECT d.id, t.depth + 1"                     \
                 " FROM departments d JOIN tree t ON d.parent_id = t.id)"                          \
                 " SELECT d.id, d.name, d.parent_id, d.head_user_id, u.login FROM tree t"          \
                 " JOIN departments d ON d.id = t.id LEFT JOIN users u ON u.id = d.head_user_id"   \
                 " ORDER BY t.depth, d.name")                                                      \
    X(HEADS_ANY, "SELECT 1 FROM departments WHERE head_user_id = ?1 LIMIT 1")                      \
    X(MANAGED_LOGINS, "WITH RECURSIVE managed(id) AS (SELECT id FROM departments"                  \
                      " WHERE head_user_id = ?1 UNION SELECT d.id FROM departments d"              \
                      " JOIN managed m ON d.parent_id = m.id)"                                     \
                      " SELECT login FROM users WHERE department_id IN managed ORDER BY login")    \
    X(TOKEN_INSERT, "INSERT INTO api_tokens(hash, name, user_id, scope, created_at)"               \
                    " VALUES(?1, ?2, ?3, ?4, ?5)")                                                 \
    X(TOKEN_FIND,                                                                                  \
      "SELECT t.id, t.user_id, t.scope, t.hash, t.revoked_at, u.disabled, t.last_used_at"          \
      " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?1")                     \
    X(TOKEN_TOUCH, "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")                        \
    X(TOKEN_REVOKE, "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1")   \
    X(TOKEN_LIST, "SELECT t.id, t.name, t.user_id, u.login, t.scope, t.created_at,"                \
                  " t.last_used_at, t.revoked_at FROM api_tokens t JOIN users u"                   \
                  " ON u.id = t.user_id WHERE ?1 IS NULL OR u.login = ?1 ORDER BY t.id DESC")      \
    X(SESSION_INSERT, "INSERT INTO sessions(hash, user_id, csrf, created_at, last_seen_at,"        \
                      " expires_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)")                               \
    X(SESSION_FIND, "SELECT s.user_id, s.csrf, s.hash, s.created_at, s.last_seen_at,"              \
                    " s.expires_at, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id"   \
                    " WHERE s.hash = ?1")                                                          \
    X(SESSION_TOUCH, "UPDATE sessions SET last_seen_at = ?2 WHERE hash = ?1")                      \
    X(SESSION_DELETE, "DELETE FROM sessions WHERE hash = ?1")

enum fl__sq_stmt {
#define FL__SQ_ENUM(name, sql) FL__SQ_##name,
    FL__SQ_STMTS(FL__SQ_ENUM)
#undef FL__SQ_ENUM
        FL__SQ_COUNT
};

#define FL__SQ_INST_LIST_VARIANTS 8  /* active_only x process_key x viewer */
#define FL__SQ_TASK_LIST_VARIANTS 32 /* open_only x role x assignee x instance x viewer */
/* CRM statements per record type (sqlite_crm.c): 9 fixed ones and one list statement per
 * combination of owner x status x company x search x subject type x subject id x kind x viewer. */
#define FL__SQ_CRM_LIST_VARIANTS 256
#define FL__SQ_CRM_SLOTS (9 + FL__SQ_CRM_LIST_VARIANTS)
/* History rows written by one INSERT at most (one prepared statement per row count). */
#define FL__SQ_HISTORY_ROWS 8
#define FL__SQ_CONTROL_LIST_VARIANTS 16 /* instance x open_only x overdue x viewer */

#define FL__SQ_MSG_SLOTS 24 /* statements of sqlite_messages.c */

struct fl_sqlite {
    struct fl_store base; /* first: the vtable */
    sqlite3 *db;
    int64_t data_version; /* PRAGMA data_version at the last changed_elsewhere; -1 never */
    sqlite3_stmt *data_version_st;
    char *path;
    bool read_only;
    bool in_tx;
    bool in_read; /* a read snapshot (fl_store_read_begin) is open */
    int schema_version;
    int synchronous;          /* the level set at open, for the checkpointer's connection */
    struct fl__sq_ckpt *ckpt; /* background checkpointer, or NULL (sqlite_ckpt.c) */
    sqlite3_stmt *stmt[FL__SQ_COUNT];
    sqlite3_stmt *inst_list[FL__SQ_INST_LIST_VARIANTS];
    sqlite3_stmt *task_list[FL__SQ_TASK_LIST_VARIANTS];
    sqlite3_stmt *history_rows[FL__SQ_HISTORY_ROWS]; /* [k - 1]: INSERT of k history rows */
    sqlite3_stmt *control_list[FL__SQ_CONTROL_LIST_VARIANTS];
    /* Token ids are deleted with their tokens, so max(id) could hand a used id out again
     * after a restart; the highest id written is kept in the counters table at commit. */
    uint64_t token_hw, token_hw_saved;
    struct fl_buf json; /* scratch for variable values */
    struct fl_buf json2; /* scratch for the typed form of a variable value */
    /* Users told by the current run of NOTIFY effects about one thing (sqlite_timer.c):
     * each gets one row however many addressees name them. */
    struct fl_strlist notified;
    size_t cap_notified;
    const struct fl_notify *notify_last;
    uint64_t timer_max; /* highest timer id set by the current apply (raises the counter) */
    /* CRM records (sqlite_crm.c): statements built on first use */
    sqlite3_stmt *crm[FL_CRM_NTYPES][FL__SQ_CRM_SLOTS];
    /* Messages and signals (sqlite_messages.c): statements, and the time of the step being
     * applied (its first event's), which subscription and outbox rows are stamped with. */
    sqlite3_stmt *msg[FL__SQ_MSG_SLOTS];
    int64_t msg_now;
};

static inline struct fl_sqlite *fl__sq(struct fl_store *s)
{
    return (struct fl_sqlite *)s;
}

/* The cached statement id, prepared on first use; NULL with err set on failure. Callers
 * sqlite3_reset it when done so no read snapshot stays open. */
sqlite3_stmt *fl__sq_stmt(struct fl_sqlite *q, enum fl__sq_stmt id, struct fl_error *err);

/* Prepare sql once into *slot (a cache slot owned by q). */
sqlite3_stmt *fl__sq_prepare_slot(struct fl_sqlite *q, sqlite3_stmt **slot, const char *sql,
                                  struct fl_error *err);

/* Map an SQLite result code to enum fl_err, with "what: sqlite message" in err. */
int fl__sq_fail(struct fl_sqlite *q, int rc, struct fl_error *err, const char *what);

/* Bind text (NULL binds SQL NULL); lengths as strlen. */
int fl__sq_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Bind an id or time (0 binds SQL NULL, for optional references). */
int fl__sq_bind_opt(sqlite3_stmt *st, int i, int64_t v);

/* Copy of a text column (NULL when SQL NULL). Caller frees. */
char *fl__sq_col_text(sqlite3_stmt *st, int i);

/* Run the migrations (writable connection, outside a transaction). */
int fl__sq_migrate(struct fl_sqlite *q, struct fl_error *err);

/* Read the schema version; 0 for an empty database. */
int fl__sq_read_version(struct fl_sqlite *q, int *version, struct fl_error *err);

/* Schema version this build writes. */
int fl__sq_current_version(void);

/* Start the background checkpointer of a writable connection (idempotent; read-only: no-op).
 * The writer's commits stop checkpointing from then on. */
int fl__sq_ckpt_start(struct fl_store *s, struct fl_error *err);

/* Called by the writer before BEGIN: past the WAL size cap, wait for the checkpointer
 * to catch up so this transaction starts on a checkpointed WAL and restarts it. */
void fl__sq_ckpt_before_begin(struct fl_sqlite *q);

/* Stop and join the checkpointer if started; called by close before the writer's
 * connection goes. */
void fl__sq_ckpt_stop(struct fl_sqlite *q);

/* Jobs and incidents (sqlite_jobs.c): the INCIDENT_RESOLVE effect, the open incidents'
 * ids and directions restored onto inst's INCIDENT tokens, and the vtable entries of
 * flowd/jobs.h. */
int fl__sq_job_effect(struct fl_sqlite *q, const struct fl_instance *inst,
                      const struct fl_effect *fx, struct fl_error *err);
int fl__sq_incidents_load(struct fl_sqlite *q, struct fl_instance *inst, struct fl_error *err);
int fl__sq_job_get(struct fl_store *s, uint64_t id, struct fl_job_row *out, struct fl_error *err);
int fl__sq_job_list(struct fl_store *s, const struct fl_job_query *qy, struct fl_job_row **rows,
                    size_t *n, struct fl_error *err);
int fl__sq_job_activate(struct fl_store *s, const char *type, const char *worker, size_t max,
                        int64_t now_ms, int64_t lock_until, struct fl_job_row **rows, size_t *n,
                        struct fl_error *err);
int fl__sq_job_next_activatable(struct fl_store *s, const char *type, int64_t now_ms, int64_t *at,
                                struct fl_error *err);
int fl__sq_job_set_error_code(struct fl_store *s, uint64_t id, const char *code,
                              struct fl_error *err);
int fl__sq_incident_get(struct fl_store *s, uint64_t id, struct fl_incident_row *out,
                        struct fl_error *err);
int fl__sq_incident_list(struct fl_store *s, const struct fl_incident_query *qy,
                         struct fl_incident_row **rows, size_t *n, struct fl_error *err);

/* Versioned documents: BPMN definitions and DMN decisions keep one row per version of a key
 * with the whole document, and the same code stores and lists both. */
struct fl__sq_versioned {
    enum fl__sq_stmt latest, insert, list; /* (id, version, xml) of the latest; insert; list */
    const char *what;                      /* "definition", "decision": for messages */
    /* row by id (key NULL), for a re-deploy of the same document */
    int (*get)(struct fl_store *s, const char *key, int32_t version, uint64_t id,
               struct fl_definition_row *out, struct fl_error *err);
};

/* Store version latest + 1 of key (as fl_store_definition_put says), in sqlite_write.c. */
int fl__sq_versioned_put(struct fl_store *s, const struct fl__sq_versioned *v, const char *key,
                         const char *name, const char *xml, size_t xml_len, int64_t now_ms,
                         struct fl_definition_row *out, bool *created, struct fl_error *err);

/* All rows of v's list statement, in sqlite_read.c. */
int fl__sq_versioned_list(struct fl_store *s, const struct fl__sq_versioned *v,
                          struct fl_definition_row **rows, size_t *n, struct fl_error *err);

/* A definition row from columns id, key, version, name, xml, checksum, deployed_at. */
void fl__sq_read_definition(sqlite3_stmt *st, struct fl_definition_row *r);

/* Operations implemented in sqlite_write.c and sqlite_read.c. */
int fl__sq_definition_put(struct fl_store *s, const char *key, const char *name, const char *xml,
                          size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                          bool *created, struct fl_error *err);
int fl__sq_apply(struct fl_store *s, const struct fl_model *m, const struct fl_instance *inst,
                 const struct fl_effects *fx, struct fl_error *err);
int fl__sq_definition_find(struct fl_store *s, const char *key, int32_t version, uint64_t *id,
                           struct fl_error *err);
int fl__sq_definition_get(struct fl_store *s, const char *key, int32_t version, uint64_t id,
                          struct fl_definition_row *out, struct fl_error *err);
int fl__sq_definition_list(struct fl_store *s, struct fl_definition_row **rows, size_t *n,
                           struct fl_error *err);
int fl__sq_instance_load(struct fl_store *s, uint64_t id, struct fl_instance **out,
                         struct fl_error *err);
int fl__sq_max_id(struct fl_store *s, enum fl_id_kind kind, uint64_t *out, struct fl_error *err);
int fl__sq_instance_list(struct fl_store *s, const struct fl_instance_query *qy,
                         struct fl_instance_row **rows, size_t *n, struct fl_error *err);
int fl__sq_instance_get(struct fl_store *s, uint64_t id, struct fl_instance_row *out,
                        struct fl_error *err);
int fl__sq_task_list(struct fl_store *s, const struct fl_task_query *qy, struct fl_task_row **rows,
                     size_t *n, struct fl_error *err);
int fl__sq_task_get(struct fl_store *s, uint64_t id, struct fl_task_row *out, struct fl_error *err);
int fl__sq_idem_get(struct fl_store *s, const char *scope, struct fl_idem_row *out,
                    struct fl_error *err);
int fl__sq_idem_put(struct fl_store *s, const struct fl_idem_row *row, struct fl_error *err);
int fl__sq_count_open(struct fl_store *s, uint64_t *open_tasks, uint64_t *active_instances,
                      struct fl_error *err);
int fl__sq_task_set_assignee(struct fl_store *s, uint64_t id, const char *assignee,
                             struct fl_error *err);
int fl__sq_job_instance(struct fl_store *s, uint64_t job_id, uint64_t *instance_id,
                        struct fl_error *err);
int fl__sq_history(struct fl_store *s, uint64_t instance_id, struct fl_event_row **rows, size_t *n,
                   struct fl_error *err);

/* Timers and notifications, in sqlite_timer.c. put_timer_effect writes TIMER_SET/DEL and
 * NOTIFY (other kinds: FL_EINTERNAL); apply_begin/apply_end bracket one fl_store_apply
 * (dedup of notifications, the timer id high-water mark). */
void fl__sq_timer_apply_begin(struct fl_sqlite *q);
int fl__sq_timer_effect(struct fl_sqlite *q, const struct fl_instance *inst,
                        const struct fl_effect *fx, struct fl_error *err);
int fl__sq_timer_apply_end(struct fl_sqlite *q, struct fl_error *err);
/* Append inst's pending timers (in id order). */
int fl__sq_timers_load(struct fl_sqlite *q, struct fl_instance *inst, struct fl_error *err);
int fl__sq_timers_due(struct fl_store *s, int64_t after_due, uint64_t after_id,
                      struct fl_timer_due *rows, size_t max, size_t *n, struct fl_error *err);
int fl__sq_timer_count(struct fl_store *s, uint64_t *n, struct fl_error *err);

/* ---- sqlite_timer_start.c: timer start events (timers of a definition) ---- */
int fl__sq_start_timers_clear(struct fl_store *s, const char *key, struct fl_error *err);
int fl__sq_start_timer_put(struct fl_store *s, const struct fl_timer *t, struct fl_error *err);
int fl__sq_timer_get(struct fl_store *s, uint64_t id, struct fl_timer *out, struct fl_error *err);
int fl__sq_timer_delete(struct fl_store *s, uint64_t id, struct fl_error *err);
int fl__sq_notification_list(struct fl_store *s, const struct fl_notification_query *qy,
                             struct fl_notification_row **rows, size_t *n, struct fl_error *err);
int fl__sq_notification_read(struct fl_store *s, const char *user, uint64_t id, int64_t now_ms,
                             struct fl_error *err);
/* Release what the timer code keeps on the connection (close). */
void fl__sq_timer_release(struct fl_sqlite *q);

/* Control points (sqlite_control.c): the CONTROL_SET/DEL effects, the open ones of an
 * instance into inst->controls, and the lists. */
int fl__sq_put_control(struct fl_sqlite *q, const struct fl_effect *fx, struct fl_error *err);
int fl__sq_load_controls(struct fl_sqlite *q, struct fl_instance *inst, struct fl_error *err);
int fl__sq_control_list(struct fl_store *s, const struct fl_control_query *qy,
                        struct fl_control_row **rows, size_t *n, struct fl_error *err);

/* The record-level viewer filter of instance lists (sqlite_read.c), for statements of other
 * files: the CTE to put first, the condition on an instance aliased i (starts with " AND"),
 * and the binding of the viewer to parameters ?10..?12. */
const char *fl__sq_viewer_cte(void);
const char *fl__sq_instance_visible(void);
bool fl__sq_viewer_restricted(const struct fl_principal *p);
void fl__sq_bind_viewer(sqlite3_stmt *st, const struct fl_principal *p);

/* People and access, in sqlite_people.c (vtable entries of flowd/auth.h's records). */
int fl__sq_user_add(struct fl_store *s, const struct fl_user_new *u, int64_t now_ms, uint64_t *id,
                    struct fl_error *err);
int fl__sq_user_get(struct fl_store *s, const char *login, uint64_t id, struct fl_user_row *out,
                    struct fl_error *err);
int fl__sq_user_list(struct fl_store *s, struct fl_user_row **rows, size_t *n,
                     struct fl_error *err);
int fl__sq_user_set_disabled(struct fl_store *s, const char *login, bool disabled,
                             struct fl_error *err);
int fl__sq_user_set_password(struct fl_store *s, const char *login, const char *hash,
                             struct fl_error *err);
int fl__sq_role_add(struct fl_store *s, const char *name, const char *description, uint64_t *id,
                    struct fl_error *err);
int fl__sq_role_list(struct fl_store *s, struct fl_role_row **rows, size_t *n,
                     struct fl_error *err);
int fl__sq_user_grant_role(struct fl_store *s, const char *login, const char *role,
                           struct fl_error *err);
int fl__sq_department_add(struct fl_store *s, const char *name, const char *parent,
                          const char *head, uint64_t *id, struct fl_error *err);
int fl__sq_department_list(struct fl_store *s, struct fl_department_row **rows, size_t *n,
                           struct fl_error *err);
int fl__sq_managed_logins(struct fl_store *s, uint64_t user_id, struct fl_strlist *out,
                          struct fl_error *err);
int fl__sq_token_insert(struct fl_store *s, uint64_t user_id, const char *name, int scope,
                        const char *hash, int64_t now_ms, uint64_t *id, struct fl_error *err);
int fl__sq_token_find(struct fl_store *s, const char *hash, struct fl__token_rec *out,
                      struct fl_error *err);
int fl__sq_token_touch(struct fl_store *s, uint64_t id, int64_t now_ms, struct fl_error *err);
int fl__sq_token_revoke(struct fl_store *s, uint64_t id, int64_t now_ms, struct fl_error *err);
int fl__sq_token_list(struct fl_store *s, const char *login, struct fl_token_row **rows, size_t *n,
                      struct fl_error *err);
int fl__sq_session_insert(struct fl_store *s, const struct fl__session_rec *r,
                          struct fl_error *err);
int fl__sq_session_find(struct fl_store *s, const char *hash, struct fl__session_rec *out,
                        struct fl_error *err);
int fl__sq_session_touch(struct fl_store *s, const char *hash, int64_t now_ms,
                         struct fl_error *err);
int fl__sq_session_delete(struct fl_store *s, const char *hash, struct fl_error *err);

/* DMN decisions, in sqlite_decision.c (rows as definitions: key = decision id). */
int fl__sq_decision_put(struct fl_store *s, const char *key, const char *name, const char *xml,
                        size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                        bool *created, struct fl_error *err);
int fl__sq_decision_get(struct fl_store *s, const char *key, int32_t version, uint64_t id,
                        struct fl_definition_row *out, struct fl_error *err);
int fl__sq_decision_head(struct fl_store *s, const char *key, uint64_t *id, char checksum[65],
                         struct fl_error *err);
int fl__sq_decision_list(struct fl_store *s, struct fl_definition_row **rows, size_t *n,
                         struct fl_error *err);

/* Business calendars, in sqlite_calendar.c. */
int fl__sq_calendar_put(struct fl_store *s, const char *name, const char *json, int64_t now_ms,
                        struct fl_error *err);
int fl__sq_calendar_get(struct fl_store *s, const char *name, struct fl_calendar_row *out,
                        struct fl_error *err);
int fl__sq_calendar_list(struct fl_store *s, struct fl_calendar_row **rows, size_t *n,
                         struct fl_error *err);
int fl__sq_calendar_delete(struct fl_store *s, const char *name, struct fl_error *err);
int fl__sq_calendar_revision(struct fl_store *s, uint64_t *rev, struct fl_error *err);
/* Messages and signals, in sqlite_messages.c: the SUB_OPEN/SUB_CLOSE/OUTBOX/SIGNAL effects,
 * an instance's open subscriptions into inst->subs, the largest subscription and message
 * ids, the message table of the vtable, and closing the statements. */
int fl__sq_message_effect(struct fl_sqlite *q, const struct fl_model *m,
                          const struct fl_instance *inst, const struct fl_effect *fx,
                          struct fl_error *err);
int fl__sq_subs_load(struct fl_sqlite *q, struct fl_instance *inst, struct fl_error *err);
int fl__sq_max_message_id(struct fl_sqlite *q, enum fl_id_kind kind, uint64_t *out,
                          struct fl_error *err);
void fl__sq_messages_release(struct fl_sqlite *q);
extern const struct fl_store_msg_ops fl__sq_msg_ops;

/* CRM records, in sqlite_crm.c (vtable entries of flowd/crm.h). */
int fl__sq_crm_get(struct fl_store *s, enum fl_crm_type t, uint64_t id,
                   const struct fl_principal *viewer, struct fl_crm_record *out,
                   struct fl_error *err);
int fl__sq_crm_list(struct fl_store *s, const struct fl_crm_query *q, struct fl_crm_record **rows,
                    size_t *n, struct fl_error *err);
int fl__sq_crm_resolve(struct fl_store *s, struct fl_crm_record *rec, const bool *check,
                       const struct fl_principal *viewer, struct fl_error *err);
int fl__sq_crm_insert(struct fl_store *s, const struct fl_crm_record *rec, uint64_t *id,
                      struct fl_error *err);
int fl__sq_crm_update(struct fl_store *s, const struct fl_crm_record *rec, struct fl_error *err);
int fl__sq_crm_delete(struct fl_store *s, enum fl_crm_type t, uint64_t id, int64_t now_ms,
                      struct fl_error *err);

#endif
