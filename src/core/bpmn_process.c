/* Builds the model of one bpmn:process: flow nodes (rejecting kinds flowd cannot run yet),
 * sequence flows with their FEEL conditions, boundary events onto their tasks, lanes (a lane's name
 * is the default role of the tasks in it), default flows and documentation; then wires
 * incoming/outgoing lists and runs the validation. Works in passes over the children so forward
 * references (a flow before its target node) resolve. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "flowd/alloc.h"

/* BPMN children of a process that describe it or carry data but do not run: skipped. */
static const char *const ignored_elements[] = {"property",
                                               "ioSpecification",
                                               "dataObject",
                                               "dataObjectReference",
                                               "dataStoreReference",
                                               "textAnnotation",
                                               "association",
                                               "group",
                                               "auditing",
                                               "monitoring",
                                               "correlationSubscription",
                                               "resourceRole",
                                               "performer",
                                               "humanPerformer",
                                               "potentialOwner",
                                               "supports",
                                               "ioBinding",
                                               "category",
                                               NULL};

static const char *local(const xmlNode *n)
{
    return (const char *)n->name;
}

enum fl__bpmn_child fl__bpmn_child_kind(const xmlNode *c)
{
    size_t i;
    /* the activity's own parts of a subprocess sit among its children (flows in/out,
     * loop characteristics, data associations): read with the activity, not as nodes */
    static const char *const parts[] = {"documentation",
                                        "extensionElements",
                                        "laneSet",
                                        "incoming",
                                        "outgoing",
                                        "multiInstanceLoopCharacteristics",
                                        "standardLoopCharacteristics",
                                        "dataInputAssociation",
                                        "dataOutputAssociation",
                                        NULL};
    if (!fl__bpmn_in_ns(c, FL__NS_BPMN))
        return FL__BPMN_CHILD_OTHER;
    for (i = 0; parts[i]; i++)
        if (!strcmp(local(c), parts[i]))
            return FL__BPMN_CHILD_OTHER;
    if (!strcmp(local(c), "sequenceFlow"))
        return FL__BPMN_CHILD_FLOW;
    for (i = 0; ignored_elements[i]; i++)
        if (!strcmp(local(c), ignored_elements[i]))
            return FL__BPMN_CHILD_IGNORED;
    return FL__BPMN_CHILD_NODE;
}

/* Concatenate the bpmn:documentation children of el ("\n" between), or NULL. */
static char *documentation_of(const xmlNode *el)
{
    const xmlNode *c;
    struct fl_buf b = FL_BUF_INIT;
    bool any = false;
    for (c = el->children; c; c = c->next) {
        char *t;
        if (!fl__bpmn_is(c, FL__NS_BPMN, "documentation"))
            continue;
        t = fl__bpmn_text(c);
        if (any)
            fl_buf_addc(&b, '\n');
        fl_buf_adds(&b, t);
        free(t);
        any = true;
    }
    if (!any)
        return NULL;
    return fl_buf_detach(&b, NULL);
}

static int unsupported(struct fl__bpmn_proc *p, const xmlNode *el, const char *why)
{
    char *id = fl__bpmn_id(el);
    int rc = fl__bpmn_fail(p->rd, el, FL_EUNSUPPORTED, "%s '%s': %s", local(el), id ? id : "", why);
    free(id);
    return rc;
}

/* Which node kind el is, or a precise error for elements flowd cannot run at all. */
static int node_kind(struct fl__bpmn_proc *p, const xmlNode *el, enum fl_node_kind *k)
{
    static const struct {
        const char *name;
        enum fl_node_kind kind;
    } plain[] = {
        {"task", FL_NODE_TASK},
        {"userTask", FL_NODE_USER_TASK},
        {"manualTask", FL_NODE_MANUAL_TASK},
        {"serviceTask", FL_NODE_SERVICE_TASK},
        {"scriptTask", FL_NODE_SCRIPT_TASK},
        {"exclusiveGateway", FL_NODE_EXCLUSIVE_GW},
        {"parallelGateway", FL_NODE_PARALLEL_GW},
        {"inclusiveGateway", FL_NODE_INCLUSIVE_GW},
        {"eventBasedGateway", FL_NODE_EVENT_GW},
        {"transaction", FL_NODE_SUB_PROCESS},
        {"callActivity", FL_NODE_CALL_ACTIVITY},
        {"receiveTask", FL_NODE_RECEIVE_TASK},
        {"sendTask", FL_NODE_SEND_TASK},
        {"businessRuleTask", FL_NODE_BUSINESS_RULE_TASK},
    };
    const char *name = local(el);
    size_t i;
    if (!strcmp(name, "startEvent") || !strcmp(name, "endEvent") ||
        !strcmp(name, "intermediateCatchEvent") || !strcmp(name, "intermediateThrowEvent") ||
        !strcmp(name, "boundaryEvent"))
        return fl__bpmn_event_kind(p, el, k);
    if (!strcmp(name, "subProcess")) {
        char *t = fl__bpmn_attr(el, "triggeredByEvent", NULL);
        *k = t && !strcmp(t, "true") ? FL_NODE_EVENT_SUB_PROCESS : FL_NODE_SUB_PROCESS;
        free(t);
        return 0;
    }
    for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        if (!strcmp(name, plain[i].name)) {
            *k = plain[i].kind;
            return 0;
        }
    }
    if (!strcmp(name, "adHocSubProcess"))
        return unsupported(p, el,
                           "ad-hoc subprocesses (activities in any order, chosen at run time) "
                           "are not supported; model the order with gateways");
    if (!strcmp(name, "complexGateway"))
        return unsupported(p, el,
                           "complex gateways are not supported; use an inclusive or exclusive "
                           "gateway");
    if (strstr(name, "horeography"))
        return unsupported(p, el, "choreographies are not executable");
    return unsupported(p, el, "is not a BPMN flow node flowd knows");
}

static bool attr_true(const xmlNode *el, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(el, (const xmlChar *)name);
    bool yes;
    if (!v && !strncmp(name, "async", 5))
        v = xmlGetNsProp(el, (const xmlChar *)name, (const xmlChar *)FL__NS_CAMUNDA);
    yes = v && !strcmp((const char *)v, "true");
    xmlFree(v);
    return yes;
}

static int add_node(struct fl__bpmn_proc *p, xmlNode *el, uint32_t scope)
{
    struct fl_model *m = p->m;
    struct fl_node *n;
    enum fl_node_kind kind = FL_NODE_TASK;
    size_t cap = p->cap_nodes;
    char *id;
    int rc;
    if ((rc = node_kind(p, el, &kind)) < 0)
        return rc;
    if (!(id = fl__bpmn_id(el)))
        return fl__bpmn_fail(p->rd, el, FL_EMODEL, "element '%s' has no id", local(el));
    if ((rc = fl__bpmn_claim_id(p->rd, el, id)) < 0) {
        free(id);
        return rc;
    }
    fl_grow(&m->nodes, &p->cap_nodes, m->n_nodes + 1, sizeof(*m->nodes));
    if (p->cap_nodes != cap)
        p->node_xml = fl_reallocarray(p->node_xml, p->cap_nodes, sizeof(*p->node_xml));
    n = &m->nodes[m->n_nodes];
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->id = id;
    n->name = fl__bpmn_attr(el, "name", NULL);
    n->documentation = documentation_of(el);
    n->default_flow = FL_NONE;
    n->attached_to = FL_NONE;
    n->job_retries = 3;
    n->scope = scope;
    n->sub_start = FL_NONE;
    n->compensation = FL_NONE;
    n->interrupting = true;
    n->transaction = !strcmp(local(el), "transaction");
    n->for_compensation = attr_true(el, "isForCompensation");
    n->async_before = attr_true(el, "asyncBefore") || attr_true(el, "asyncAfter");
    if (!strcmp(local(el), "startEvent")) {
        xmlChar *v = xmlGetNoNsProp(el, (const xmlChar *)"isInterrupting");
        n->interrupting = !(v && !strcmp((const char *)v, "false"));
        xmlFree(v);
    }
    fl__bpmn_node_pos(p->rd, el, &n->line, &n->column);
    p->node_xml[m->n_nodes] = el;
    m->n_nodes++;
    xmlHashAddEntry(p->node_ix, (const xmlChar *)id, (void *)(uintptr_t)m->n_nodes);
    return fl__bpmn_read_node_details(p, el, n);
}

/* flowd's elements belong on tasks; elsewhere (process, flows) they are a mistake, except
 * control points on the process (set at start), read by read_process_controls. */
static int reject_flowd_ext(struct fl__bpmn_proc *p, const xmlNode *el, const char *id)
{
    const xmlNode *c, *x;
    bool process = el == p->xml;
    for (c = el->children; c; c = c->next) {
        if (!fl__bpmn_is(c, FL__NS_BPMN, "extensionElements"))
            continue;
        for (x = c->children; x; x = x->next)
            if (fl__bpmn_in_ns(x, FL_BPMN_NS_FLOWD) &&
                !(process && fl__bpmn_is(x, FL_BPMN_NS_FLOWD, "controlPoint")))
                return fl__bpmn_fail(p->rd, x, FL_EMODEL, "flowd:%s is not allowed on %s '%s'",
                                     local(x), local(el), id);
    }
    return 0;
}

static int add_flow(struct fl__bpmn_proc *p, xmlNode *el, uint32_t scope)
{
    struct fl_model *m = p->m;
    struct fl_flow *f;
    size_t cap = p->cap_flows;
    char *id;
    int rc;
    if (!(id = fl__bpmn_id(el))) {
        /* ids are optional in the BPMN schema and Camunda 7 tests omit them on flows;
         * '@' cannot occur in an XML id, so the made-up one never collides */
        char tmp[64];
        int line, col;
        fl__bpmn_node_pos(p->rd, el, &line, &col);
        snprintf(tmp, sizeof(tmp), "sequenceFlow@%d:%d", line, col);
        id = fl_strdup(tmp);
    } else if ((rc = fl__bpmn_claim_id(p->rd, el, id)) < 0) {
        free(id);
        return rc;
    }
    fl_grow(&m->flows, &p->cap_flows, m->n_flows + 1, sizeof(*m->flows));
    if (p->cap_flows != cap) {
        p->flow_xml = fl_reallocarray(p->flow_xml, p->cap_flows, sizeof(*p->flow_xml));
        p->flow_scope = fl_reallocarray(p->flow_scope, p->cap_flows, sizeof(*p->flow_scope));
    }
    p->flow_scope[m->n_flows] = scope;
    f = &m->flows[m->n_flows];
    memset(f, 0, sizeof(*f));
    f->id = id;
    f->name = fl__bpmn_attr(el, "name", NULL);
    f->source = f->target = FL_NONE;
    fl__bpmn_node_pos(p->rd, el, &f->line, &f->column);
    p->flow_xml[m->n_flows] = el;
    m->n_flows++;
    xmlHashAddEntry(p->flow_ix, (const xmlChar *)id, (void *)(uintptr_t)m->n_flows);
    return reject_flowd_ext(p, el, id);
}

/* Resolve sourceRef or targetRef of flow f into a node index. */
static int resolve_end(struct fl__bpmn_proc *p, xmlNode *el, const struct fl_flow *f,
                       const char *attr, uint32_t *out)
{
    char *ref = fl__bpmn_attr(el, attr, NULL);
    void *ix;
    int rc = 0;
    if (!ref || !ref[0]) {
        rc = fl__bpmn_fail(p->rd, el, FL_EMODEL, "sequence flow '%s' has no %s", f->id, attr);
        goto out;
    }
    ix = xmlHashLookup(p->node_ix, (const xmlChar *)ref);
    if (ix) {
        *out = (uint32_t)((uintptr_t)ix - 1);
        goto out;
    }
    if (xmlHashLookup(p->ignored, (const xmlChar *)ref))
        rc = fl__bpmn_fail_attr(p->rd, el, attr, FL_EMODEL,
                                "sequence flow '%s' has %s '%s', which is not a flow node", f->id,
                                attr, ref);
    else
        rc = fl__bpmn_fail_attr(p->rd, el, attr, FL_EMODEL,
                                "sequence flow '%s' has %s '%s', which is not an element "
                                "of process '%s'",
                                f->id, attr, ref, p->m->key);
out:
    free(ref);
    return rc;
}

/* Read and compile the conditionExpression of flow f, if any: FEEL ("=expr" or bare) or
 * JUEL ("${...}", translated). The condition's own language attribute must name one of
 * them; the document's expressionLanguage is only a default, which Camunda 7 ignores
 * too (bpmn.io writes XPath there), so the text decides when it names another. */
static int read_condition(struct fl__bpmn_proc *p, xmlNode *el, struct fl_flow *f)
{
    xmlNode *c, *ce = NULL;
    char *lang = NULL, *text = NULL, *bad = NULL;
    int rc = 0;
    for (c = el->children; c; c = c->next)
        if (fl__bpmn_is(c, FL__NS_BPMN, "conditionExpression"))
            ce = c;
    if (!ce)
        return 0;
    lang = fl__bpmn_attr(ce, "language", NULL);
    if (lang && !fl__bpmn_lang_is_feel(lang) && !fl__bpmn_lang_is_juel(lang))
        bad = lang;
    if (bad) {
        rc = fl__bpmn_fail_attr(p->rd, ce, "language", FL_EUNSUPPORTED,
                                "condition of sequence flow '%s' is in language '%s'; flowd "
                                "runs FEEL and simple JUEL",
                                f->id, bad);
        fl_error_at(p->rd->err, f->id, p->rd->err->line, p->rd->err->column);
        goto out;
    }
    text = fl__bpmn_text(ce);
    rc = fl__bpmn_compile(p, ce, NULL, text, f->id, "condition", &f->condition);
    if (rc == FL_EMODEL && !lang && p->rd->expr_lang && !fl__bpmn_lang_is_feel(p->rd->expr_lang) &&
        !fl__bpmn_lang_is_juel(p->rd->expr_lang)) {
        /* it was written in the document's language after all: say that, not "syntax" */
        char why[sizeof(p->rd->err->msg)];
        snprintf(why, sizeof(why), "%s", p->rd->err->msg);
        rc = fl_error_set(p->rd->err, FL_EUNSUPPORTED,
                          "condition of sequence flow '%s' is not FEEL or JUEL (the document's "
                          "expressionLanguage is '%.100s'; %.300s)",
                          f->id, p->rd->expr_lang, why);
    }
out:
    free(lang);
    free(text);
    return rc;
}

/* Attach the flows to their nodes: incoming/outgoing lists in document order. */
static void wire_flows(struct fl_model *m)
{
    size_t i;
    for (i = 0; i < m->n_flows; i++) {
        m->nodes[m->flows[i].source].n_outgoing++;
        m->nodes[m->flows[i].target].n_incoming++;
    }
    for (i = 0; i < m->n_nodes; i++) {
        struct fl_node *n = &m->nodes[i];
        n->outgoing = fl_calloc(n->n_outgoing ? n->n_outgoing : 1, sizeof(uint32_t));
        n->incoming = fl_calloc(n->n_incoming ? n->n_incoming : 1, sizeof(uint32_t));
        n->n_outgoing = n->n_incoming = 0;
    }
    for (i = 0; i < m->n_flows; i++) {
        struct fl_node *s = &m->nodes[m->flows[i].source], *t = &m->nodes[m->flows[i].target];
        s->outgoing[s->n_outgoing++] = (uint32_t)i;
        t->incoming[t->n_incoming++] = (uint32_t)i;
    }
}

/* The default attribute of node i, checked to be one of its outgoing flows. */
static int resolve_default(struct fl__bpmn_proc *p, uint32_t i)
{
    struct fl_node *n = &p->m->nodes[i];
    xmlNode *el = p->node_xml[i];
    char *def = fl__bpmn_attr(el, "default", NULL);
    void *ix;
    uint32_t k;
    int rc = 0;
    if (!def || !def[0])
        goto out;
    ix = xmlHashLookup(p->flow_ix, (const xmlChar *)def);
    if (!ix) {
        rc = fl__bpmn_fail_attr(p->rd, el, "default", FL_EMODEL,
                                "default flow '%s' of %s '%s' is not a sequence flow of "
                                "process '%s'",
                                def, local(el), n->id, p->m->key);
        goto out;
    }
    k = (uint32_t)((uintptr_t)ix - 1);
    if (p->m->flows[k].source != i) {
        rc = fl__bpmn_fail_attr(p->rd, el, "default", FL_EMODEL,
                                "default flow '%s' of %s '%s' is not one of its outgoing "
                                "flows",
                                def, local(el), n->id);
        goto out;
    }
    n->default_flow = k;
out:
    free(def);
    return rc;
}

/* Lanes, recursively through childLaneSet: the innermost lane holding a node names it. */
static int read_lanes(struct fl__bpmn_proc *p, xmlNode *lane_set, int depth, int *node_depth)
{
    xmlNode *lane, *c;
    int rc;
    if (depth > 64)
        return fl__bpmn_fail(p->rd, lane_set, FL_EMODEL, "lanes nested too deeply");
    for (lane = lane_set->children; lane; lane = lane->next) {
        char *id, *name;
        if (!fl__bpmn_is(lane, FL__NS_BPMN, "lane"))
            continue;
        if (!(id = fl__bpmn_id(lane)))
            return fl__bpmn_fail(p->rd, lane, FL_EMODEL, "element 'lane' has no id");
        if ((rc = fl__bpmn_claim_id(p->rd, lane, id)) < 0) {
            free(id);
            return rc;
        }
        name = fl__bpmn_attr(lane, "name", NULL);
        if (!name || !name[0]) {
            free(name);
            name = fl_strdup(id);
        }
        for (c = lane->children; c; c = c->next) {
            char *ref;
            void *ix;
            uint32_t k;
            if (fl__bpmn_is(c, FL__NS_BPMN, "childLaneSet")) {
                if ((rc = read_lanes(p, c, depth + 1, node_depth)) < 0)
                    goto lane_fail;
                continue;
            }
            if (!fl__bpmn_is(c, FL__NS_BPMN, "flowNodeRef"))
                continue;
            ref = fl__bpmn_text(c);
            ix = xmlHashLookup(p->node_ix, (const xmlChar *)ref);
            if (!ix) {
                if (!xmlHashLookup(p->ignored, (const xmlChar *)ref)) {
                    rc = fl__bpmn_fail(p->rd, c, FL_EMODEL,
                                       "lane '%s' refers to '%s', which is not a flow node of "
                                       "process '%s'",
                                       id, ref, p->m->key);
                    fl_error_at(p->rd->err, id, p->rd->err->line, p->rd->err->column);
                    free(ref);
                    goto lane_fail;
                }
                free(ref);
                continue;
            }
            free(ref);
            k = (uint32_t)((uintptr_t)ix - 1);
            if (node_depth[k] < depth + 1) {
                free(p->m->nodes[k].lane);
                p->m->nodes[k].lane = fl_strdup(name);
                node_depth[k] = depth + 1;
            }
        }
        free(id);
        free(name);
        continue;
    lane_fail:
        free(id);
        free(name);
        return rc;
    }
    return 0;
}

/* Pass 1: nodes, flows (unresolved), ignored elements, in document order and depth
 * first: the children of a subprocess follow it, with their scope set to it. */
static int read_children(struct fl__bpmn_proc *p, xmlNode *container, uint32_t scope, int depth)
{
    xmlNode *c;
    int rc;
    if (depth > 32)
        return fl__bpmn_fail(p->rd, container, FL_EMODEL, "subprocesses nested more than 32 deep");
    for (c = container->children; c; c = c->next) {
        enum fl__bpmn_child kind = fl__bpmn_child_kind(c);
        if (kind == FL__BPMN_CHILD_FLOW) {
            if ((rc = add_flow(p, c, scope)) < 0)
                return rc;
        } else if (kind == FL__BPMN_CHILD_IGNORED) {
            xmlChar *id = xmlGetNoNsProp(c, (const xmlChar *)"id");
            if (id)
                xmlHashAddEntry(p->ignored, id, (void *)1);
            xmlFree(id);
            if (!strcmp(local(c), "association")) {
                fl_grow(&p->assocs, &p->cap_assocs, p->n_assocs + 1, sizeof(*p->assocs));
                p->assocs[p->n_assocs++] = c;
            }
        } else if (kind == FL__BPMN_CHILD_NODE) {
            uint32_t self = (uint32_t)p->m->n_nodes;
            enum fl_node_kind k;
            if ((rc = add_node(p, c, scope)) < 0)
                return rc;
            k = p->m->nodes[self].kind;
            if ((k == FL_NODE_SUB_PROCESS || k == FL_NODE_EVENT_SUB_PROCESS) &&
                (rc = read_children(p, c, self, depth + 1)) < 0)
                return rc;
        }
    }
    return 0;
}

int fl__bpmn_read_process(struct fl__bpmn_reader *rd, xmlNode *proc, bool warn_not_exec,
                          struct fl_model **out)
{
    struct fl__bpmn_proc p;
    struct fl_model *m;
    xmlNode *c;
    int *node_depth = NULL;
    size_t i;
    int rc;

    memset(&p, 0, sizeof(p));
    p.rd = rd;
    p.xml = proc;
    p.m = m = fl_calloc(1, sizeof(*m));
    m->start = FL_NONE;
    p.node_ix = xmlHashCreate(32);
    p.flow_ix = xmlHashCreate(32);
    p.ignored = xmlHashCreate(8);
    *out = NULL;

    if (!(m->key = fl__bpmn_id(proc))) {
        rc = fl__bpmn_fail(rd, proc, FL_EMODEL, "process has no id");
        goto out;
    }
    if ((rc = fl__bpmn_claim_id(rd, proc, m->key)) < 0)
        goto out;
    m->name = fl__bpmn_attr(proc, "name", NULL);
    m->documentation = documentation_of(proc);
    if (warn_not_exec)
        fl__bpmn_warn(&p, proc,
                      "process '%s' is not marked isExecutable=\"true\"; it was read anyway",
                      m->key);
    if ((rc = reject_flowd_ext(&p, proc, m->key)) < 0 ||
        (rc = read_children(&p, proc, FL_NONE, 0)) < 0 || (rc = fl__bpmn_attach_boundaries(&p)) < 0)
        goto out;
    for (c = proc->children; c; c = c->next)
        if (fl__bpmn_is(c, FL__NS_BPMN, "extensionElements") &&
            (rc = fl__bpmn_read_controls(&p, c, m->key, NULL, &m->controls, &m->n_controls)) < 0)
            goto out;
    for (i = 0; i < m->n_flows; i++) {
        struct fl_flow *f = &m->flows[i];
        if ((rc = resolve_end(&p, p.flow_xml[i], f, "sourceRef", &f->source)) < 0 ||
            (rc = resolve_end(&p, p.flow_xml[i], f, "targetRef", &f->target)) < 0 ||
            (rc = read_condition(&p, p.flow_xml[i], f)) < 0)
            goto out;
    }
    wire_flows(m);
    for (i = 0; i < m->n_nodes; i++)
        if ((rc = resolve_default(&p, (uint32_t)i)) < 0)
            goto out;
    if ((rc = fl__bpmn_resolve_events(&p)) < 0)
        goto out;
    fl__bpmn_fill_scopes(&p);
    node_depth = fl_calloc(m->n_nodes ? m->n_nodes : 1, sizeof(int));
    for (c = proc->children; c; c = c->next)
        if (fl__bpmn_is(c, FL__NS_BPMN, "laneSet") && (rc = read_lanes(&p, c, 0, node_depth)) < 0)
            goto out;
    if ((rc = fl__bpmn_validate(&p)) < 0)
        goto out;
    *out = m;
    m = NULL;
out:
    free(node_depth);
    fl_model_free(m);
    free(p.node_xml);
    free(p.flow_xml);
    free(p.flow_scope);
    free(p.assocs);
    xmlHashFree(p.node_ix, NULL);
    xmlHashFree(p.flow_ix, NULL);
    xmlHashFree(p.ignored, NULL);
    return rc;
}
