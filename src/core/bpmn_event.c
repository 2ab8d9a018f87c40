/* Event definitions in the BPMN reader: which node kind an event element becomes (by its
 * single event definition, inline or through eventDefinitionRef), and what the definition
 * says -- message and signal names, error and escalation codes (resolved through the
 * root elements messageRef, signalRef, errorRef and escalationRef name), conditions, link
 * names, compensation targets. Links and compensation are resolved once every node is
 * read. Whether the engine runs a definition is the gate's business, not this file's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "flowd/alloc.h"

static const char *local(const xmlNode *n)
{
    return (const char *)n->name;
}

/* Event definition names, with two pseudo triggers for the definitions that are not an
 * fl_trigger (timer and terminate have node kinds of their own). */
enum { DEF_TIMER = 100, DEF_TERMINATE, DEF_UNKNOWN };

static int def_trigger(const char *name)
{
    static const struct {
        const char *name;
        int trigger;
    } defs[] = {
        {"messageEventDefinition", FL_TRIGGER_MESSAGE},
        {"signalEventDefinition", FL_TRIGGER_SIGNAL},
        {"errorEventDefinition", FL_TRIGGER_ERROR},
        {"escalationEventDefinition", FL_TRIGGER_ESCALATION},
        {"conditionalEventDefinition", FL_TRIGGER_CONDITIONAL},
        {"linkEventDefinition", FL_TRIGGER_LINK},
        {"compensateEventDefinition", FL_TRIGGER_COMPENSATE},
        {"cancelEventDefinition", FL_TRIGGER_CANCEL},
        {"timerEventDefinition", DEF_TIMER},
        {"terminateEventDefinition", DEF_TERMINATE},
    };
    if (!name)
        return FL_TRIGGER_NONE;
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
        if (!strcmp(name, defs[i].name))
            return defs[i].trigger;
    return DEF_UNKNOWN;
}

static bool is_definition(const xmlNode *c)
{
    size_t l;
    if (!fl__bpmn_in_ns(c, FL__NS_BPMN))
        return false;
    l = strlen(local(c));
    return l > 15 && !strcmp(local(c) + l - 15, "EventDefinition");
}

xmlNode *fl__bpmn_root_ref(struct fl__bpmn_reader *rd, const char *name, const char *id)
{
    xmlNode *root = xmlDocGetRootElement(rd->doc), *c;
    const char *colon;
    if (!id || !id[0])
        return NULL;
    for (int pass = 0; pass < 2; pass++) {
        for (c = root ? root->children : NULL; c; c = c->next) {
            xmlChar *cid;
            bool hit;
            if (!fl__bpmn_in_ns(c, FL__NS_BPMN))
                continue;
            if (name ? strcmp(local(c), name) != 0 : !is_definition(c))
                continue;
            cid = xmlGetNoNsProp(c, (const xmlChar *)"id");
            hit = cid && !strcmp((const char *)cid, id);
            xmlFree(cid);
            if (hit)
                return c;
        }
        /* a QName reference "tns:Message_1": some modelers prefix the id */
        if (!(colon = strchr(id, ':')))
            break;
        id = colon + 1;
    }
    return NULL;
}

const xmlNode *fl__bpmn_event_def(struct fl__bpmn_proc *p, const xmlNode *el, int *n)
{
    const xmlNode *c, *found = NULL;
    *n = 0;
    for (c = el->children; c; c = c->next) {
        const xmlNode *d = NULL;
        if (is_definition(c)) {
            d = c;
        } else if (fl__bpmn_is(c, FL__NS_BPMN, "eventDefinitionRef")) {
            char *ref = fl__bpmn_text(c);
            d = fl__bpmn_root_ref(p->rd, NULL, ref);
            free(ref);
            if (!d)
                d = c; /* the caller reports the dangling reference at it */
        }
        if (!d)
            continue;
        if (!found)
            found = d;
        (*n)++;
    }
    return found;
}

static int bad_def(struct fl__bpmn_proc *p, const xmlNode *el, const xmlNode *def, int code,
                   const char *why)
{
    char *id = fl__bpmn_id(el);
    int rc = fl__bpmn_fail(p->rd, def ? def : el, code, "%s '%s'%s%s%s", local(el), id ? id : "",
                           def ? " has a " : "", def ? local(def) : "", why);
    if (def && id)
        fl_error_at(p->rd->err, id, p->rd->err->line, p->rd->err->column);
    free(id);
    return rc;
}

int fl__bpmn_event_kind(struct fl__bpmn_proc *p, const xmlNode *el, enum fl_node_kind *k)
{
    const char *name = local(el);
    const xmlNode *def;
    int ndef, t;

    def = fl__bpmn_event_def(p, el, &ndef);
    if (ndef > 1)
        return bad_def(p, el, NULL, FL_EUNSUPPORTED,
                       " has several event definitions (a multiple event); flowd runs events "
                       "with one definition");
    if (def && fl__bpmn_is(def, FL__NS_BPMN, "eventDefinitionRef")) {
        char *ref = fl__bpmn_text(def), *id = fl__bpmn_id(el);
        int rc = fl__bpmn_fail(p->rd, def, FL_EMODEL,
                               "eventDefinitionRef '%s' of '%s' names no event definition of "
                               "the document",
                               ref, id ? id : "");
        free(ref);
        free(id);
        return rc;
    }
    t = def_trigger(def ? local(def) : NULL);
    if (t == DEF_UNKNOWN)
        return bad_def(p, el, def, FL_EUNSUPPORTED, ", which flowd does not know");
    if (!strcmp(name, "startEvent")) {
        if (t == FL_TRIGGER_NONE)
            *k = FL_NODE_START_EVENT;
        else if (t == DEF_TIMER)
            *k = FL_NODE_TIMER_START;
        else if (t == FL_TRIGGER_MESSAGE || t == FL_TRIGGER_SIGNAL || t == FL_TRIGGER_ERROR ||
                 t == FL_TRIGGER_ESCALATION || t == FL_TRIGGER_CONDITIONAL ||
                 t == FL_TRIGGER_COMPENSATE)
            *k = FL_NODE_EVENT_START;
        else
            return bad_def(p, el, def, FL_EMODEL, ", which BPMN does not allow on a start event");
    } else if (!strcmp(name, "endEvent")) {
        if (t == FL_TRIGGER_NONE)
            *k = FL_NODE_END_EVENT;
        else if (t == DEF_TERMINATE)
            *k = FL_NODE_TERMINATE_END;
        else if (t == FL_TRIGGER_MESSAGE || t == FL_TRIGGER_SIGNAL || t == FL_TRIGGER_ERROR ||
                 t == FL_TRIGGER_ESCALATION || t == FL_TRIGGER_CANCEL || t == FL_TRIGGER_COMPENSATE)
            *k = FL_NODE_EVENT_END;
        else
            return bad_def(p, el, def, FL_EMODEL, ", which BPMN does not allow on an end event");
    } else if (!strcmp(name, "intermediateCatchEvent")) {
        if (t == DEF_TIMER)
            *k = FL_NODE_TIMER_CATCH;
        else if (t == FL_TRIGGER_MESSAGE || t == FL_TRIGGER_SIGNAL || t == FL_TRIGGER_LINK ||
                 t == FL_TRIGGER_CONDITIONAL)
            *k = FL_NODE_CATCH_EVENT;
        else if (t == FL_TRIGGER_NONE)
            return bad_def(p, el, NULL, FL_EMODEL,
                           " has no event definition; an intermediate catch event waits for a "
                           "message, signal, timer, condition or link");
        else
            return bad_def(p, el, def, FL_EMODEL,
                           ", which BPMN does not allow on an intermediate catch event");
    } else if (!strcmp(name, "intermediateThrowEvent")) {
        if (t == FL_TRIGGER_NONE || t == FL_TRIGGER_MESSAGE || t == FL_TRIGGER_SIGNAL ||
            t == FL_TRIGGER_ESCALATION || t == FL_TRIGGER_LINK || t == FL_TRIGGER_COMPENSATE)
            *k = FL_NODE_THROW_EVENT;
        else
            return bad_def(p, el, def, FL_EMODEL,
                           ", which BPMN does not allow on an intermediate throw event");
    } else { /* boundaryEvent */
        if (t == DEF_TIMER)
            *k = FL_NODE_TIMER_BOUNDARY;
        else if (t == FL_TRIGGER_MESSAGE || t == FL_TRIGGER_SIGNAL || t == FL_TRIGGER_ERROR ||
                 t == FL_TRIGGER_ESCALATION || t == FL_TRIGGER_CONDITIONAL ||
                 t == FL_TRIGGER_COMPENSATE || t == FL_TRIGGER_CANCEL)
            *k = FL_NODE_BOUNDARY_EVENT;
        else if (t == FL_TRIGGER_NONE)
            return bad_def(p, el, NULL, FL_EMODEL,
                           " has no event definition; a boundary event waits for a message, "
                           "signal, timer, error, escalation, condition, compensation or cancel");
        else
            return bad_def(p, el, def, FL_EMODEL,
                           ", which BPMN does not allow on a boundary event");
    }
    return 0;
}

/* The root element a reference attribute of def names (messageRef -> bpmn:message...);
 * *root NULL when the attribute is absent, an error when it names nothing. */
static int follow_ref(struct fl__bpmn_proc *p, const xmlNode *def, const char *attr,
                      const char *kind, const char *owner, xmlNode **root)
{
    char *ref = fl__bpmn_attr(def, attr, NULL);
    int rc = 0;
    *root = NULL;
    if (ref && ref[0] && !(*root = fl__bpmn_root_ref(p->rd, kind, ref))) {
        rc = fl__bpmn_fail_attr(p->rd, def, attr, FL_EMODEL,
                                "%s '%s' of '%s' names no %s of the document", attr, ref, owner,
                                kind);
        fl_error_at(p->rd->err, owner, p->rd->err->line, p->rd->err->column);
    }
    free(ref);
    return rc;
}

/* errorRef / escalationRef: the root element, or -- as Camunda 7 reads a reference that
 * names no element -- the reference itself taken as the code, with a warning. */
static void ref_or_code(struct fl__bpmn_proc *p, const xmlNode *def, const char *attr,
                        const char *kind, const char *owner, xmlNode **root, char **code)
{
    char *ref = fl__bpmn_attr(def, attr, NULL);
    *root = NULL;
    if (ref && ref[0] && !(*root = fl__bpmn_root_ref(p->rd, kind, ref))) {
        fl__bpmn_warn(p, def,
                      "%s '%s' of '%s' names no %s of the document; it is taken as the "
                      "%s code",
                      attr, ref, owner, kind, kind);
        *code = ref;
        return;
    }
    free(ref);
}

/* A message's name and (Camunda 8) subscription correlation key. */
static int read_message(struct fl__bpmn_proc *p, const xmlNode *at, struct fl_node *n)
{
    struct fl_event_def *e = n->event;
    xmlNode *msg = NULL, *c, *x;
    char *v = NULL;
    int rc;
    if ((rc = follow_ref(p, at, "messageRef", "message", n->id, &msg)) < 0 || !msg)
        return rc;
    if ((v = fl__bpmn_attr(msg, "name", NULL)) && v[0])
        rc = fl__bpmn_value(p, msg, "name", v, n->id, "message name", &e->name);
    free(v);
    if (rc < 0)
        return rc;
    for (c = msg->children; c; c = c->next) {
        if (!fl__bpmn_is(c, FL__NS_BPMN, "extensionElements"))
            continue;
        for (x = c->children; x; x = x->next) {
            if (!fl__bpmn_is(x, FL__NS_ZEEBE, "subscription"))
                continue;
            v = fl__bpmn_attr(x, "correlationKey", NULL);
            free(e->correlation_key);
            e->correlation_key = NULL;
            if (v && v[0])
                rc = fl__bpmn_value(p, x, "correlationKey", v, n->id, "correlation key",
                                    &e->correlation_key);
            free(v);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* The root element's attribute as a fresh string (NULL when empty or absent). */
static char *root_attr(const xmlNode *root, const char *name, const char *ns)
{
    char *v = root ? fl__bpmn_attr(root, name, ns) : NULL;
    if (v && !v[0]) {
        free(v);
        v = NULL;
    }
    return v;
}

static int read_condition(struct fl__bpmn_proc *p, const xmlNode *def, struct fl_node *n)
{
    const xmlNode *c;
    char *text, *lang;
    int rc;
    for (c = def->children; c; c = c->next)
        if (fl__bpmn_is(c, FL__NS_BPMN, "condition"))
            break;
    if (!c)
        return fl__bpmn_fail(p->rd, def, FL_EMODEL, "conditional event '%s' has no condition",
                             n->id);
    lang = fl__bpmn_attr(c, "language", NULL);
    if (lang && !fl__bpmn_lang_is_feel(lang) && !fl__bpmn_lang_is_juel(lang)) {
        rc = fl__bpmn_fail_attr(p->rd, c, "language", FL_EUNSUPPORTED,
                                "condition of '%s' is in language '%s'; flowd runs FEEL and "
                                "simple JUEL",
                                n->id, lang);
        fl_error_at(p->rd->err, n->id, p->rd->err->line, p->rd->err->column);
        free(lang);
        return rc;
    }
    free(lang);
    text = fl__bpmn_text(c);
    rc = fl__bpmn_compile(p, c, NULL, text, n->id, "condition", &n->event->condition);
    free(text);
    return rc;
}

int fl__bpmn_read_event(struct fl__bpmn_proc *p, xmlNode *el, struct fl_node *n)
{
    struct fl_event_def *e;
    const xmlNode *def = NULL;
    xmlNode *root = NULL;
    char *v;
    int ndef, rc = 0;

    e = n->event = fl_calloc(1, sizeof(*n->event));
    e->activity_ref = FL_NONE;
    e->link_target = FL_NONE;
    e->wait_for_completion = true;
    if (n->kind == FL_NODE_RECEIVE_TASK || n->kind == FL_NODE_SEND_TASK) {
        e->trigger = FL_TRIGGER_MESSAGE;
        return read_message(p, el, n);
    }
    def = fl__bpmn_event_def(p, el, &ndef);
    e->trigger = def ? (enum fl_trigger)def_trigger(local(def)) : FL_TRIGGER_NONE;
    switch (e->trigger) {
    case FL_TRIGGER_MESSAGE:
        rc = read_message(p, def, n);
        break;
    case FL_TRIGGER_SIGNAL:
        if ((rc = follow_ref(p, def, "signalRef", "signal", n->id, &root)) == 0 &&
            (v = root_attr(root, "name", NULL))) {
            rc = fl__bpmn_value(p, root, "name", v, n->id, "signal name", &e->name);
            free(v);
        }
        break;
    case FL_TRIGGER_ERROR:
        ref_or_code(p, def, "errorRef", "error", n->id, &root, &e->name);
        if (root)
            e->name = root_attr(root, "errorCode", NULL);
        e->message = root_attr(root, "errorMessage", FL__NS_CAMUNDA);
        if (!e->message)
            e->message = root_attr(root, "name", NULL);
        e->code_variable = root_attr(def, "errorCodeVariable", FL__NS_CAMUNDA);
        e->message_variable = root_attr(def, "errorMessageVariable", FL__NS_CAMUNDA);
        break;
    case FL_TRIGGER_ESCALATION:
        ref_or_code(p, def, "escalationRef", "escalation", n->id, &root, &e->name);
        if (root)
            e->name = root_attr(root, "escalationCode", NULL);
        e->message = root_attr(root, "name", NULL);
        break;
    case FL_TRIGGER_CONDITIONAL:
        rc = read_condition(p, def, n);
        break;
    case FL_TRIGGER_LINK:
        if (!(e->name = root_attr(def, "name", NULL)))
            rc = fl__bpmn_fail(p->rd, def, FL_EMODEL,
                               "link event '%s' has no name; a link throw and its catch are "
                               "paired by name",
                               n->id);
        break;
    case FL_TRIGGER_COMPENSATE:
        v = fl__bpmn_attr(def, "waitForCompletion", NULL);
        e->wait_for_completion = !(v && !strcmp(v, "false"));
        free(v);
        break;
    case FL_TRIGGER_NONE:
    case FL_TRIGGER_CANCEL:
        break;
    }
    if (rc < 0)
        return rc;
    if (n->kind == FL_NODE_BOUNDARY_EVENT) {
        v = fl__bpmn_attr(el, "cancelActivity", NULL);
        /* BPMN: error and cancel boundary events always interrupt */
        n->cancel_activity = !(v && !strcmp(v, "false")) || e->trigger == FL_TRIGGER_ERROR ||
                             e->trigger == FL_TRIGGER_CANCEL;
        if (v && strcmp(v, "false") && strcmp(v, "true"))
            rc = fl__bpmn_fail_attr(p->rd, el, "cancelActivity", FL_EMODEL,
                                    "cancelActivity of '%s' is '%s'; give true or false", n->id, v);
        free(v);
    }
    return rc;
}

/* A link throw goes to the catch link event of the same name in the same scope. */
static int resolve_link(struct fl__bpmn_proc *p, uint32_t i)
{
    struct fl_model *m = p->m;
    struct fl_node *n = &m->nodes[i];
    uint32_t found = FL_NONE;
    for (size_t k = 0; k < m->n_nodes; k++) {
        const struct fl_node *c = &m->nodes[k];
        if (c->kind != FL_NODE_CATCH_EVENT || c->event->trigger != FL_TRIGGER_LINK ||
            c->scope != n->scope || strcmp(c->event->name, n->event->name))
            continue;
        if (found != FL_NONE)
            return fl__bpmn_fail(p->rd, p->node_xml[k], FL_EMODEL,
                                 "link catch events '%s' and '%s' share the name '%s' in one "
                                 "scope; link throw '%s' cannot choose",
                                 m->nodes[found].id, c->id, c->event->name, n->id);
        found = (uint32_t)k;
    }
    if (found == FL_NONE)
        return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                             "link throw event '%s' goes to link '%s', but no intermediate catch "
                             "event of that link name is in the same scope",
                             n->id, n->event->name);
    n->event->link_target = found;
    return 0;
}

/* compensate activityRef: an activity of the same scope (or, from an event subprocess,
 * of the scope around it). */
static int resolve_compensate_ref(struct fl__bpmn_proc *p, uint32_t i)
{
    struct fl_model *m = p->m;
    struct fl_node *n = &m->nodes[i];
    const xmlNode *def;
    void *ix;
    char *ref;
    int ndef, rc = 0;
    def = fl__bpmn_event_def(p, p->node_xml[i], &ndef);
    ref = def ? fl__bpmn_attr(def, "activityRef", NULL) : NULL;
    if (!ref || !ref[0])
        goto out;
    ix = xmlHashLookup(p->node_ix, (const xmlChar *)ref);
    if (!ix) {
        rc = fl__bpmn_fail_attr(p->rd, def, "activityRef", FL_EMODEL,
                                "activityRef '%s' of compensation event '%s' is not a flow node "
                                "of process '%s'",
                                ref, n->id, m->key);
        goto out;
    }
    n->event->activity_ref = (uint32_t)((uintptr_t)ix - 1);
    {
        uint32_t s = n->scope;
        uint32_t t = m->nodes[n->event->activity_ref].scope;
        if (t != s && !(s != FL_NONE && m->nodes[s].kind == FL_NODE_EVENT_SUB_PROCESS &&
                        m->nodes[s].scope == t))
            rc = fl__bpmn_fail_attr(p->rd, def, "activityRef", FL_EMODEL,
                                    "compensation event '%s' compensates '%s', which is not in "
                                    "its scope",
                                    n->id, ref);
    }
out:
    if (rc < 0)
        fl_error_at(p->rd->err, n->id, p->rd->err->line, p->rd->err->column);
    free(ref);
    return rc;
}

/* The handler of a compensation boundary event: the activity an association links it to. */
static int resolve_handler(struct fl__bpmn_proc *p, uint32_t i)
{
    struct fl_model *m = p->m;
    struct fl_node *n = &m->nodes[i];
    uint32_t handler = FL_NONE;
    for (size_t a = 0; a < p->n_assocs && handler == FL_NONE; a++) {
        char *src = fl__bpmn_attr(p->assocs[a], "sourceRef", NULL);
        char *dst = fl__bpmn_attr(p->assocs[a], "targetRef", NULL);
        const char *other = NULL;
        if (src && !strcmp(src, n->id))
            other = dst;
        else if (dst && !strcmp(dst, n->id)) /* some tools draw it backwards */
            other = src;
        if (other) {
            void *ix = xmlHashLookup(p->node_ix, (const xmlChar *)other);
            if (ix)
                handler = (uint32_t)((uintptr_t)ix - 1);
        }
        free(src);
        free(dst);
    }
    if (handler == FL_NONE)
        return fl__bpmn_fail(p->rd, p->node_xml[i], FL_EMODEL,
                             "compensation boundary event '%s' has no association to its "
                             "compensation handler",
                             n->id);
    if (!m->nodes[handler].for_compensation)
        return fl__bpmn_fail(p->rd, p->node_xml[handler], FL_EMODEL,
                             "'%s' handles the compensation of '%s' but is not marked "
                             "isForCompensation=\"true\"",
                             m->nodes[handler].id, n->id);
    if (n->attached_to != FL_NONE)
        m->nodes[n->attached_to].compensation = handler;
    return 0;
}

int fl__bpmn_resolve_events(struct fl__bpmn_proc *p)
{
    struct fl_model *m = p->m;
    int rc = 0;
    for (size_t i = 0; i < m->n_nodes && rc == 0; i++) {
        const struct fl_node *n = &m->nodes[i];
        if (!n->event)
            continue;
        if (n->kind == FL_NODE_THROW_EVENT && n->event->trigger == FL_TRIGGER_LINK)
            rc = resolve_link(p, (uint32_t)i);
        else if ((n->kind == FL_NODE_THROW_EVENT || n->kind == FL_NODE_EVENT_END) &&
                 n->event->trigger == FL_TRIGGER_COMPENSATE)
            rc = resolve_compensate_ref(p, (uint32_t)i);
        else if (n->kind == FL_NODE_BOUNDARY_EVENT && n->event->trigger == FL_TRIGGER_COMPENSATE)
            rc = resolve_handler(p, (uint32_t)i);
    }
    return rc;
}
