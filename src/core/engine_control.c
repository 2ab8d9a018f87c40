/* Control points in the engine: dated obligations on a case, set by the model (at start,
 * and each time a user task with flowd:controlPoint completes), moved or cleared by
 * FL_CMD_SET_CONTROL, and fired by the scheduler like a task's deadline: a reminder, then
 * the due time (the owner and the definition's recipients are told) and the escalation
 * levels after it. Values are computed in the check phase of a command, so a due
 * expression that fails refuses the command before anything changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"
#include "flowd/control.h"
#include "flowd/feel.h"
#include "flowd/timecalc.h"

size_t fl__inst_find_control(const struct fl_instance *inst, const char *name)
{
    for (size_t i = 0; i < inst->n_controls; i++)
        if (!strcmp(inst->controls[i].name, name))
            return i;
    return SIZE_MAX;
}

static size_t find_control_id(const struct fl_instance *inst, uint64_t id)
{
    for (size_t i = 0; i < inst->n_controls; i++)
        if (inst->controls[i].id == id)
            return i;
    return SIZE_MAX;
}

/* ---- computing due times (check phase: nothing may change) ---- */

/* A due time from text on the definition's calendar (durations only; dates are dates). */
static int due_from_text(const struct fl_engine_ctx *ctx, const struct fl_control_def *def,
                         const char *text, int64_t *out, struct fl_error *err)
{
    struct fl_iso_duration d;
    if (def && def->calendar && def->calendar[0] && ctx->calendar_add && text[0] == 'P' &&
        fl_iso_duration_parse(text, &d, NULL) == 0 && !d.negative)
        return ctx->calendar_add(ctx->calendar_arg, def->calendar, ctx->now_ms, &d, out, err);
    return fl_control_due_parse(text, "due", ctx->now_ms, ctx->tz_offset_min, out, err);
}

/* Evaluate a "=expr" due: its value as ISO text into b (cleared), or null (*is_null). */
static int eval_due_expr(const char *src, const struct fl_value *vars,
                         const struct fl_engine_ctx *ctx, struct fl_buf *b, bool *is_null,
                         struct fl_error *err)
{
    struct fl_feel_env env = {vars, ctx->now_ms, ctx->tz_offset_min};
    struct fl_feel_expr *expr = NULL;
    struct fl_feel_diag diag;
    struct fl_value *v = NULL;
    struct fl_error ce;
    enum fl_vtype t;
    int rc = 0;

    *is_null = false;
    fl_error_clear(&ce);
    if (fl_feel_compile(src, strlen(src), &expr, &ce) != 0)
        return fl_error_set(err, FL_EINVAL, "due (%s) is not a valid expression: %s", src, ce.msg);
    diag.msg[0] = '\0';
    v = fl_feel_eval(expr, &env, &diag);
    fl_feel_free(expr);
    if (diag.msg[0]) {
        rc = fl_error_set(err, FL_EINVAL, "due (%s) cannot be evaluated: %s", src, diag.msg);
        goto out;
    }
    t = fl_value_type(v);
    if (t == FL_VNULL) {
        *is_null = true;
        goto out;
    }
    if (t != FL_VDATETIME && t != FL_VDATE && t != FL_VSTRING && t != FL_VDTDURATION &&
        t != FL_VYMDURATION) {
        rc = fl_error_set(err, FL_EINVAL,
                          "due (%s) gives a %s, not a date, a date and time or a duration", src,
                          fl_value_type_name(t));
        goto out;
    }
    /* JSON writes dates, times and durations as their ISO 8601 strings. */
    fl_buf_reset(b);
    fl_value_to_json(v, b);
    if (b->len >= 2 && b->ptr[0] == '"') {
        memmove(b->ptr, b->ptr + 1, b->len - 2);
        b->len -= 2;
        b->ptr[b->len] = '\0';
    }
out:
    fl_value_unref(v);
    return rc;
}

static int eval_def(const struct fl_control_def *def, const char *where,
                    const struct fl_value *vars, const struct fl_engine_ctx *ctx,
                    struct fl__control_set *out, struct fl_error *err)
{
    struct fl_buf b = FL_BUF_INIT;
    struct fl_error e;
    const char *src;
    int64_t before = 0;
    int is_expr, rc = 0;
    bool is_null = false;

    memset(out, 0, sizeof(*out));
    out->def = def;
    out->name = def->name;
    fl_error_clear(&e);
    src = fl_feel_strip(def->due, &is_expr);
    if (is_expr) {
        rc = eval_due_expr(src, vars, ctx, &b, &is_null, &e);
        if (rc == 0 && is_null) {
            out->clear = true;
            goto out;
        }
        if (rc == 0)
            rc = due_from_text(ctx, def, b.ptr, &out->due_at, &e);
    } else {
        rc = due_from_text(ctx, def, def->due, &out->due_at, &e);
    }
    if (rc == 0 && def->remind_before &&
        (rc = fl_control_remind_parse(def->remind_before, "remindBefore", out->due_at, &before,
                                      &e)) == 0 &&
        before > 0)
        out->remind_at = out->due_at - before;
    if (rc != 0) {
        fl_error_set(err, rc == FL_ENOTFOUND ? FL_ENOTFOUND : FL_EINVAL,
                     "control point '%s' on '%s': %s", def->name, where, e.msg);
        fl_error_at(err, where, def->line, def->column);
        if (err)
            snprintf(err->field, sizeof(err->field), "%s", def->name);
        rc = err ? err->code : FL_EINVAL;
    }
out:
    fl_buf_release(&b);
    return rc;
}

int fl__controls_eval(const struct fl_control_def *defs, size_t n, const char *where,
                      const struct fl_value *vars, const struct fl_engine_ctx *ctx,
                      struct fl__control_set **sets, size_t *n_sets, struct fl_error *err)
{
    int rc;
    if (n == 0)
        return 0;
    *sets = fl_reallocarray(*sets, *n_sets + n, sizeof(**sets));
    for (size_t i = 0; i < n; i++) {
        if ((rc = eval_def(&defs[i], where, vars, ctx, &(*sets)[*n_sets], err)) != 0)
            return rc;
        (*n_sets)++;
    }
    return 0;
}

int fl__control_check_cmd(const struct fl_model *m, const struct fl_instance *inst,
                          const struct fl_command *cmd, struct fl__control_set *out,
                          struct fl_error *err)
{
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = fl_control_name_check(cmd->control_name, "name", err)) != 0)
        return rc;
    out->name = cmd->control_name;
    out->def = fl_model_find_control(m, cmd->control_name, NULL);
    if (cmd->control_due_ms < 0) {
        fl_error_set(err, FL_EINVAL, "due time of control point '%s' is before 1970",
                     cmd->control_name);
        if (err)
            snprintf(err->field, sizeof(err->field), "due");
        return FL_EINVAL;
    }
    if (cmd->control_due_ms == 0) {
        if (fl__inst_find_control(inst, cmd->control_name) == SIZE_MAX)
            return fl_error_set(err, FL_ENOTFOUND, "control point '%s' is not set on instance %llu",
                                cmd->control_name, (unsigned long long)inst->id);
        out->clear = true;
        return 0;
    }
    out->due_at = cmd->control_due_ms;
    if (cmd->control_remind_ms > 0) {
        out->remind_at = cmd->control_due_ms - cmd->control_remind_ms;
    } else if (cmd->control_remind_ms < 0 && out->def && out->def->remind_before) {
        int64_t before = 0;
        if ((rc = fl_control_remind_parse(out->def->remind_before, "remind_before", out->due_at,
                                          &before, err)) != 0)
            return rc;
        out->remind_at = before > 0 ? out->due_at - before : 0;
    }
    return 0;
}

/* ---- effects ---- */

static void timer_put(struct fl__run *r, enum fl_timer_kind kind, uint64_t control_id,
                      uint16_t level, int64_t due_at, int64_t deadline)
{
    struct fl_timer t = {.id = fl__run_id(r, FL_ID_TIMER),
                         .instance_id = r->inst->id,
                         .ref_id = control_id,
                         .node = FL_NONE,
                         .kind = (uint8_t)kind,
                         .level = level,
                         .due_at = due_at,
                         .base_at = kind == FL_TIMER_CONTROL_DUE ? deadline : 0};
    fl__run_timer_set(r, &t);
}

/* Delete the pending timers of control point id (reminder, due, escalation levels). */
static void timers_drop(struct fl__run *r, uint64_t control_id)
{
    for (size_t i = r->inst->n_timers; i-- > 0;) {
        const struct fl_timer *t = &r->inst->timers[i];
        if ((t->kind == FL_TIMER_CONTROL_REMIND || t->kind == FL_TIMER_CONTROL_DUE) &&
            t->ref_id == control_id)
            fl__run_timer_del(r, i);
    }
}

static void time_json(struct fl_buf *b, int64_t t)
{
    char iso[40];
    fl_buf_addc(b, '"');
    fl_buf_adds(b, fl_time_format(t, iso));
    fl_buf_addc(b, '"');
}

static void put_control_effect(struct fl__run *r, enum fl_effect_kind k, const struct fl_control *c)
{
    size_t n = strlen(c->name) + 1;
    char *name = fl__fx_alloc(r->fx, n);
    struct fl_effect *e;
    memcpy(name, c->name, n);
    e = fl__fx_push(r->fx, k);
    e->u.control = *c;
    e->u.control.name = name;
}

static void set_one(struct fl__run *r, const struct fl__control_set *s, uint64_t token_id,
                    const char *node_id)
{
    struct fl_instance *inst = r->inst;
    size_t i = fl__inst_find_control(inst, s->name);
    int64_t now = r->ctx->now_ms;
    struct fl_control *c;
    struct fl_buf *b;

    if (s->clear && i == SIZE_MAX)
        return; /* the model's null for a control point never set: nothing to clear */
    if (i != SIZE_MAX)
        timers_drop(r, inst->controls[i].id);
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"name\":");
    fl_json_cstring(b, s->name);
    fl_buf_adds(b, ",\"due\":");
    if (s->clear) {
        struct fl_control gone = inst->controls[i];
        gone.done_at = now;
        put_control_effect(r, FL_FX_CONTROL_DEL, &gone);
        fl_buf_adds(b, "null}");
        fl__run_event(r, FL_EV_CONTROL_SET, token_id, gone.id, node_id, fl__fx_scratch_keep(r->fx));
        free(inst->controls[i].name);
        memmove(&inst->controls[i], &inst->controls[i + 1],
                (inst->n_controls - i - 1) * sizeof(*inst->controls));
        inst->n_controls--;
        return;
    }
    if (i == SIZE_MAX) {
        fl_grow(&inst->controls, &inst->cap_controls, inst->n_controls + 1,
                sizeof(*inst->controls));
        i = inst->n_controls++;
        c = &inst->controls[i];
        memset(c, 0, sizeof(*c));
        c->id = fl__run_id(r, FL_ID_CONTROL);
        c->instance_id = inst->id;
        c->name = fl_strdup(s->name);
    }
    c = &inst->controls[i];
    c->due_at = s->due_at;
    c->remind_at = s->remind_at;
    c->set_at = now;
    put_control_effect(r, FL_FX_CONTROL_SET, c);
    /* A reminder of something already overdue tells nobody anything new. */
    if (c->remind_at && c->due_at > now)
        timer_put(r, FL_TIMER_CONTROL_REMIND, c->id, 0, c->remind_at, 0);
    timer_put(r, FL_TIMER_CONTROL_DUE, c->id, 0, c->due_at, c->due_at);
    time_json(b, c->due_at);
    if (c->remind_at) {
        fl_buf_adds(b, ",\"remind\":");
        time_json(b, c->remind_at);
    }
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_CONTROL_SET, token_id, c->id, node_id, fl__fx_scratch_keep(r->fx));
}

void fl__controls_apply(struct fl__run *r, const struct fl__control_set *sets, size_t n,
                        uint64_t token_id, const char *node_id)
{
    for (size_t i = 0; i < n; i++)
        set_one(r, &sets[i], token_id, node_id);
}

void fl__controls_close_all(struct fl__run *r)
{
    struct fl_instance *inst = r->inst;
    for (size_t i = 0; i < inst->n_controls; i++) {
        struct fl_control gone = inst->controls[i];
        timers_drop(r, gone.id);
        gone.done_at = r->ctx->now_ms;
        put_control_effect(r, FL_FX_CONTROL_DEL, &gone);
        free(inst->controls[i].name);
    }
    inst->n_controls = 0;
}

/* ---- firing ---- */

/* Who owns the case: its "owner" variable (a non-empty string), else who started it. */
static const char *owner_of(struct fl__run *r)
{
    const struct fl_value *v = fl_value_context_get(r->inst->variables, "owner", 5);
    if (v && fl_value_type(v) == FL_VSTRING) {
        size_t len;
        const char *s = fl_value_str(v, &len);
        if (len)
            return fl__fx_strndup(r->fx, s, len);
    }
    return r->inst->started_by && r->inst->started_by[0] ? fl__fx_strdup(r->fx, r->inst->started_by)
                                                         : NULL;
}

struct fire {
    struct fl__run *r;
    const struct fl_control *c;
    const char *kind, *message, *node_id;
    struct fl_buf to; /* the escalated event's "to" list: JSON strings, comma-separated */
};

/* Tell one addressee (a user, every user of a role, or the head of a user's department)
 * and list it in the escalated event's "to" under the name the model wrote. */
static void tell(struct fire *f, const char *written, const char *user, const char *role,
                 const char *head_of)
{
    struct fl_effect *e;
    struct fl_notify *n;
    if (!user && !role && !head_of)
        return; /* e.g. no owner: nobody by that name */
    e = fl__fx_push(f->r->fx, FL_FX_NOTIFY);
    n = &e->u.notify;
    n->kind = f->kind;
    n->to_user = user;
    n->to_role = role;
    n->to_head_of = head_of;
    n->instance_id = f->r->inst->id;
    n->control_id = f->c->id;
    n->node_id = f->node_id;
    n->message = f->message;
    n->at = f->r->ctx->now_ms;
    if (f->to.len)
        fl_buf_addc(&f->to, ',');
    fl_json_cstring(&f->to, written);
}

/* Tell each recipient of a list: roles, "accountable", "head", "owner". */
static void tell_list(struct fire *f, const struct fl_strlist *to, const char *owner,
                      const char *accountable)
{
    for (size_t i = 0; i < to->n; i++) {
        const char *x = to->items[i];
        if (!strcmp(x, "owner"))
            tell(f, x, owner, NULL, NULL);
        else if (!strcmp(x, "head"))
            tell(f, x, NULL, NULL, owner);
        else if (!strcmp(x, "accountable"))
            tell(f, x, NULL, accountable, NULL);
        else
            tell(f, x, NULL, x, NULL);
    }
}

/* Add d (text) to t on the definition's calendar; false when it cannot be placed. */
static bool level_time(struct fl__run *r, const struct fl_control_def *def, const char *after,
                       int64_t t, int64_t *out)
{
    struct fl_iso_duration d;
    if (fl_iso_duration_parse(after, &d, NULL) != 0)
        return false;
    if (def->calendar && def->calendar[0] && r->ctx->calendar_add)
        return r->ctx->calendar_add(r->ctx->calendar_arg, def->calendar, t, &d, out, NULL) == 0;
    *out = fl_iso_duration_add(t, &d);
    return true;
}

void fl__fire_control_timer(struct fl__run *r, const struct fl_timer *t)
{
    size_t ci = find_control_id(r->inst, t->ref_id);
    const struct fl_control_def *def;
    const char *owner, *accountable = NULL;
    struct fire f;
    struct fl_buf *b;
    uint32_t node;
    char due[40];

    if (ci == SIZE_MAX)
        return; /* met or cleared since: its timers went with it, so this is a stale one */
    memset(&f, 0, sizeof(f));
    f.r = r;
    f.c = &r->inst->controls[ci];
    fl_buf_init(&f.to, 0);
    def = fl_model_find_control(r->m, f.c->name, &node);
    if (def && node != FL_NONE) {
        f.node_id = r->m->nodes[node].id;
        if (r->m->nodes[node].stage)
            accountable = r->m->nodes[node].stage->accountable;
    }
    owner = owner_of(r);
    fl_time_format(f.c->due_at, due);
    b = fl__fx_scratch(r->fx);
    if (t->kind == FL_TIMER_CONTROL_REMIND) {
        fl_buf_addf(b, "control point '%s' of case %llu is due %s", f.c->name,
                    (unsigned long long)r->inst->id, due);
        f.message = fl__fx_scratch_keep(r->fx);
        f.kind = "control_point";
        tell(&f, "owner", owner, NULL, NULL);
        b = fl__fx_scratch(r->fx);
        fl_buf_adds(b, "{\"name\":");
        fl_json_cstring(b, f.c->name);
        fl_buf_adds(b, ",\"due\":");
        time_json(b, f.c->due_at);
        fl_buf_addc(b, '}');
        fl__run_event(r, FL_EV_CONTROL_REMINDED, 0, f.c->id, f.node_id, fl__fx_scratch_keep(r->fx));
        goto out;
    }
    if (t->level == 0) {
        fl_buf_addf(b, "control point '%s' of case %llu is overdue (due %s)", f.c->name,
                    (unsigned long long)r->inst->id, due);
        f.message = fl__fx_scratch_keep(r->fx);
        f.kind = "overdue";
        tell(&f, "owner", owner, NULL, NULL);
        if (def)
            tell_list(&f, &def->escalate_to, owner, accountable);
    } else if (def && t->level <= def->n_escalations) {
        fl_buf_addf(b, "control point '%s' of case %llu is overdue (due %s): escalation %u",
                    f.c->name, (unsigned long long)r->inst->id, due, (unsigned)t->level);
        f.message = fl__fx_scratch_keep(r->fx);
        f.kind = "escalation";
        tell_list(&f, &def->escalations[t->level - 1].to, owner, accountable);
    }
    b = fl__fx_scratch(r->fx);
    fl_buf_addf(b, "{\"level\":%u,\"to\":[", (unsigned)t->level);
    fl_buf_add(b, f.to.ptr, f.to.len);
    fl_buf_adds(b, "]}");
    fl__run_event(r, FL_EV_ESCALATED, 0, f.c->id, f.node_id, fl__fx_scratch_keep(r->fx));
    /* The next level, counted from the due time like a stage's. */
    if (def && t->level < def->n_escalations) {
        int64_t at;
        if (level_time(r, def, def->escalations[t->level].after, f.c->due_at, &at))
            timer_put(r, FL_TIMER_CONTROL_DUE, f.c->id, (uint16_t)(t->level + 1), at, f.c->due_at);
    }
out:
    fl_buf_release(&f.to);
}
