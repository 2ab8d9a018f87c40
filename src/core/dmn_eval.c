/* Evaluation of DMN decisions: required decisions first (their results join the variables
 * by name and id), then a literal expression or a decision table -- inputs evaluated once,
 * each rule's input entries tested as unary tests with the input as "?", the matched rules'
 * output entries evaluated, and the hit policy applied (UNIQUE, FIRST, PRIORITY, ANY,
 * COLLECT with SUM/MIN/MAX/COUNT, RULE ORDER, OUTPUT ORDER). The matched rows are built
 * first and shaped afterwards, so DMN's own result shape and Camunda 7's mapDecisionResult
 * come from one evaluation. Pure and thread-safe on a shared document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/value_impl.h"
#include "flowd/alloc.h"
#include "flowd/dmn.h"

/* What a table (or a literal expression) produced before shaping: one context per matched
 * row (output name -> value) in the order the hit policy gives; or, for COLLECT with an
 * aggregation, the aggregated value. */
struct rows {
    struct fl_value *list; /* list of contexts */
    struct fl_value *agg;  /* aggregated value, or NULL */
    bool multi;            /* the hit policy returns several rows */
    bool defaulted;        /* nothing matched; the row holds the default outputs */
};

static const char *out_key(const struct fl_dmn_output *o, const struct fl_dmn_decision *d)
{
    if (o->name && o->name[0])
        return o->name;
    if (d->name && d->name[0])
        return d->name;
    return d->id;
}

static const char *rule_title(const struct fl_dmn_rule *r, size_t i, char *buf, size_t n)
{
    if (r->id && r->id[0])
        snprintf(buf, n, "'%s'", r->id);
    else
        snprintf(buf, n, "%zu", i + 1);
    return buf;
}

/* Does v conform to typeRef t? Unknown (custom) types always do; null always does. */
static bool type_ok(const char *t, const struct fl_value *v)
{
    enum fl_vtype vt = fl_value_type(v);
    if (!t || !t[0] || vt == FL_VNULL)
        return true;
    if (!strcmp(t, "string"))
        return vt == FL_VSTRING;
    if (!strcmp(t, "number") || !strcmp(t, "integer") || !strcmp(t, "long") ||
        !strcmp(t, "double") || !strcmp(t, "int") || !strcmp(t, "decimal"))
        return vt == FL_VNUMBER;
    if (!strcmp(t, "boolean"))
        return vt == FL_VBOOL;
    if (!strcmp(t, "date"))
        return vt == FL_VDATE;
    if (!strcmp(t, "time"))
        return vt == FL_VTIME;
    if (!strcmp(t, "dateTime") || !strcmp(t, "date and time"))
        return vt == FL_VDATETIME;
    if (!strcmp(t, "dayTimeDuration") || !strcmp(t, "days and time duration"))
        return vt == FL_VDTDURATION;
    if (!strcmp(t, "yearMonthDuration") || !strcmp(t, "years and months duration"))
        return vt == FL_VYMDURATION;
    return true;
}

/* Evaluate e; a FEEL diagnostic becomes FL_EINVAL naming the decision and what. */
static int eval_expr(const struct fl_feel_expr *e, const struct fl_value *vars, int64_t now,
                     const struct fl_dmn_decision *d, const char *what, struct fl_value **out,
                     struct fl_error *err)
{
    struct fl_feel_env env = {vars, now, 0};
    struct fl_feel_diag diag;
    diag.msg[0] = '\0';
    *out = fl_feel_eval(e, &env, &diag);
    if (diag.msg[0]) {
        fl_value_unref(*out);
        *out = NULL;
        fl_error_set(err, FL_EINVAL, "decision '%s': %s (%s) failed: %s", d->id, what,
                     fl_feel_source(e), diag.msg);
        fl_error_at(err, d->id, d->line, d->column);
        return FL_EINVAL;
    }
    return 0;
}

/* The outputs of rule r as a context, each checked against its typeRef (a value of the
 * wrong type becomes null, as DMN says). */
static int rule_row(const struct fl_dmn_decision *d, size_t r, const struct fl_value *vars,
                    int64_t now, struct fl_value **out, struct fl_error *err)
{
    const struct fl_dmn_table *t = d->table;
    struct fl_value *row = fl_value_context_new();
    char what[200], tb[40];
    int rc = 0;

    for (size_t j = 0; j < t->n_outputs; j++) {
        const struct fl_dmn_output *o = &t->outputs[j];
        const char *key = out_key(o, d);
        struct fl_value *v = NULL;
        if (t->rules[r].outputs[j]) {
            snprintf(what, sizeof(what), "output '%s' of rule %s", key,
                     rule_title(&t->rules[r], r, tb, sizeof(tb)));
            if ((rc = eval_expr(t->rules[r].outputs[j], vars, now, d, what, &v, err)) < 0)
                break;
        } else {
            v = fl_value_null();
        }
        if (!type_ok(o->type_ref, v)) {
            fl_value_unref(v);
            v = fl_value_null();
        }
        fl_value_context_set(row, key, strlen(key), v);
    }
    if (rc < 0) {
        fl_value_unref(row);
        row = NULL;
    }
    *out = row;
    return rc;
}

/* The default outputs (defaultOutputEntry) as a row, or NULL when the table has none. */
static int default_row(const struct fl_dmn_decision *d, const struct fl_value *vars, int64_t now,
                       struct fl_value **out, struct fl_error *err)
{
    const struct fl_dmn_table *t = d->table;
    struct fl_value *row = NULL;
    int rc = 0;
    bool any = false;
    *out = NULL;
    for (size_t j = 0; j < t->n_outputs; j++)
        any |= t->outputs[j].default_value != NULL;
    if (!any)
        return 0;
    row = fl_value_context_new();
    for (size_t j = 0; j < t->n_outputs; j++) {
        const struct fl_dmn_output *o = &t->outputs[j];
        const char *key = out_key(o, d);
        struct fl_value *v = NULL;
        if (o->default_value) {
            if ((rc = eval_expr(o->default_value, vars, now, d, "a default output", &v, err)) < 0)
                break;
        } else {
            v = fl_value_null();
        }
        fl_value_context_set(row, key, strlen(key), v);
    }
    if (rc < 0) {
        fl_value_unref(row);
        row = NULL;
    }
    *out = row;
    return rc;
}

/* Rank of a row under PRIORITY / OUTPUT ORDER: per output with outputValues, the position of
 * its value (values not listed rank last). Lower sorts first. */
static int rank_cmp(const struct fl_dmn_decision *d, const struct fl_value *a,
                    const struct fl_value *b)
{
    const struct fl_dmn_table *t = d->table;
    for (size_t j = 0; j < t->n_outputs; j++) {
        const struct fl_dmn_output *o = &t->outputs[j];
        const char *key = out_key(o, d);
        size_t n = fl_value_list_len(o->values), ra = n, rb = n;
        const struct fl_value *va, *vb;
        if (!o->values)
            continue;
        va = fl_value_context_get(a, key, strlen(key));
        vb = fl_value_context_get(b, key, strlen(key));
        for (size_t k = 0; k < n; k++) {
            const struct fl_value *x = fl_value_list_at(o->values, k);
            if (ra == n && va && fl_value_equal(va, x))
                ra = k;
            if (rb == n && vb && fl_value_equal(vb, x))
                rb = k;
        }
        if (ra != rb)
            return ra < rb ? -1 : 1;
    }
    return 0;
}

/* Describe the matched rules for an error: "'r1', 'r2' and 'r3'". */
static void list_rules(const struct fl_dmn_table *t, const size_t *hit, size_t n, char *buf,
                       size_t cap)
{
    size_t len = 0;
    char tb[40];
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < 6 && len < cap; i++) {
        const char *sep = i == 0 ? "" : (i + 1 == n ? " and " : ", ");
        int k = snprintf(buf + len, cap - len, "%s%s", sep,
                         rule_title(&t->rules[hit[i]], hit[i], tb, sizeof(tb)));
        if (k < 0)
            break;
        len += (size_t)k;
    }
    if (n > 6 && len < cap)
        snprintf(buf + len, cap - len, " (and %zu more)", n - 6);
}

static int aggregate(const struct fl_dmn_decision *d, struct fl_value *list, struct fl_value **out,
                     struct fl_error *err)
{
    const struct fl_dmn_table *t = d->table;
    const char *key = out_key(&t->outputs[0], d);
    size_t n = fl_value_list_len(list), count = 0;
    struct fl_value *acc = NULL;
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct fl_value *v =
            fl_value_context_get(fl_value_list_at(list, i), key, strlen(key));
        if (!v || fl_value_type(v) == FL_VNULL)
            continue; /* null outputs take no part, as in Camunda */
        count++;
        if (t->agg == FL_DMN_AGG_COUNT)
            continue;
        if (fl_value_type(v) != FL_VNUMBER) {
            rc = fl_error_set(err, FL_EINVAL,
                              "decision '%s': COLLECT %s needs numbers, and an output is a %s",
                              d->id,
                              t->agg == FL_DMN_AGG_SUM   ? "SUM"
                              : t->agg == FL_DMN_AGG_MIN ? "MIN"
                                                         : "MAX",
                              fl_value_type_name(fl_value_type(v)));
            fl_error_at(err, d->id, d->line, d->column);
            break;
        }
        if (!acc) {
            acc = fl_value_ref(v);
            continue;
        }
        if (t->agg == FL_DMN_AGG_SUM) {
            struct fl_dec sum;
            if (fl_dec_add(&acc->u.num, &v->u.num, &sum) < 0) {
                rc = fl_error_set(err, FL_EINVAL, "decision '%s': COLLECT SUM overflows", d->id);
                fl_error_at(err, d->id, d->line, d->column);
                break;
            }
            fl_value_unref(acc);
            acc = fl__value_number(&sum);
        } else {
            int c = fl_dec_cmp(&v->u.num, &acc->u.num);
            if ((t->agg == FL_DMN_AGG_MIN && c < 0) || (t->agg == FL_DMN_AGG_MAX && c > 0)) {
                fl_value_unref(acc);
                acc = fl_value_ref(v);
            }
        }
    }
    if (rc < 0) {
        fl_value_unref(acc);
        return rc;
    }
    if (t->agg == FL_DMN_AGG_COUNT) {
        fl_value_unref(acc);
        acc = fl_value_int((int64_t)count);
    }
    *out = acc ? acc : fl_value_null();
    return 0;
}

static int eval_table(const struct fl_dmn_decision *d, const struct fl_value *vars, int64_t now,
                      struct rows *out, struct fl_error *err)
{
    const struct fl_dmn_table *t = d->table;
    struct fl_value **tests = fl_calloc(t->n_inputs ? t->n_inputs : 1, sizeof(*tests));
    size_t *hit = fl_calloc(t->n_rules ? t->n_rules : 1, sizeof(*hit));
    struct fl_value **rows = fl_calloc(t->n_rules ? t->n_rules : 1, sizeof(*rows));
    size_t n_hit = 0;
    char what[200], names[400];
    int rc = 0;

    /* Each input once; its unary tests see the variables and the input as "?". */
    for (size_t i = 0; i < t->n_inputs; i++) {
        const struct fl_dmn_input *in = &t->inputs[i];
        struct fl_value *v;
        snprintf(what, sizeof(what), "input '%s'",
                 in->label ? in->label : fl_feel_source(in->expr));
        if ((rc = eval_expr(in->expr, vars, now, d, what, &v, err)) < 0)
            goto out;
        tests[i] = vars && fl_value_type(vars) == FL_VCONTEXT ? fl_value_context_copy(vars)
                                                              : fl_value_context_new();
        if (in->var_name && in->var_name[0])
            fl_value_context_set(tests[i], in->var_name, strlen(in->var_name), fl_value_ref(v));
        fl_value_context_set(tests[i], "cellInput", 9, fl_value_ref(v));
        fl_value_context_set(tests[i], "?", 1, v);
    }
    for (size_t r = 0; r < t->n_rules; r++) {
        bool match = true;
        for (size_t i = 0; i < t->n_inputs && match; i++) {
            const struct fl_feel_expr *e = t->rules[r].inputs[i];
            struct fl_feel_env env = {tests[i], now, 0};
            struct fl_value *res;
            if (!e)
                continue;
            /* A test that cannot be evaluated (a type clash) does not match, as in FEEL. */
            res = fl_feel_eval(e, &env, NULL);
            match = fl_value_type(res) == FL_VBOOL && fl_value_is_true(res);
            fl_value_unref(res);
        }
        if (match)
            hit[n_hit++] = r;
    }
    out->multi =
        t->hit == FL_DMN_COLLECT || t->hit == FL_DMN_RULE_ORDER || t->hit == FL_DMN_OUTPUT_ORDER;
    out->list = fl_value_list_new();
    if (t->hit == FL_DMN_UNIQUE && n_hit > 1) {
        list_rules(t, hit, n_hit, names, sizeof(names));
        rc = fl_error_set(err, FL_EREFUSED, "decision '%s' (hit policy UNIQUE): rules %s all match",
                          d->id, names);
        fl_error_at(err, d->id, d->line, d->column);
        goto out;
    }
    if (t->hit == FL_DMN_FIRST && n_hit > 1)
        n_hit = 1;
    for (size_t k = 0; k < n_hit; k++)
        if ((rc = rule_row(d, hit[k], vars, now, &rows[k], err)) < 0)
            goto out;
    if (t->hit == FL_DMN_ANY) {
        for (size_t k = 1; k < n_hit; k++) {
            if (!fl_value_equal(rows[0], rows[k])) {
                size_t two[2] = {hit[0], hit[k]};
                list_rules(t, two, 2, names, sizeof(names));
                rc = fl_error_set(err, FL_EREFUSED,
                                  "decision '%s' (hit policy ANY): rules %s match with "
                                  "different outputs",
                                  d->id, names);
                fl_error_at(err, d->id, d->line, d->column);
                goto out;
            }
        }
        if (n_hit > 1)
            n_hit = 1;
    }
    if (t->hit == FL_DMN_PRIORITY || t->hit == FL_DMN_OUTPUT_ORDER) {
        /* stable insertion sort by rank: equal ranks keep rule order */
        for (size_t k = 1; k < n_hit; k++) {
            struct fl_value *x = rows[k];
            size_t j = k;
            while (j > 0 && rank_cmp(d, x, rows[j - 1]) < 0) {
                rows[j] = rows[j - 1];
                j--;
            }
            rows[j] = x;
        }
        if (t->hit == FL_DMN_PRIORITY && n_hit > 1) {
            for (size_t k = 1; k < n_hit; k++) {
                fl_value_unref(rows[k]);
                rows[k] = NULL;
            }
            n_hit = 1;
        }
    }
    for (size_t k = 0; k < n_hit; k++) {
        fl_value_list_push(out->list, rows[k]);
        rows[k] = NULL;
    }
    if (n_hit == 0 && !out->multi) {
        struct fl_value *def = NULL;
        if ((rc = default_row(d, vars, now, &def, err)) < 0)
            goto out;
        if (def) {
            fl_value_list_push(out->list, def);
            out->defaulted = true;
        }
    }
    if (t->agg != FL_DMN_AGG_NONE && n_hit > 0)
        rc = aggregate(d, out->list, &out->agg, err);
out:
    for (size_t i = 0; i < t->n_inputs; i++)
        fl_value_unref(tests[i]);
    for (size_t k = 0; k < t->n_rules; k++)
        fl_value_unref(rows[k]);
    free(tests);
    free(hit);
    free(rows);
    return rc;
}

static int eval_rows(const struct fl_dmn_decision *d, const struct fl_value *vars, int64_t now,
                     unsigned depth, struct rows *out, struct fl_error *err);

/* DMN's own shape of a result. */
static struct fl_value *shape_dmn(const struct fl_dmn_decision *d, const struct rows *rs)
{
    size_t n = fl_value_list_len(rs->list);
    bool single_col = !d->table || d->table->n_outputs == 1;
    if (rs->agg)
        return fl_value_ref(rs->agg);
    if (n == 0)
        return fl_value_null();
    if (!rs->multi) {
        const struct fl_value *row = fl_value_list_at(rs->list, 0);
        return fl_value_ref(single_col ? fl_value_context_val(row, 0) : row);
    }
    struct fl_value *l = fl_value_list_new();
    for (size_t i = 0; i < n; i++) {
        const struct fl_value *row = fl_value_list_at(rs->list, i);
        fl_value_list_push(l, fl_value_ref(single_col ? fl_value_context_val(row, 0) : row));
    }
    return l;
}

static int shape_camunda(const struct fl_dmn_decision *d, const struct rows *rs,
                         enum fl_dmn_map map, struct fl_value **out, struct fl_error *err)
{
    struct fl_value *list = fl_value_ref(rs->list);
    size_t n;
    int rc = 0;

    if (rs->agg) { /* Camunda 7 gives one result whose output is the aggregate */
        const char *key = out_key(&d->table->outputs[0], d);
        struct fl_value *row = fl_value_context_new();
        fl_value_context_set(row, key, strlen(key), fl_value_ref(rs->agg));
        fl_value_unref(list);
        list = fl_value_list_new();
        fl_value_list_push(list, row);
    }
    n = fl_value_list_len(list);
    switch (map) {
    case FL_DMN_MAP_RESULT_LIST:
        *out = fl_value_ref(list);
        break;
    case FL_DMN_MAP_SINGLE_RESULT:
    case FL_DMN_MAP_SINGLE_ENTRY:
        if (n > 1) {
            rc = fl_error_set(
                err, FL_EREFUSED, "decision '%s' matched %zu rules; mapDecisionResult %s takes one",
                d->id, n, map == FL_DMN_MAP_SINGLE_ENTRY ? "singleEntry" : "singleResult");
            break;
        }
        if (n == 0) {
            *out = fl_value_null();
            break;
        }
        if (map == FL_DMN_MAP_SINGLE_RESULT) {
            *out = fl_value_ref(fl_value_list_at(list, 0));
            break;
        }
        if (fl_value_context_len(fl_value_list_at(list, 0)) != 1) {
            rc = fl_error_set(err, FL_EREFUSED,
                              "decision '%s' has %zu outputs; mapDecisionResult singleEntry "
                              "takes one",
                              d->id, fl_value_context_len(fl_value_list_at(list, 0)));
            break;
        }
        *out = fl_value_ref(fl_value_context_val(fl_value_list_at(list, 0), 0));
        break;
    case FL_DMN_MAP_COLLECT: {
        struct fl_value *l = fl_value_list_new();
        for (size_t i = 0; i < n && rc == 0; i++) {
            const struct fl_value *row = fl_value_list_at(list, i);
            if (fl_value_context_len(row) != 1)
                rc = fl_error_set(err, FL_EREFUSED,
                                  "decision '%s' has %zu outputs; mapDecisionResult "
                                  "collectEntries takes one",
                                  d->id, fl_value_context_len(row));
            else
                fl_value_list_push(l, fl_value_ref(fl_value_context_val(row, 0)));
        }
        if (rc < 0)
            fl_value_unref(l);
        else
            *out = l;
        break;
    }
    default:
        *out = shape_dmn(d, rs);
        break;
    }
    if (rc < 0)
        fl_error_at(err, d->id, d->line, d->column);
    fl_value_unref(list);
    return rc;
}

static void rows_release(struct rows *rs)
{
    fl_value_unref(rs->list);
    fl_value_unref(rs->agg);
    memset(rs, 0, sizeof(*rs));
}

/* vars plus the results of d's required decisions (by name and by id). */
static int with_required(const struct fl_dmn_decision *d, const struct fl_value *vars, int64_t now,
                         unsigned depth, struct fl_value **out, struct fl_error *err)
{
    struct fl_value *ctx;
    int rc = 0;
    if (d->n_required == 0) {
        *out = vars ? fl_value_ref(vars) : fl_value_context_new();
        return 0;
    }
    ctx = vars && fl_value_type(vars) == FL_VCONTEXT ? fl_value_context_copy(vars)
                                                     : fl_value_context_new();
    for (size_t k = 0; k < d->n_required && rc == 0; k++) {
        const struct fl_dmn_decision *req = &d->doc->decisions[d->required[k]];
        struct rows rs = {0};
        if ((rc = eval_rows(req, vars, now, depth + 1, &rs, err)) == 0) {
            struct fl_value *v = shape_dmn(req, &rs);
            if (req->name && req->name[0] && strcmp(req->name, req->id))
                fl_value_context_set(ctx, req->name, strlen(req->name), fl_value_ref(v));
            fl_value_context_set(ctx, req->id, strlen(req->id), v);
        }
        rows_release(&rs);
    }
    if (rc < 0) {
        fl_value_unref(ctx);
        ctx = NULL;
    }
    *out = ctx;
    return rc;
}

static int eval_rows(const struct fl_dmn_decision *d, const struct fl_value *vars, int64_t now,
                     unsigned depth, struct rows *out, struct fl_error *err)
{
    struct fl_value *ctx = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (depth > FL_DMN_MAX_DEPTH) { /* the reader refuses cycles; this guards the stack */
        rc = fl_error_set(err, FL_ELIMIT, "decision '%s': requirements nest too deep", d->id);
        fl_error_at(err, d->id, d->line, d->column);
        return rc;
    }
    if ((rc = with_required(d, vars, now, depth, &ctx, err)) < 0)
        return rc;
    if (d->table) {
        rc = eval_table(d, ctx, now, out, err);
    } else {
        struct fl_value *v = NULL;
        if ((rc = eval_expr(d->literal, ctx, now, d, "the literal expression", &v, err)) == 0) {
            const char *key = d->name && d->name[0] ? d->name : d->id;
            struct fl_value *row = fl_value_context_new();
            if (!type_ok(d->var_type, v)) {
                fl_value_unref(v);
                v = fl_value_null();
            }
            fl_value_context_set(row, key, strlen(key), v);
            out->list = fl_value_list_new();
            fl_value_list_push(out->list, row);
        }
    }
    fl_value_unref(ctx);
    if (rc < 0)
        rows_release(out);
    return rc;
}

int fl_dmn_evaluate_mapped(const struct fl_dmn_decision *d, const struct fl_value *vars,
                           int64_t now_ms, enum fl_dmn_map map, struct fl_value **result,
                           struct fl_error *err)
{
    struct rows rs;
    int rc;
    *result = NULL;
    if (!d)
        return fl_error_set(err, FL_EINVAL, "no decision");
    if (vars && fl_value_type(vars) != FL_VCONTEXT)
        return fl_error_set(err, FL_ETYPE, "the variables of decision '%s' must be a context",
                            d->id);
    if ((rc = eval_rows(d, vars, now_ms, 0, &rs, err)) < 0)
        return rc;
    if (map == FL_DMN_MAP_NONE)
        *result = shape_dmn(d, &rs);
    else
        rc = shape_camunda(d, &rs, map, result, err);
    rows_release(&rs);
    return rc;
}

int fl_dmn_evaluate(const struct fl_dmn_decision *d, const struct fl_value *vars, int64_t now_ms,
                    struct fl_value **result, struct fl_error *err)
{
    return fl_dmn_evaluate_mapped(d, vars, now_ms, FL_DMN_MAP_NONE, result, err);
}

int fl_dmn_map_parse(const char *name, enum fl_dmn_map *out)
{
    static const struct {
        const char *name;
        enum fl_dmn_map map;
    } maps[] = {
        {"singleEntry", FL_DMN_MAP_SINGLE_ENTRY},
        {"singleResult", FL_DMN_MAP_SINGLE_RESULT},
        {"collectEntries", FL_DMN_MAP_COLLECT},
        {"resultList", FL_DMN_MAP_RESULT_LIST},
    };
    *out = FL_DMN_MAP_NONE;
    if (!name || !name[0])
        return 0;
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        if (!strcmp(name, maps[i].name)) {
            *out = maps[i].map;
            return 0;
        }
    }
    return FL_EINVAL;
}

int fl_dmn_fuzz_one(const uint8_t *data, size_t size)
{
    struct fl_dmn_doc *doc = NULL;
    struct fl_error err;
    if (fl_dmn_read((const char *)data, size, &doc, &err) != 0)
        return 0;
    for (size_t i = 0; i < doc->n_decisions; i++) {
        struct fl_value *v = NULL;
        if (fl_dmn_evaluate(&doc->decisions[i], NULL, 0, &v, &err) == 0)
            fl_value_unref(v);
    }
    fl_dmn_doc_free(doc);
    return 0;
}
