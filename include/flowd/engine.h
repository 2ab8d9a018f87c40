/* The execution engine: a pure function (instance state, command, now) -> (new state,
 * effects). It reads no clock, does no I/O and keeps no globals; identifiers come from an
 * allocator the caller supplies, so a step is deterministic and testable without a store.
 * The service layer runs it inside a store transaction and writes the effects. */
#ifndef FLOWD_ENGINE_H
#define FLOWD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/err.h"
#include "flowd/model.h"
#include "flowd/value.h"

#define FL_ENGINE_DEFAULT_MAX_STEPS 10000 /* loop guard: steps per command */

enum fl_instance_status { FL_INSTANCE_ACTIVE, FL_INSTANCE_COMPLETED, FL_INSTANCE_CANCELLED };

enum fl_token_state {
    FL_TOKEN_WAITING,  /* at a wait state (user task: task_id; service task: job_id) */
    FL_TOKEN_JOINING,  /* arrived at a parallel join by flow `flow`, waiting for others */
    FL_TOKEN_INCIDENT, /* stuck: an incident was raised here */
    FL_TOKEN_SCOPE     /* at a subprocess, event subprocess, multi-instance body or call
                          activity: waits for the tokens running inside it (scope = its id)
                          or for the called instance (call_id) */
};

struct fl_token {
    uint64_t id;
    uint32_t node;   /* node index in the model */
    uint32_t flow;   /* JOINING: index in model->flows of the flow it arrived by; else FL_NONE */
    uint8_t state;   /* enum fl_token_state */
    bool main_action_done; /* user task: the stage's main action was recorded */
    uint64_t task_id; /* open task, or 0 */
    uint64_t job_id;  /* open job, or 0 */
    /* ---- issue 5 ---- */
    uint64_t scope;   /* id of the SCOPE token it runs inside; 0 = process level */
    uint64_t call_id; /* call activity: the called instance, or 0 */
    uint32_t loop;    /* multi-instance inner token: its loopCounter (1-based); MI body:
                         inner instances started so far; standard loop: iterations done */
    bool mi_body;     /* a multi-instance body at `node` (its inner instances have
                         scope = this token's id and rest at the same node) */
    /* INCIDENT: the open incident's id, and whether the token was leaving its node when
     * it was raised (a failing condition or output mapping: FL_CMD_RESOLVE leaves again)
     * or entering it (a job out of retries, a failing task expression: it enters again).
     * Kept in the incidents table, restored when the instance is loaded. */
    uint64_t incident_id;
    bool incident_leaving;
};

/* Local variables of a scope (a SCOPE token, or an activity's token with input mappings):
 * a context seen before the instance's variables by tokens inside it. */
struct fl_scope_vars {
    uint64_t scope; /* token id */
    struct fl_value *vars; /* owned reference to a context */
};

/* A waiting message or signal catch: a catch event or receive task a token waits at, an
 * event-based gateway's catch event, a boundary event of a resting activity, or the start
 * event of an event subprocess while its enclosing scope runs. The store indexes them by
 * (trigger, name, correlation key); the service turns a matching message or signal into
 * FL_CMD_CORRELATE. */
struct fl_subscription {
    uint64_t id, instance_id;
    uint64_t token_id; /* the waiting token, the activity's token (boundary), or the scope
                          token (event subprocess start; 0 at process level) */
    uint32_t node;     /* the node the message or signal triggers */
    uint8_t trigger;   /* FL_TRIGGER_MESSAGE or FL_TRIGGER_SIGNAL */
    bool interrupting; /* boundary / event subprocess start: cancels what it is on */
    char *name;            /* evaluated name; owned by the instance (arena in effects) */
    char *correlation_key; /* evaluated key, or NULL = match by name only; owned likewise */
};

/* A completed activity that has a compensation handler (its compensate boundary event's
 * association): a compensate throw in its scope starts the handler. */
struct fl_compensable {
    uint64_t seq;      /* order of completion within the instance, from 1; the store's key */
    uint64_t token_id; /* the token that completed it */
    uint32_t node;     /* the activity */
    uint64_t scope;    /* the scope token it ran in (0 = process level) */
};

struct fl_instance {
    uint64_t id;
    uint64_t definition_id;
    char *business_key; /* may be NULL; owned */
    enum fl_instance_status status;
    bool incident;               /* at least one open incident */
    struct fl_value *variables;  /* a context; owned reference; never NULL */
    struct fl_token *tokens;     /* owned */
    size_t n_tokens, cap_tokens;
    int64_t started_at, ended_at; /* ms since epoch; ended_at 0 while active */
    uint64_t revision;            /* +1 for every command applied */
    char *started_by;             /* actor of the START command, or NULL; owned */
    struct fl_timer *timers;      /* pending timers, owned; TIMER_SET/DEL mirror changes */
    size_t n_timers, cap_timers;
    struct fl_control *controls;  /* open control points, owned (names owned too) */
    size_t n_controls, cap_controls;
    /* ---- issue 5 ---- */
    struct fl_scope_vars *locals; /* local variables by scope, owned */
    size_t n_locals, cap_locals;
    struct fl_subscription *subs; /* open message/signal subscriptions, owned */
    size_t n_subs, cap_subs;
    uint64_t parent_instance_id; /* started by a call activity: the caller, else 0 */
    uint64_t parent_token_id;    /* the call activity's token in the caller, else 0 */
    /* Completed activities with a compensation handler, in order of completion (seq
     * ascending); owned. COMP_PUT/COMP_DEL mirror every change. */
    struct fl_compensable *comps;
    size_t n_comps, cap_comps;
};

enum fl_command_kind {
    FL_CMD_START,
    FL_CMD_COMPLETE_TASK,
    FL_CMD_RECORD_ACTION, /* record the main action of a task */
    FL_CMD_COMPLETE_JOB,
    FL_CMD_FAIL_JOB,
    FL_CMD_CANCEL,
    FL_CMD_FIRE_TIMER, /* target_id = timer id (one of inst->timers): the scheduler fires it */
    FL_CMD_SET_CONTROL, /* set, move or clear a control point (see control fields) */
    /* ---- issue 5 ---- */
    FL_CMD_CORRELATE,   /* target_id = subscription id (one of inst->subs): its message or
                           signal arrived; variables = the payload */
    FL_CMD_THROW_ERROR, /* target_id = job id: the worker throws BPMN error error_code
                           (error_message; variables merged first) */
    FL_CMD_CALL_DONE,   /* target_id = a call activity's token: its called instance ended;
                           variables = the child's variables (completed), or error_code set:
                           an uncaught BPMN error in it, thrown at the call activity;
                           new_instance_id (0 = any) must be the token's call_id. Codes of
                           the service: "flowd:process-not-found" (error_message says what
                           could not be started) and "flowd:cancelled" (the called instance
                           was cancelled) raise an incident at the call activity */
    FL_CMD_RESOLVE,     /* target_id = a token in state INCIDENT: retry its node (a job is
                           created again with `retries` retries, an expression re-evaluated);
                           variables merged first */
    FL_CMD_MODIFY,      /* admin: cancel token target_id (0 = none), then start a token
                           before element start_node_id (NULL = none); actor recorded */
    FL_CMD_CALL_ESCALATE, /* target_id = a call activity's token: its called instance
                             new_instance_id (0 = not checked) threw escalation error_code
                             (error_message) that nothing in it caught; thrown here at the
                             call activity (its boundary events first, then outwards); not
                             caught here either, it goes up again (FL_FX_ESCALATE_UP) */
    /* Service-level commands (the engine refuses them): the writer runs them across
     * instances, in one transaction with everything they set off. */
    FL_CMD_PUBLISH_MESSAGE, /* message message_name (correlation_key, variables, message_id,
                               ttl_ms): correlate to the oldest matching subscription, else
                               start the latest process with that message start event, else
                               buffer it for ttl_ms (0: refused, FL_ENOTFOUND) */
    FL_CMD_BROADCAST_SIGNAL /* signal message_name with variables to every signal
                               subscription and signal start event */
};

/* A command. Pointers are borrowed for the duration of the call, except that the engine
 * takes references to the values in `variables` (kept in the instance and in the effects):
 * values are not thread-safe, so they must belong to the thread running the engine. */
struct fl_command {
    enum fl_command_kind kind;
    uint64_t instance_id;  /* all but START */
    uint64_t target_id;    /* task id or job id */
    const struct fl_value *variables; /* a context to merge, or NULL */
    const char *actor;     /* who: user id, worker name; may be NULL */
    /* START */
    const char *process_key;   /* used by the service to find the model */
    int32_t process_version;   /* 0 = latest */
    const char *business_key;
    /* RECORD_ACTION */
    const char *action_kind, *action_ref;
    /* FAIL_JOB */
    const char *error_message;
    int retries; /* retries left after this failure; 0 raises an incident */
    /* CANCEL */
    const char *reason;
    /* START: start at this start event id (a timer start event); NULL = the none start */
    const char *start_node_id;
    /* SET_CONTROL: control point `control_name` due at control_due_ms (0 = clear it),
     * reminded control_remind_ms before (0 = no reminder; negative = as the model's
     * definition of that name says, none when it has none) */
    const char *control_name;
    int64_t control_due_ms, control_remind_ms;
    /* ---- issue 5 ---- */
    const char *error_code; /* THROW_ERROR, CALL_DONE (failed) */
    /* START of a called instance (the service, for an FL_FX_CALL effect): its id as the
     * caller allocated it (0 = allocate one), and the caller; CALL_DONE: the called
     * instance that ended (0 = not checked) */
    uint64_t new_instance_id;
    uint64_t parent_instance_id, parent_token_id;
    /* PUBLISH_MESSAGE / BROADCAST_SIGNAL: the name; the message's key (NULL = none), the
     * client's message id for dedupe (NULL = none) and time to live (ms; negative = the
     * service's default, 0 = do not buffer) */
    const char *message_name, *correlation_key, *message_id;
    int64_t ttl_ms;
    /* FAIL_JOB with retries left: the job is not activatable again before now + this
     * (0 = at once) */
    int64_t retry_backoff_ms;
    /* MODIFY with more instructions than one (besides target_id and start_node_id): tokens
     * to cancel and elements to start a token before. All are checked first; then the
     * variables merge, the starts are queued, the cancels happen, and the started tokens
     * run -- so a modification that moves the only token elsewhere keeps the instance. */
    const uint64_t *cancel_tokens;
    size_t n_cancel_tokens;
    const char *const *start_before;
    size_t n_start_before;
};

enum fl_id_kind {
    FL_ID_INSTANCE,
    FL_ID_TOKEN,
    FL_ID_TASK,
    FL_ID_JOB,
    FL_ID_INCIDENT,
    FL_ID_TIMER,
    FL_ID_CONTROL, /* control points */
    FL_ID_SUBSCRIPTION,
    FL_ID_MESSAGE, /* outbox messages */
    FL__ID_COUNT
};

struct fl_iso_duration; /* flowd/timecalc.h */

/* Adds d to t on the business calendar named cal (NULL or "" = the organisation's default
 * calendar); *out is the instant. A negative d (d->negative) subtracts, in working time
 * too (reminders: due minus remind-before). FL_ENOTFOUND unknown calendar, FL_EINVAL a
 * duration the calendar cannot place. Supplied by the service, which owns the calendars.
 * The engine uses it for a stage that names a calendar (flowd:stage calendar="..."); a
 * stage without one keeps plain calendar time. */
typedef int (*fl_calendar_add_fn)(void *arg, const char *cal, int64_t t_ms,
                                  const struct fl_iso_duration *d, int64_t *out,
                                  struct fl_error *err);

/* What a step may know of the world. */
struct fl_engine_ctx {
    int64_t now_ms;
    int32_t tz_offset_min;
    uint32_t max_steps; /* 0 = FL_ENGINE_DEFAULT_MAX_STEPS */
    uint64_t (*next_id)(void *arg, enum fl_id_kind kind); /* fresh id, never 0 */
    void *id_arg;
    /* Working-time arithmetic for stage durations, reminders and escalation levels; NULL =
     * plain calendar time (fl_iso_duration_add) everywhere. */
    fl_calendar_add_fn calendar_add;
    void *calendar_arg;
    /* Evaluate decision `decision_id` (a deployed DMN decision) over vars for a business
     * rule task: *result a new reference (single output: its value; several outputs: a
     * context; several rules matched under COLLECT/RULE ORDER: a list). result_map is the
     * task's camunda:mapDecisionResult ("singleEntry", "singleResult", "collectEntries",
     * "resultList"; NULL = the shape above). FL_ENOTFOUND no such decision; other errors say
     * why. NULL = no decisions (business rule tasks without a job type raise an incident).
     * Supplied by the service. */
    int (*decide)(void *arg, const char *decision_id, const char *result_map,
                  const struct fl_value *vars, int64_t now_ms, struct fl_value **result,
                  struct fl_error *err);
    void *decide_arg;
};

enum fl_event_type {
    FL_EV_INSTANCE_STARTED,
    FL_EV_INSTANCE_COMPLETED,
    FL_EV_INSTANCE_CANCELLED,
    FL_EV_NODE_ENTERED,
    FL_EV_NODE_LEFT,
    FL_EV_TASK_CREATED,
    FL_EV_TASK_COMPLETED,
    FL_EV_TASK_CANCELLED,
    FL_EV_MAIN_ACTION_RECORDED,
    FL_EV_JOB_CREATED,
    FL_EV_JOB_COMPLETED,
    FL_EV_JOB_FAILED,
    FL_EV_VARIABLES_CHANGED,
    FL_EV_INCIDENT_RAISED,
    FL_EV_TIMER_FIRED,      /* a BPMN timer event fired */
    FL_EV_TASK_REMINDED,    /* a task's reminder went out */
    FL_EV_ESCALATED,        /* a task or control point is overdue: level n was told */
    FL_EV_CONTROL_SET,      /* a control point was set, moved or cleared */
    FL_EV_CONTROL_REMINDED, /* a control point's reminder went out */
    /* ---- issue 5 ---- */
    FL_EV_MESSAGE_CORRELATED, /* a message or signal reached a subscription */
    FL_EV_MESSAGE_SENT,       /* a send task / message throw put a message in the outbox */
    FL_EV_SIGNAL_THROWN,      /* a signal was broadcast */
    FL_EV_ERROR_THROWN,       /* a BPMN error was thrown (end event, job worker, child) */
    FL_EV_ESCALATION_THROWN,  /* an escalation was thrown */
    FL_EV_ERROR_CAUGHT,       /* a boundary event or event subprocess caught an error or
                                 escalation */
    FL_EV_CALL_STARTED,       /* a call activity started its instance */
    FL_EV_DECISION_EVALUATED, /* a business rule task evaluated its decision */
    FL_EV_COMPENSATED,        /* a compensation handler was started for an activity */
    FL_EV_INCIDENT_RESOLVED,  /* an incident was resolved and its node retried */
    FL_EV_INSTANCE_MIGRATED,  /* moved to another version */
    FL_EV_INSTANCE_MODIFIED,  /* an admin cancelled a token or started one before a node */
    FL__EV_COUNT
};

/* Stable snake_case name of an event type ("task_created"). */
const char *fl_event_type_name(enum fl_event_type t);

/* A history event. detail is a compact JSON object text or NULL:
 *   instance_started   {"process":"key"[,"business_key":"..."]}
 *   instance_completed NULL, or {"terminated":true} after a terminate end event
 *   instance_cancelled {"reason":"..."}
 *   node_entered       {"flow":"flow id"} (NULL for the start event); node_left NULL
 *   variables_changed  {"variables":{"name":value,...}} (only the changed ones)
 *   main_action_recorded {"kind":"document"[,"ref":"..."]}
 *   job_created        {"type":"..."};  job_failed {"error":"...","retries":n}
 *   incident_raised    {"error":"message"}
 *   timer_fired        {"timer":id[,"left":n]} (left: firings of a bounded cycle still to come)
 *   task_reminded      {"due":"ISO time"}
 *   escalated          {"level":n,"to":["role or user",...]} (level 0: the deadline itself)
 *   control_set        {"name":"...","due":"ISO time"|null[,"remind":"ISO time"]}
 *   control_reminded   {"name":"...","due":"ISO time"}
 *   message_correlated {"trigger":"message"|"signal","name":"..."[,"correlation_key":"..."]}
 *   message_sent       {"name":"..."[,"correlation_key":"..."],"message":id}
 *   signal_thrown      {"name":"..."}
 *   error_thrown       {"code":"..."[,"message":"..."]}; escalation_thrown {"code":"..."}
 *   error_caught       {"code":"...","by":"catching node id"}
 *   call_started       {"process":"key","instance":id}
 *   decision_evaluated {"decision":"id"}
 *   compensated        {"activity":"node id"}
 *   incident_resolved  {"incident":id}, or {"incident":id,"reason":why} when its token was
 *                      cancelled (ref_id: incident id when known)
 *   instance_migrated  {"from":definition id,"to":definition id}
 *   instance_modified  {"cancelled":token id} or {"started_before":"node id"}
 * ref_id: task id (task_*, main_action_recorded, task escalations), job id (job_*),
 * incident id, timer id (timer_fired), control point id (control_*, their escalations). */
struct fl_event {
    enum fl_event_type type;
    uint64_t instance_id, token_id, ref_id; /* ref_id: task, job or incident id, or 0 */
    const char *node_id; /* element id, or NULL */
    const char *actor;
    const char *detail;
    int64_t at;
};

enum fl_task_status { FL_TASK_OPEN, FL_TASK_COMPLETED, FL_TASK_CANCELLED };

/* A task for a person, as created by the engine. Candidate roles: the stage's candidate
 * groups, else its responsible roles (RACI R), else the node's lane. due_at: the stage's due
 * date (ISO text or "=expr" giving a date and time, date or ISO string) if set, else now +
 * its duration; remind_at = due_at - remind_before, 0 unless both are known. An expression
 * or duration that fails raises an incident at the node instead of creating the task. */
struct fl_task {
    uint64_t id, instance_id, token_id;
    const char *node_id, *name;
    const char *assignee;            /* may be NULL */
    struct fl_strlist candidate_roles; /* from candidate groups, RACI R, or the lane */
    struct fl_strlist candidate_users;
    int64_t created_at, due_at, remind_at; /* 0 = none */
    const char *main_action_kind;    /* may be NULL */
    bool main_action_required;
};

/* An external job for a worker (service task). */
struct fl_job {
    uint64_t id, instance_id, token_id;
    const char *node_id, *type;
    int retries;
    int64_t created_at;
};

enum fl_timer_kind {
    FL_TIMER_EVENT,          /* BPMN timer event at `node`: an intermediate catch event the
                                token token_id waits at, or a boundary event on the task the
                                token token_id rests at */
    FL_TIMER_TASK_REMIND,    /* reminder of task ref_id */
    FL_TIMER_TASK_DUE,       /* deadline of task ref_id: level 0 = due, n = escalation n */
    FL_TIMER_CONTROL_REMIND, /* reminder of control point ref_id */
    FL_TIMER_CONTROL_DUE,    /* control point ref_id due: level as for tasks */
    FL_TIMER_START           /* timer start event `node` of definition ref_id: starts an
                                instance (instance_id 0: the timer belongs to no instance) */
};

/* A pending timer of an instance. The store keeps them indexed by due time; the scheduler
 * claims a due one by applying FL_CMD_FIRE_TIMER, whose effects delete it (TIMER_DEL) in
 * the same transaction, so it fires exactly once. */
struct fl_timer {
    uint64_t id, instance_id;
    uint64_t token_id;   /* EVENT: the waiting token; task timers: the task's token */
    uint64_t ref_id;     /* task or control point id; 0 for EVENT */
    uint32_t node;       /* the timer event's node, or the task's node; FL_NONE otherwise */
    uint8_t kind;        /* enum fl_timer_kind */
    uint16_t level;      /* *_DUE: 0 = the deadline, n = escalation level n */
    uint32_t repeat;     /* EVENT with a cycle: firings left after this one (UINT32_MAX =
                            unbounded), else 0 */
    int64_t due_at;      /* ms since epoch */
    int64_t base_at;     /* *_DUE: the deadline itself, which escalation levels count from
                            (on the stage's calendar); 0 otherwise */
};

/* A notification for people (the in-app inbox), addressed by the engine to a user, to
 * every user of a role, to the head of a user's department, or to the accountable role of
 * a stage; the store resolves the addressees to users when it writes the effect. */
struct fl_notify {
    const char *kind;        /* "reminder", "overdue", "escalation", "control_point" */
    const char *to_user;     /* a user id, or NULL */
    const char *to_role;     /* every user holding this role, or NULL */
    const char *to_head_of;  /* the head of this user's department, or NULL */
    /* Addressees only the store knows at write time (a task is claimed and reassigned
     * outside the engine), resolved from task task_id's row: */
    bool to_assignee;      /* its assignee; unassigned: its candidate users and the
                              active users of its candidate roles */
    bool to_assignee_head; /* the head of its assignee's department (as to_head_of);
                              unassigned: nobody (the accountable role is told anyway) */
    uint64_t instance_id, task_id, control_id; /* what it is about; 0 when not */
    const char *node_id;
    const char *message;     /* one line for people */
    int64_t at;
};

/* A dated obligation on a case (offer expiry, invoice due date, next contact...). */
struct fl_control {
    uint64_t id, instance_id;
    char *name; /* owned by the instance, or by the effects' arena in an effect */
    int64_t due_at, remind_at; /* remind_at 0 = none */
    int64_t set_at;  /* when it was set or last moved */
    int64_t done_at; /* CONTROL_DEL: when it was met or cleared; 0 while open */
};

enum fl_effect_kind {
    FL_FX_EVENT,       /* append a history event */
    FL_FX_TOKEN_PUT,   /* insert or replace token (by id) */
    FL_FX_TOKEN_DEL,   /* delete token id */
    FL_FX_VAR_SET,     /* set variable name to value */
    FL_FX_TASK_CREATE, /* insert an open task */
    FL_FX_TASK_CLOSE,  /* close task id with status, by actor */
    FL_FX_TASK_ACTION, /* mark task id's main action done (kind, ref) */
    FL_FX_JOB_CREATE,
    FL_FX_JOB_CLOSE,   /* close job id (completed, or failed for good) */
    FL_FX_JOB_RETRY,   /* job id failed, retries left, error */
    FL_FX_INCIDENT,    /* open an incident */
    FL_FX_TIMER_SET,   /* insert or replace a pending timer (by id) */
    FL_FX_TIMER_DEL,   /* delete timer id: fired or cancelled */
    FL_FX_NOTIFY,      /* store a notification for its addressees */
    FL_FX_CONTROL_SET, /* insert or replace control point (by id) */
    FL_FX_CONTROL_DEL, /* control point id met or cleared */
    /* ---- issue 5 ---- */
    FL_FX_SUB_OPEN,    /* insert subscription u.sub (the service then looks for a buffered
                          message that matches it) */
    FL_FX_SUB_CLOSE,   /* delete subscription u.sub.id */
    FL_FX_LOCALS_DEL,  /* drop every local variable of scope u.locals.scope (it ended) */
    FL_FX_CALL,        /* start instance u.call.child_id of process u.call.process_key
                          (version, 0 = latest) with variables, called from this instance's
                          token u.call.token_id: the service runs it as FL_CMD_START in the
                          same transaction; when the child ends the service applies
                          FL_CMD_CALL_DONE to the caller */
    FL_FX_OUTBOX,      /* store message u.msg to send (delivered after commit: correlated
                          to subscriptions and message starts, or relayed out) */
    FL_FX_SIGNAL,      /* broadcast signal u.msg.name with u.msg.variables to every signal
                          subscription and signal start event (this instance's too): the
                          service applies FL_CMD_CORRELATE / starts in the same transaction */
    FL_FX_ERROR_UP,    /* a BPMN error no scope of this instance catches, in a called
                          instance: the service throws it at the caller (FL_CMD_CALL_DONE
                          with error_code = u.msg.name, message u.msg.correlation_key) */
    FL_FX_MIGRATE,     /* the instance now runs definition u.migrate.definition_id */
    FL_FX_CALL_CANCEL, /* the call activity's token u.call.token_id ended before its called
                          instance u.call.child_id did (cancel, terminate, an interrupting
                          event): the service cancels that instance in the same transaction
                          (u.call.process_key NULL, no variables) */
    FL_FX_INCIDENT_RESOLVE, /* incident u.incident.id (of token u.incident.token_id) resolved
                               at u.incident.at: FL_CMD_RESOLVE retries its node */
    FL_FX_COMP_PUT, /* insert or replace compensation record u.comp (by u.comp.seq) */
    FL_FX_COMP_DEL, /* compensation record u.comp.seq used up (its handler started) */
    FL_FX_ESCALATE_UP /* an escalation no scope of this called instance catches (code
                         u.msg.name, message u.msg.correlation_key, thrown by token
                         u.msg.token_id at u.msg.node_id): the service applies
                         FL_CMD_CALL_ESCALATE to the caller in the same transaction; the
                         thrower here has gone on as after any uncaught escalation */
};

struct fl_effect {
    enum fl_effect_kind kind;
    union {
        struct fl_event event;
        struct fl_token token; /* TOKEN_PUT; TOKEN_DEL uses token.id */
        struct {
            const char *name;
            const struct fl_value *value; /* reference owned by the fl_effects */
            uint64_t scope; /* 0: an instance variable; else a local of that scope token */
        } var;
        struct fl_task task; /* TASK_CREATE */
        struct {
            uint64_t id;
            int status; /* enum fl_task_status */
            const char *actor;
            const char *kind, *ref; /* TASK_ACTION */
            int64_t at;
        } task_close;
        struct fl_job job; /* JOB_CREATE */
        struct {
            uint64_t id;
            int retries;
            const char *error;
            /* JOB_CLOSE: failed for good rather than completed; a job closed by cancel or
             * a terminate end has failed = true and error "cancelled" */
            bool failed;
            int64_t at;
            int64_t next_at; /* JOB_RETRY: activatable again from then (backoff); 0 = now */
        } job_close; /* JOB_CLOSE, JOB_RETRY */
        struct {
            uint64_t id, token_id, job_id;
            const char *node_id, *message;
            int64_t at;
            bool leaving; /* INCIDENT: raised as the token left its node (see fl_token) */
        } incident; /* INCIDENT, INCIDENT_RESOLVE */
        struct fl_timer timer;     /* TIMER_SET; TIMER_DEL uses timer.id */
        struct fl_notify notify;   /* NOTIFY */
        struct fl_control control; /* CONTROL_SET; CONTROL_DEL uses control.id */
        struct fl_subscription sub; /* SUB_OPEN; SUB_CLOSE uses sub.id */
        struct {
            uint64_t scope;
        } locals; /* LOCALS_DEL */
        struct {
            uint64_t child_id, token_id;
            const char *process_key, *business_key;
            int32_t version;
            const struct fl_value *variables; /* context; reference owned by the effects */
        } call; /* CALL */
        struct {
            uint64_t id; /* FL_ID_MESSAGE id (OUTBOX), else 0 */
            uint64_t token_id;
            const char *node_id;
            const char *name, *correlation_key;
            const struct fl_value *variables; /* context or NULL; owned by the effects */
        } msg; /* OUTBOX, SIGNAL, ERROR_UP, ESCALATE_UP */
        struct {
            uint64_t definition_id, from_definition_id;
        } migrate;                 /* MIGRATE */
        struct fl_compensable comp; /* COMP_PUT; COMP_DEL uses comp.seq */
    } u;
};

/* Effects of one step, in the order they happened. Strings and values inside are owned by
 * this struct (an arena) and live until fl_effects_reset or fl_effects_release, except
 * strings taken from the model (node ids and names, job types, stage roles and action
 * kinds), which point into the model: the model must outlive the effects. TOKEN_PUT and
 * TOKEN_DEL mirror every change to inst->tokens made by the command, in order (a token
 * created and consumed within one command without resting has none; one that rests at a
 * join and is consumed in the same command gets a PUT and a DEL). Not thread-safe: one
 * fl_effects per thread. */
struct fl_effects {
    struct fl_effect *items;
    size_t n, cap;
    void *arena; /* internal */
};

/* Make fx empty; allocates nothing. */
void fl_effects_init(struct fl_effects *fx);

/* Drop all effects, keep memory for reuse. */
void fl_effects_reset(struct fl_effects *fx);

/* Free everything. */
void fl_effects_release(struct fl_effects *fx);

/* Start an instance of model m (definition_id is the store's id of it): runs from the none
 * start event to the first wait states. cmd->kind must be FL_CMD_START. On success *out is
 * a new instance with revision 1 (caller frees with fl_instance_free) and fx holds the
 * effects. On error (FL_EINVAL, FL_ETYPE variables not a context, FL_EMODEL no start event)
 * *out is NULL, nothing is produced (fx unchanged, no id taken) and err says why. */
int fl_engine_start(const struct fl_model *m, uint64_t definition_id,
                    const struct fl_command *cmd, const struct fl_engine_ctx *ctx,
                    struct fl_instance **out, struct fl_effects *fx, struct fl_error *err);

/* Apply a command to an instance of model m, mutating *inst and appending effects to fx.
 * Errors (FL_ENOTFOUND unknown task/job -- the engine cannot tell a closed task from an
 * unknown one, the store can; FL_ECONFLICT instance not active; FL_EREFUSED required main
 * action missing or RECORD_ACTION of another kind than the stage's; FL_ETYPE variables not
 * a context; FL_EINVAL START, instance_id of another instance, RECORD_ACTION with no kind
 * where the stage names none) leave *inst and fx exactly as they were. A model problem met
 * while running (no condition true, a failing expression, a loop past max_steps) is not an
 * error of the call: it raises an incident in the instance. inst->revision += 1 on success.
 * Model strings in fx point into m; m must be the model the instance was started from. */
int fl_engine_apply(const struct fl_model *m, struct fl_instance *inst,
                    const struct fl_command *cmd, const struct fl_engine_ctx *ctx,
                    struct fl_effects *fx, struct fl_error *err);

/* When timer start event `node` of m (one of m->timer_starts) is next due, for the
 * scheduler that starts its instances (FL_CMD_START with start_node_id): last NULL gives
 * the first time from now_ms (a timeDate, now plus a timeDuration, a timeCycle's first
 * occurrence at or after now), else the occurrence after the timer `last` that just fired
 * (its due_at and repeat). *repeat gets the firings left after this one (UINT32_MAX
 * unbounded). Texts without a zone are at tz_offset_min; "=expr" is evaluated without
 * variables. Returns 0; FL_ENOTFOUND when nothing is left (a date already fired, a
 * cycle used up); FL_EINVAL not a timer start event, or a definition that cannot be
 * evaluated (err says why). Pure. */
int fl_engine_timer_start_due(const struct fl_model *m, uint32_t node, int64_t now_ms,
                              int32_t tz_offset_min, const struct fl_timer *last, int64_t *due,
                              uint32_t *repeat, struct fl_error *err);

/* One pair of an instance migration: tokens at element `from` (id in the old model) move to
 * element `to` (id in the new one). */
struct fl_migration_pair {
    const char *from, *to;
};

/* Migrate inst (running model from) to model `to`, definition to_def_id: every resting
 * token moves to the node its pair names, or the node of the same id when no pair names
 * it; tasks, jobs, timers and subscriptions stay with their tokens (ids unchanged, node
 * ids updated). Refused as a whole (FL_EINVAL, err naming the first unmapped or
 * incompatible element: another kind, a join, a different scope nesting) when any token
 * cannot map; then inst and fx are unchanged. Emits TOKEN_PUTs, MIGRATE and an
 * instance_migrated event by actor. Pure. */
int fl_engine_migrate(const struct fl_model *from, const struct fl_model *to, uint64_t to_def_id,
                      struct fl_instance *inst, const struct fl_migration_pair *pairs,
                      size_t n_pairs, const struct fl_engine_ctx *ctx, const char *actor,
                      struct fl_effects *fx, struct fl_error *err);

/* NULL when the engine runs node i of m as BPMN says; else a phrase saying what it does
 * not run yet ("multi-instance on a call activity is not supported yet"), for the reader's
 * precise rejection. */
const char *fl_engine_unsupported(const struct fl_model *m, uint32_t i);

/* Deep copy of an instance (variables shared by reference). Caller frees. */
struct fl_instance *fl_instance_clone(const struct fl_instance *inst);

/* Free an instance. NULL-safe. */
void fl_instance_free(struct fl_instance *inst);

#endif
