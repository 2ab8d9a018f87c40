/* The reader of flowd:controlPoint (see docs/bpmn-extensions.md): control point
 * definitions on a user task (set when it completes), on the none start event or on the
 * process (set at start). Everything that can be checked without running the process is
 * checked here -- names, FEEL syntax, literal dates and durations, escalation order -- so
 * a typo rejects the deploy with its line and column instead of failing a case later. */
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "flowd/alloc.h"
#include "flowd/control.h"
#include "flowd/timecalc.h"

static const char *local(const xmlNode *n)
{
    return (const char *)n->name;
}

/* Unqualified attributes of el must be among allowed (NULL-terminated). */
static int check_attrs(struct fl__bpmn_proc *p, const xmlNode *el, const char *const *allowed)
{
    for (const xmlAttr *a = el->properties; a; a = a->next) {
        bool ok = false;
        if (a->ns)
            continue;
        for (size_t i = 0; allowed[i]; i++)
            if (!strcmp((const char *)a->name, allowed[i]))
                ok = true;
        if (!ok)
            return fl__bpmn_fail_attr(p->rd, el, (const char *)a->name, FL_EMODEL,
                                      "unknown attribute '%s' on flowd:%s", a->name, local(el));
    }
    return 0;
}

/* A non-negative ISO 8601 duration attribute; *out owns the text. */
static int take_duration(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr,
                         const char *what, char **out)
{
    struct fl_iso_duration d;
    struct fl_error fe;
    char *v = fl__bpmn_attr(el, attr, NULL);
    int rc = 0;
    *out = NULL;
    if (!v)
        return 0;
    fl_error_clear(&fe);
    if (fl_iso_duration_parse(v, &d, &fe) < 0)
        rc = fl__bpmn_fail_attr(p->rd, el, attr, FL_EMODEL, "invalid %s '%s' of %s: %s", attr, v,
                                what, fe.msg[0] ? fe.msg : "not an ISO 8601 duration");
    else if (d.negative)
        rc = fl__bpmn_fail_attr(p->rd, el, attr, FL_EMODEL,
                                "invalid %s '%s' of %s: must not be negative", attr, v, what);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    return 0;
}

/* due: "=expr" (syntax-checked) or a literal date, date-time or duration. */
static int check_due(struct fl__bpmn_proc *p, const xmlNode *el, const char *due, const char *what)
{
    struct fl_feel_expr *e = NULL;
    struct fl_error fe;
    const char *src;
    int64_t t;
    int rc, is_expr, line, col;

    if ((rc = fl__bpmn_reject_juel(p->rd, el, "due", due)) < 0)
        return rc;
    src = fl_feel_strip(due, &is_expr);
    fl_error_clear(&fe);
    if (!is_expr) {
        if (fl_control_due_parse(due, "due", 0, 0, &t, &fe) == 0)
            return 0;
        return fl__bpmn_fail_attr(p->rd, el, "due", FL_EMODEL, "invalid due of %s: %s", what,
                                  fe.msg);
    }
    if (fl_feel_compile(src, strlen(src), &e, &fe) == 0) {
        fl_feel_free(e);
        return 0;
    }
    fl__bpmn_attr_text_pos(p->rd, el, "due", (size_t)(src - due) + fl__bpmn_feel_offset(src, &fe),
                           &line, &col);
    fl_error_set(p->rd->err, FL_EMODEL, "syntax error in due of %s: %s", what,
                 fe.msg[0] ? fe.msg : "invalid FEEL");
    {
        char *id = NULL; /* the element the definition sits on */
        for (const xmlNode *n = el; n && n->type == XML_ELEMENT_NODE && !id; n = n->parent)
            id = fl__bpmn_id(n);
        fl_error_at(p->rd->err, id, line, col);
        free(id);
    }
    return FL_EMODEL;
}

/* Recipients: "accountable" needs a user task whose stage names one. */
static int take_recipients(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr,
                           const struct fl_node *task, const char *what, struct fl_strlist *out)
{
    char *v = fl__bpmn_attr(el, attr, NULL);
    fl__bpmn_split_list(v, out);
    free(v);
    for (size_t i = 0; i < out->n; i++) {
        if (strcmp(out->items[i], "accountable") != 0)
            continue;
        if (!task)
            return fl__bpmn_fail_attr(p->rd, el, attr, FL_EMODEL,
                                      "'accountable' in %s of %s needs a user task (the "
                                      "stage's RACI A); name a role instead",
                                      attr, what);
        if (!task->stage || !task->stage->accountable)
            fl__bpmn_warn(p, el,
                          "%s tells 'accountable', but user task '%s' names no "
                          "accountable role",
                          what, task->id);
    }
    return 0;
}

static int read_escalation(struct fl__bpmn_proc *p, const xmlNode *el, const struct fl_node *task,
                           const char *what, struct fl_control_def *d, int64_t *prev)
{
    static const char *const attrs[] = {"after", "to", NULL};
    struct fl_escalation_level *lv;
    struct fl_iso_duration dur;
    int64_t at;
    int rc;

    if ((rc = check_attrs(p, el, attrs)) < 0)
        return rc;
    d->escalations = fl_reallocarray(d->escalations, d->n_escalations + 1, sizeof(*lv));
    lv = &d->escalations[d->n_escalations++];
    memset(lv, 0, sizeof(*lv));
    if ((rc = take_duration(p, el, "after", what, &lv->after)) < 0)
        return rc;
    if (!lv->after)
        return fl__bpmn_fail(p->rd, el, FL_EMODEL, "flowd:escalation of %s has no after", what);
    if ((rc = take_recipients(p, el, "to", task, what, &lv->to)) < 0)
        return rc;
    if (lv->to.n == 0)
        return fl__bpmn_fail(p->rd, el, FL_EMODEL, "flowd:escalation of %s has no to", what);
    /* Order by the length each adds to a fixed instant: months are not fixed lengths, so
     * this is how a calendar would place them. */
    fl_iso_duration_parse(lv->after, &dur, NULL);
    at = fl_iso_duration_add(0, &dur);
    if (at <= *prev)
        return fl__bpmn_fail_attr(p->rd, el, "after", FL_EMODEL,
                                  "escalation levels of %s are out of order: after '%s' must "
                                  "come later than the level before",
                                  what, lv->after);
    *prev = at;
    return 0;
}

static int read_one(struct fl__bpmn_proc *p, const xmlNode *el, const char *owner,
                    const struct fl_node *task, struct fl_control_def *d)
{
    static const char *const attrs[] = {"name",       "due",      "remindBefore",
                                        "escalateTo", "calendar", NULL};
    char what[256];
    int64_t prev = 0;
    struct fl_error ne;
    int rc;

    memset(d, 0, sizeof(*d));
    fl__bpmn_node_pos(p->rd, el, &d->line, &d->column);
    if ((rc = check_attrs(p, el, attrs)) < 0)
        return rc;
    d->name = fl__bpmn_attr(el, "name", NULL);
    fl_error_clear(&ne);
    if (!d->name)
        return fl__bpmn_fail(p->rd, el, FL_EMODEL, "flowd:controlPoint on '%s' has no name", owner);
    if (fl_control_name_check(d->name, NULL, &ne) < 0)
        return fl__bpmn_fail_attr(p->rd, el, "name", FL_EMODEL, "%s (flowd:controlPoint on '%s')",
                                  ne.msg, owner);
    snprintf(what, sizeof(what), "control point '%s' on '%s'", d->name, owner);
    d->due = fl__bpmn_attr(el, "due", NULL);
    if (!d->due || !d->due[0])
        return fl__bpmn_fail(p->rd, el, FL_EMODEL, "%s has no due", what);
    if ((rc = check_due(p, el, d->due, what)) < 0 ||
        (rc = take_duration(p, el, "remindBefore", what, &d->remind_before)) < 0 ||
        (rc = take_recipients(p, el, "escalateTo", task, what, &d->escalate_to)) < 0)
        return rc;
    d->calendar = fl__bpmn_attr(el, "calendar", NULL);
    for (const xmlNode *c = el->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!fl__bpmn_is(c, FL_BPMN_NS_FLOWD, "escalation"))
            return fl__bpmn_fail(p->rd, c, FL_EMODEL, "unknown element '%s' in %s", local(c), what);
        if ((rc = read_escalation(p, c, task, what, d, &prev)) < 0)
            return rc;
    }
    return 0;
}

int fl__bpmn_read_controls(struct fl__bpmn_proc *p, const xmlNode *ext, const char *owner,
                           const struct fl_node *task, struct fl_control_def **defs, size_t *n)
{
    int rc;
    for (const xmlNode *c = ext ? ext->children : NULL; c; c = c->next) {
        if (!fl__bpmn_is(c, FL_BPMN_NS_FLOWD, "controlPoint"))
            continue;
        *defs = fl_reallocarray(*defs, *n + 1, sizeof(**defs));
        rc = read_one(p, c, owner, task, &(*defs)[*n]);
        (*n)++; /* counted even when half read: the model frees what it holds */
        if (rc < 0)
            return rc;
        for (size_t i = 0; i + 1 < *n; i++)
            if (!strcmp((*defs)[i].name, (*defs)[*n - 1].name))
                return fl__bpmn_fail_attr(p->rd, c, "name", FL_EMODEL,
                                          "control point '%s' is defined twice on '%s'",
                                          (*defs)[i].name, owner);
    }
    return 0;
}
