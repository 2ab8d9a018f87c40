/* Auto-drive of one process model for the conformance harness, and the tallies of reasons
 * it prints. The drive uses the pure engine in memory (no store): it starts an instance and
 * answers every wait state the way a cooperative world would, one command at a time, until
 * the instance ends, raises an incident, waits for something the drive cannot give, or
 * reaches the step bound. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/conformance.h"
#include "flowd/alloc.h"
#include "flowd/engine.h"

static uint64_t drive_next_id(void *arg, enum fl_id_kind kind)
{
    uint64_t *next = arg;
    (void)kind;
    return ++*next;
}

/* The message of the last incident the step raised, if any. */
static const char *last_incident(const struct fl_effects *fx)
{
    const char *msg = NULL;
    for (size_t i = 0; i < fx->n; i++)
        if (fx->items[i].kind == FL_FX_INCIDENT)
            msg = fx->items[i].u.incident.message;
    return msg;
}

/* The next command that moves inst on, or false with out->reason set when there is none:
 * a task (its required main action first), then a job, then the earliest timer. */
static bool next_command(const struct fl_model *m, const struct fl_instance *inst,
                         struct fl_command *cmd, struct conf_run *out)
{
    const struct fl_timer *first = NULL;
    size_t i;

    for (i = 0; i < inst->n_tokens; i++) {
        const struct fl_token *t = &inst->tokens[i];
        const struct fl_stage *st;
        if (t->state != FL_TOKEN_WAITING || !t->task_id)
            continue;
        st = m->nodes[t->node].stage;
        cmd->instance_id = inst->id;
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
    for (i = 0; i < inst->n_tokens; i++) {
        const struct fl_token *t = &inst->tokens[i];
        if (t->state == FL_TOKEN_WAITING && t->job_id) {
            cmd->kind = FL_CMD_COMPLETE_JOB;
            cmd->instance_id = inst->id;
            cmd->target_id = t->job_id;
            return true;
        }
    }
    for (i = 0; i < inst->n_timers; i++)
        if (!first || inst->timers[i].due_at < first->due_at)
            first = &inst->timers[i];
    if (first) {
        cmd->kind = FL_CMD_FIRE_TIMER;
        cmd->instance_id = inst->id;
        cmd->target_id = first->id;
        return true;
    }
    for (i = 0; i < inst->n_tokens; i++) {
        const struct fl_token *t = &inst->tokens[i];
        snprintf(out->reason, sizeof(out->reason), "waits at a %s that nothing answers",
                 fl_node_kind_name(m->nodes[t->node].kind));
        if (t->state == FL_TOKEN_JOINING)
            snprintf(out->reason, sizeof(out->reason),
                     "a parallel join waits for a token that never comes");
        return false;
    }
    snprintf(out->reason, sizeof(out->reason), "active with nothing to wait for");
    return false;
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

void conf_drive(const struct fl_model *m, struct conf_run *out)
{
    uint64_t next = 0;
    struct fl_engine_ctx ctx = {.now_ms = 1767225600000, /* 2026-01-01T00:00:00Z */
                                .next_id = drive_next_id,
                                .id_arg = &next,
                                .decide = drive_decide};
    struct fl_command cmd;
    struct fl_instance *inst = NULL;
    struct fl_effects fx;
    struct fl_error err;
    const char *incident;
    unsigned n;

    memset(out, 0, sizeof(*out));
    fl_effects_init(&fx);
    memset(&cmd, 0, sizeof(cmd));
    cmd.kind = FL_CMD_START;
    cmd.process_key = m->key;
    cmd.actor = "conformance";
    if (m->start == FL_NONE && m->n_timer_starts > 0)
        cmd.start_node_id = m->nodes[m->timer_starts[0]].id;
    if (fl_engine_start(m, 1, &cmd, &ctx, &inst, &fx, &err) < 0) {
        snprintf(out->reason, sizeof(out->reason), "start refused: %s", err.msg);
        goto out;
    }
    for (n = 0;; n++) {
        if (inst->status != FL_INSTANCE_ACTIVE) {
            out->ended = inst->status == FL_INSTANCE_COMPLETED;
            if (!out->ended)
                snprintf(out->reason, sizeof(out->reason), "cancelled");
            break;
        }
        if ((incident = last_incident(&fx)) != NULL || inst->incident) {
            snprintf(out->reason, sizeof(out->reason), "incident: %s",
                     incident ? incident : "(raised earlier)");
            break;
        }
        if (n == CONF_MAX_COMMANDS) {
            snprintf(out->reason, sizeof(out->reason), "step bound (%d commands)",
                     CONF_MAX_COMMANDS);
            break;
        }
        memset(&cmd, 0, sizeof(cmd));
        cmd.actor = "conformance";
        if (!next_command(m, inst, &cmd, out))
            break;
        fl_effects_reset(&fx);
        ctx.now_ms += 60000; /* a minute per step: timers that are due get due */
        if (cmd.kind == FL_CMD_FIRE_TIMER)
            for (size_t i = 0; i < inst->n_timers; i++)
                if (inst->timers[i].id == cmd.target_id && inst->timers[i].due_at > ctx.now_ms)
                    ctx.now_ms = inst->timers[i].due_at;
        if (fl_engine_apply(m, inst, &cmd, &ctx, &fx, &err) < 0) {
            snprintf(out->reason, sizeof(out->reason), "command refused: %s", err.msg);
            break;
        }
    }
out:
    fl_instance_free(inst);
    fl_effects_release(&fx);
}

void conf_reasons_add(struct conf_reasons *rs, const char *text, const char *example)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (!strcmp(rs->items[i].text, text)) {
            rs->items[i].count++;
            return;
        }
    }
    fl_grow(&rs->items, &rs->cap, rs->n + 1, sizeof(*rs->items));
    rs->items[rs->n].text = fl_strdup(text);
    rs->items[rs->n].example = fl_strdup(example);
    rs->items[rs->n].count = 1;
    rs->n++;
}

static int by_count(const void *a, const void *b)
{
    const struct conf_reason *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->text, y->text);
}

void conf_reasons_sort(struct conf_reasons *rs)
{
    if (rs->n > 1)
        qsort(rs->items, rs->n, sizeof(*rs->items), by_count);
}

void conf_reasons_release(struct conf_reasons *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->items[i].text);
        free(rs->items[i].example);
    }
    free(rs->items);
    memset(rs, 0, sizeof(*rs));
}

char *conf_normalize(const char *msg)
{
    /* Quoted words after these stay: they name kinds of things, not particular ones. */
    static const char *const keep_after[] = {"element ", "a ", "an ", "with ", "language ",
                                             "attribute ", "type ", NULL};
    size_t n = strlen(msg), o = 0;
    char *out = fl_malloc(2 * n + 4); /* '' becomes '*': up to 3 bytes for 2 */
    for (size_t i = 0; i < n; i++) {
        bool keep = false;
        size_t j;
        if (msg[i] != '\'') {
            out[o++] = msg[i];
            continue;
        }
        for (size_t k = 0; keep_after[k]; k++) {
            size_t l = strlen(keep_after[k]);
            if (i >= l && !strncmp(msg + i - l, keep_after[k], l))
                keep = true;
        }
        for (j = i + 1; j < n && msg[j] != '\''; j++)
            ;
        if (keep) {
            memcpy(out + o, msg + i, j - i + (j < n));
            o += j - i + (j < n);
        } else {
            memcpy(out + o, "'*'", 3); /* never longer than the quoted word it replaces */
            o += 3;
        }
        i = j;
    }
    out[o] = '\0';
    return out;
}
