/* Business rule tasks in the BPMN reader: the decision a task without a job type evaluates
 * (Camunda 8's zeebe:calledDecision decisionId and resultVariable; Camunda 7's
 * camunda:decisionRef, camunda:resultVariable and camunda:mapDecisionResult). The decision
 * itself is deployed separately (a DMN document); an unknown one becomes an incident when a
 * token gets there, since decisions may be deployed after the process. */
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "flowd/alloc.h"
#include "flowd/dmn.h"
#include "flowd/feel.h"

static xmlNode *ext_child(xmlNode *ext, const char *ns, const char *local)
{
    for (xmlNode *c = ext ? ext->children : NULL; c; c = c->next)
        if (fl__bpmn_is(c, ns, local))
            return c;
    return NULL;
}

/* A "=expr" decision id must at least compile. */
static int check_expr(struct fl__bpmn_proc *p, xmlNode *at, const char *attr, struct fl_node *n)
{
    int is_expr;
    const char *src = fl_feel_strip(n->decision_ref, &is_expr);
    struct fl_feel_expr *e = NULL;
    struct fl_error fe;
    if (!is_expr)
        return 0;
    fl_error_clear(&fe);
    if (fl_feel_compile(src, strlen(src), &e, &fe) < 0)
        return fl__bpmn_fail_attr(p->rd, at, attr, FL_EMODEL,
                                  "syntax error in the decision of businessRuleTask '%s': %s",
                                  n->id, fe.msg[0] ? fe.msg : "invalid FEEL");
    fl_feel_free(e);
    return 0;
}

int fl__bpmn_read_decision(struct fl__bpmn_proc *p, xmlNode *el, xmlNode *ext, struct fl_node *n)
{
    xmlNode *called = ext_child(ext, FL__NS_ZEEBE, "calledDecision");
    char *binding = NULL;
    int rc = 0;

    if (called) {
        n->decision_ref = fl__bpmn_attr(called, "decisionId", NULL);
        n->result_variable = fl__bpmn_attr(called, "resultVariable", NULL);
        if (!n->decision_ref || !n->decision_ref[0])
            return fl__bpmn_fail(p->rd, called, FL_EMODEL,
                                 "zeebe:calledDecision of businessRuleTask '%s' has no decisionId",
                                 n->id);
        return check_expr(p, called, "decisionId", n);
    }
    n->decision_ref = fl__bpmn_attr(el, "decisionRef", FL__NS_CAMUNDA);
    if (!n->decision_ref || !n->decision_ref[0])
        return fl__bpmn_fail(p->rd, el, FL_EMODEL,
                             "businessRuleTask '%s' has neither a decision (zeebe:calledDecision "
                             "decisionId, camunda:decisionRef) nor a job type",
                             n->id);
    if ((rc = fl__bpmn_reject_juel(p->rd, el, "decisionRef", n->decision_ref)) < 0)
        return rc;
    n->result_variable = fl__bpmn_attr(el, "resultVariable", FL__NS_CAMUNDA);
    n->decision_map = fl__bpmn_attr(el, "mapDecisionResult", FL__NS_CAMUNDA);
    if (n->decision_map) {
        enum fl_dmn_map map;
        if (fl_dmn_map_parse(n->decision_map, &map) < 0)
            return fl__bpmn_fail_attr(p->rd, el, "mapDecisionResult", FL_EMODEL,
                                      "businessRuleTask '%s' has camunda:mapDecisionResult '%s'; "
                                      "expected singleEntry, singleResult, collectEntries or "
                                      "resultList",
                                      n->id, n->decision_map);
    } else {
        /* Camunda 7 without mapDecisionResult gives a resultList */
        n->decision_map = fl_strdup("resultList");
    }
    binding = fl__bpmn_attr(el, "decisionRefBinding", FL__NS_CAMUNDA);
    if (binding && strcmp(binding, "latest"))
        fl__bpmn_warn(p, el,
                      "camunda:decisionRefBinding '%s' of '%s' is ignored: the latest version "
                      "of the decision is evaluated",
                      binding, n->id);
    free(binding);
    return check_expr(p, el, "decisionRef", n);
}
