/* DMN decisions (DMN 1.1 to 1.5, as Camunda Modeler 7 and 8 and bpmn.io's dmn-js write them):
 * the reader turns a DMN document into compiled decisions -- decision tables with their hit
 * policy and literal expressions, with the decisions they require -- and the evaluator
 * applies one to a context of variables. Both are pure (core): no I/O, the clock comes in
 * as an argument. A read document is immutable and may be evaluated from several threads
 * at once. */
#ifndef FLOWD_DMN_H
#define FLOWD_DMN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/err.h"
#include "flowd/feel.h"
#include "flowd/value.h"

#define FL_DMN_MAX_BYTES ((size_t)8 << 20) /* larger documents are refused */
#define FL_DMN_MAX_DEPTH 32                /* required decisions nested deeper are refused */

enum fl_dmn_hit {
    FL_DMN_UNIQUE,
    FL_DMN_FIRST,
    FL_DMN_PRIORITY,
    FL_DMN_ANY,
    FL_DMN_COLLECT,
    FL_DMN_RULE_ORDER,
    FL_DMN_OUTPUT_ORDER
};

enum fl_dmn_agg {
    FL_DMN_AGG_NONE,
    FL_DMN_AGG_SUM,
    FL_DMN_AGG_MIN,
    FL_DMN_AGG_MAX,
    FL_DMN_AGG_COUNT
};

/* One input column: its expression over the variables, and its type. */
struct fl_dmn_input {
    char *id, *label;             /* may be NULL */
    struct fl_feel_expr *expr;    /* inputExpression */
    char *type_ref;               /* may be NULL */
    struct fl_feel_expr *allowed; /* inputValues (unary tests), or NULL; compiled but not
                                     enforced, as Camunda 7 and 8 do not */
    char *var_name;               /* camunda:inputVariable: the input's name in its entries
                                     besides "?" (NULL: only "?" and Camunda's "cellInput") */
};

/* One output column. values is the list of outputValues in their order (PRIORITY and
 * OUTPUT ORDER rank by it; frozen, or NULL when none); default_value is
 * defaultOutputEntry (NULL: none). */
struct fl_dmn_output {
    char *id, *name, *label; /* name may be NULL for a single output */
    char *type_ref;
    struct fl_value *values;
    struct fl_feel_expr *default_value;
};

struct fl_dmn_rule {
    char *id;                      /* may be NULL: messages then say "rule N" */
    struct fl_feel_expr **inputs;  /* one per input column; NULL = "-" (matches anything) */
    struct fl_feel_expr **outputs; /* one per output column; NULL = empty (null) */
    int line, column;
};

struct fl_dmn_table {
    enum fl_dmn_hit hit;
    enum fl_dmn_agg agg; /* COLLECT only */
    struct fl_dmn_input *inputs;
    size_t n_inputs;
    struct fl_dmn_output *outputs;
    size_t n_outputs;
    struct fl_dmn_rule *rules;
    size_t n_rules;
};

struct fl_dmn_doc;

struct fl_dmn_decision {
    char *id;
    char *name;     /* may be NULL; results of required decisions are visible by name and id */
    char *var_type; /* variable typeRef, or NULL */
    struct fl_dmn_table *table;   /* a decision table, or */
    struct fl_feel_expr *literal; /* a literal expression (exactly one is set) */
    uint32_t *required;           /* indices in doc->decisions, in document order */
    size_t n_required;
    const struct fl_dmn_doc *doc; /* the document it belongs to (borrowed back pointer) */
    int line, column;
};

struct fl_dmn_doc {
    char *id, *name, *ns; /* definitions id, name and namespace attribute (may be NULL) */
    struct fl_dmn_decision *decisions;
    size_t n_decisions;
    char **input_data; /* names of the inputData elements (documentation of expected vars) */
    size_t n_input_data;
};

/* Camunda 7's camunda:mapDecisionResult on a business rule task. */
enum fl_dmn_map {
    FL_DMN_MAP_NONE,          /* DMN's own shape (see fl_dmn_evaluate) */
    FL_DMN_MAP_SINGLE_ENTRY,  /* one rule, one output: the value */
    FL_DMN_MAP_SINGLE_RESULT, /* one rule: a context of its outputs */
    FL_DMN_MAP_COLLECT,       /* collectEntries: list of the one output's values */
    FL_DMN_MAP_RESULT_LIST    /* resultList: list of contexts, one per matched rule */
};

/* True when xml looks like a DMN document: its root element is definitions in a DMN 1.1 -
 * 1.5 namespace (checked on the text, without a full parse; false when not sure). */
bool fl_dmn_is_dmn(const char *xml, size_t len);

/* Read a DMN document: every decision with a decision table or a literal expression,
 * compiled. On failure FL_EPARSE (XML), FL_EMODEL (structure, FEEL syntax), FL_EUNSUPPORTED
 * (a construct flowd does not evaluate), FL_ETOOBIG, with err naming the element id, line
 * and column; never crashes on any input. Caller frees *out with fl_dmn_doc_free. */
int fl_dmn_read(const char *xml, size_t len, struct fl_dmn_doc **out, struct fl_error *err);

/* Free a document. NULL-safe. */
void fl_dmn_doc_free(struct fl_dmn_doc *doc);

/* The decision with this id (or, failing that, this name), or NULL. Borrowed. */
const struct fl_dmn_decision *fl_dmn_find(const struct fl_dmn_doc *doc, const char *id);

/* Evaluate decision d over vars (a context, or NULL) at now_ms: its required decisions
 * first (their results visible by name and id), then the table or expression. *result
 * (a new reference): one output column: the value; several: a context by output name;
 * COLLECT and RULE ORDER and OUTPUT ORDER: a list of those; COLLECT with an aggregation:
 * the number (null outputs take no part). No rule matched: null, or for a single-hit table
 * its default outputs (defaultOutputEntry). FL_EREFUSED naming the rules when UNIQUE matched
 * several or ANY several with different outputs; FL_EINVAL when an expression failed (FEEL's
 * diagnostic, naming the decision, rule and column). Thread-safe on a shared document. */
int fl_dmn_evaluate(const struct fl_dmn_decision *d, const struct fl_value *vars, int64_t now_ms,
                    struct fl_value **result, struct fl_error *err);

/* As fl_dmn_evaluate, the result shaped as Camunda 7's mapDecisionResult asks (NONE: as
 * fl_dmn_evaluate). FL_EREFUSED when the rules matched do not fit the shape (singleEntry
 * with two rules or two outputs...). */
int fl_dmn_evaluate_mapped(const struct fl_dmn_decision *d, const struct fl_value *vars,
                           int64_t now_ms, enum fl_dmn_map map, struct fl_value **result,
                           struct fl_error *err);

/* The mapping named by camunda:mapDecisionResult ("singleEntry"...); NULL or "" gives
 * FL_DMN_MAP_NONE. FL_EINVAL for an unknown name. */
int fl_dmn_map_parse(const char *name, enum fl_dmn_map *out);

/* Name of a hit policy as DMN writes it ("RULE ORDER"). */
const char *fl_dmn_hit_name(enum fl_dmn_hit h);

/* Fuzzing entry point: read data as a DMN document and evaluate each decision over an
 * empty context; returns 0. Must never crash or leak on any input. */
int fl_dmn_fuzz_one(const uint8_t *data, size_t size);

#endif
