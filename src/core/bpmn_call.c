/* What an activity carries for the calls helper: a call activity's target and variable
 * passing (calledElement, zeebe:calledElement, camunda:in/out), multi-instance and
 * standard loop characteristics (BPMN, zeebe:loopCharacteristics, camunda:collection) and
 * input/output mappings (zeebe:ioMapping, camunda:inputOutput with its plain, JUEL, list
 * and map values). Everything becomes FEEL here, so the engine evaluates one language. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "core/juel.h"
#include "flowd/alloc.h"

static const char *local(const xmlNode *n)
{
    return (const char *)n->name;
}

static xmlNode *child(const xmlNode *el, const char *ns, const char *name)
{
    xmlNode *c;
    for (c = el ? el->children : NULL; c; c = c->next)
        if (fl__bpmn_is(c, ns, name))
            return c;
    return NULL;
}

static bool attr_is(const xmlNode *el, const char *name, const char *ns, const char *value)
{
    char *v = fl__bpmn_attr(el, name, ns);
    bool yes = v && !strcmp(v, value);
    free(v);
    return yes;
}

static void add_mapping(struct fl_mapping **maps, size_t *n, char *target,
                        struct fl_feel_expr *source)
{
    *maps = fl_reallocarray(*maps, *n + 1, sizeof(**maps));
    (*maps)[*n].target = target;
    (*maps)[*n].source = source;
    (*n)++;
}

/* A variable name as a FEEL expression naming it (camunda:in source="x"). */
static int name_expr(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, const char *name,
                     const char *owner, const char *what, struct fl_feel_expr **out)
{
    char *eq = fl_malloc(strlen(name) + 2);
    int rc;
    eq[0] = '=';
    memcpy(eq + 1, name, strlen(name) + 1);
    rc = fl__bpmn_compile(p, el, attr, eq, owner, what, out);
    free(eq);
    return rc;
}

/* camunda:in / camunda:out of a call activity. */
static int read_camunda_pass(struct fl__bpmn_proc *p, const xmlNode *x, struct fl_node *n)
{
    struct fl_call_def *c = n->call;
    bool in = !strcmp(local(x), "in");
    char *source = fl__bpmn_attr(x, "source", NULL);
    char *source_expr = fl__bpmn_attr(x, "sourceExpression", NULL);
    char *target = fl__bpmn_attr(x, "target", NULL);
    char *bkey = fl__bpmn_attr(x, "businessKey", NULL);
    struct fl_feel_expr *e = NULL;
    int rc = 0;
    if (attr_is(x, "variables", NULL, "all")) {
        if (in)
            c->all_in = true;
        else
            c->all_out = true;
    }
    if (bkey && in) {
        if (strstr(bkey, "execution.processBusinessKey"))
            fl__bpmn_warn(p, x,
                          "camunda:in businessKey of '%s' passes the caller's business key; "
                          "flowd starts the called instance without one",
                          n->id);
        else if ((rc = fl__bpmn_value(p, x, "businessKey", bkey, n->id, "business key",
                                      &c->business_key)) < 0)
            goto out;
    }
    if (!source && !source_expr)
        goto out;
    if (!target || !target[0]) {
        rc =
            fl__bpmn_fail(p->rd, x, FL_EMODEL, "camunda:%s of '%s' has no target", local(x), n->id);
        goto out;
    }
    if (source_expr)
        rc = fl__bpmn_compile(p, x, "sourceExpression", source_expr, n->id, "sourceExpression", &e);
    else
        rc = name_expr(p, x, "source", source, n->id, "source", &e);
    if (rc < 0)
        goto out;
    if (in)
        add_mapping(&c->ins, &c->n_ins, target, e);
    else
        add_mapping(&c->outs, &c->n_outs, target, e);
    target = NULL;
out:
    free(source);
    free(source_expr);
    free(target);
    free(bkey);
    return rc;
}

int fl__bpmn_read_call(struct fl__bpmn_proc *p, xmlNode *el, xmlNode *ext, struct fl_node *n)
{
    struct fl_call_def *c = n->call = fl_calloc(1, sizeof(*n->call));
    xmlNode *zc = child(ext, FL__NS_ZEEBE, "calledElement"), *x;
    char *v = NULL, *binding = NULL;
    int rc = 0;

    if ((v = fl__bpmn_attr(el, "calledElement", NULL)) && v[0] &&
        (rc = fl__bpmn_value(p, el, "calledElement", v, n->id, "calledElement", &c->process_key)) <
            0)
        goto out;
    free(v);
    v = NULL;
    if (zc) {
        c->all_in = !attr_is(zc, "propagateAllParentVariables", NULL, "false");
        c->all_out = !attr_is(zc, "propagateAllChildVariables", NULL, "false");
        if ((v = fl__bpmn_attr(zc, "processId", NULL)) && v[0] &&
            (rc = fl__bpmn_value(p, zc, "processId", v, n->id, "processId", &c->process_key)) < 0)
            goto out;
    }
    if (!c->process_key && (v = fl__bpmn_attr(el, "caseRef", FL__NS_CAMUNDA))) {
        rc = fl__bpmn_fail_attr(p->rd, el, "caseRef", FL_EUNSUPPORTED,
                                "callActivity '%s' calls CMMN case '%s' (camunda:caseRef); flowd "
                                "calls BPMN processes only",
                                n->id, v);
        goto out;
    }
    if (!c->process_key) {
        rc = fl__bpmn_fail(p->rd, el, FL_EMODEL,
                           "callActivity '%s' names no process to call (calledElement or "
                           "zeebe:calledElement processId)",
                           n->id);
        goto out;
    }
    binding = fl__bpmn_attr(el, "calledElementBinding", FL__NS_CAMUNDA);
    if (binding && !strcmp(binding, "version")) {
        char *ver = fl__bpmn_attr(el, "calledElementVersion", FL__NS_CAMUNDA), *end = NULL;
        long k = ver ? strtol(ver, &end, 10) : 0;
        if (!ver || end == ver || *end || k < 1 || k > INT32_MAX) {
            rc = fl__bpmn_fail_attr(
                p->rd, el, ver ? "calledElementVersion" : "calledElementBinding", FL_EUNSUPPORTED,
                "callActivity '%s' binds version '%s'; flowd needs a "
                "literal version number from 1",
                n->id, ver ? ver : "");
            free(ver);
            goto out;
        }
        c->version = (int32_t)k;
        free(ver);
    } else if (binding && !strcmp(binding, "versionTag")) {
        rc = fl__bpmn_fail_attr(p->rd, el, "calledElementBinding", FL_EUNSUPPORTED,
                                "callActivity '%s' binds a version tag; flowd calls the latest "
                                "version or a version number",
                                n->id);
        goto out;
    } else if (binding && !strcmp(binding, "deployment")) {
        fl__bpmn_warn(p, el,
                      "callActivity '%s' binds the version of its own deployment; flowd calls "
                      "the latest version",
                      n->id);
    }
    for (x = ext ? ext->children : NULL; x; x = x->next)
        if ((fl__bpmn_is(x, FL__NS_CAMUNDA, "in") || fl__bpmn_is(x, FL__NS_CAMUNDA, "out")) &&
            (rc = read_camunda_pass(p, x, n)) < 0)
            goto out;
out:
    free(v);
    free(binding);
    return rc;
}

/* The text of child name of el compiled as an expression into *out (absent: NULL). */
static int child_expr(struct fl__bpmn_proc *p, const xmlNode *el, const char *name,
                      const char *owner, struct fl_feel_expr **out)
{
    xmlNode *c = child(el, FL__NS_BPMN, name);
    char *text, *lang;
    int rc;
    if (!c)
        return 0;
    lang = fl__bpmn_attr(c, "language", NULL);
    if (lang && !fl__bpmn_lang_is_feel(lang) && !fl__bpmn_lang_is_juel(lang)) {
        rc = fl__bpmn_fail_attr(p->rd, c, "language", FL_EUNSUPPORTED,
                                "%s of '%s' is in language '%s'; flowd runs FEEL and simple "
                                "JUEL",
                                name, owner, lang);
        free(lang);
        return rc;
    }
    free(lang);
    text = fl__bpmn_text(c);
    rc = fl__bpmn_compile(p, c, NULL, text, owner, name, out);
    free(text);
    return rc;
}

static int read_multi(struct fl__bpmn_proc *p, xmlNode *mi, struct fl_node *n)
{
    struct fl_loop_def *l = n->loop;
    xmlNode *zl =
        child(child(mi, FL__NS_BPMN, "extensionElements"), FL__NS_ZEEBE, "loopCharacteristics");
    xmlNode *c;
    char *v = NULL;
    int rc;
    l->multi = true;
    l->sequential = attr_is(mi, "isSequential", NULL, "true");
    if ((rc = child_expr(p, mi, "loopCardinality", n->id, &l->cardinality)) < 0 ||
        (rc = child_expr(p, mi, "completionCondition", n->id, &l->completion)) < 0)
        return rc;
    if ((v = fl__bpmn_attr(mi, "collection", FL__NS_CAMUNDA))) {
        rc = fl_juel_is_expr(v) || v[0] == '='
                 ? fl__bpmn_compile(p, mi, "collection", v, n->id, "camunda:collection",
                                    &l->collection)
                 : name_expr(p, mi, "collection", v, n->id, "camunda:collection", &l->collection);
        free(v);
        if (rc < 0)
            return rc;
    }
    l->element_variable = fl__bpmn_attr(mi, "elementVariable", FL__NS_CAMUNDA);
    /* BPMN's own form, which Camunda 7 reads too: loopDataInputRef names the collection */
    if (!l->collection && (c = child(mi, FL__NS_BPMN, "loopDataInputRef"))) {
        v = fl__bpmn_text(c);
        rc = v[0] ? name_expr(p, c, NULL, v, n->id, "loopDataInputRef", &l->collection) : 0;
        free(v);
        if (rc < 0)
            return rc;
    }
    if (!l->element_variable && (c = child(mi, FL__NS_BPMN, "inputDataItem")))
        l->element_variable = fl__bpmn_attr(c, "name", NULL);
    if (zl) {
        if ((v = fl__bpmn_attr(zl, "inputCollection", NULL))) {
            fl_feel_free(l->collection);
            l->collection = NULL;
            rc = fl__bpmn_compile(p, zl, "inputCollection", v, n->id, "inputCollection",
                                  &l->collection);
            free(v);
            if (rc < 0)
                return rc;
        }
        if ((v = fl__bpmn_attr(zl, "inputElement", NULL))) {
            free(l->element_variable);
            l->element_variable = v;
        }
        l->output_collection = fl__bpmn_attr(zl, "outputCollection", NULL);
        if ((v = fl__bpmn_attr(zl, "outputElement", NULL))) {
            rc = fl__bpmn_compile(p, zl, "outputElement", v, n->id, "outputElement",
                                  &l->output_element);
            free(v);
            if (rc < 0)
                return rc;
        }
    }
    if (l->element_variable && !l->element_variable[0]) {
        free(l->element_variable);
        l->element_variable = NULL;
    }
    if (!l->collection && !l->cardinality)
        return fl__bpmn_fail(p->rd, mi, FL_EMODEL,
                             "multi-instance '%s' has neither a loopCardinality nor an input "
                             "collection",
                             n->id);
    return 0;
}

static int read_standard(struct fl__bpmn_proc *p, xmlNode *sl, struct fl_node *n)
{
    struct fl_loop_def *l = n->loop;
    char *v, *end;
    int rc = 0;
    l->test_before = attr_is(sl, "testBefore", NULL, "true");
    if ((v = fl__bpmn_attr(sl, "loopMaximum", NULL))) {
        long k = strtol(v, &end, 10);
        if (end == v || *end || k < 0 || k > 100000000)
            rc = fl__bpmn_fail_attr(p->rd, sl, "loopMaximum", FL_EMODEL,
                                    "loopMaximum of '%s' must be a whole number from 0, not '%s'",
                                    n->id, v);
        else
            l->loop_maximum = (uint32_t)k;
        free(v);
        if (rc < 0)
            return rc;
    }
    return child_expr(p, sl, "loopCondition", n->id, &l->loop_condition);
}

int fl__bpmn_read_loop(struct fl__bpmn_proc *p, xmlNode *el, xmlNode *ext, struct fl_node *n)
{
    xmlNode *mi = child(el, FL__NS_BPMN, "multiInstanceLoopCharacteristics");
    xmlNode *sl = child(el, FL__NS_BPMN, "standardLoopCharacteristics");
    (void)ext;
    if (!mi && !sl)
        return 0;
    if (mi && sl)
        return fl__bpmn_fail(p->rd, sl, FL_EMODEL,
                             "'%s' has both multi-instance and standard loop characteristics",
                             n->id);
    n->loop = fl_calloc(1, sizeof(*n->loop));
    return mi ? read_multi(p, mi, n) : read_standard(p, sl, n);
}

/* ---- mappings ---- */

static void feel_string(struct fl_buf *b, const char *s)
{
    fl_buf_addc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fl_buf_addc(b, '\\');
        if (*s == '\n')
            fl_buf_adds(b, "\\n");
        else if (*s == '\r')
            fl_buf_adds(b, "\\r");
        else if (*s == '\t')
            fl_buf_adds(b, "\\t");
        else
            fl_buf_addc(b, *s);
    }
    fl_buf_addc(b, '"');
}

static int param_value(struct fl__bpmn_proc *p, const xmlNode *el, const char *owner, int depth,
                       struct fl_buf *out);

/* A camunda:list, camunda:map or camunda:script as FEEL. */
static int param_shape(struct fl__bpmn_proc *p, const xmlNode *shape, const char *owner, int depth,
                       struct fl_buf *out)
{
    const xmlNode *c;
    bool first = true, list;
    int rc = 0;
    if (fl__bpmn_is(shape, FL__NS_CAMUNDA, "script")) {
        rc = fl__bpmn_fail(p->rd, shape, FL_EUNSUPPORTED,
                           "a camunda:script computes a parameter of '%s'; flowd cannot run "
                           "scripts in mappings: use a ${...} expression or a FEEL mapping",
                           owner);
        fl_error_at(p->rd->err, owner, p->rd->err->line, p->rd->err->column);
        return rc;
    }
    if (!fl__bpmn_is(shape, FL__NS_CAMUNDA, "list") && !fl__bpmn_is(shape, FL__NS_CAMUNDA, "map"))
        return fl__bpmn_fail(p->rd, shape, FL_EMODEL,
                             "unexpected element '%s' in a parameter of '%s'", local(shape), owner);
    list = !strcmp(local(shape), "list");
    fl_buf_addc(out, list ? '[' : '{');
    for (c = shape->children; c && rc == 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!first)
            fl_buf_adds(out, ", ");
        first = false;
        if (!list) {
            char *key = fl__bpmn_attr(c, "key", NULL);
            if (!fl__bpmn_is(c, FL__NS_CAMUNDA, "entry") || !key) {
                free(key);
                return fl__bpmn_fail(p->rd, c, FL_EMODEL,
                                     "camunda:map of '%s' holds '%s'; give camunda:entry "
                                     "key=\"...\"",
                                     owner, local(c));
            }
            if (fl_juel_is_expr(key)) {
                rc = fl__bpmn_fail_attr(p->rd, c, "key", FL_EUNSUPPORTED,
                                        "camunda:entry key '%s' of '%s' is computed; a FEEL "
                                        "context needs literal keys",
                                        key, owner);
                free(key);
                return rc;
            }
            feel_string(out, key);
            fl_buf_adds(out, ": ");
            free(key);
            rc = param_value(p, c, owner, depth + 1, out);
        } else if (fl__bpmn_is(c, FL__NS_CAMUNDA, "value")) {
            rc = param_value(p, c, owner, depth + 1, out);
        } else {
            if (depth > 16)
                return fl__bpmn_fail(p->rd, c, FL_EMODEL,
                                     "parameter values of '%s' nest too deeply", owner);
            rc = param_shape(p, c, owner, depth + 1, out);
        }
    }
    fl_buf_addc(out, list ? ']' : '}');
    return rc;
}

/* The FEEL text of a camunda parameter value el (inputParameter, entry, value): its text
 * (plain or JUEL), or the list / map / script element inside it. */
static int param_value(struct fl__bpmn_proc *p, const xmlNode *el, const char *owner, int depth,
                       struct fl_buf *out)
{
    const xmlNode *c;
    char *text;
    int rc = 0;
    if (depth > 16)
        return fl__bpmn_fail(p->rd, el, FL_EMODEL, "parameter values of '%s' nest too deeply",
                             owner);
    for (c = el->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return param_shape(p, c, owner, depth + 1, out);
    text = fl__bpmn_text(el);
    if (fl_juel_is_expr(text)) {
        struct fl_error je;
        char *feel = NULL;
        size_t at = 0;
        int line, col;
        fl_error_clear(&je);
        if ((rc = fl_juel_to_feel(text, &feel, &at, &je)) < 0) {
            fl__bpmn_text_pos(p->rd, el, at, &line, &col);
            fl_error_set(p->rd->err, rc == FL_EPARSE ? FL_EMODEL : FL_EUNSUPPORTED,
                         "parameter of '%s' ('%.80s'): %s", owner, text, je.msg);
            fl_error_at(p->rd->err, owner, line, col);
            rc = p->rd->err->code;
        } else {
            fl_buf_addc(out, '(');
            fl_buf_adds(out, feel);
            fl_buf_addc(out, ')');
        }
        free(feel);
    } else if (!el->children) {
        fl_buf_adds(out, "null"); /* an empty parameter sets null, as in Camunda 7 */
    } else {
        feel_string(out, text);
    }
    free(text);
    return rc;
}

static int read_camunda_param(struct fl__bpmn_proc *p, const xmlNode *x, struct fl_node *n,
                              bool input)
{
    struct fl_buf b = FL_BUF_INIT;
    struct fl_feel_expr *e = NULL;
    struct fl_error fe;
    char *name = fl__bpmn_attr(x, "name", NULL);
    int rc;
    if (!name || !name[0]) {
        rc = fl__bpmn_fail(p->rd, x, FL_EMODEL, "camunda:%s of '%s' has no name", local(x), n->id);
        goto out;
    }
    if ((rc = param_value(p, x, n->id, 0, &b)) < 0)
        goto out;
    fl_error_clear(&fe);
    if (fl_feel_compile(b.ptr, b.len, &e, &fe) < 0) {
        rc = fl__bpmn_fail(p->rd, x, FL_EMODEL,
                           "camunda:%s '%s' of '%s' translates to FEEL that does not compile: %s",
                           local(x), name, n->id, fe.msg);
        goto out;
    }
    if (input)
        add_mapping(&n->inputs, &n->n_inputs, name, e);
    else
        add_mapping(&n->outputs, &n->n_outputs, name, e);
    name = NULL;
out:
    fl_buf_release(&b);
    free(name);
    return rc;
}

static int read_zeebe_mapping(struct fl__bpmn_proc *p, const xmlNode *x, struct fl_node *n)
{
    bool input = !strcmp(local(x), "input");
    char *source = fl__bpmn_attr(x, "source", NULL);
    char *target = fl__bpmn_attr(x, "target", NULL);
    struct fl_feel_expr *e = NULL;
    int rc = 0;
    if (!target || !target[0]) {
        rc = fl__bpmn_fail(p->rd, x, FL_EMODEL, "zeebe:%s of '%s' has no target", local(x), n->id);
        goto out;
    }
    /* no source at all maps null (Camunda 8 modeler writes that for "empty") */
    if ((rc = fl__bpmn_source(p, x, "source", source ? source : "=null", n->id, "source", &e)) < 0)
        goto out;
    if (n->kind == FL_NODE_CALL_ACTIVITY) {
        if (input)
            add_mapping(&n->call->ins, &n->call->n_ins, target, e);
        else
            add_mapping(&n->call->outs, &n->call->n_outs, target, e);
    } else if (input) {
        add_mapping(&n->inputs, &n->n_inputs, target, e);
    } else {
        add_mapping(&n->outputs, &n->n_outputs, target, e);
    }
    target = NULL;
out:
    free(source);
    free(target);
    return rc;
}

int fl__bpmn_read_mappings(struct fl__bpmn_proc *p, xmlNode *ext, struct fl_node *n)
{
    const xmlNode *c, *x;
    int rc = 0;
    for (c = ext->children; c && rc == 0; c = c->next) {
        if (fl__bpmn_is(c, FL__NS_ZEEBE, "ioMapping")) {
            for (x = c->children; x && rc == 0; x = x->next)
                if (fl__bpmn_is(x, FL__NS_ZEEBE, "input") || fl__bpmn_is(x, FL__NS_ZEEBE, "output"))
                    rc = read_zeebe_mapping(p, x, n);
        } else if (fl__bpmn_is(c, FL__NS_CAMUNDA, "inputOutput")) {
            for (x = c->children; x && rc == 0; x = x->next) {
                if (fl__bpmn_is(x, FL__NS_CAMUNDA, "inputParameter"))
                    rc = read_camunda_param(p, x, n, true);
                else if (fl__bpmn_is(x, FL__NS_CAMUNDA, "outputParameter"))
                    rc = read_camunda_param(p, x, n, false);
            }
        }
    }
    return rc;
}
