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
    bool vars_changed;   /* variables changed since conditional events were last checked */
    struct fl__mover *q; /* FIFO of moving tokens: q[head..len) */
    size_t q_head, q_len, q_cap;
    uint32_t *sel; /* scratch: flows chosen to leave a node by */
    size_t sel_cap;
    struct fl__mover q_inline[8];
    uint32_t sel_inline[8];
    /* FL_CMD_RESOLVE: the token retried, and the retries of the job it creates when it
     * enters a service task again (0 = the model's); used once */
    uint64_t resolve_token;
    int resolve_retries;
    /* Inclusive joins met by this run: the nodes from which each is reachable without
     * passing through it (engine_inclusive.c), computed once per join per command. */
    struct fl__reach *reach;
    size_t n_reach, cap_reach;
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

/* The token a mover becomes when it rests in state `state` (scope and loop kept). */
struct fl_token fl__token_at(const struct fl__mover *mv, uint8_t state);

/* A mover for resting token t, queued to leave (leaving) or enter its node. */
struct fl__mover fl__mover_of(const struct fl_token *t, bool leaving);

/* Emit TOKEN_DEL for token id. */
void fl__run_token_del(struct fl__run *r, uint64_t id);

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

/* ---- incidents (engine_incident.c) ---- */

/* FL_CMD_RESOLVE, checked: *ti = index of token cmd->target_id, which must rest in state
 * INCIDENT. FL_ECONFLICT instance not active or token without incident, FL_ENOTFOUND no
 * such token, FL_EINVAL negative retries, FL_ETYPE variables not a context. */
int fl__resolve_check(const struct fl_model *m, const struct fl_instance *inst,
                      const struct fl_command *cmd, size_t *ti, struct fl_error *err);

/* Resolve token ti's incident: merge the variables, INCIDENT_RESOLVE and incident_resolved,
 * then retry its node (entering or leaving it as when the incident was raised; a service
 * task's new job gets cmd->retries, 0 = the model's) and run the instance on. */
void fl__resolve_apply(struct fl__run *r, const struct fl_command *cmd, size_t ti);
/* ---- business rule tasks (engine_decision.c) ---- */

/* A token enters a business rule task without a job type: evaluate its decision through
 * ctx->decide over the variables the token sees, set the result variable, emit
 * decision_evaluated and move on; or raise an incident naming the decision. */
void fl__run_decision(struct fl__run *r, const struct fl__mover *mv);

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

/* ---- messages and signals (engine_message.c) ---- */

/* Does node n wait for a message or signal (message/signal catch or boundary event, receive
 * task)? */
bool fl__is_message_catch(const struct fl_node *n);

/* A token enters a node of the messages area: a message or signal catch event or receive
 * task (it rests with a subscription), an event-based gateway (it rests with one
 * subscription or timer per following event), a send task without a job type or a
 * message/signal throw or end event (FL_FX_OUTBOX / FL_FX_SIGNAL, then on or consumed).
 * True when handled; false: not such a node, the caller goes on. */
bool fl__message_enter(struct fl__run *r, const struct fl__mover *mv);

/* Index of subscription id in inst->subs, or SIZE_MAX. */
size_t fl__inst_find_sub(const struct fl_instance *inst, uint64_t id);

/* Open a subscription of token_id for the message/signal event at node (name and key
 * already evaluated; copied): inst->subs and SUB_OPEN. */
void fl__subs_open(struct fl__run *r, uint64_t token_id, uint32_t node, bool interrupting,
                   const char *name, const char *key);

/* Token inst->tokens[ti], resting at an event-based gateway, takes the branch of its
 * event `target` (a subscription or timer of it fired): the gateway's other
 * subscriptions and timers close and the token leaves through target. */
void fl__event_gw_win(struct fl__run *r, size_t ti, uint32_t target);

/* CORRELATE, checked: *si = the subscription in inst->subs, *ti = its token. FL_ENOTFOUND
 * not open, FL_ECONFLICT its activity has an incident, FL_EUNSUPPORTED a kind of
 * subscription the engine cannot deliver yet. */
int fl__correlate_check(const struct fl_model *m, const struct fl_instance *inst,
                        const struct fl_command *cmd, size_t *si, size_t *ti,
                        struct fl_error *err);

/* Deliver a message or signal (payload vars, may be NULL) to subscription si of token ti:
 * message_correlated, the variables set as seen from the token, then the catch event or
 * receive task is left, the event-based gateway takes that branch, or the boundary event
 * interrupts its activity or sends a new token out. */
void fl__correlate(struct fl__run *r, size_t si, size_t ti, const struct fl_value *vars);

/* ---- boundary events on resting activities (engine_boundary.c) ---- */

/* True when a token running in scope `scope` (a SCOPE token id, 0 = process level) is
 * inside scope token s (s == 0: the process holds everything). */
bool fl__scope_within(const struct fl_instance *inst, uint64_t scope, uint64_t s);

/* Cancel the resting activity token inst->tokens[k] and everything inside it, and take
 * it out of inst->tokens: TOKEN_DEL unless keep_id (its id moves on through a boundary
 * event, whose mover is `stored`). */
void fl__activity_cancel(struct fl__run *r, size_t k, const char *reason, bool keep_id);

/* Boundary event b of the activity resting as inst->tokens[k] fires: an interrupting one
 * cancels the activity and its token leaves through b; a non-interrupting one sends a new
 * token out of b and leaves the activity resting. interrupt overrides b->cancel_activity
 * when true (errors always interrupt). Cannot fail. */
void fl__boundary_trigger(struct fl__run *r, size_t k, uint32_t b, bool interrupt);

/* Before a token rests at an activity with boundary events: evaluate what the non-timer
 * boundaries need (message/signal names and keys). -1 after raising an incident at mv. */
int fl__boundary_check(struct fl__run *r, const struct fl__mover *mv);

/* After the token mv rests at its activity: open the message/signal subscriptions of its
 * boundary events; conditional boundaries are evaluated when the run has drained
 * (fl__conditions_recheck). */
void fl__boundary_rest(struct fl__run *r, const struct fl__mover *mv);

/* Evaluate an event's name, code or key: "=expr" through FEEL over vars (a string, or a
 * number or boolean printed as JSON), else the literal text. 0 with *out in the arena
 * (NULL for NULL text), or -1 with why (a phrase to follow the text). */
int fl__eval_text(struct fl__run *r, const char *text, const struct fl_value *vars,
                  const char **out, char *why, size_t why_len);

/* Close (SUB_CLOSE) the subscriptions of the boundary events of token token_id. */
void fl__boundary_subs_close(struct fl__run *r, uint64_t token_id);

/* ---- errors and escalations (engine_error.c) ---- */

/* What is thrown: an error or an escalation with its code and message (arena or model
 * strings), from the node `node` where the token token_id (inside scope) threw it. */
struct fl__throw {
    enum fl_trigger trigger; /* FL_TRIGGER_ERROR or FL_TRIGGER_ESCALATION */
    const char *code, *message;
    uint32_t node;
    uint64_t token_id, scope;
};

/* How a throw ended: nothing caught it; a catcher let the thrower go on (non-interrupting);
 * a catcher cancelled the scope the thrower runs in (the thrower must stop). */
enum fl__caught { FL__UNCAUGHT, FL__CAUGHT_ON, FL__CAUGHT_STOP };

/* Propagate th outwards from the thrower: the boundary events of the resting activity
 * inst->tokens[k] when k != SIZE_MAX (a job's service task, a call activity), then each
 * enclosing scope's event subprocess starts and boundary events, up to the process. The
 * first catcher (a code match before a catch-all on each level) handles it: interrupting
 * ones cancel their activity or scope, set code/message variables and send a token out
 * of the boundary event or start the event subprocess. Nothing when uncaught. */
enum fl__caught fl__throw(struct fl__run *r, const struct fl__throw *th, size_t k);

/* A token enters an event node this file runs (error/escalation/compensate/cancel throw
 * and end events, conditional catch events): true when handled, false when the node is
 * someone else's (the caller goes on with its own switch). */
bool fl__enter_error_event(struct fl__run *r, const struct fl__mover *mv);

/* THROW_ERROR, checked: *k = index of the token holding job cmd->target_id. */
int fl__throw_error_check(const struct fl_model *m, const struct fl_instance *inst,
                          const struct fl_command *cmd, size_t *k, struct fl_error *err);

/* THROW_ERROR: merge the variables, close the job, throw the error at its task. */
void fl__throw_error_apply(struct fl__run *r, const struct fl_command *cmd, size_t k);

/* An error nobody catches, thrown by the token mv at its node (k == SIZE_MAX) or by the
 * resting token inst->tokens[k] (job_id: its closed job): in a called instance FL_FX_ERROR_UP
 * and the instance ends cancelled; else an incident at the thrower. */
void fl__error_uncaught(struct fl__run *r, const struct fl__mover *mv, size_t k, uint64_t job_id,
                        const char *code, const char *message);

/* ---- conditional events (engine_conditional.c) ---- */

/* Evaluate a conditional event's condition for a token (id, scope): 1 true, 0 false (or
 * not computable yet: a missing variable, an error, null). */
int fl__condition_true(struct fl__run *r, const struct fl_node *n, uint64_t token_id,
                       uint64_t scope);

/* A token enters an intermediate conditional catch event: on at once when the condition
 * holds, else it rests there (WAITING) until a variable change makes it hold. */
void fl__enter_conditional_catch(struct fl__run *r, const struct fl__mover *mv);

/* Variables changed: move on the tokens waiting at conditional catch events whose
 * condition now holds, fire conditional boundary events of resting activities and start
 * conditional event subprocesses of running scopes. */
void fl__conditions_recheck(struct fl__run *r);

/* Start event subprocess of start event e in scope token s (0 = process): an interrupting
 * one first cancels everything else in s. vars (or NULL) become the new scope's locals.
 * Returns the new scope token's id. */
uint64_t fl__event_sub_start(struct fl__run *r, uint32_t e, uint64_t s, bool interrupt,
                             const struct fl_value *vars);

/* ---- compensation and cancel (engine_compensate.c) ---- */

/* Token mv leaves its node having completed it: when the node is an activity with a
 * compensation handler, remember it in inst->comps. */
void fl__compensable_done(struct fl__run *r, const struct fl__mover *mv);

/* A token enters a compensate throw or end event: the handlers of the completed
 * activities of its scope (or the one activityRef names) start in reverse order of
 * completion; with waitForCompletion the token waits for them, else goes on. */
void fl__enter_compensate(struct fl__run *r, const struct fl__mover *mv);

/* A token enters a cancel end event: its transaction is cancelled, the handlers of its
 * completed activities run, then the token leaves by the transaction's cancel boundary. */
void fl__enter_cancel_end(struct fl__run *r, const struct fl__mover *mv);

/* After the queue drained: tokens waiting for compensation handlers (compensate events,
 * cancel boundaries) whose handlers have all ended go on. */
void fl__compensation_settle(struct fl__run *r);

/* ---- subprocesses and event subprocesses (engine_sub.c) ---- */

/* A token enters an embedded subprocess or transaction: it rests there in state SCOPE
 * (with its boundary timers), the event subprocesses inside are armed, and a token
 * starts at the subprocess's start event with scope = its id. */
void fl__enter_sub_process(struct fl__run *r, const struct fl__mover *mv);

/* After the queue drained: every SCOPE token of a subprocess or event subprocess with no
 * token left inside leaves its node (locals dropped, triggers disarmed). True when it
 * queued something. */
bool fl__scopes_settle(struct fl__run *r);

/* Kill everything inside scope (a SCOPE token id; 0 = the whole process) but not the
 * scope token itself: every resting and moving token whose scope chain leads there, with
 * their tasks (cancelled), jobs, timers, subscriptions and locals. */
void fl__run_kill_scope(struct fl__run *r, uint64_t scope);

/* What a resting token holds goes with it (not its contents: see fl__run_kill_scope):
 * its task or job (closed with reason), its BPMN timer event timers (catch event,
 * boundaries, event subprocess starts it owns), its subscriptions and its locals. The
 * token itself stays where it is. */
void fl__run_token_release(struct fl__run *r, const struct fl_token *t, const char *reason);

/* Arm the start events of the event subprocesses directly inside scope node scope_node
 * (FL_NONE = the process) for the scope token scope (0 = process level): timer starts get
 * an FL_TIMER_EVENT timer owned by scope, message and signal starts a subscription. */
void fl__scope_arm(struct fl__run *r, uint64_t scope, uint32_t scope_node);

/* Disarm them: delete the scope's event subprocess start timers and close their
 * subscriptions (the scope ended, or an interrupting one started). */
void fl__scope_disarm(struct fl__run *r, uint64_t scope);

/* Is node n the start event (timer, message, signal, error...) of an event subprocess? */
bool fl__is_event_sub_start(const struct fl_model *m, uint32_t n);

/* The node a scope token rests at (FL_NONE for 0, the process, or an unknown token). */
uint32_t fl__scope_node(const struct fl__run *r, uint64_t scope);

/* The start event of an event subprocess directly inside scope (a SCOPE token id, 0 =
 * process level) that catches trigger (FL_TRIGGER_ERROR / ESCALATION) with code: one
 * naming exactly that code first, else one that catches every code (no name). FL_NONE
 * when none does. For the errors helper: walk outwards scope by scope (and boundaries of
 * each scope's activity) to find the catcher. */
uint32_t fl__scope_find_catch(const struct fl__run *r, uint64_t scope, enum fl_trigger trigger,
                              const char *code);

/* Start the event subprocess whose start event is `start` in scope (its enclosing SCOPE
 * token, 0 = process level). Interrupting (start's `interrupting`): first disarms the
 * scope's event subprocess triggers and kills everything else inside the scope.
 * locals (a context, may be NULL: error code/message variables, a message payload meant
 * to stay local) become locals of the new event subprocess scope. A SCOPE token rests at
 * the event subprocess and a token is queued at `start`; returns the scope token's id.
 * The caller reports what triggered it (timer_fired, error_caught, message_correlated). */
uint64_t fl__scope_start_event_sub(struct fl__run *r, uint32_t start, uint64_t scope,
                                   const struct fl_value *locals);

/* A timer of an event subprocess's timer start event fired (fl__timer_fire deleted it):
 * start the event subprocess if its scope still runs; a non-interrupting cycle re-arms. */
void fl__fire_event_sub_timer(struct fl__run *r, const struct fl_timer *t);

/* Open subscription s (copied; ids and instance filled in): inst->subs and SUB_OPEN. */
void fl__run_sub_open(struct fl__run *r, const struct fl_subscription *s);

/* Close inst->subs[i]: SUB_CLOSE and removal. */
void fl__run_sub_close(struct fl__run *r, size_t i);

/* Close every subscription of token token_id (0: those owned by the process level). */
void fl__run_subs_close(struct fl__run *r, uint64_t token_id);

/* The instance ended: close every subscription and drop every local. */
void fl__run_scopes_end(struct fl__run *r);

/* ---- inclusive gateways (engine_inclusive.c) ---- */

/* A token arrives at an inclusive join (an inclusive gateway with several incoming
 * flows): it rests there (JOINING) until fl__inclusive_settle lets the join fire. */
void fl__inclusive_arrive(struct fl__run *r, const struct fl__mover *mv);

/* After the queue drained: fire one inclusive join that no token of its scope can still
 * reach (every token waiting there is consumed, one leaves). True when it queued one. */
bool fl__inclusive_settle(struct fl__run *r);

/* Free the run's reachability cache. */
void fl__inclusive_release(struct fl__run *r);

/* ---- mappings, call activities and loops (engine_calls.c, engine_loop.c) ---- */

/* Take resting token i off its wait state and queue it to leave its node (its boundary
 * timers go with it); the mover keeps the token's scope and loop counter. */
void fl__run_resume(struct fl__run *r, size_t i);

/* Input mappings of mv's node: evaluated over what the token sees, set as the token's own
 * locals. 0, or -1 after raising an incident (the work must then not start). */
int fl__mappings_in(struct fl__run *r, const struct fl__mover *mv);

/* Output mappings of mv's node: evaluated over what the token sees, set in the enclosing
 * scope; its own locals are dropped first when drop (else the caller drops them). 0, or
 * -1 after raising an incident (the locals stay for a retry). */
int fl__mappings_out(struct fl__run *r, const struct fl__mover *mv, bool drop);

/* Completion variables of the activity token_id (in scope) at node: into the token's own
 * locals when the node has output mappings (they are evaluated when it leaves), else
 * propagated as fl__run_set_vars does. */
void fl__run_completion_vars(struct fl__run *r, const struct fl_value *vars, uint64_t token_id,
                             uint64_t scope, uint32_t node);

/* A token enters a call activity: FL_FX_CALL for the called instance and the token rests
 * in FL_TOKEN_SCOPE with call_id; an incident when the key or a mapping fails. */
void fl__enter_call(struct fl__run *r, const struct fl__mover *mv);

/* FL_CMD_CALL_DONE, checked: *out = index of the call activity's token. */
int fl__call_done_check(const struct fl_model *m, const struct fl_instance *inst,
                        const struct fl_command *cmd, size_t *out, struct fl_error *err);

/* FL_CMD_CALL_DONE on the checked token ti: merge the child's variables and leave, or
 * raise the error (an incident until errors are propagated). */
void fl__call_done(struct fl__run *r, const struct fl_command *cmd, size_t ti);

/* FL_CMD_CALL_ESCALATE (checked as CALL_DONE, token index ti): the called instance's
 * uncaught escalation is thrown at the call activity (engine_error.c). */
void fl__call_escalate(struct fl__run *r, const struct fl_command *cmd, size_t ti);

/* True when mv is an inner instance of a multi-instance body resting at the same node. */
bool fl__mi_is_inner(const struct fl__run *r, const struct fl__mover *mv);

/* Before the work of mv's node starts: a multi-instance activity entered from outside
 * becomes a body with its inner instances, a standard loop whose test-before condition is
 * false is skipped. True when the entry was handled here (nothing more to do); else mv
 * may have been updated (a standard loop's first iteration: loop = 1). */
bool fl__loop_enter(struct fl__run *r, struct fl__mover *mv);

/* When mv leaves an activity: output mappings and the token's locals, then an inner
 * instance reports to its body, a standard loop goes round again. True when handled
 * here (the token does not take the outgoing flows). */
bool fl__activity_leave(struct fl__run *r, const struct fl__mover *mv);
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
