/* Internals shared by the BPMN reader's files: the per-document reader state (source
 * buffer with its line table, the libxml2 tree, ids seen), the per-process builder, and
 * the helpers that turn an XML node into an error or warning pointing at its line and
 * column. Nothing here is visible outside src/core/bpmn*.c. */
#ifndef FLOWD_CORE_BPMN_INTERNAL_H
#define FLOWD_CORE_BPMN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/hash.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "flowd/model.h"

#define FL__BPMN_BLOCK 512
#define FL__NS_BPMN "http://www.omg.org/spec/BPMN/20100524/MODEL"
#define FL__NS_CAMUNDA "http://camunda.org/schema/1.0/bpmn"
#define FL__NS_ZEEBE "http://camunda.org/schema/zeebe/1.0"
#define FL__NS_ACTIVITI "http://activiti.org/bpmn" /* read as Camunda 7's, as Camunda does */

/* One document being read. */
struct fl__bpmn_reader {
    const char *xml; /* the source buffer, borrowed */
    size_t len;
    size_t *line_starts; /* offset of the first byte of each line (index 0 = line 1) */
    size_t n_lines;
    size_t *chars_before; /* characters before each FL__BPMN_BLOCK-byte block, for columns */
    xmlDoc *doc;
    char *expr_lang;   /* definitions@expressionLanguage, or NULL */
    xmlHashTable *ids; /* every id of an element read, to find duplicates */
    struct fl_error *err;
};

/* One process being built into a model. */
struct fl__bpmn_proc {
    struct fl__bpmn_reader *rd;
    struct fl_model *m;
    xmlNode *xml; /* the bpmn:process element */
    size_t cap_nodes, cap_flows, cap_warnings;
    xmlNode **node_xml, **flow_xml; /* element of each node / flow, parallel to m's arrays */
    xmlHashTable *node_ix;          /* id -> node index + 1 */
    xmlHashTable *flow_ix;          /* id -> flow index + 1 */
    xmlHashTable *ignored;          /* ids of elements skipped on purpose (data objects...) */
    uint32_t *flow_scope;           /* the subprocess each flow sits in (FL_NONE: process) */
    xmlNode **assocs;               /* bpmn:association elements (compensation handlers) */
    size_t n_assocs, cap_assocs;
};

/* ---- bpmn_pos.c: where things are in the source ---- */

/* Build the line table of rd->xml. */
void fl__bpmn_lines_init(struct fl__bpmn_reader *rd);

/* Record in each element of rd->doc (in _private) the offset of its start tag. */
void fl__bpmn_index_tags(struct fl__bpmn_reader *rd);

/* Line and column (1-based, column in characters) of the start tag of node. */
void fl__bpmn_node_pos(const struct fl__bpmn_reader *rd, const xmlNode *node, int *line, int *col);

/* Position of attribute name's value (first character inside the quotes) in node's start
 * tag; falls back to the node's position. */
void fl__bpmn_attr_pos(const struct fl__bpmn_reader *rd, const xmlNode *node, const char *name,
                       int *line, int *col);

/* Position of the character at byte offset off of node's decoded text content. */
void fl__bpmn_text_pos(const struct fl__bpmn_reader *rd, const xmlNode *node, size_t off, int *line,
                       int *col);

/* Position of the character at byte offset off of attribute name's decoded value. */
void fl__bpmn_attr_text_pos(const struct fl__bpmn_reader *rd, const xmlNode *node, const char *name,
                            size_t off, int *line, int *col);

/* ---- bpmn.c: XML helpers and diagnostics ---- */

/* True when node is an element named local in namespace ns. */
bool fl__bpmn_is(const xmlNode *node, const char *ns, const char *local);

/* True when node is an element in namespace ns. */
bool fl__bpmn_in_ns(const xmlNode *node, const char *ns);

/* Attribute value as a malloc'd string (caller frees), or NULL. ns NULL = no namespace;
 * FL__NS_CAMUNDA finds Activiti's attributes too. */
char *fl__bpmn_attr(const xmlNode *node, const char *name, const char *ns);

/* Text content of node, malloc'd (caller frees); never NULL. */
char *fl__bpmn_text(const xmlNode *node);

/* The id attribute of node as a malloc'd string or NULL. */
char *fl__bpmn_id(const xmlNode *node);

/* Record an error at node (its id, line and column); returns code. */
int fl__bpmn_fail(struct fl__bpmn_reader *rd, const xmlNode *node, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record an error at attribute attr of node; returns code. */
int fl__bpmn_fail_attr(struct fl__bpmn_reader *rd, const xmlNode *node, const char *attr, int code,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Add a warning about node to the model being built. */
void fl__bpmn_warn(struct fl__bpmn_proc *p, const xmlNode *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Register an id for the duplicate check; FL_EMODEL if already used. */
int fl__bpmn_claim_id(struct fl__bpmn_reader *rd, const xmlNode *node, const char *id);

/* Split a comma-separated list into l (items trimmed, empty ones skipped). */
void fl__bpmn_split_list(const char *s, struct fl_strlist *l);

/* True when an expression language name means FEEL. */
bool fl__bpmn_lang_is_feel(const char *lang);

/* True when an expression language name means JUEL (Camunda 7's "juel", JSP/Java EL). */
bool fl__bpmn_lang_is_juel(const char *lang);

/* FL_EUNSUPPORTED when value (of attr of node) is a JUEL expression, else 0. */
int fl__bpmn_reject_juel(struct fl__bpmn_reader *rd, const xmlNode *node, const char *attr,
                         const char *value);

/* Byte offset in src of the position a FEEL compile error reports (line, and column in
 * code points). */
size_t fl__bpmn_feel_offset(const char *src, const struct fl_error *fe);

/* ---- bpmn_process.c ---- */

/* What a child element of a bpmn:process becomes in the model. */
enum fl__bpmn_child {
    FL__BPMN_CHILD_OTHER,   /* not BPMN, or read elsewhere (documentation, lanes...) */
    FL__BPMN_CHILD_FLOW,    /* a sequence flow */
    FL__BPMN_CHILD_IGNORED, /* describes the process or carries data; skipped on purpose */
    FL__BPMN_CHILD_NODE,    /* everything else: a flow node (maybe of a kind flowd rejects) */
};

/* Classify child c of a bpmn:process; the reader and the "has flow nodes" test share it. */
enum fl__bpmn_child fl__bpmn_child_kind(const xmlNode *c);

/* The element of an event's single event definition (an eventDefinitionRef resolved to
 * the root element it names), NULL when it has none; *n gets how many it has. */
const xmlNode *fl__bpmn_event_def(struct fl__bpmn_proc *p, const xmlNode *el, int *n);

/* The root element (child of bpmn:definitions) named local with this id, or NULL. A
 * QName reference ("tns:Msg") is tried without its prefix too. */
xmlNode *fl__bpmn_root_ref(struct fl__bpmn_reader *rd, const char *local, const char *id);

/* Build the model of one bpmn:process element (validated). Caller frees *out. */
int fl__bpmn_read_process(struct fl__bpmn_reader *rd, xmlNode *proc, bool warn_not_exec,
                          struct fl_model **out);

/* ---- bpmn_ext.c: task details and extension elements ---- */

/* Read what a node of kind k carries beyond its flows: stage settings, job type, script. */
int fl__bpmn_read_node_details(struct fl__bpmn_proc *p, xmlNode *el, struct fl_node *n);

/* ---- bpmn_event.c: event definitions ---- */

/* The node kind of event element el (startEvent, endEvent, intermediateCatchEvent,
 * intermediateThrowEvent, boundaryEvent) from its event definition; FL_EUNSUPPORTED or
 * FL_EMODEL at el for a definition BPMN does not allow there or flowd cannot run. */
int fl__bpmn_event_kind(struct fl__bpmn_proc *p, const xmlNode *el, enum fl_node_kind *k);

/* Read n->event (non-timer event nodes, receive and send tasks), a start event's
 * isInterrupting and a boundary event's cancelActivity. */
int fl__bpmn_read_event(struct fl__bpmn_proc *p, xmlNode *el, struct fl_node *n);

/* After every node is read: link throw targets, compensation activityRefs, compensation
 * handlers (through associations). */
int fl__bpmn_resolve_events(struct fl__bpmn_proc *p);

/* ---- bpmn_call.c: call activities, loops, input/output mappings ---- */

/* Read n->call of a call activity. */
int fl__bpmn_read_call(struct fl__bpmn_proc *p, xmlNode *el, xmlNode *ext, struct fl_node *n);

/* Read the loop characteristics of activity el into n->loop (none: left NULL). */
int fl__bpmn_read_loop(struct fl__bpmn_proc *p, xmlNode *el, xmlNode *ext, struct fl_node *n);

/* Read zeebe:ioMapping / camunda:inputOutput of ext into n's inputs and outputs. */
int fl__bpmn_read_mappings(struct fl__bpmn_proc *p, xmlNode *ext, struct fl_node *n);

/* ---- bpmn_expr.c: expressions in FEEL or JUEL ---- */

/* Compile an expression (a condition, a cardinality...): "=feel", bare FEEL, or JUEL
 * "${...}" translated to FEEL. text is the decoded value of attribute attr of el (attr
 * NULL: el's text content); errors point into it and name owner and what. */
int fl__bpmn_compile(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, const char *text,
                     const char *owner, const char *what, struct fl_feel_expr **out);

/* A value kept as text ("=feel" or a literal): JUEL "${...}" becomes "=feel" (caller frees
 * *out), FEEL syntax is checked, a literal is copied. */
int fl__bpmn_value(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, const char *text,
                   const char *owner, const char *what, char **out);

/* A mapping source: "=feel" or (camunda) "${juel}" compiled, a plain text as a FEEL string
 * literal. */
int fl__bpmn_source(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, const char *text,
                    const char *owner, const char *what, struct fl_feel_expr **out);

/* ---- bpmn_scope.c: nesting and attachment ---- */

/* True for the activity kinds (tasks, subprocesses, call activities): what boundary
 * events, loops and mappings sit on. */
bool fl__bpmn_is_activity(enum fl_node_kind k);

/* Fill children, sub_start, event_starts of subprocesses and top, event_starts,
 * message_starts and timer_starts of the model. */
void fl__bpmn_fill_scopes(struct fl__bpmn_proc *p);

/* ---- bpmn_timer.c: timer events ---- */

/* Read the timerEventDefinition of timer event el into n->timer (checking literal texts
 * and FEEL syntax), and a boundary event's cancelActivity. */
int fl__bpmn_read_timer(struct fl__bpmn_proc *p, xmlNode *el, struct fl_node *n);

/* Resolve attachedToRef of every boundary event (an activity of the same scope) and fill
 * the activities' boundaries lists. Needs every node read. */
int fl__bpmn_attach_boundaries(struct fl__bpmn_proc *p);
/* ---- bpmn_control.c ---- */

/* Append the flowd:controlPoint children of ext (may be NULL) to *defs and *n. owner names the
 * element they sit on (for messages); task is that user task, or NULL on the process or a
 * start event ("accountable" is refused there). FL_EMODEL at the first bad one. */
int fl__bpmn_read_controls(struct fl__bpmn_proc *p, const xmlNode *ext, const char *owner,
                           const struct fl_node *task, struct fl_control_def **defs, size_t *n);

/* ---- bpmn_validate.c ---- */

/* Check the structural rules of a built model; FL_EMODEL at the first broken one, and
 * warnings for the doubtful ones. */
int fl__bpmn_validate(struct fl__bpmn_proc *p);

#endif
