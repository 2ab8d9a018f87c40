/* Auto-drive for the conformance harness: runs a process model with the pure engine in
 * memory (no store) in a small world of instances, answering every wait state the way a
 * cooperative world would -- user tasks completed (required main actions recorded first),
 * jobs completed, awaited messages and signals correlated, timers fired at once -- and
 * doing what the service does between instances: a call activity starts its called
 * process, a called instance's end returns to its caller, signals reach every instance.
 * It stops when the first instance ends, an incident is raised, nothing can answer what
 * the world waits for, or the step bound is reached. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/conformance.h"
#include "flowd/alloc.h"
#include "flowd/engine.h"

#define CONF_MAX_DEPTH 32 /* nested cascades of one command */

struct world_inst {
    const struct fl_model *m;
    struct fl_instance *inst;
};

struct world {
    struct world_inst *items;
    size_t n, cap;
    uint64_t next_id;
    struct fl_engine_ctx ctx;
    const struct conf_resolver *res;
    char incident[512]; /* the first incident raised, or "" */
    char stop[512];     /* why the drive must stop otherwise, or "" */
};

static uint64_t drive_next_id(void *arg, enum fl_id_kind kind)
{
    struct world *w = arg;
    (void)kind;
    return ++w->next_id;
}

static struct world_inst *find_inst(struct world *w, uint64_t id)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->items[i].inst->id == id)
            return &w->items[i];
    return NULL;
}

static void apply(struct world *w, uint64_t iid, const struct fl_command *cmd, unsigned depth);
static void cascade(struct world *w, uint64_t iid, const struct fl_effects *fx, unsigned depth);

/* Note the world's first reason to stop: what, then a detail (may be NULL). */
static void note_stop(struct world *w, const char *what, const char *detail)
{
    if (!w->stop[0])
        snprintf(w->stop, sizeof(w->stop), "%s%.400s", what, detail ? detail : "");
}

/* Start instance child_id of the process a call activity names, as the service would. */
static void start_child(struct world *w, const struct world_inst *parent, const struct fl_effect *e,
                        unsigned depth)
{
    const struct fl_model *m = w->res ? w->res->find(w->res->arg, e->u.call.process_key) : NULL;
    struct fl_command cmd = {.kind = FL_CMD_START, .actor = "conformance"};
    struct fl_instance *child = NULL;
    struct fl_effects fx;
    struct fl_error err;

    if (!m) {
        note_stop(w, "a called process is neither in the document nor beside it: ",
                  e->u.call.process_key);
        return;
    }
    cmd.process_key = e->u.call.process_key;
    cmd.variables = e->u.call.variables;
    cmd.business_key = e->u.call.business_key;
    cmd.new_instance_id = e->u.call.child_id;
    cmd.parent_instance_id = parent->inst->id;
    cmd.parent_token_id = e->u.call.token_id;
    fl_effects_init(&fx);
    if (fl_engine_start(m, 1, &cmd, &w->ctx, &child, &fx, &err) < 0) {
        note_stop(w, "start of a called process refused: ", err.msg);
        fl_effects_release(&fx);
        return;
    }
    fl_grow(&w->items, &w->cap, w->n + 1, sizeof(*w->items));
    w->items[w->n].m = m;
    w->items[w->n].inst = child;
    w->n++;
    cascade(w, child->id, &fx, depth + 1);
    fl_effects_release(&fx);
}

/* Deliver a signal (or a thrown message) to the matching subscriptions of every instance. */
static void broadcast(struct world *w, uint8_t trigger, const char *name, const char *key,
                      const struct fl_value *vars, bool first_only, unsigned depth)
{
    struct target {
        uint64_t iid, sub;
    } *ts = NULL;
    size_t n = 0, cap = 0;

    for (size_t i = 0; i < w->n; i++) {
        const struct fl_instance *inst = w->items[i].inst;
        if (inst->status != FL_INSTANCE_ACTIVE)
            continue;
        for (size_t k = 0; k < inst->n_subs; k++) {
            const struct fl_subscription *s = &inst->subs[k];
            if (s->trigger != trigger || !s->name || strcmp(s->name, name) != 0)
                continue;
            if (trigger == FL_TRIGGER_MESSAGE && s->correlation_key &&
                (!key || strcmp(s->correlation_key, key) != 0))
                continue;
            fl_grow(&ts, &cap, n + 1, sizeof(*ts));
            ts[n].iid = inst->id;
            ts[n].sub = s->id;
            n++;
            if (first_only)
                break;
        }
        if (first_only && n)
            break;
    }
    for (size_t i = 0; i < n; i++) {
        struct fl_command cmd = {.kind = FL_CMD_CORRELATE,
                                 .instance_id = ts[i].iid,
                                 .target_id = ts[i].sub,
                                 .variables = vars,
                                 .actor = "conformance"};
        apply(w, ts[i].iid, &cmd, depth + 1);
    }
    free(ts);
}

/* A called instance iid hands the error or escalation of effect e to its caller's call
 * activity (command kind CALL_DONE or CALL_ESCALATE). False when it has no caller. */
static bool to_caller(struct world *w, uint64_t iid, enum fl_command_kind kind,
                      const struct fl_effect *e, unsigned depth)
{
    struct world_inst *wi = find_inst(w, iid);
    struct fl_command cmd = {.kind = kind,
                             .error_code = e->u.msg.name,
                             .error_message = e->u.msg.correlation_key,
                             .actor = "conformance"};
    if (!wi || !wi->inst->parent_instance_id)
        return false;
    cmd.instance_id = wi->inst->parent_instance_id;
    cmd.target_id = wi->inst->parent_token_id;
    cmd.new_instance_id = wi->inst->id;
    apply(w, cmd.instance_id, &cmd, depth + 1);
    return true;
}

/* What a step of instance iid asks of the world, as the service's cascade does it. */
static void cascade(struct world *w, uint64_t iid, const struct fl_effects *fx, unsigned depth)
{
    struct world_inst *wi;
    bool error_up = false;

    if (depth > CONF_MAX_DEPTH) {
        note_stop(w, "more than 32 instances set one another off", NULL);
        return;
    }
    for (size_t i = 0; i < fx->n; i++) {
        const struct fl_effect *e = &fx->items[i];
        if (e->kind == FL_FX_INCIDENT && !w->incident[0])
            snprintf(w->incident, sizeof(w->incident), "%s", e->u.incident.message);
    }
    for (size_t i = 0; i < fx->n && !w->stop[0]; i++) {
        const struct fl_effect *e = &fx->items[i];
        switch (e->kind) {
        case FL_FX_CALL:
            if ((wi = find_inst(w, iid)) != NULL)
                start_child(w, wi, e, depth);
            break;
        case FL_FX_SIGNAL:
            broadcast(w, FL_TRIGGER_SIGNAL, e->u.msg.name, NULL, e->u.msg.variables, false,
                      depth);
            break;
        case FL_FX_OUTBOX:
            broadcast(w, FL_TRIGGER_MESSAGE, e->u.msg.name, e->u.msg.correlation_key,
                      e->u.msg.variables, true, depth);
            break;
        case FL_FX_ERROR_UP:
            error_up = to_caller(w, iid, FL_CMD_CALL_DONE, e, depth) || error_up;
            break;
        case FL_FX_ESCALATE_UP:
            to_caller(w, iid, FL_CMD_CALL_ESCALATE, e, depth);
            break;
        default:
            break;
        }
    }
    /* A called instance that completed returns to its caller with its variables. */
    wi = find_inst(w, iid);
    if (!w->stop[0] && !error_up && wi && wi->inst->parent_instance_id &&
        wi->inst->status != FL_INSTANCE_ACTIVE) {
        struct fl_command cmd = {.kind = FL_CMD_CALL_DONE,
                                 .instance_id = wi->inst->parent_instance_id,
                                 .target_id = wi->inst->parent_token_id,
                                 .variables = wi->inst->variables,
                                 .actor = "conformance"};
        bool was_done = false;
        for (size_t i = 0; i < fx->n; i++)
            if (fx->items[i].kind == FL_FX_EVENT &&
                (fx->items[i].u.event.type == FL_EV_INSTANCE_COMPLETED ||
                 fx->items[i].u.event.type == FL_EV_INSTANCE_CANCELLED))
                was_done = true;
        if (!was_done)
            return;
        cmd.new_instance_id = wi->inst->id;
        if (wi->inst->status == FL_INSTANCE_CANCELLED)
            cmd.error_code = "flowd:cancelled"; /* as the service says it (svc_calls.c) */
        apply(w, cmd.instance_id, &cmd, depth + 1);
    }
}

static void apply(struct world *w, uint64_t iid, const struct fl_command *cmd, unsigned depth)
{
    struct world_inst *wi = find_inst(w, iid);
    struct fl_effects fx;
    struct fl_error err;

    if (!wi) {
        note_stop(w, "a command went to an instance the drive does not know", NULL);
        return;
    }
    fl_effects_init(&fx);
    if (fl_engine_apply(wi->m, wi->inst, cmd, &w->ctx, &fx, &err) < 0)
        note_stop(w, "command refused: ", err.msg);
    else
        cascade(w, iid, &fx, depth);
    fl_effects_release(&fx);
}

/* The command that answers a wait of instance wi, at priority level `pass`: 0 tasks (the
 * required main action first), 1 jobs, 2 awaited messages and signals at catch events and
 * receive tasks. */
static bool answer(const struct world_inst *wi, int pass, struct fl_command *cmd)
{
    const struct fl_model *m = wi->m;
    const struct fl_instance *inst = wi->inst;

    cmd->instance_id = inst->id;
    for (size_t i = 0; i < inst->n_tokens && pass < 2; i++) {
        const struct fl_token *t = &inst->tokens[i];
        if (t->state != FL_TOKEN_WAITING)
            continue;
        if (pass == 0 && t->task_id) {
            const struct fl_stage *st = m->nodes[t->node].stage;
            cmd->target_id = t->task_id;
            if (st && st->main_action_required && !t->main_action_done) {
                cmd->kind = FL_CMD_RECORD_ACTION;
                cmd->action_kind = st->main_action_kind ? st->main_action_kind : "note";
                cmd->action_ref = "conformance";
            } else {
                cmd->kind = FL_CMD_COMPLETE_TASK;
            }
            return true;
        }
        if (pass == 1 && t->job_id) {
            cmd->kind = FL_CMD_COMPLETE_JOB;
            cmd->target_id = t->job_id;
            return true;
        }
    }
    for (size_t i = 0; i < inst->n_subs && pass >= 2; i++) {
        const struct fl_subscription *s = &inst->subs[i];
        enum fl_node_kind k = s->node < m->n_nodes ? m->nodes[s->node].kind : FL_NODE_TASK;
        bool awaited = k == FL_NODE_CATCH_EVENT || k == FL_NODE_RECEIVE_TASK;
        /* pass 2: what a token waits for; pass 3: boundary events and event subprocess
         * starts, only when nothing else moves the world. */
        if ((pass == 2) != awaited)
            continue;
        cmd->kind = FL_CMD_CORRELATE;
        cmd->target_id = s->id;
        return true;
    }
    return false;
}

/* The next command for the world: a task, then a job, then an awaited message, then the
 * earliest timer, then a boundary message or signal. false with out->reason when none. */
static bool next_command(struct world *w, struct fl_command *cmd, struct conf_run *out)
{
    const struct fl_timer *first = NULL;
    uint64_t first_iid = 0;

    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < w->n; i++)
            if (w->items[i].inst->status == FL_INSTANCE_ACTIVE && answer(&w->items[i], pass, cmd))
                return true;
    for (size_t i = 0; i < w->n; i++) {
        const struct fl_instance *inst = w->items[i].inst;
        if (inst->status != FL_INSTANCE_ACTIVE)
            continue;
        for (size_t k = 0; k < inst->n_timers; k++)
            if (!first || inst->timers[k].due_at < first->due_at) {
                first = &inst->timers[k];
                first_iid = inst->id;
            }
    }
    if (first) {
        cmd->kind = FL_CMD_FIRE_TIMER;
        cmd->instance_id = first_iid;
        cmd->target_id = first->id;
        if (first->due_at > w->ctx.now_ms)
            w->ctx.now_ms = first->due_at;
        return true;
    }
    for (size_t i = 0; i < w->n; i++)
        if (w->items[i].inst->status == FL_INSTANCE_ACTIVE && answer(&w->items[i], 3, cmd))
            return true;
    /* Nothing answers: say what the innermost waiting token waits for. */
    for (size_t i = w->n; i-- > 0;) {
        const struct fl_model *m = w->items[i].m;
        const struct fl_instance *inst = w->items[i].inst;
        if (inst->status != FL_INSTANCE_ACTIVE)
            continue;
        for (size_t k = 0; k < inst->n_tokens; k++) {
            const struct fl_token *t = &inst->tokens[k];
            if (t->state == FL_TOKEN_SCOPE)
                continue;
            if (t->state == FL_TOKEN_JOINING)
                snprintf(out->reason, sizeof(out->reason),
                         "a %s join waits for a token that never comes",
                         m->nodes[t->node].kind == FL_NODE_INCLUSIVE_GW ? "inclusive"
                                                                         : "parallel");
            else
                snprintf(out->reason, sizeof(out->reason), "waits at a %s that nothing answers",
                         fl_node_kind_name(m->nodes[t->node].kind));
            return false;
        }
    }
    snprintf(out->reason, sizeof(out->reason), "active with nothing to wait for");
    return false;
}

/* The start command of the root instance: the none start event, else the first timer
 * start, else the first message (or signal) start event. */
static void root_start(const struct fl_model *m, struct fl_command *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->kind = FL_CMD_START;
    cmd->process_key = m->key;
    cmd->actor = "conformance";
    if (m->start != FL_NONE)
        return;
    if (m->n_timer_starts > 0)
        cmd->start_node_id = m->nodes[m->timer_starts[0]].id;
    else if (m->n_message_starts > 0)
        cmd->start_node_id = m->nodes[m->message_starts[0]].id;
}

/* The corpora hold no DMN documents: in auto-drive every decision answers null, as every
 * job is completed with no variables. */
static int drive_decide(void *arg, const char *decision_id, const char *result_map,
                        const struct fl_value *vars, int64_t now_ms, struct fl_value **result,
                        struct fl_error *err)
{
    (void)arg;
    (void)decision_id;
    (void)result_map;
    (void)vars;
    (void)now_ms;
    (void)err;
    *result = fl_value_null();
    return 0;
}

void conf_drive(const struct fl_model *m, const struct conf_resolver *res, struct conf_run *out)
{
    struct world w;
    struct fl_command cmd;
    struct fl_instance *root = NULL;
    struct fl_effects fx;
    struct fl_error err;
    unsigned n;

    memset(out, 0, sizeof(*out));
    memset(&w, 0, sizeof(w));
    w.ctx.now_ms = 1767225600000; /* 2026-01-01T00:00:00Z */
    w.ctx.next_id = drive_next_id;
    w.ctx.id_arg = &w;
    w.ctx.decide = drive_decide;
    w.res = res;
    fl_effects_init(&fx);
    root_start(m, &cmd);
    if (fl_engine_start(m, 1, &cmd, &w.ctx, &root, &fx, &err) < 0) {
        snprintf(out->reason, sizeof(out->reason), "start refused: %s", err.msg);
        goto out;
    }
    fl_grow(&w.items, &w.cap, 1, sizeof(*w.items));
    w.items[0].m = m;
    w.items[0].inst = root;
    w.n = 1;
    cascade(&w, root->id, &fx, 0);
    fl_effects_release(&fx);
    for (n = 0;; n++) {
        if (root->status != FL_INSTANCE_ACTIVE) {
            out->ended = root->status == FL_INSTANCE_COMPLETED;
            if (!out->ended)
                snprintf(out->reason, sizeof(out->reason), "cancelled");
            break;
        }
        if (w.incident[0]) {
            snprintf(out->reason, sizeof(out->reason), "incident: %s", w.incident);
            break;
        }
        if (w.stop[0]) {
            snprintf(out->reason, sizeof(out->reason), "%s", w.stop);
            break;
        }
        if (n == CONF_MAX_COMMANDS) {
            snprintf(out->reason, sizeof(out->reason), "step bound (%d commands)",
                     CONF_MAX_COMMANDS);
            break;
        }
        memset(&cmd, 0, sizeof(cmd));
        cmd.actor = "conformance";
        w.ctx.now_ms += 60000; /* a minute per step: timers that are due get due */
        if (!next_command(&w, &cmd, out))
            break;
        apply(&w, cmd.instance_id, &cmd, 0);
    }
out:
    for (size_t i = 0; i < w.n; i++)
        fl_instance_free(w.items[i].inst);
    free(w.items);
    fl_effects_release(&fx);
}
