/* SQLite back end, DMN decisions (migration 11): the decisions table mirrors definitions --
 * one row per version of a decision id, holding its whole DMN document -- so a deploy of the
 * same XML is recognised and keeps its version, and the writer can ask for the latest
 * version's id and checksum without reading the XML on every business rule task. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/sha256.h"
#include "store/sqlite_int.h"

#define FAIL_CODE(err) ((err) ? (err)->code : FL_ESTORE)

static void read_row(sqlite3_stmt *st, struct fl_definition_row *r)
{
    const void *xml = sqlite3_column_blob(st, 4);
    const unsigned char *sum = sqlite3_column_text(st, 5);
    r->id = (uint64_t)sqlite3_column_int64(st, 0);
    r->key = fl__sq_col_text(st, 1);
    r->version = sqlite3_column_int(st, 2);
    r->name = fl__sq_col_text(st, 3);
    r->xml_len = (size_t)sqlite3_column_bytes(st, 4);
    r->xml = fl_strndup(xml ? xml : "", r->xml_len);
    memset(r->checksum, 0, sizeof(r->checksum));
    if (sum)
        strncpy(r->checksum, (const char *)sum, sizeof(r->checksum) - 1);
    r->deployed_at = sqlite3_column_int64(st, 6);
}

int fl__sq_decision_get(struct fl_store *s, const char *key, int32_t version, uint64_t id,
                        struct fl_definition_row *out, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    int rc;
    memset(out, 0, sizeof(*out));
    if (!(st = fl__sq_stmt(q, key ? FL__SQ_DEC_GET_KEY : FL__SQ_DEC_GET_ID, err)))
        return FAIL_CODE(err);
    if (key) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, version);
    } else {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_row(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return fl__sq_fail(q, rc, err, "cannot read decision");
    if (!key)
        return fl_error_set(err, FL_ENOTFOUND, "decision %llu not found", (unsigned long long)id);
    if (version)
        return fl_error_set(err, FL_ENOTFOUND, "decision '%s' version %d not found", key,
                            (int)version);
    return fl_error_set(err, FL_ENOTFOUND, "decision '%s' not found", key);
}

int fl__sq_decision_head(struct fl_store *s, const char *key, uint64_t *id, char checksum[65],
                         struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    int rc;
    *id = 0;
    checksum[0] = '\0';
    if (!(st = fl__sq_stmt(q, FL__SQ_DEC_HEAD, err)))
        return FAIL_CODE(err);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *sum = sqlite3_column_text(st, 1);
        *id = (uint64_t)sqlite3_column_int64(st, 0);
        snprintf(checksum, 65, "%s", sum ? (const char *)sum : "");
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return fl_error_set(err, FL_ENOTFOUND, "decision '%s' not found", key);
    return fl__sq_fail(q, rc, err, "cannot read decision");
}

int fl__sq_decision_list(struct fl_store *s, struct fl_definition_row **rows, size_t *n,
                         struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st = fl__sq_stmt(q, FL__SQ_DEC_LIST, err);
    struct fl_definition_row *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc;
    *rows = NULL;
    *n = 0;
    if (!st)
        return FAIL_CODE(err);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fl_grow(&v, &cap, cnt + 1, sizeof(*v));
        read_row(st, &v[cnt++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fl_definition_rows_free(v, cnt);
        return fl__sq_fail(q, rc, err, "cannot list decisions");
    }
    *rows = v;
    *n = cnt;
    return 0;
}

int fl__sq_decision_put(struct fl_store *s, const char *key, const char *name, const char *xml,
                        size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                        bool *created, struct fl_error *err)
{
    struct fl_sqlite *q = fl__sq(s);
    sqlite3_stmt *st;
    bool own_tx = false, same = false;
    int rc = 0, latest = 0;
    uint64_t latest_id = 0;

    memset(out, 0, sizeof(*out));
    *created = false;
    if (!q->in_tx) {
        if ((rc = s->ops->begin(s, err)) != 0)
            return rc;
        own_tx = true;
    }
    if (!(st = fl__sq_stmt(q, FL__SQ_DEC_LATEST, err))) {
        rc = FAIL_CODE(err);
        goto out;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const void *old = sqlite3_column_blob(st, 2);
        size_t old_len = (size_t)sqlite3_column_bytes(st, 2);
        latest_id = (uint64_t)sqlite3_column_int64(st, 0);
        latest = sqlite3_column_int(st, 1);
        same = old_len == xml_len && (xml_len == 0 || memcmp(old, xml, xml_len) == 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = 0;
    } else {
        rc = fl__sq_fail(q, rc, err, "cannot read decisions");
    }
    sqlite3_reset(st);
    if (rc)
        goto out;
    if (same) {
        rc = fl__sq_decision_get(s, NULL, 0, latest_id, out, err);
        goto out;
    }
    out->key = fl_strdup(key);
    out->name = fl_strdup(name);
    out->xml = fl_strndup(xml, xml_len);
    out->xml_len = xml_len;
    out->version = latest + 1;
    out->deployed_at = now_ms;
    fl_sha256_hex(xml, xml_len, out->checksum);
    if (!(st = fl__sq_stmt(q, FL__SQ_DEC_INSERT, err))) {
        rc = FAIL_CODE(err);
        goto out;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, out->version);
    fl__sq_bind_text(st, 3, name);
    sqlite3_bind_blob(st, 4, xml, (int)xml_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, out->checksum, 64, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now_ms);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        rc = fl__sq_fail(q, rc, err, "cannot store decision");
        goto out;
    }
    rc = 0;
    out->id = (uint64_t)sqlite3_last_insert_rowid(q->db);
    *created = true;
out:
    if (own_tx) {
        if (rc == 0)
            rc = s->ops->commit(s, err);
        else
            s->ops->rollback(s);
    }
    if (rc) {
        fl_definition_row_release(out);
        *created = false;
    }
    return rc;
}
