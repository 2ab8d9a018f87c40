/* The process model: what the BPMN reader produces and the engine runs. A model is built
 * once at deploy/load time and then immutable, so it may be shared by all threads. Nodes
 * and flows refer to each other by index; every element remembers its source line and
 * column so errors can point at the XML. Strings are owned by the model. */
#ifndef FLOWD_MODEL_H
#define FLOWD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/err.h"
#include "flowd/feel.h"

#define FL_BPMN_MAX_BYTES ((size_t)8 << 20) /* larger documents are refused */
#define FL_NONE UINT32_MAX                  /* "no index" */

/* XML namespace of flowd's BPMN extension elements (stage settings, jobs); see
 * docs/bpmn-extensions.md. */
#define FL_BPMN_NS_FLOWD "https://flowd.dev/schema/bpmn/1.0"

enum fl_node_kind {
    FL_NODE_START_EVENT,   /* none start event */
    FL_NODE_END_EVENT,     /* none end event */
    FL_NODE_TERMINATE_END, /* end event with terminateEventDefinition */
    FL_NODE_TASK,          /* plain task: passes through */
    FL_NODE_USER_TASK,     /* wait state: a task for a person */
    FL_NODE_MANUAL_TASK,   /* passes through (done outside the system) */
    FL_NODE_SERVICE_TASK,  /* wait state: an external job of a type */
    FL_NODE_SCRIPT_TASK,   /* FEEL expression, result into a variable */
    FL_NODE_EXCLUSIVE_GW,
    FL_NODE_PARALLEL_GW,
    FL_NODE_TIMER_START,    /* start event with a timerEventDefinition */
    FL_NODE_TIMER_CATCH,    /* intermediate catch event with a timerEventDefinition */
    FL_NODE_TIMER_BOUNDARY, /* boundary event with a timerEventDefinition (attached_to) */
    /* Issue 5 (full BPMN). Nodes inside a subprocess have scope = the subprocess's index. */
    FL_NODE_SUB_PROCESS,       /* embedded subProcess or transaction (transaction = true) */
    FL_NODE_EVENT_SUB_PROCESS, /* subProcess triggeredByEvent="true": its start event (the
                                  one node of kind FL_NODE_EVENT_START or FL_NODE_TIMER_START
                                  with scope = it) fires while the enclosing scope runs */
    FL_NODE_CALL_ACTIVITY,     /* starts another process (call) and waits for its end */
    FL_NODE_RECEIVE_TASK,      /* waits for message event->name (event set, trigger MESSAGE) */
    FL_NODE_SEND_TASK,         /* with job_type: a job like a service task; else puts message
                                  event->name into the outbox and passes on */
    FL_NODE_BUSINESS_RULE_TASK, /* with job_type: a job; else evaluates decision_ref through
                                   the engine's decision hook into result_variable */
    FL_NODE_INCLUSIVE_GW,
    FL_NODE_EVENT_GW,          /* event-based gateway: waits for the first of the catch events
                                  (or receive tasks) its flows lead to */
    FL_NODE_CATCH_EVENT,       /* intermediate catch: MESSAGE, SIGNAL, LINK, CONDITIONAL */
    FL_NODE_THROW_EVENT,       /* intermediate throw: NONE, MESSAGE, SIGNAL, ESCALATION, LINK,
                                  COMPENSATE */
    FL_NODE_BOUNDARY_EVENT,    /* non-timer boundary: MESSAGE, SIGNAL, ERROR, ESCALATION,
                                  CONDITIONAL, COMPENSATE, CANCEL (attached_to) */
    FL_NODE_EVENT_START,       /* start event with MESSAGE, SIGNAL, ERROR, ESCALATION,
                                  CONDITIONAL, COMPENSATE (process level: MESSAGE, SIGNAL,
                                  CONDITIONAL; the others only in an event subprocess) */
    FL_NODE_EVENT_END,         /* end event with MESSAGE, SIGNAL, ERROR, ESCALATION, CANCEL,
                                  COMPENSATE */
    FL__NODE_KIND_COUNT
};

/* What triggers (catch) or is thrown by (throw) an event, or what a receive/send task
 * waits for or sends. */
enum fl_trigger {
    FL_TRIGGER_NONE,
    FL_TRIGGER_MESSAGE,
    FL_TRIGGER_SIGNAL,
    FL_TRIGGER_ERROR,
    FL_TRIGGER_ESCALATION,
    FL_TRIGGER_CONDITIONAL,
    FL_TRIGGER_LINK,
    FL_TRIGGER_COMPENSATE,
    FL_TRIGGER_CANCEL
};

/* A non-timer event definition (timer events keep struct fl_timer_def). */
struct fl_event_def {
    enum fl_trigger trigger;
    /* MESSAGE/SIGNAL: the name (messageRef's name; "=expr" FEEL allowed, evaluated when the
     * subscription opens or the message is sent); ERROR/ESCALATION: the code (errorCode,
     * escalationCode; NULL on a catch = catch every one); LINK: the link name;
     * COMPENSATE: NULL. */
    char *name;
    /* MESSAGE catch: correlation key (zeebe:subscription correlationKey, "=expr" or a literal;
     * NULL = the message is matched by name only). MESSAGE throw: the key sent with it. */
    char *correlation_key;
    struct fl_feel_expr *condition; /* CONDITIONAL: the condition (FEEL); else NULL */
    /* ERROR catch: variables to store the caught error's code and message in (camunda:
     * errorCodeVariable / errorMessageVariable), or NULL. ERROR throw: the message. */
    char *code_variable, *message_variable;
    char *message; /* ERROR/ESCALATION throw: the error's name or message text, or NULL */
    /* COMPENSATE throw: the activity to compensate (activityRef) or FL_NONE = every
     * completed activity of the scope; wait_for_completion as in BPMN (default true). */
    uint32_t activity_ref;
    bool wait_for_completion;
    uint32_t link_target; /* LINK throw: the catch link event of the same name in the same
                             scope (resolved by the reader), else FL_NONE */
};

/* A variable mapping: `target` gets the value of `source` (FEEL). Plain Camunda 7 values
 * are compiled as FEEL literals, `${var}` JUEL as the equivalent FEEL. */
struct fl_mapping {
    char *target; /* variable name (zeebe targets may be dotted paths: "a.b") */
    struct fl_feel_expr *source;
};

/* A custom header of a job's task (zeebe:taskHeaders / zeebe:header key="..." value="..."),
 * handed to the worker with the job as given. */
struct fl_job_header {
    char *key, *value;
};

/* Multi-instance or standard loop characteristics of an activity. */
struct fl_loop_def {
    bool multi;      /* multiInstanceLoopCharacteristics; false = standardLoopCharacteristics */
    bool sequential; /* multi: isSequential */
    struct fl_feel_expr *collection;  /* multi: input collection (zeebe inputCollection,
                                         camunda:collection), or NULL */
    struct fl_feel_expr *cardinality; /* multi: loopCardinality, or NULL */
    char *element_variable;           /* multi: inputElement / camunda:elementVariable, or NULL */
    char *output_collection;          /* multi: zeebe outputCollection, or NULL */
    struct fl_feel_expr *output_element; /* multi: zeebe outputElement, or NULL */
    struct fl_feel_expr *completion;  /* multi: completionCondition, or NULL */
    struct fl_feel_expr *loop_condition; /* standard: loopCondition (NULL = loop until
                                            loop_maximum) */
    bool test_before;                    /* standard: testBefore */
    uint32_t loop_maximum;               /* standard: loopMaximum, 0 = none */
};

/* What a call activity starts. */
struct fl_call_def {
    char *process_key;  /* calledElement / zeebe:calledElement processId; "=expr" allowed */
    int32_t version;    /* 0 = latest (camunda:calledElementBinding="version" gives one) */
    char *business_key; /* camunda:in businessKey="..." ("=expr" or literal), or NULL */
    /* Variables in and out: all of them (zeebe propagateAllChildVariables and
     * propagateAllParentVariables, default true; camunda:in/out variables="all"), plus the
     * mappings (zeebe:ioMapping on the call activity, camunda:in/out source/target). */
    bool all_in, all_out;
    struct fl_mapping *ins, *outs;
    size_t n_ins, n_outs;
};

/* A list of strings (roles, users). */
struct fl_strlist {
    char **items;
    size_t n;
};

/* Free l's items and leave it empty (reusable). Not thread-safe on the same list. */
void fl_strlist_release(struct fl_strlist *l);

/* One escalation level of a stage: `after` the deadline (on the stage's calendar), tell
 * `to`: role names, or "accountable" (the stage's RACI A) or "head" (the head of the
 * assignee's department). Levels are in increasing order of `after`. */
struct fl_escalation_level {
    char *after; /* ISO 8601 duration, e.g. "P1D" */
    struct fl_strlist to;
};

/* A timer event's definition as written: timeDate, timeDuration or timeCycle, each ISO
 * 8601 text or "=expr" (FEEL giving a date and time, a duration or a cycle string). */
enum fl_timer_def_kind { FL_TIMERDEF_DATE, FL_TIMERDEF_DURATION, FL_TIMERDEF_CYCLE };
struct fl_timer_def {
    enum fl_timer_def_kind kind;
    char *text;
};

/* A control point's definition (flowd:controlPoint, see docs/bpmn-extensions.md): a dated
 * obligation on the case, set when the process starts (on the process or its none start
 * event) or each time a user task completes (on the task: after the completion's variables
 * merge, so a duration due is the "next contact" form -- an interval after each
 * completion). Reminders and escalations fire like a task's deadline. */
struct fl_control_def {
    char *name;          /* [A-Za-z_][A-Za-z0-9_.-]*, at most 64 bytes */
    char *due;           /* "=expr" (FEEL: date and time, date, duration, ISO text, or null =
                            clear), an ISO date or date-time, or an ISO duration from the
                            moment it is set */
    char *remind_before; /* ISO 8601 duration, or NULL */
    char *calendar;      /* business calendar for a duration due (NULL: calendar time) */
    /* At the due time the instance's owner is told, and these: role names, "accountable"
     * (the stage's RACI A; tasks only) or "head" (the head of the owner's department). */
    struct fl_strlist escalate_to;
    struct fl_escalation_level *escalations; /* later levels, increasing `after` */
    size_t n_escalations;
    int line, column;
};

/* Stage settings of a user task: flowd's extension elements, with Camunda 7/8 attributes
 * mapped onto the same fields. NULL/empty when not given. */
struct fl_stage {
    char *duration;      /* ISO 8601 duration text ("P3D") for the due time */
    char *remind_before; /* ISO 8601 duration before the due time */
    char *calendar;      /* business calendar name: duration and reminder in working time */
    struct fl_strlist responsible; /* R: one or more roles */
    char *accountable;             /* A: exactly one role */
    struct fl_strlist consulted;   /* C */
    struct fl_strlist informed;    /* I */
    char *expected_result, *result_format, *channel, *notes;
    char *main_action_kind; /* "document", "email", "call", "field", ... */
    char *main_action_ref;  /* template name or field name the action refers to */
    bool main_action_required;
    char *assignee;              /* user id, or "=expr" (FEEL) */
    struct fl_strlist candidate_groups; /* roles */
    struct fl_strlist candidate_users;
    char *due_date;       /* date-time text or "=expr" (camunda:dueDate, zeebe:taskSchedule) */
    char *follow_up_date; /* likewise */
    /* Levels after the deadline (the deadline itself, level 0, always tells the
     * accountable role and the head of the assignee's department). */
    struct fl_escalation_level *escalations;
    size_t n_escalations;
};

struct fl_node {
    enum fl_node_kind kind;
    char *id;
    char *name;          /* may be NULL */
    char *documentation; /* may be NULL */
    char *lane;          /* name (or id if unnamed) of the lane holding the node, or NULL */
    uint32_t *incoming, *outgoing; /* flow indices */
    uint32_t n_incoming, n_outgoing;
    uint32_t default_flow; /* exclusive gateway / task default flow, or FL_NONE */
    struct fl_stage *stage; /* user tasks (never NULL for them), else NULL */
    char *job_type;         /* service task job type (zeebe:taskDefinition type, ...) */
    int job_retries;        /* service task retries (default 3) */
    struct fl_feel_expr *script; /* script task expression */
    char *result_variable;       /* script task result variable */
    struct fl_timer_def *timer;  /* timer start/catch/boundary events, else NULL */
    uint32_t attached_to;        /* boundary event: the task's node index, else FL_NONE */
    bool cancel_activity;        /* boundary event: interrupting (the default) */
    uint32_t *boundaries;        /* task: indices of the boundary events attached to it */
    uint32_t n_boundaries;
    /* Control points set when this user task completes, or (none start event) at start. */
    struct fl_control_def *controls;
    size_t n_controls;
    /* ---- issue 5 ---- */
    uint32_t scope;              /* enclosing (event) subprocess node, or FL_NONE (process) */
    struct fl_event_def *event;  /* the non-timer event definition of event nodes, receive
                                    and send tasks; NULL otherwise */
    /* SUB_PROCESS / EVENT_SUB_PROCESS: the nodes directly inside (children, in document
     * order), its none start event (FL_NONE if none), and the start events of the event
     * subprocesses directly inside it. The process level has the same in struct fl_model. */
    uint32_t *children;
    uint32_t n_children;
    uint32_t sub_start;
    uint32_t *event_starts;
    uint32_t n_event_starts;
    bool transaction;            /* SUB_PROCESS read from bpmn:transaction */
    bool interrupting;           /* EVENT_START / TIMER_START in an event subprocess:
                                    isInterrupting (default true) */
    struct fl_call_def *call;    /* CALL_ACTIVITY, else NULL */
    struct fl_loop_def *loop;    /* activities with loop characteristics, else NULL */
    /* Input mappings (evaluated when the activity is entered, into its local scope) and
     * output mappings (evaluated when it completes, into the enclosing scope). */
    struct fl_mapping *inputs, *outputs;
    size_t n_inputs, n_outputs;
    char *decision_ref;          /* BUSINESS_RULE_TASK: decision id (zeebe:calledDecision
                                    decisionId, camunda:decisionRef); "=expr" allowed */
    char *decision_map;          /* BUSINESS_RULE_TASK: camunda:mapDecisionResult
                                    ("singleEntry"...), NULL: DMN's own result shape */
    bool for_compensation;       /* isForCompensation: runs only as a compensation handler */
    uint32_t compensation;       /* activity: its compensation handler (through the compensate
                                    boundary event's association), or FL_NONE */
    bool async_before;           /* camunda:asyncBefore / zeebe jobs: informational */
    struct fl_job_header *job_headers; /* job's custom headers in document order, owned */
    size_t n_job_headers;
    int line, column;
};

struct fl_flow {
    char *id;
    char *name;
    uint32_t source, target;        /* node indices */
    struct fl_feel_expr *condition; /* NULL when unconditioned */
    int line, column;
};

/* A non-fatal finding about a model that loads (for lint output). */
struct fl_model_warning {
    char *element;
    char *message;
    int line, column;
};

struct fl_model {
    char *key;  /* the process id: definitions are deployed and started by it */
    char *name; /* may be NULL */
    char *documentation;
    struct fl_node *nodes;
    size_t n_nodes;
    struct fl_flow *flows;
    size_t n_flows;
    uint32_t start; /* index of the none start event, or FL_NONE when there is none */
    uint32_t *timer_starts; /* indices of timer start events */
    size_t n_timer_starts;
    struct fl_control_def *controls; /* set at start (flowd:controlPoint on the process) */
    size_t n_controls;
    /* Issue 5: the nodes at process level (scope FL_NONE) in document order, the event
     * subprocesses' start events at process level, and the message/signal/conditional
     * start events of the process itself (FL_NODE_EVENT_START with scope FL_NONE). */
    uint32_t *top;
    size_t n_top;
    uint32_t *event_starts;
    size_t n_event_starts;
    uint32_t *message_starts;
    size_t n_message_starts;
    struct fl_model_warning *warnings;
    size_t n_warnings;
};

/* A BPMN document: its executable processes. */
struct fl_bpmn_doc {
    struct fl_model **processes;
    size_t n_processes;
};

/* Read BPMN 2.0 XML (as bpmn.io and Camunda Modeler 7/8 write it) and build the model of
 * each executable process. On failure returns FL_EMODEL / FL_EPARSE / FL_EUNSUPPORTED /
 * FL_ETOOBIG with err naming the element id, line, column and the reason; never crashes
 * on any input. Caller frees *out with fl_bpmn_doc_free. */
int fl_bpmn_read(const char *xml, size_t len, struct fl_bpmn_doc **out, struct fl_error *err);

/* How many processes of a BPMN document are marked isExecutable="true" (whether or not
 * they would load), or -1 when the text is not well-formed BPMN-sized XML. For the
 * conformance harness. */
int fl_bpmn_count_executable(const char *xml, size_t len);

/* Initialise the XML library once per process, before threads parse (libxml2 2.9 is not
 * safe on a first parse racing another). Idempotent; the service calls it at open. */
void fl_bpmn_global_init(void);

/* Free a document and all its models. NULL-safe. */
void fl_bpmn_doc_free(struct fl_bpmn_doc *doc);

/* Take model i out of doc (the caller then owns it and frees it with fl_model_free). */
struct fl_model *fl_bpmn_doc_take(struct fl_bpmn_doc *doc, size_t i);

/* Free a model. NULL-safe. */
void fl_model_free(struct fl_model *m);

/* Index of the node with this id, or FL_NONE. */
uint32_t fl_model_find_node(const struct fl_model *m, const char *id);

/* The first definition of control point `name`: the process's, then the nodes' in order;
 * NULL when the model defines none. *node (may be NULL) gets the index of the node it is
 * on, FL_NONE for the process's. */
const struct fl_control_def *fl_model_find_control(const struct fl_model *m, const char *name,
                                                   uint32_t *node);

/* Free the contents of n control definitions and the array itself. NULL-safe. */
void fl_control_defs_free(struct fl_control_def *defs, size_t n);

/* Name of a trigger as in BPMN ("message", "signal", "error"...). */
const char *fl_trigger_name(enum fl_trigger t);

/* Free a mapping array of n entries. NULL-safe. */
void fl_mappings_free(struct fl_mapping *maps, size_t n);

/* True when node i is inside (directly or deeper) the scope node `scope` (FL_NONE = the
 * process, which holds every node). */
bool fl_model_in_scope(const struct fl_model *m, uint32_t i, uint32_t scope);

/* Name of a node kind as in BPMN ("userTask"). */
const char *fl_node_kind_name(enum fl_node_kind k);

#endif
