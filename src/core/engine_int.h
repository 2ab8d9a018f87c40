/* Internals shared by the engine's files: the effects arena (engine_fx.c), the run of one
 * command that moves tokens until they rest (engine_step.c), user and service task
 * creation (engine_task.c), and token and variable helpers on an instance (instance.c).
 * Nothing here is public; the contract is include/flowd/engine.h. */
#ifndef FLOWD_CORE_ENGINE_INT_H
#define FLOWD_CORE_ENGINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/buf.h"
#include "flowd/engine.h"
#include "flowd/timecalc.h"

/* ---- effects arena (engine_fx.c) ---- */

/* n bytes (8-aligned) that live until fl_effects_reset/release. */
void *fl__fx_alloc(struct fl_effects *fx, size_t n);

/* Copy of s in the arena; NULL gives NULL. */
const char *fl__fx_strdup(struct fl_effects *fx, const char *s);

/* Copy of the first n bytes of s in the arena, NUL-terminated. */
const char *fl__fx_strndup(struct fl_effects *fx, const char *s, size_t n);

/* The arena's scratch buffer, emptied: build a text in it, then fl__fx_scratch_keep. */
struct fl_buf *fl__fx_scratch(struct fl_effects *fx);

/* Copy of the scratch buffer's text in the arena. */
const char *fl__fx_scratch_keep(struct fl_effects *fx);

/* Hold a reference to v until reset/release; returns v. */
const struct fl_value *fl__fx_hold(struct fl_effects *fx, const struct fl_value *v);

/* Append a zeroed effect of kind k and return it (valid until the next push). */
struct fl_effect *fl__fx_push(struct fl_effects *fx, enum fl_effect_kind k);


/* ---- the run of one command (engine_step.c) ---- */

/* A token on the move: not parked in inst->tokens while it moves. */
struct fl__mover {
    uint64_t id;
    uint32_t node; /* node it enters, or leaves */
    uint32_t flow; /* flow it came by (entering), or FL_NONE */
    bool stored;   /* the store has a row for it (it rested before this command) */
    bool leaving;  /* it is done with `node` and leaves it */
    uint64_t scope; /* the SCOPE token it runs inside (0 = process level) */
    uint32_t loop;  /* multi-instance inner token: its loopCounter; else 0 */
};

struct fl__run {
    const struct fl_model *m;
    struct fl_instance *inst;
    const struct fl_engine_ctx *ctx;
    struct fl_effects *fx;
    const char *actor; /* arena copy of the command's actor, or NULL */
    uint32_t steps, max_steps;
    bool stopped;        /* the loop guard tripped or a terminate end ended everything */
    struct fl__mover *q; /* FIFO of moving tokens: q[head..len) */
    size_t q_head, q_len, q_cap;
    uint32_t *sel; /* scratch: flows chosen to leave a node by */
    size_t sel_cap;
    struct fl__mover q_inline[8];
    uint32_t sel_inline[8];
};

/* Prepare a run of one command; allocates nothing. */
void fl__run_init(struct fl__run *r, const struct fl_model *m, struct fl_instance *inst,
                  const struct fl_engine_ctx *ctx, struct fl_effects *fx, const char *actor);

/* Free what the run allocated. */
void fl__run_release(struct fl__run *r);

/* Queue a token to move. */
void fl__run_push(struct fl__run *r, const struct fl__mover *mv);

/* Move all queued tokens until each rests or is consumed, then complete the instance if
 * no token is left. Model problems become incidents; this cannot fail. */
void fl__run_go(struct fl__run *r);

/* A fresh id of a kind from the caller's allocator. */
uint64_t fl__run_id(struct fl__run *r, enum fl_id_kind kind);

/* Append a history event at now; detail is an arena or static string, or NULL. */
void fl__run_event(struct fl__run *r, enum fl_event_type type, uint64_t token_id, uint64_t ref_id,
                   const char *node_id, const char *detail);

/* Push a task effect of kind k (TASK_CLOSE or TASK_ACTION) for task_id with status, by the
 * run's actor at now; the caller fills kind/ref of an action and emits the event. */
struct fl_effect *fl__run_task_effect(struct fl__run *r, enum fl_effect_kind k, uint64_t task_id,
                                      enum fl_task_status status);

/* Put token t into inst->tokens (rest) and emit TOKEN_PUT. */
void fl__run_park(struct fl__run *r, const struct fl_token *t);

/* Raise an incident at mv's node: INCIDENT effect, incident_raised event, the token rests
 * there in state INCIDENT, inst->incident = true. The message is printf-formatted. */
void fl__run_incident(struct fl__run *r, const struct fl__mover *mv, uint64_t job_id,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Close the task (cancelled) or job (failed with reason) a resting token holds. */
void fl__run_close_work(struct fl__run *r, const struct fl_token *t, const char *reason);

/* Close every open task (cancelled) and job of the instance, delete all its pending
 * timers and all its tokens, resting and moving; the run stops. */
void fl__run_kill_all(struct fl__run *r);

/* Merge the context vars into inst->variables (copy-on-write), emitting VAR_SET for each
 * changed variable and one variables_changed event. Nothing happens if nothing changes. */
void fl__run_merge_vars(struct fl__run *r, const struct fl_value *vars, uint64_t token_id,
                        const char *node_id);

/* Node id of index i, or NULL if out of range. */
const char *fl__node_id(const struct fl_model *m, uint32_t i);

/* ---- tasks and jobs (engine_task.c) ---- */

/* A token enters a user task: create the task (candidates, assignee, due and remind
 * times) and rest, or raise an incident when an expression of the stage fails. */
void fl__enter_user_task(struct fl__run *r, const struct fl__mover *mv);

/* A token enters a service task: create the job and rest. */
void fl__enter_service_task(struct fl__run *r, const struct fl__mover *mv);

/* ---- control points (engine_control.c) ---- */

/* A control point to set, move or clear, computed before the command changes anything. */
struct fl__control_set {
    const struct fl_control_def *def; /* the model's definition, or NULL */
    const char *name;                 /* borrowed from the model or the command */
    bool clear;                       /* met or cleared (an expression gave null, or the API) */
    int64_t due_at, remind_at;        /* remind_at 0 = none */
};

/* Evaluate n definitions (on element `where`) over vars and append what they set to
 * *sets (caller frees). FL_EINVAL naming the control point (err->field) and its element
 * when a due cannot be computed; FL_ENOTFOUND for an unknown calendar. */
int fl__controls_eval(const struct fl_control_def *defs, size_t n, const char *where,
                      const struct fl_value *vars, const struct fl_engine_ctx *ctx,
                      struct fl__control_set **sets, size_t *n_sets, struct fl_error *err);

/* Check a SET_CONTROL command and say what it sets in *out. */
int fl__control_check_cmd(const struct fl_model *m, const struct fl_instance *inst,
                          const struct fl_command *cmd, struct fl__control_set *out,
                          struct fl_error *err);

/* Set, move or clear: CONTROL_SET/DEL, their timers (TIMER_SET/DEL) and control_set events
 * (on token_id at node_id, both optional). */
void fl__controls_apply(struct fl__run *r, const struct fl__control_set *sets, size_t n,
                        uint64_t token_id, const char *node_id);

/* The instance ended: delete the timers of its open control points and close them. */
void fl__controls_close_all(struct fl__run *r);

/* A control point's timer t came due (the caller already took t out of inst->timers and
 * emitted its TIMER_DEL): CONTROL_REMIND reminds the owner (NOTIFY, control_reminded);
 * CONTROL_DUE level 0 tells the owner and the definition's escalateTo, level n its n-th
 * escalation (NOTIFY, escalated), and sets the timer of the next level. A timer of a
 * control point no longer open does nothing. */
void fl__fire_control_timer(struct fl__run *r, const struct fl_timer *t);

/* Index of the open control point with this name, or SIZE_MAX. */
size_t fl__inst_find_control(const struct fl_instance *inst, const char *name);

/* ---- timers (engine_timer.c) ---- */

/* Index of timer id in inst->timers, or SIZE_MAX. */
size_t fl__inst_find_timer(const struct fl_instance *inst, uint64_t id);

/* Insert or replace (by id) a pending timer in inst->timers and emit TIMER_SET. */
void fl__run_timer_set(struct fl__run *r, const struct fl_timer *t);

/* Remove inst->timers[i] and emit TIMER_DEL. */
void fl__run_timer_del(struct fl__run *r, size_t i);

/* Delete the pending reminder and deadline timers of task_id (the task closed). */
void fl__run_task_timers_del(struct fl__run *r, uint64_t task_id);

/* Delete every pending timer of the instance (cancel, terminate). */
void fl__run_timers_del_all(struct fl__run *r);

/* from + d on the named business calendar through ctx->calendar_add (no hook, or a NULL
 * or empty calendar: plain calendar time). 0, or the calendar's error (err may be NULL). */
int fl__run_calendar_add(struct fl__run *r, const char *calendar, int64_t from,
                         const struct fl_iso_duration *d, int64_t *out, struct fl_error *err);

/* Set the deadline (level 0, base = due) and reminder timers of a new task; due 0 = none,
 * remind 0 or not before due = no reminder. */
void fl__task_timers_create(struct fl__run *r, uint64_t task_id, uint64_t token_id, uint32_t node,
                            int64_t due, int64_t remind);

/* FIRE_TIMER, checked: *out = index of the timer cmd->target_id in inst->timers.
 * FL_ENOTFOUND not pending (fired or cancelled), FL_ECONFLICT not due at ctx->now_ms,
 * FL_EUNSUPPORTED a kind that cannot fire yet. */
int fl__timer_check(const struct fl_model *m, const struct fl_instance *inst,
                    const struct fl_command *cmd, const struct fl_engine_ctx *ctx, size_t *out,
                    struct fl_error *err);

/* Fire inst->timers[i]: delete it, then what its kind does (on an active instance). */
void fl__timer_fire(struct fl__run *r, size_t i);

/* ---- BPMN timer events (engine_timer_event.c) ---- */

/* Due time of the timer event at node: a date, now_ms plus a duration, or a cycle's first
 * occurrence (last NULL) or next one after the timer last that just fired. *repeat gets
 * the firings left after this one (cycles; UINT32_MAX unbounded; else 0). "=expr"
 * definitions are evaluated against vars. Returns 0, FL_ENOTFOUND when nothing is left to
 * fire (a date or duration already fired, a cycle used up), or FL_EINVAL with why (a
 * phrase to follow the definition: "is not a valid expression: ..."). Pure. */
int fl__timer_due(const struct fl_node *node, const struct fl_value *vars, int64_t now_ms,
                  int32_t tz_offset_min, const struct fl_timer *last, int64_t *due,
                  uint32_t *repeat, char *why, size_t why_len);

/* A token enters an intermediate timer catch event: it rests there with a timer, or an
 * incident when the definition cannot be evaluated. */
void fl__enter_timer_catch(struct fl__run *r, const struct fl__mover *mv);

/* Before a token rests at a task with boundary timer events: the due time and repeat
 * count of each (arrays in the effects arena, INT64_MIN = no timer). -1 after raising an
 * incident (the task must then not be created). */
int fl__boundary_dues(struct fl__run *r, const struct fl__mover *mv, int64_t **due,
                      uint32_t **repeat);

/* After the token rests at its task: arm the boundary timers computed above. */
void fl__arm_boundaries(struct fl__run *r, const struct fl__mover *mv, const int64_t *due,
                        const uint32_t *repeat);

/* Delete (TIMER_DEL) the BPMN timer event timers of token token_id (its catch event or
 * the boundary events of its task). */
void fl__run_drop_timers(struct fl__run *r, uint64_t token_id);

/* Fire timer t of kind FL_TIMER_EVENT (fl__timer_fire has already deleted it): move the
 * catch event's token on, or interrupt the task through its boundary event, or send a new
 * token out of a non-interrupting one (re-arming a cycle). A timer whose token has moved
 * on does nothing more. Cannot fail. */
void fl__fire_timer_event(struct fl__run *r, const struct fl_timer *t);

/* ---- scopes and local variables (engine_scope.c) ---- */

/* Index of token id in inst->tokens, or SIZE_MAX. */
size_t fl__inst_find_token(const struct fl_instance *inst, uint64_t id);

/* The locals of scope (a token id), or NULL when it has none. */
struct fl_scope_vars *fl__inst_locals(const struct fl_instance *inst, uint64_t scope);

/* The variables a token sees: the locals of token_id itself (input mappings), then of
 * `scope` and each enclosing scope (SCOPE tokens resting in inst->tokens), over the
 * instance's variables; inner names hide outer ones. A new reference (inst->variables
 * itself when there are no locals on the way). */
struct fl_value *fl__run_vars(const struct fl__run *r, uint64_t token_id, uint64_t scope);

/* Set the context vars as locals of scope (a token id): VAR_SET effects with that scope and
 * one variables_changed event {"scope":id,"variables":{...}}. Unchanged values are not
 * reported. */
void fl__run_set_locals(struct fl__run *r, uint64_t scope, const struct fl_value *vars,
                        uint64_t token_id, const char *node_id);

/* Set the context vars as seen from a token (token_id, inside scope): each name goes to
 * the nearest scope on the way out that has it as a local, else to the instance's
 * variables (fl__run_merge_vars). This is how completion variables propagate. */
void fl__run_set_vars(struct fl__run *r, const struct fl_value *vars, uint64_t token_id,
                      uint64_t scope, const char *node_id);

/* Drop the locals of scope (it ended): LOCALS_DEL when it had any. */
void fl__run_drop_locals(struct fl__run *r, uint64_t scope);

/* ---- modification (engine_modify.c) ---- */

/* FL_CMD_MODIFY checked against inst (nothing changes): FL_ECONFLICT not active, FL_EINVAL
 * no instruction, an unknown token or element, or one that cannot be started before;
 * FL_EUNSUPPORTED what the engine cannot do yet (naming it). */
int fl__modify_check(const struct fl_model *m, const struct fl_instance *inst,
                     const struct fl_command *cmd, struct fl_error *err);

/* Apply a checked FL_CMD_MODIFY: variables, starts queued, cancels; when no token is left
 * and nothing was started, the instance ends as cancelled. The caller then runs the run. */
void fl__modify_do(struct fl__run *r, const struct fl_command *cmd);

/* ---- instance helpers (instance.c) ---- */

/* Index of the token with this open task / job, or SIZE_MAX. */
size_t fl__inst_find_task(const struct fl_instance *inst, uint64_t task_id);
size_t fl__inst_find_job(const struct fl_instance *inst, uint64_t job_id);

/* Append a copy of t to inst->tokens. */
void fl__inst_add_token(struct fl_instance *inst, const struct fl_token *t);

/* Remove token i, keeping the order of the others. */
void fl__inst_remove_token(struct fl_instance *inst, size_t i);

#endif
