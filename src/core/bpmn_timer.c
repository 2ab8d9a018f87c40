/* Timer events in the BPMN reader: the timerEventDefinition of a start, intermediate catch
 * or boundary event (timeDate, timeDuration or timeCycle, as ISO 8601 text, a cron text or
 * a Camunda 8 "=expr" FEEL expression) and a boundary event's cancelActivity. Literal texts
 * are checked here, at deploy time, so a bad date or cycle is reported with its line and
 * column instead of failing when the timer would be armed. */
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "core/juel.h"
#include "flowd/alloc.h"
#include "flowd/feel.h"
#include "flowd/timecalc.h"

static const char *local(const xmlNode *n)
{
    return (const char *)n->name;
}

static const char *const def_names[] = {
    [FL_TIMERDEF_DATE] = "timeDate",
    [FL_TIMERDEF_DURATION] = "timeDuration",
    [FL_TIMERDEF_CYCLE] = "timeCycle",
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Record err's message at byte offset off of el's text, for element id owner. */
static int fail_text(struct fl__bpmn_proc *p, const xmlNode *el, size_t off, const char *owner,
                     int code, const char *msg)
{
    int line, col;
    fl__bpmn_text_pos(p->rd, el, off, &line, &col);
    fl_error_set(p->rd->err, code, "%s", msg);
    fl_error_at(p->rd->err, owner, line, col);
    return code;
}

/* Check a literal (not "=expr") timer text; the error column points into it. */
static int check_literal(struct fl__bpmn_proc *p, const xmlNode *el, size_t off,
                         enum fl_timer_def_kind kind, const char *text, const char *owner)
{
    struct fl_error fe;
    struct fl_iso_duration d;
    struct fl_iso_cycle c;
    int64_t t;
    char msg[600];
    int rc = 0;

    fl_error_clear(&fe);
    switch (kind) {
    case FL_TIMERDEF_DATE:
        rc = fl_iso_instant_parse(text, 0, &t, &fe);
        break;
    case FL_TIMERDEF_DURATION:
        rc = fl_iso_duration_parse(text, &d, &fe);
        if (rc == 0 && d.negative) {
            snprintf(msg, sizeof(msg), "timeDuration '%s' of '%s' is negative", text, owner);
            return fail_text(p, el, off, owner, FL_EMODEL, msg);
        }
        break;
    case FL_TIMERDEF_CYCLE:
        if (fl_cron_is(text)) { /* Camunda 7 (Quartz) cron, e.g. "0 0/5 * * * ?" */
            struct fl_cron cron;
            rc = fl_cron_parse(text, &cron, &fe);
            break;
        }
        rc = fl_iso_cycle_parse(text, 0, &c, &fe);
        break;
    }
    if (rc == 0)
        return 0;
    snprintf(msg, sizeof(msg), "%s of '%s': %s", def_names[kind], owner, fe.msg);
    return fail_text(p, el, off + (size_t)(fe.column > 0 ? fe.column - 1 : 0), owner, FL_EMODEL,
                     msg);
}

/* Check the syntax of "=expr" text src (at byte offset off of el's text). */
static int check_expr(struct fl__bpmn_proc *p, const xmlNode *el, size_t off,
                      enum fl_timer_def_kind kind, const char *src, const char *owner)
{
    struct fl_feel_expr *e = NULL;
    struct fl_error fe;
    char msg[600];

    fl_error_clear(&fe);
    if (fl_feel_compile(src, strlen(src), &e, &fe) == 0) {
        fl_feel_free(e);
        return 0;
    }
    snprintf(msg, sizeof(msg), "syntax error in %s of '%s': %s", def_names[kind], owner,
             fe.msg[0] ? fe.msg : "invalid FEEL");
    return fail_text(p, el, off + fl__bpmn_feel_offset(src, &fe), owner, FL_EMODEL, msg);
}

/* Read the timer definition def of node n into n->timer. */
static int read_definition(struct fl__bpmn_proc *p, const xmlNode *def, struct fl_node *n)
{
    const xmlNode *c, *time_el = NULL;
    enum fl_timer_def_kind kind = FL_TIMERDEF_DATE;
    char *text = NULL;
    const char *src;
    size_t off, len;
    int rc = 0, is_expr;

    for (c = def->children; c; c = c->next) {
        for (int k = 0; k < 3; k++) {
            if (!fl__bpmn_is(c, FL__NS_BPMN, def_names[k]))
                continue;
            if (time_el)
                return fl__bpmn_fail(p->rd, c, FL_EMODEL,
                                     "timer of '%s' has both %s and %s; give one", n->id,
                                     local(time_el), local(c));
            time_el = c;
            kind = (enum fl_timer_def_kind)k;
        }
    }
    if (!time_el)
        return fl__bpmn_fail(p->rd, def, FL_EMODEL,
                             "timer of '%s' has no timeDate, timeDuration or timeCycle", n->id);
    if (n->kind == FL_NODE_TIMER_CATCH && kind == FL_TIMERDEF_CYCLE)
        return fl__bpmn_fail(p->rd, time_el, FL_EMODEL,
                             "intermediate timer event '%s' has a timeCycle; it waits once: "
                             "use timeDuration or timeDate",
                             n->id);
    text = fl__bpmn_text(time_el);
    for (off = 0; is_space(text[off]); off++)
        ;
    len = strlen(text + off);
    while (len > 0 && is_space(text[off + len - 1]))
        len--;
    text[off + len] = '\0';
    if (len == 0) {
        rc =
            fl__bpmn_fail(p->rd, time_el, FL_EMODEL, "%s of '%s' is empty", def_names[kind], n->id);
        goto out;
    }
    if (fl_juel_is_expr(text + off)) {
        /* Camunda 7: "${...}" becomes the "=feel" it means */
        char *feel = NULL;
        if ((rc = fl__bpmn_value(p, time_el, NULL, text, n->id, def_names[kind], &feel)) < 0)
            goto out;
        free(text);
        text = feel;
        off = 0;
    }
    src = fl_feel_strip(text + off, &is_expr);
    if (is_expr)
        rc = check_expr(p, time_el, off + (size_t)(src - (text + off)), kind, src, n->id);
    else
        rc = check_literal(p, time_el, off, kind, text + off, n->id);
    if (rc < 0)
        goto out;
    n->timer = fl_calloc(1, sizeof(*n->timer));
    n->timer->kind = kind;
    n->timer->text = fl_strdup(text + off);
out:
    free(text);
    return rc;
}

int fl__bpmn_read_timer(struct fl__bpmn_proc *p, xmlNode *el, struct fl_node *n)
{
    const xmlNode *c;
    char *v;
    int rc = 0, ndef;

    c = fl__bpmn_event_def(p, el, &ndef);
    if (!c || !fl__bpmn_is(c, FL__NS_BPMN, "timerEventDefinition"))
        return fl__bpmn_fail(p->rd, el, FL_EMODEL, "'%s' has no timerEventDefinition", n->id);
    if ((rc = read_definition(p, c, n)) < 0)
        return rc;
    if (n->kind != FL_NODE_TIMER_BOUNDARY)
        return 0;
    n->cancel_activity = true;
    v = fl__bpmn_attr(el, "cancelActivity", NULL);
    if (v && !strcmp(v, "false"))
        n->cancel_activity = false;
    else if (v && strcmp(v, "true"))
        rc = fl__bpmn_fail_attr(p->rd, el, "cancelActivity", FL_EMODEL,
                                "cancelActivity of '%s' is '%s'; give true or false", n->id, v);
    free(v);
    return rc;
}
