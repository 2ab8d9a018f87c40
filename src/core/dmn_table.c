/* Decision tables of the DMN reader: the hit policy and aggregation, the input columns
 * (inputExpression compiled as FEEL, inputValues as unary tests), the output columns (names,
 * types, outputValues -- the order PRIORITY and OUTPUT ORDER rank by -- and default
 * entries), and the rules, whose input entries compile as unary tests and output entries
 * as expressions. Annotations are skipped. Every error names the element and points at its
 * line and column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/dmn_int.h"
#include "flowd/alloc.h"

static const char *const hit_names[] = {
    [FL_DMN_UNIQUE] = "UNIQUE",
    [FL_DMN_FIRST] = "FIRST",
    [FL_DMN_PRIORITY] = "PRIORITY",
    [FL_DMN_ANY] = "ANY",
    [FL_DMN_COLLECT] = "COLLECT",
    [FL_DMN_RULE_ORDER] = "RULE ORDER",
    [FL_DMN_OUTPUT_ORDER] = "OUTPUT ORDER",
};

const char *fl_dmn_hit_name(enum fl_dmn_hit h)
{
    if ((unsigned)h >= sizeof(hit_names) / sizeof(hit_names[0]))
        return "UNKNOWN";
    return hit_names[h];
}

static int read_policy(struct fl__bpmn_reader *rd, xmlNode *el, struct fl_dmn_decision *d)
{
    static const char *const aggs[] = {"", "SUM", "MIN", "MAX", "COUNT"};
    struct fl_dmn_table *t = d->table;
    char *hit = fl__bpmn_attr(el, "hitPolicy", NULL);
    char *agg = fl__bpmn_attr(el, "aggregation", NULL);
    int rc = 0;
    bool found = false;

    t->hit = FL_DMN_UNIQUE;
    if (hit) {
        for (size_t i = 0; i < sizeof(hit_names) / sizeof(hit_names[0]); i++) {
            if (!strcasecmp(hit, hit_names[i])) {
                t->hit = (enum fl_dmn_hit)i;
                found = true;
            }
        }
        if (!found) {
            rc = fl__bpmn_fail_attr(rd, el, "hitPolicy", FL_EMODEL,
                                    "decision table of '%s' has an unknown hit policy '%s'", d->id,
                                    hit);
            goto out;
        }
    }
    if (agg) {
        found = false;
        for (size_t i = 1; i < sizeof(aggs) / sizeof(aggs[0]); i++) {
            if (!strcasecmp(agg, aggs[i])) {
                t->agg = (enum fl_dmn_agg)i;
                found = true;
            }
        }
        if (!found) {
            rc = fl__bpmn_fail_attr(rd, el, "aggregation", FL_EMODEL,
                                    "decision table of '%s' has an unknown aggregation '%s'", d->id,
                                    agg);
            goto out;
        }
        if (t->hit != FL_DMN_COLLECT) {
            rc = fl__bpmn_fail_attr(rd, el, "aggregation", FL_EMODEL,
                                    "decision table of '%s': an aggregation needs hit policy "
                                    "COLLECT, not %s",
                                    d->id, hit_names[t->hit]);
            goto out;
        }
    }
out:
    free(hit);
    free(agg);
    return rc;
}

/* Strip a namespace prefix ("feel:string" in DMN 1.1) off a typeRef. */
static char *type_ref(xmlNode *el)
{
    char *t = fl__bpmn_attr(el, "typeRef", NULL);
    char *colon = t ? strchr(t, ':') : NULL;
    if (colon && colon[1]) {
        char *s = fl_strdup(colon + 1);
        free(t);
        return s;
    }
    return t;
}

/* A column's name for messages: label, name, id, or its position. */
static const char *column_title(const char *label, const char *name, const char *id, size_t i,
                                char *buf, size_t n)
{
    if (label && label[0])
        return label;
    if (name && name[0])
        return name;
    if (id && id[0])
        return id;
    snprintf(buf, n, "#%zu", i + 1);
    return buf;
}

static int read_input(struct fl__bpmn_reader *rd, xmlNode *el, struct fl_dmn_decision *d,
                      struct fl_dmn_input *in, size_t i, const char *dflt_lang)
{
    xmlNode *ie = fl__dmn_child(el, "inputExpression");
    xmlNode *iv = fl__dmn_child(el, "inputValues");
    char what[200], tb[24];
    int rc;

    in->id = fl__bpmn_id(el);
    in->label = fl__bpmn_attr(el, "label", NULL);
    in->var_name = fl__bpmn_attr(el, "inputVariable", FL__NS_CAMUNDA_DMN);
    snprintf(what, sizeof(what), "input '%s'",
             column_title(in->label, NULL, in->id, i, tb, sizeof(tb)));
    if (!ie)
        return fl__bpmn_fail(rd, el, FL_EMODEL, "%s of decision '%s' has no inputExpression", what,
                             d->id);
    in->type_ref = type_ref(ie);
    if ((rc = fl__dmn_check_lang(rd, ie, dflt_lang, d->id)) < 0)
        return rc;
    if ((rc = fl__dmn_feel(rd, ie, false, false, what, d->id, &in->expr)) < 0)
        return rc;
    if (iv) {
        char w2[240];
        snprintf(w2, sizeof(w2), "the input values of %s", what);
        if ((rc = fl__dmn_feel(rd, iv, true, true, w2, d->id, &in->allowed)) < 0)
            return rc;
    }
    return 0;
}

/* outputValues: a comma-separated list of literals, read as the FEEL list "[...]". */
static int read_output_values(struct fl__bpmn_reader *rd, xmlNode *ov, struct fl_dmn_decision *d,
                              struct fl_dmn_output *out, const char *what)
{
    xmlNode *text = fl__dmn_child(ov, "text");
    char *t = text ? fl__bpmn_text(text) : fl_strdup("");
    struct fl_buf src = FL_BUF_INIT;
    struct fl_feel_expr *e = NULL;
    struct fl_error fe;
    struct fl_value *v = NULL;
    struct fl_feel_diag diag;
    struct fl_feel_env env = {NULL, 0, 0};
    int rc = 0;
    const char *a = t;

    while (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\n')
        a++;
    if (!*a)
        goto out;
    fl_buf_addc(&src, '[');
    fl_buf_adds(&src, a);
    fl_buf_adds(&src, "\n]");
    fl_error_clear(&fe);
    if (fl_feel_compile(src.ptr, src.len, &e, &fe) < 0) {
        rc = fl__bpmn_fail(rd, ov, FL_EMODEL,
                           "the output values of %s of decision '%s' are not a list of "
                           "literals: %s",
                           what, d->id, fe.msg);
        goto out;
    }
    diag.msg[0] = '\0';
    v = fl_feel_eval(e, &env, &diag);
    if (diag.msg[0] || fl_value_type(v) != FL_VLIST) {
        rc = fl__bpmn_fail(rd, ov, FL_EMODEL,
                           "the output values of %s of decision '%s' are not a list of "
                           "literals%s%s",
                           what, d->id, diag.msg[0] ? ": " : "", diag.msg);
        goto out;
    }
    fl_value_freeze(v);
    out->values = v;
    v = NULL;
out:
    fl_value_unref(v);
    fl_feel_free(e);
    fl_buf_release(&src);
    free(t);
    return rc;
}

static int read_output(struct fl__bpmn_reader *rd, xmlNode *el, struct fl_dmn_decision *d,
                       struct fl_dmn_output *out, size_t i)
{
    xmlNode *ov = fl__dmn_child(el, "outputValues");
    xmlNode *def = fl__dmn_child(el, "defaultOutputEntry");
    char what[200], tb[24];
    int rc;

    out->id = fl__bpmn_id(el);
    out->name = fl__bpmn_attr(el, "name", NULL);
    out->label = fl__bpmn_attr(el, "label", NULL);
    out->type_ref = type_ref(el);
    snprintf(what, sizeof(what), "output '%s'",
             column_title(out->name, out->label, out->id, i, tb, sizeof(tb)));
    if (ov && (rc = read_output_values(rd, ov, d, out, what)) < 0)
        return rc;
    if (def) {
        char w2[240];
        snprintf(w2, sizeof(w2), "the default of %s", what);
        if ((rc = fl__dmn_feel(rd, def, false, true, w2, d->id, &out->default_value)) < 0)
            return rc;
    }
    return 0;
}

static int read_rule(struct fl__bpmn_reader *rd, xmlNode *el, struct fl_dmn_decision *d,
                     struct fl_dmn_rule *rule, size_t r)
{
    struct fl_dmn_table *t = d->table;
    size_t ni = 0, no = 0;
    char title[160], what[300], tb[24];
    xmlNode *c;
    int rc;

    rule->id = fl__bpmn_id(el);
    fl__bpmn_node_pos(rd, el, &rule->line, &rule->column);
    rule->inputs = fl_calloc(t->n_inputs ? t->n_inputs : 1, sizeof(*rule->inputs));
    rule->outputs = fl_calloc(t->n_outputs, sizeof(*rule->outputs));
    if (rule->id)
        snprintf(title, sizeof(title), "rule '%s'", rule->id);
    else
        snprintf(title, sizeof(title), "rule %zu", r + 1);
    for (c = el->children; c; c = c->next) {
        if (fl__dmn_is(c, "inputEntry")) {
            if (ni >= t->n_inputs)
                return fl__bpmn_fail(rd, c, FL_EMODEL,
                                     "%s of decision '%s' has more input entries than the table "
                                     "has inputs (%zu)",
                                     title, d->id, t->n_inputs);
            snprintf(what, sizeof(what), "%s, input '%s'", title,
                     column_title(t->inputs[ni].label, NULL, t->inputs[ni].id, ni, tb, sizeof(tb)));
            if ((rc = fl__dmn_feel(rd, c, true, true, what, d->id, &rule->inputs[ni])) < 0)
                return rc;
            ni++;
        } else if (fl__dmn_is(c, "outputEntry")) {
            if (no >= t->n_outputs)
                return fl__bpmn_fail(rd, c, FL_EMODEL,
                                     "%s of decision '%s' has more output entries than the "
                                     "table has outputs (%zu)",
                                     title, d->id, t->n_outputs);
            snprintf(what, sizeof(what), "%s, output '%s'", title,
                     column_title(t->outputs[no].name, t->outputs[no].label, t->outputs[no].id, no,
                                  tb, sizeof(tb)));
            if ((rc = fl__dmn_feel(rd, c, false, true, what, d->id, &rule->outputs[no])) < 0)
                return rc;
            no++;
        }
    }
    if (ni != t->n_inputs || no != t->n_outputs)
        return fl__bpmn_fail(rd, el, FL_EMODEL,
                             "%s of decision '%s' has %zu input and %zu output entries; the "
                             "table has %zu inputs and %zu outputs",
                             title, d->id, ni, no, t->n_inputs, t->n_outputs);
    return 0;
}

int fl__dmn_read_table(struct fl__bpmn_reader *rd, xmlNode *el, struct fl_dmn_decision *d,
                       const char *dflt_lang)
{
    struct fl_dmn_table *t = d->table;
    size_t cap_in = 0, cap_out = 0, cap_rules = 0;
    xmlNode *c;
    int rc;

    if ((rc = read_policy(rd, el, d)) < 0)
        return rc;
    for (c = el->children; c; c = c->next) {
        if (fl__dmn_is(c, "input")) {
            fl_grow(&t->inputs, &cap_in, t->n_inputs + 1, sizeof(*t->inputs));
            memset(&t->inputs[t->n_inputs], 0, sizeof(*t->inputs));
            t->n_inputs++;
            if ((rc = read_input(rd, c, d, &t->inputs[t->n_inputs - 1], t->n_inputs - 1,
                                 dflt_lang)) < 0)
                return rc;
        } else if (fl__dmn_is(c, "output")) {
            fl_grow(&t->outputs, &cap_out, t->n_outputs + 1, sizeof(*t->outputs));
            memset(&t->outputs[t->n_outputs], 0, sizeof(*t->outputs));
            t->n_outputs++;
            if ((rc = read_output(rd, c, d, &t->outputs[t->n_outputs - 1], t->n_outputs - 1)) < 0)
                return rc;
        }
    }
    if (t->n_outputs == 0)
        return fl__bpmn_fail(rd, el, FL_EMODEL, "decision table of '%s' has no output", d->id);
    if (t->n_outputs > 1) {
        for (size_t i = 0; i < t->n_outputs; i++) {
            for (size_t k = 0; k < i && t->outputs[i].name; k++)
                if (t->outputs[k].name && !strcmp(t->outputs[k].name, t->outputs[i].name))
                    return fl__bpmn_fail(rd, el, FL_EMODEL,
                                         "decision table of '%s' has two outputs named '%s'", d->id,
                                         t->outputs[i].name);
            if (!t->outputs[i].name || !t->outputs[i].name[0])
                return fl__bpmn_fail(rd, el, FL_EMODEL,
                                     "output %zu of decision '%s' has no name (a table with "
                                     "several outputs names each)",
                                     i + 1, d->id);
        }
        if (t->agg != FL_DMN_AGG_NONE)
            return fl__bpmn_fail_attr(rd, el, "aggregation", FL_EMODEL,
                                      "decision table of '%s': an aggregation needs exactly one "
                                      "output, not %zu",
                                      d->id, t->n_outputs);
    }
    /* Rules last: their entries are checked against the columns. */
    for (c = el->children; c; c = c->next) {
        if (!fl__dmn_is(c, "rule"))
            continue;
        fl_grow(&t->rules, &cap_rules, t->n_rules + 1, sizeof(*t->rules));
        memset(&t->rules[t->n_rules], 0, sizeof(*t->rules));
        t->n_rules++;
        if ((rc = read_rule(rd, c, d, &t->rules[t->n_rules - 1], t->n_rules - 1)) < 0)
            return rc;
    }
    return 0;
}
