/* Timers in the engine: the task timers a user task sets (reminder, deadline), keeping
 * inst->timers in step with TIMER_SET/DEL effects, and FL_CMD_FIRE_TIMER -- one switch on
 * the timer's kind, so BPMN timer events and control points add their case here. Firing
 * always deletes the timer in the same effects, which is what makes it fire once: the
 * store claims it in the transaction that writes what the firing did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"
#include "flowd/timecalc.h"

/* ---- inst->timers and their effects ---- */

size_t fl__inst_find_timer(const struct fl_instance *inst, uint64_t id)
{
    for (size_t i = 0; i < inst->n_timers; i++)
        if (inst->timers[i].id == id)
            return i;
    return SIZE_MAX;
}

void fl__run_timer_set(struct fl__run *r, const struct fl_timer *t)
{
    struct fl_instance *inst = r->inst;
    size_t i = fl__inst_find_timer(inst, t->id);
    struct fl_effect *e;
    if (i == SIZE_MAX) {
        fl_grow(&inst->timers, &inst->cap_timers, inst->n_timers + 1, sizeof(*inst->timers));
        i = inst->n_timers++;
    }
    inst->timers[i] = *t;
    inst->timers[i].instance_id = inst->id;
    e = fl__fx_push(r->fx, FL_FX_TIMER_SET);
    e->u.timer = inst->timers[i];
}

void fl__run_timer_del(struct fl__run *r, size_t i)
{
    struct fl_instance *inst = r->inst;
    struct fl_effect *e = fl__fx_push(r->fx, FL_FX_TIMER_DEL);
    e->u.timer = inst->timers[i];
    memmove(&inst->timers[i], &inst->timers[i + 1],
            (inst->n_timers - i - 1) * sizeof(*inst->timers));
    inst->n_timers--;
}

static bool is_task_timer(const struct fl_timer *t)
{
    return t->kind == FL_TIMER_TASK_REMIND || t->kind == FL_TIMER_TASK_DUE;
}

void fl__run_task_timers_del(struct fl__run *r, uint64_t task_id)
{
    for (size_t i = r->inst->n_timers; i-- > 0;)
        if (is_task_timer(&r->inst->timers[i]) && r->inst->timers[i].ref_id == task_id)
            fl__run_timer_del(r, i);
}

void fl__run_timers_del_all(struct fl__run *r)
{
    while (r->inst->n_timers)
        fl__run_timer_del(r, r->inst->n_timers - 1);
}

int fl__run_calendar_add(struct fl__run *r, const char *calendar, int64_t from,
                         const struct fl_iso_duration *d, int64_t *out, struct fl_error *err)
{
    if (r->ctx->calendar_add)
        return r->ctx->calendar_add(r->ctx->calendar_arg, calendar, from, d, out, err);
    *out = fl_iso_duration_add(from, d);
    return 0;
}

void fl__task_timers_create(struct fl__run *r, uint64_t task_id, uint64_t token_id, uint32_t node,
                            int64_t due, int64_t remind)
{
    struct fl_timer t = {
        .instance_id = r->inst->id, .token_id = token_id, .ref_id = task_id, .node = node};
    if (!due)
        return;
    t.id = fl__run_id(r, FL_ID_TIMER);
    t.kind = FL_TIMER_TASK_DUE;
    t.due_at = t.base_at = due;
    fl__run_timer_set(r, &t);
    /* A reminder at or after the deadline would only repeat it. */
    if (remind && remind < due) {
        t.id = fl__run_id(r, FL_ID_TIMER);
        t.kind = FL_TIMER_TASK_REMIND;
        t.due_at = remind;
        t.base_at = 0;
        fl__run_timer_set(r, &t);
    }
}

/* ---- firing ---- */

int fl__timer_check(const struct fl_model *m, const struct fl_instance *inst,
                    const struct fl_command *cmd, const struct fl_engine_ctx *ctx, size_t *out,
                    struct fl_error *err)
{
    size_t i = fl__inst_find_timer(inst, cmd->target_id);
    const struct fl_timer *t;
    char when[32];

    (void)m;
    if (i == SIZE_MAX)
        return fl_error_set(err, FL_ENOTFOUND,
                            "timer %llu is not pending in instance %llu (fired or cancelled)",
                            (unsigned long long)cmd->target_id, (unsigned long long)inst->id);
    t = &inst->timers[i];
    /* A stale copy in a scheduler must not fire a timer that was moved later. */
    if (t->due_at > ctx->now_ms)
        return fl_error_set(err, FL_ECONFLICT, "timer %llu is not due before %s",
                            (unsigned long long)t->id, fl_time_format(t->due_at, when));
    switch ((enum fl_timer_kind)t->kind) {
    case FL_TIMER_TASK_REMIND:
    case FL_TIMER_TASK_DUE:
    case FL_TIMER_EVENT:
        break;
    default:
        /* Kinds whose firing is not built in yet stay pending rather than vanish. */
        if (inst->status == FL_INSTANCE_ACTIVE)
            return fl_error_set(err, FL_EUNSUPPORTED, "timer %llu: kind %d cannot fire yet",
                                (unsigned long long)t->id, (int)t->kind);
        break;
    }
    *out = i;
    return 0;
}

/* Title of a node for people: its name, else its id. */
static const char *title_of(const struct fl_model *m, uint32_t node)
{
    if (node >= m->n_nodes)
        return "?";
    return m->nodes[node].name ? m->nodes[node].name : m->nodes[node].id;
}

static struct fl_notify *notify(struct fl__run *r, const char *kind, const struct fl_timer *t,
                                const char *message)
{
    struct fl_effect *e = fl__fx_push(r->fx, FL_FX_NOTIFY);
    struct fl_notify *n = &e->u.notify;
    n->kind = kind;
    n->instance_id = r->inst->id;
    n->task_id = t->ref_id;
    n->node_id = fl__node_id(r->m, t->node);
    n->message = message;
    n->at = r->ctx->now_ms;
    return n;
}

/* The deadline of task task_id: its pending DUE timer's base, or 0. */
static int64_t task_deadline(const struct fl_instance *inst, uint64_t task_id)
{
    for (size_t i = 0; i < inst->n_timers; i++)
        if (inst->timers[i].kind == FL_TIMER_TASK_DUE && inst->timers[i].ref_id == task_id)
            return inst->timers[i].base_at;
    return 0;
}

static void fire_task_remind(struct fl__run *r, const struct fl_timer *t)
{
    int64_t due = task_deadline(r->inst, t->ref_id);
    const char *title = title_of(r->m, t->node);
    char when[32];
    struct fl_buf *b;
    const char *msg;

    fl_time_format(due ? due : t->due_at, when);
    b = fl__fx_scratch(r->fx);
    fl_buf_addf(b, "reminder: task '%s' of case %llu is due %s", title,
                (unsigned long long)r->inst->id, when);
    msg = fl__fx_scratch_keep(r->fx);
    notify(r, "reminder", t, msg)->to_assignee = true;
    b = fl__fx_scratch(r->fx);
    fl_buf_adds(b, "{\"due\":");
    fl_json_cstring(b, when);
    fl_buf_addc(b, '}');
    fl__run_event(r, FL_EV_TASK_REMINDED, t->token_id, t->ref_id, fl__node_id(r->m, t->node),
                  fl__fx_scratch_keep(r->fx));
}

/* Who a level tells, as written in the model (level 0: the accountable role and the
 * head); the store resolves them to users. */
static void tell_level(struct fl__run *r, const struct fl_timer *t, const struct fl_stage *st,
                       const char *msg, struct fl_buf *to)
{
    const struct fl_strlist *names = NULL;
    const char *accountable = st ? st->accountable : NULL;
    bool first = true;

    if (t->level > 0 && st && t->level <= st->n_escalations)
        names = &st->escalations[t->level - 1].to;
    for (size_t i = 0; i < (names ? names->n : 2); i++) {
        const char *who = names ? names->items[i] : (i == 0 ? "accountable" : "head");
        struct fl_notify *n;
        if (!strcmp(who, "head")) {
            notify(r, "escalation", t, msg)->to_assignee_head = true;
        } else {
            const char *role = !strcmp(who, "accountable") ? accountable : who;
            if (!role || !*role)
                continue; /* no RACI A on this stage: nobody by that name */
            n = notify(r, "escalation", t, msg);
            n->to_role = role;
        }
        if (!first)
            fl_buf_addc(to, ',');
        first = false;
        fl_json_cstring(to, who);
    }
}

static void fire_task_due(struct fl__run *r, const struct fl_timer *t)
{
    const struct fl_node *node = t->node < r->m->n_nodes ? &r->m->nodes[t->node] : NULL;
    const struct fl_stage *st = node ? node->stage : NULL;
    const char *title = title_of(r->m, t->node);
    int64_t deadline = t->base_at ? t->base_at : t->due_at;
    char when[32];
    struct fl_buf *b, to = FL_BUF_INIT;
    const char *msg;

    fl_time_format(deadline, when);
    b = fl__fx_scratch(r->fx);
    if (t->level == 0)
        fl_buf_addf(b, "task '%s' of case %llu is overdue (due %s)", title,
                    (unsigned long long)r->inst->id, when);
    else
        fl_buf_addf(b, "escalation level %u: task '%s' of case %llu is overdue since %s",
                    (unsigned)t->level, title, (unsigned long long)r->inst->id, when);
    msg = fl__fx_scratch_keep(r->fx);
    if (t->level == 0)
        notify(r, "overdue", t, msg)->to_assignee = true;
    tell_level(r, t, st, msg, &to);
    b = fl__fx_scratch(r->fx);
    fl_buf_addf(b, "{\"level\":%u,\"to\":[%s]}", (unsigned)t->level, to.ptr);
    fl_buf_release(&to);
    fl__run_event(r, FL_EV_ESCALATED, t->token_id, t->ref_id, node ? node->id : NULL,
                  fl__fx_scratch_keep(r->fx));

    /* The next level counts from the deadline on the stage's calendar. A duration the
     * calendar cannot place ends the chain here rather than failing the deadline. */
    if (st && t->level < st->n_escalations) {
        const struct fl_escalation_level *lv = &st->escalations[t->level];
        struct fl_iso_duration d;
        struct fl_timer next = *t;
        int64_t at;
        if (fl_iso_duration_parse(lv->after, &d, NULL) == 0 &&
            fl__run_calendar_add(r, st->calendar, deadline, &d, &at, NULL) == 0) {
            next.id = fl__run_id(r, FL_ID_TIMER);
            next.level = (uint16_t)(t->level + 1);
            next.due_at = at;
            next.base_at = deadline;
            fl__run_timer_set(r, &next);
        }
    }
}

void fl__timer_fire(struct fl__run *r, size_t i)
{
    struct fl_timer t = r->inst->timers[i];
    bool open_task = is_task_timer(&t) && fl__inst_find_task(r->inst, t.ref_id) != SIZE_MAX;

    fl__run_timer_del(r, i);
    /* On an ended instance (or a task that is gone) the claim is all that is left to do. */
    if (r->inst->status != FL_INSTANCE_ACTIVE)
        return;
    switch ((enum fl_timer_kind)t.kind) {
    case FL_TIMER_TASK_REMIND:
        if (open_task)
            fire_task_remind(r, &t);
        break;
    case FL_TIMER_TASK_DUE:
        if (open_task)
            fire_task_due(r, &t);
        break;
    case FL_TIMER_EVENT:
        fl__fire_timer_event(r, &t);
        break;
    default:
        break;
    }
}
