/* SQLite back end, DMN decisions (migration 11): the decisions table mirrors definitions --
 * one row per version of a decision id, holding its whole DMN document -- so a deploy of the
 * same XML is recognised and keeps its version, and the writer can ask for the latest
 * version's id and checksum without reading the XML on every business rule task. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"

#define FAIL_CODE(err) ((err) ? (err)->code : FL_ESTORE)

static const struct fl__sq_versioned decisions = {FL__SQ_DEC_LATEST, FL__SQ_DEC_INSERT,
                                                  FL__SQ_DEC_LIST, "decision",
                                                  fl__sq_decision_get};

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
        fl__sq_read_definition(st, out);
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
    return fl__sq_versioned_list(s, &decisions, rows, n, err);
}

int fl__sq_decision_put(struct fl_store *s, const char *key, const char *name, const char *xml,
                        size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                        bool *created, struct fl_error *err)
{
    return fl__sq_versioned_put(s, &decisions, key, name, xml, xml_len, now_ms, out, created,
                                err);
}
