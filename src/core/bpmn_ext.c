/* What a flow node carries beyond its place in the graph: the stage settings of user
 * tasks (flowd:stage, and the Camunda 7 / Camunda 8 assignment and schedule attributes
 * mapped onto the same fields), the job type of service tasks and the FEEL script of
 * script tasks. flowd's own namespace is checked strictly (unknown elements and
 * attributes are errors, to catch typos); foreign extensions are ignored or, when they
 * would change behaviour, reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "flowd/alloc.h"
#include "flowd/timecalc.h"

static const char *local(const xmlNode *n)
{
    return (const char *)n->name;
}

static xmlNode *child(const xmlNode *el, const char *ns, const char *name)
{
    xmlNode *c;
    for (c = el->children; c; c = c->next)
        if (fl__bpmn_is(c, ns, name))
            return c;
    return NULL;
}

/* Unqualified attributes of a flowd element must be among allowed (NULL-terminated). */
static int check_flowd_attrs(struct fl__bpmn_proc *p, const xmlNode *el, const char *const *allowed)
{
    const xmlAttr *a;
    for (a = el->properties; a; a = a->next) {
        size_t i;
        bool ok = false;
        if (a->ns)
            continue;
        for (i = 0; allowed[i]; i++)
            if (!strcmp((const char *)a->name, allowed[i]))
                ok = true;
        if (!ok)
            return fl__bpmn_fail_attr(p->rd, el, (const char *)a->name, FL_EMODEL,
                                      "unknown attribute '%s' on flowd:%s", a->name, local(el));
    }
    return 0;
}

/* Copy attribute attr of el into *dst (replacing): JUEL translated to "=feel", FEEL
 * checked, a literal kept. */
static int take_attr(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, const char *ns,
                     const char *owner, char **dst)
{
    char *v = fl__bpmn_attr(el, attr, ns);
    int rc;
    if (!v)
        return 0;
    rc = fl__bpmn_value(p, el, attr, v, owner, attr, dst);
    free(v);
    return rc;
}

/* A list attribute: "a, b" split; a Camunda 8 "=expr" kept whole as one item. */
static int take_list(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, const char *ns,
                     const char *owner, struct fl_strlist *l)
{
    char *v = NULL;
    int rc, is_expr;
    if ((rc = take_attr(p, el, attr, ns, owner, &v)) < 0 || !v)
        return rc;
    fl_strlist_release(l); /* a later source replaces an earlier one */
    fl_feel_strip(v, &is_expr);
    if (is_expr) {
        l->items = fl_reallocarray(l->items, l->n + 1, sizeof(*l->items));
        l->items[l->n++] = v;
        return 0;
    }
    fl__bpmn_split_list(v, l);
    free(v);
    return 0;
}

static int take_duration(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr,
                         const char *owner, char **dst)
{
    struct fl_iso_duration d;
    struct fl_error fe;
    char *v = fl__bpmn_attr(el, attr, NULL);
    int rc = 0;
    if (!v)
        return 0;
    fl_error_clear(&fe);
    if (fl_iso_duration_parse(v, &d, &fe) < 0)
        rc = fl__bpmn_fail_attr(p->rd, el, attr, FL_EMODEL,
                                "invalid %s '%s' in flowd:stage of '%s': %s", attr, v, owner,
                                fe.msg[0] ? fe.msg : "not an ISO 8601 duration");
    else if (d.negative)
        rc = fl__bpmn_fail_attr(p->rd, el, attr, FL_EMODEL,
                                "invalid %s '%s' in flowd:stage of '%s': must not be negative",
                                attr, v, owner);
    if (rc < 0) {
        fl_error_at(p->rd->err, owner, p->rd->err->line, p->rd->err->column);
        free(v);
        return rc;
    }
    free(*dst);
    *dst = v;
    return 0;
}

static int read_raci(struct fl__bpmn_proc *p, const xmlNode *el, struct fl_node *n)
{
    static const char *const attrs[] = {"responsible", "accountable", "consulted", "informed",
                                        NULL};
    struct fl_stage *s = n->stage;
    struct fl_strlist acc = {NULL, 0};
    size_t i;
    char *v;
    int rc;
    if ((rc = check_flowd_attrs(p, el, attrs)) < 0)
        return rc;
    /* a repeated flowd:raci replaces the earlier one as a whole */
    fl_strlist_release(&s->responsible);
    fl_strlist_release(&s->consulted);
    fl_strlist_release(&s->informed);
    free(s->accountable);
    s->accountable = NULL;
    v = fl__bpmn_attr(el, "responsible", NULL);
    fl__bpmn_split_list(v, &s->responsible);
    free(v);
    v = fl__bpmn_attr(el, "consulted", NULL);
    fl__bpmn_split_list(v, &s->consulted);
    free(v);
    v = fl__bpmn_attr(el, "informed", NULL);
    fl__bpmn_split_list(v, &s->informed);
    free(v);
    v = fl__bpmn_attr(el, "accountable", NULL);
    fl__bpmn_split_list(v, &acc);
    free(v);
    if (acc.n > 1) {
        rc = fl__bpmn_fail_attr(p->rd, el, "accountable", FL_EMODEL,
                                "user task '%s' has %zu accountable roles ('%s', '%s'%s); RACI "
                                "allows exactly one",
                                n->id, acc.n, acc.items[0], acc.items[1], acc.n > 2 ? ", ..." : "");
        fl_error_at(p->rd->err, n->id, p->rd->err->line, p->rd->err->column);
    } else if (acc.n == 1) {
        s->accountable = acc.items[0];
        acc.items[0] = NULL;
    } else {
        fl__bpmn_warn(p, el, "RACI of user task '%s' names no accountable role", n->id);
    }
    if (rc == 0 && s->responsible.n == 0)
        fl__bpmn_warn(p, el, "RACI of user task '%s' names no responsible role", n->id);
    for (i = 0; i < acc.n; i++)
        free(acc.items[i]);
    free(acc.items);
    return rc;
}

/* flowd:escalation after="P1D" to="head_of_sales, head": one more level after the
 * deadline. Levels must come in increasing order of `after` (compared as added to one
 * instant, so P1M and P30D compare as calendar time does from 1970-01-01). */
static int read_escalation(struct fl__bpmn_proc *p, const xmlNode *el, struct fl_node *n)
{
    static const char *const attrs[] = {"after", "to", NULL};
    struct fl_stage *s = n->stage;
    struct fl_escalation_level lv = {NULL, {NULL, 0}};
    struct fl_iso_duration d, prev;
    const char *bad = NULL; /* the attribute at fault */
    char *to = NULL;
    int rc;

    if ((rc = check_flowd_attrs(p, el, attrs)) < 0)
        return rc;
    lv.after = fl__bpmn_attr(el, "after", NULL);
    if (!lv.after || !lv.after[0]) {
        bad = "after";
        rc =
            fl__bpmn_fail_attr(p->rd, el, "after", FL_EMODEL,
                               "flowd:escalation of user task '%s' has no 'after' duration", n->id);
        goto out;
    }
    if (fl_iso_duration_parse(lv.after, &d, NULL) < 0 || d.negative) {
        bad = "after";
        rc = fl__bpmn_fail_attr(p->rd, el, "after", FL_EMODEL,
                                "invalid after '%s' in flowd:escalation of '%s': not a "
                                "non-negative ISO 8601 duration",
                                lv.after, n->id);
        goto out;
    }
    if (s->n_escalations &&
        fl_iso_duration_parse(s->escalations[s->n_escalations - 1].after, &prev, NULL) == 0 &&
        fl_iso_duration_add(0, &d) <= fl_iso_duration_add(0, &prev)) {
        bad = "after";
        rc = fl__bpmn_fail_attr(p->rd, el, "after", FL_EMODEL,
                                "escalation levels of user task '%s' out of order: after '%s' "
                                "must be later than the level before ('%s')",
                                n->id, lv.after, s->escalations[s->n_escalations - 1].after);
        goto out;
    }
    to = fl__bpmn_attr(el, "to", NULL);
    fl__bpmn_split_list(to, &lv.to);
    if (lv.to.n == 0) {
        bad = "to";
        rc = fl__bpmn_fail_attr(p->rd, el, "to", FL_EMODEL,
                                "flowd:escalation of user task '%s' names nobody in 'to' (roles, "
                                "'accountable' or 'head')",
                                n->id);
        goto out;
    }
    s->escalations = fl_reallocarray(s->escalations, s->n_escalations + 1, sizeof(lv));
    s->escalations[s->n_escalations++] = lv;
    lv.after = NULL;
    lv.to.items = NULL;
    lv.to.n = 0;
out:
    if (bad && p->rd->err)
        snprintf(p->rd->err->field, sizeof(p->rd->err->field), "escalation.%s", bad);
    free(to);
    free(lv.after);
    fl_strlist_release(&lv.to);
    return rc;
}

static int read_stage(struct fl__bpmn_proc *p, const xmlNode *el, struct fl_node *n)
{
    static const char *const stage_attrs[] = {"duration", "remindBefore", "calendar", NULL};
    static const char *const result_attrs[] = {"expected", "format", "channel", NULL};
    static const char *const action_attrs[] = {"kind", "ref", "required", NULL};
    static const char *const no_attrs[] = {NULL};
    struct fl_stage *s = n->stage;
    const xmlNode *c;
    int rc;
    if ((rc = check_flowd_attrs(p, el, stage_attrs)) < 0 ||
        (rc = take_duration(p, el, "duration", n->id, &s->duration)) < 0 ||
        (rc = take_duration(p, el, "remindBefore", n->id, &s->remind_before)) < 0)
        return rc;
    free(s->calendar);
    s->calendar = fl__bpmn_attr(el, "calendar", NULL);
    for (c = el->children; c; c = c->next) {
        if (!fl__bpmn_in_ns(c, FL_BPMN_NS_FLOWD))
            continue;
        if (!strcmp(local(c), "raci")) {
            rc = read_raci(p, c, n);
        } else if (!strcmp(local(c), "escalation")) {
            rc = read_escalation(p, c, n);
        } else if (!strcmp(local(c), "result")) {
            if ((rc = check_flowd_attrs(p, c, result_attrs)) == 0) {
                free(s->expected_result);
                free(s->result_format);
                free(s->channel);
                s->expected_result = fl__bpmn_attr(c, "expected", NULL);
                s->result_format = fl__bpmn_attr(c, "format", NULL);
                s->channel = fl__bpmn_attr(c, "channel", NULL);
            }
        } else if (!strcmp(local(c), "notes")) {
            if ((rc = check_flowd_attrs(p, c, no_attrs)) == 0) {
                free(s->notes);
                s->notes = fl__bpmn_text(c);
            }
        } else if (!strcmp(local(c), "mainAction")) {
            char *req;
            if ((rc = check_flowd_attrs(p, c, action_attrs)) < 0)
                return rc;
            free(s->main_action_kind);
            free(s->main_action_ref);
            s->main_action_kind = fl__bpmn_attr(c, "kind", NULL);
            s->main_action_ref = fl__bpmn_attr(c, "ref", NULL);
            if (!s->main_action_kind || !s->main_action_kind[0])
                return fl__bpmn_fail(p->rd, c, FL_EMODEL,
                                     "flowd:mainAction of user task '%s' has no kind", n->id);
            /* A field action is met by its variable: without the name it never could be. */
            if (!strcmp(s->main_action_kind, "field") &&
                (!s->main_action_ref || !s->main_action_ref[0]))
                return fl__bpmn_fail(p->rd, c, FL_EMODEL,
                                     "flowd:mainAction kind 'field' of user task '%s' needs ref "
                                     "(the variable to fill)",
                                     n->id);
            req = fl__bpmn_attr(c, "required", NULL);
            if (req && strcmp(req, "true") && strcmp(req, "false"))
                rc = fl__bpmn_fail_attr(p->rd, c, "required", FL_EMODEL,
                                        "required of flowd:mainAction of user task '%s' must be "
                                        "'true' or 'false', not '%s'",
                                        n->id, req);
            s->main_action_required = req && !strcmp(req, "true");
            free(req);
        } else {
            rc =
                fl__bpmn_fail(p->rd, c, FL_EMODEL,
                              "unknown element 'flowd:%s' in flowd:stage of '%s'", local(c), n->id);
        }
        if (rc < 0) {
            fl_error_at(p->rd->err, n->id, p->rd->err->line, p->rd->err->column);
            return rc;
        }
    }
    return 0;
}

static int read_user_task(struct fl__bpmn_proc *p, xmlNode *el, xmlNode *ext, struct fl_node *n)
{
    struct fl_stage *s = n->stage = fl_calloc(1, sizeof(*n->stage));
    xmlNode *c;
    int rc;
    /* Camunda 7 attributes first; extension elements below override them */
    if ((rc = take_attr(p, el, "assignee", FL__NS_CAMUNDA, n->id, &s->assignee)) < 0 ||
        (rc = take_list(p, el, "candidateGroups", FL__NS_CAMUNDA, n->id, &s->candidate_groups)) <
            0 ||
        (rc = take_list(p, el, "candidateUsers", FL__NS_CAMUNDA, n->id, &s->candidate_users)) < 0 ||
        (rc = take_attr(p, el, "dueDate", FL__NS_CAMUNDA, n->id, &s->due_date)) < 0 ||
        (rc = take_attr(p, el, "followUpDate", FL__NS_CAMUNDA, n->id, &s->follow_up_date)) < 0)
        return rc;
    for (c = ext ? ext->children : NULL; c; c = c->next) {
        if (fl__bpmn_is(c, FL_BPMN_NS_FLOWD, "stage")) {
            rc = read_stage(p, c, n);
        } else if (fl__bpmn_is(c, FL__NS_ZEEBE, "assignmentDefinition")) {
            if ((rc = take_attr(p, c, "assignee", NULL, n->id, &s->assignee)) == 0 &&
                (rc = take_list(p, c, "candidateGroups", NULL, n->id, &s->candidate_groups)) == 0)
                rc = take_list(p, c, "candidateUsers", NULL, n->id, &s->candidate_users);
        } else if (fl__bpmn_is(c, FL__NS_ZEEBE, "taskSchedule")) {
            if ((rc = take_attr(p, c, "dueDate", NULL, n->id, &s->due_date)) == 0)
                rc = take_attr(p, c, "followUpDate", NULL, n->id, &s->follow_up_date);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* retries="3" (a Camunda 8 "=expr" keeps the default). */
static int take_retries(struct fl__bpmn_proc *p, const xmlNode *el, struct fl_node *n)
{
    char *v = fl__bpmn_attr(el, "retries", NULL), *end;
    long r;
    int rc = 0, is_expr;
    if (!v)
        return 0;
    fl_feel_strip(v, &is_expr);
    if (!is_expr) {
        r = strtol(v, &end, 10);
        if (end == v || *end || r < 0 || r > 1000000)
            rc = fl__bpmn_fail_attr(p->rd, el, "retries", FL_EMODEL,
                                    "retries of '%s' must be a whole number from 0 to 1000000, "
                                    "not '%s'",
                                    n->id, v);
        else
            n->job_retries = (int)r;
    }
    free(v);
    return rc;
}

/* Set n's job type to prefix + what (replacing), with the warning that says a worker must
 * do what the model asked the engine to do in-process. */
static void external_job(struct fl__bpmn_proc *p, const xmlNode *at, struct fl_node *n,
                         const char *prefix, const char *what, const char *why)
{
    size_t l = strlen(prefix) + strlen(what) + 1;
    free(n->job_type);
    n->job_type = fl_malloc(l);
    snprintf(n->job_type, l, "%s%s", prefix, what);
    fl__bpmn_warn(p, at, "%s '%s' runs as an external job of type '%.200s': %s", local(at), n->id,
                  n->job_type, why);
}

/* The job of a service task (and of send tasks, business rule tasks and message throw
 * events that carry one): a job type from zeebe:taskDefinition, flowd:job, Camunda 7's
 * external topic, or -- for what flowd cannot run in-process -- a type naming it: Java
 * delegates "java:<class>", "expression:<expr>", "delegate:<expr>", connectors
 * "connector:<id>", Camunda's built-in task types "camunda:<type>". See
 * docs/bpmn-support.md. */
static int read_job(struct fl__bpmn_proc *p, xmlNode *el, xmlNode *ext, struct fl_node *n)
{
    static const char *const java[][2] = {
        {"class", "java:"}, {"expression", "expression:"}, {"delegateExpression", "delegate:"}};
    static const char *const job_attrs[] = {"type", "retries", NULL};
    char *v;
    xmlNode *c;
    size_t i;
    int rc;
    for (i = 0; i < sizeof(java) / sizeof(java[0]); i++) {
        if (!(v = fl__bpmn_attr(el, java[i][0], FL__NS_CAMUNDA)))
            continue;
        external_job(p, el, n, java[i][1], v, "flowd does not run Java code in-process");
        free(v);
    }
    /* BPMN's own implementation attribute (bpmn-js engines put "${service}" there) */
    if (!n->job_type && n->kind == FL_NODE_SERVICE_TASK &&
        (v = fl__bpmn_attr(el, "implementation", NULL))) {
        if (v[0] && strncmp(v, "##", 2)) {
            if (strstr(v, "${") || strstr(v, "#{"))
                external_job(p, el, n, "expression:", v,
                             "flowd does not call services of the host in-process");
            else {
                n->job_type = v;
                v = NULL;
            }
        }
        free(v);
    }
    v = fl__bpmn_attr(el, "type", FL__NS_CAMUNDA);
    if (v && !strcmp(v, "external")) {
        if ((rc = take_attr(p, el, "topic", FL__NS_CAMUNDA, n->id, &n->job_type)) < 0) {
            free(v);
            return rc;
        }
        if (!n->job_type) {
            free(v);
            return fl__bpmn_fail_attr(p->rd, el, "type", FL_EMODEL,
                                      "%s '%s' is an external task without camunda:topic",
                                      local(el), n->id);
        }
    } else if (v) {
        external_job(p, el, n, "camunda:", v, "flowd has no built-in task of that type");
    }
    free(v);
    for (c = ext ? ext->children : NULL; c; c = c->next) {
        rc = 0;
        if (fl__bpmn_is(c, FL__NS_ZEEBE, "taskDefinition")) {
            if ((rc = take_attr(p, c, "type", NULL, n->id, &n->job_type)) == 0)
                rc = take_retries(p, c, n);
        } else if (fl__bpmn_is(c, FL_BPMN_NS_FLOWD, "job")) {
            if ((rc = check_flowd_attrs(p, c, job_attrs)) == 0 &&
                (rc = take_attr(p, c, "type", NULL, n->id, &n->job_type)) == 0)
                rc = take_retries(p, c, n);
        } else if (fl__bpmn_is(c, FL__NS_CAMUNDA, "connector")) {
            xmlNode *id = child(c, FL__NS_CAMUNDA, "connectorId");
            char *cid = id ? fl__bpmn_text(id) : NULL;
            if (!cid || !cid[0])
                rc = fl__bpmn_fail(p->rd, c, FL_EMODEL,
                                   "camunda:connector of '%s' has no "
                                   "camunda:connectorId",
                                   n->id);
            else
                external_job(p, el, n, "connector:", cid,
                             "flowd does not run Camunda connectors in-process");
            free(cid);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A message throw event (intermediate or end) that a job sends: Camunda 8 puts a
 * zeebe:taskDefinition on the event, Camunda 7 the delegate attributes on its
 * messageEventDefinition. */
static int read_throw_job(struct fl__bpmn_proc *p, xmlNode *el, xmlNode *ext, struct fl_node *n)
{
    int ndef;
    const xmlNode *def = fl__bpmn_event_def(p, el, &ndef);
    int rc;
    if ((rc = read_job(p, el, ext, n)) < 0 || n->job_type || !def)
        return rc;
    return read_job(p, (xmlNode *)(uintptr_t)def, NULL, n);
}

static int read_script_task(struct fl__bpmn_proc *p, xmlNode *el, xmlNode *ext, struct fl_node *n)
{
    xmlNode *zs = ext ? child(ext, FL__NS_ZEEBE, "script") : NULL;
    xmlNode *script = child(el, FL__NS_BPMN, "script");
    xmlNode *at = el; /* where the expression text sits, for error positions */
    char *text = NULL, *fmt = NULL, *res = NULL;
    const char *src;
    struct fl_error fe;
    int rc = 0, is_expr, line, col;
    bool in_attr = false;
    if (zs) {
        text = fl__bpmn_attr(zs, "expression", NULL);
        res = fl__bpmn_attr(zs, "resultVariable", NULL);
        at = zs;
        in_attr = true;
    } else if (script || (fmt = fl__bpmn_attr(el, "scriptFormat", NULL))) {
        if (!fmt)
            fmt = fl__bpmn_attr(el, "scriptFormat", NULL);
        if (!fmt || !fmt[0]) {
            rc = fl__bpmn_fail(p->rd, el, FL_EMODEL,
                               "scriptTask '%s' has a script but no scriptFormat", n->id);
            goto out;
        }
        if (!fl__bpmn_lang_is_feel(fmt)) {
            /* a worker that speaks the language runs it, as a job */
            n->kind = FL_NODE_SERVICE_TASK;
            external_job(p, el, n, "script:", fmt, "flowd runs FEEL scripts only in-process");
            rc = read_job(p, el, ext, n);
            if (rc == 0 && strncmp(n->job_type, "script:", 7))
                fl__bpmn_warn(p, el, "the job type of scriptTask '%s' replaces its script", n->id);
            goto out;
        }
        if (xmlHasNsProp(el, (const xmlChar *)"resource", (const xmlChar *)FL__NS_CAMUNDA)) {
            rc = fl__bpmn_fail_attr(p->rd, el, "resource", FL_EUNSUPPORTED,
                                    "scriptTask '%s' loads its script from a camunda:resource, "
                                    "which is not supported",
                                    n->id);
            goto out;
        }
        text = script ? fl__bpmn_text(script) : NULL;
        res = fl__bpmn_attr(el, "resultVariable", FL__NS_CAMUNDA);
        at = script;
    } else if (ext && child(ext, FL__NS_ZEEBE, "taskDefinition")) {
        /* a Camunda 8 script task run by a job worker is a job like a service task */
        n->kind = FL_NODE_SERVICE_TASK;
        rc = read_job(p, el, ext, n);
        goto out;
    }
    if (!text || !text[0]) {
        rc = fl__bpmn_fail(p->rd, el, FL_EMODEL, "scriptTask '%s' has no script", n->id);
        goto out;
    }
    if (!res || !res[0]) {
        rc = fl__bpmn_fail(p->rd, el, FL_EMODEL,
                           "scriptTask '%s' has no result variable (zeebe:script resultVariable "
                           "or camunda:resultVariable)",
                           n->id);
        goto out;
    }
    src = fl_feel_strip(text, &is_expr);
    fl_error_clear(&fe);
    if (fl_feel_compile(src, strlen(src), &n->script, &fe) < 0) {
        size_t off = (size_t)(src - text) + fl__bpmn_feel_offset(src, &fe);
        n->script = NULL;
        if (in_attr) {
            fl__bpmn_attr_text_pos(p->rd, at, "expression", off, &line, &col);
        } else {
            fl__bpmn_text_pos(p->rd, at, off, &line, &col);
        }
        rc = fl_error_set(p->rd->err, FL_EMODEL, "syntax error in script of scriptTask '%s': %s",
                          n->id, fe.msg[0] ? fe.msg : "invalid FEEL");
        fl_error_at(p->rd->err, n->id, line, col);
        goto out;
    }
    n->result_variable = res;
    res = NULL;
out:
    free(text);
    free(fmt);
    free(res);
    return rc;
}

/* Business rule task: the decision it evaluates (a job when it has a job type). */
static int read_decision(struct fl__bpmn_proc *p, xmlNode *el, xmlNode *ext, struct fl_node *n)
{
    xmlNode *cd = ext ? child(ext, FL__NS_ZEEBE, "calledDecision") : NULL;
    int rc;
    if (cd) {
        if ((rc = take_attr(p, cd, "decisionId", NULL, n->id, &n->decision_ref)) < 0 ||
            (rc = take_attr(p, cd, "resultVariable", NULL, n->id, &n->result_variable)) < 0)
            return rc;
    }
    if ((rc = take_attr(p, el, "decisionRef", FL__NS_CAMUNDA, n->id, &n->decision_ref)) < 0 ||
        (rc = take_attr(p, el, "resultVariable", FL__NS_CAMUNDA, n->id, &n->result_variable)) < 0)
        return rc;
    if (!n->job_type && !n->decision_ref)
        return fl__bpmn_fail(p->rd, el, FL_EMODEL,
                             "businessRuleTask '%s' names no decision (zeebe:calledDecision "
                             "decisionId or camunda:decisionRef) and no job type",
                             n->id);
    return 0;
}

int fl__bpmn_read_node_details(struct fl__bpmn_proc *p, xmlNode *el, struct fl_node *n)
{
    xmlNode *ext = child(el, FL__NS_BPMN, "extensionElements"), *c;
    int rc = 0;
    for (c = ext ? ext->children : NULL; c; c = c->next) {
        if (fl__bpmn_in_ns(c, FL_BPMN_NS_FLOWD)) {
            bool ok = (!strcmp(local(c), "stage") && n->kind == FL_NODE_USER_TASK) ||
                      (!strcmp(local(c), "job") &&
                       (n->kind == FL_NODE_SERVICE_TASK || n->kind == FL_NODE_SEND_TASK ||
                        n->kind == FL_NODE_BUSINESS_RULE_TASK)) ||
                      (!strcmp(local(c), "controlPoint") &&
                       (n->kind == FL_NODE_USER_TASK || n->kind == FL_NODE_START_EVENT ||
                        n->kind == FL_NODE_TIMER_START));
            if (!ok)
                return fl__bpmn_fail(p->rd, c, FL_EMODEL, "flowd:%s is not allowed on %s '%s'",
                                     local(c), local(el), n->id);
        } else if (fl__bpmn_is(c, FL__NS_CAMUNDA, "executionListener") ||
                   fl__bpmn_is(c, FL__NS_CAMUNDA, "taskListener") ||
                   fl__bpmn_is(c, FL__NS_ZEEBE, "executionListeners") ||
                   fl__bpmn_is(c, FL__NS_ZEEBE, "taskListeners")) {
            fl__bpmn_warn(p, c, "listeners of '%s' are ignored", n->id);
        }
    }
    switch (n->kind) {
    case FL_NODE_USER_TASK:
        rc = read_user_task(p, el, ext, n);
        break;
    case FL_NODE_SERVICE_TASK:
        if ((rc = read_job(p, el, ext, n)) == 0 && !n->job_type)
            rc = fl__bpmn_fail(p->rd, el, FL_EMODEL,
                               "serviceTask '%s' has no job type (zeebe:taskDefinition type, "
                               "camunda:type=\"external\" with camunda:topic, or flowd:job type)",
                               n->id);
        break;
    case FL_NODE_SEND_TASK:
        if ((rc = read_job(p, el, ext, n)) == 0)
            rc = fl__bpmn_read_event(p, el, n);
        break;
    case FL_NODE_BUSINESS_RULE_TASK:
        if ((rc = read_job(p, el, ext, n)) == 0)
            rc = read_decision(p, el, ext, n);
        break;
    case FL_NODE_RECEIVE_TASK:
    case FL_NODE_CATCH_EVENT:
    case FL_NODE_BOUNDARY_EVENT:
    case FL_NODE_EVENT_START:
        rc = fl__bpmn_read_event(p, el, n);
        break;
    case FL_NODE_THROW_EVENT:
    case FL_NODE_EVENT_END:
        if ((rc = fl__bpmn_read_event(p, el, n)) == 0 && n->event->trigger == FL_TRIGGER_MESSAGE)
            rc = read_throw_job(p, el, ext, n);
        break;
    case FL_NODE_CALL_ACTIVITY:
        rc = fl__bpmn_read_call(p, el, ext, n);
        break;
    case FL_NODE_SCRIPT_TASK:
        rc = read_script_task(p, el, ext, n);
        break;
    case FL_NODE_TIMER_START:
    case FL_NODE_TIMER_CATCH:
    case FL_NODE_TIMER_BOUNDARY:
        rc = fl__bpmn_read_timer(p, el, n);
        break;
    default:
        break;
    }
    if (rc == 0 && fl__bpmn_is_activity(n->kind))
        rc = fl__bpmn_read_loop(p, el, ext, n);
    if (rc == 0 && ext)
        rc = fl__bpmn_read_mappings(p, ext, n);
    /* After the stage: "accountable" in a control point refers to it. */
    if (rc == 0 && ext)
        rc = fl__bpmn_read_controls(p, ext, n->id, n->kind == FL_NODE_USER_TASK ? n : NULL,
                                    &n->controls, &n->n_controls);
    return rc;
}
