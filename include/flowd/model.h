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
    FL__NODE_KIND_COUNT
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

/* Name of a node kind as in BPMN ("userTask"). */
const char *fl_node_kind_name(enum fl_node_kind k);

#endif
