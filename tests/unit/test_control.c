/* Unit tests of control points and main actions: the text checks shared by the reader,
 * the API and the CLI (names, due times, reminders, '2026-02-30' and 'P' refused); the
 * reader of flowd:controlPoint (fields, and every error with its line and column); the
 * engine (set at start and on completion, FEEL null clears, a failing due refuses the
 * command and changes nothing, SET_CONTROL sets, moves, clears, fires the reminder, the due
 * time and the escalation levels, and the instance's end closes them); the store (written,
 * reloaded with the instance, listed per case and overdue across the cases a viewer may
 * see); and main actions (the refusal names the stage and the action, a "field" action is
 * met by its variable). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "flowd/auth.h"
#include "flowd/control.h"
#include "flowd/engine.h"
#include "flowd/model.h"
#include "flowd/store.h"
#include "flowd/timecalc.h"
#include "flowd/value.h"

#define T_NOW 1795431600000LL /* 2026-11-23T11:00:00Z */
#define T_DAY 86400000LL
#define T_HOUR 3600000LL

/* ---- text ---- */

static void test_names(void **state)
{
    struct fl_error e;
    char long_name[80];
    (void)state;
    assert_int_equal(fl_control_name_check("offer_expiry", "name", NULL), 0);
    assert_int_equal(fl_control_name_check("_x.y-2", "name", NULL), 0);
    fl_error_clear(&e);
    assert_int_equal(fl_control_name_check("", "name", &e), FL_EINVAL);
    assert_string_equal(e.field, "name");
    fl_error_clear(&e);
    assert_int_equal(fl_control_name_check("2nd", "name", &e), FL_EINVAL);
    assert_non_null(strstr(e.msg, "'2nd'"));
    assert_int_equal(fl_control_name_check("a b", NULL, NULL), FL_EINVAL);
    assert_int_equal(fl_control_name_check("a/b", NULL, NULL), FL_EINVAL);
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    assert_int_equal(fl_control_name_check(long_name, NULL, NULL), FL_EINVAL);
    long_name[64] = '\0';
    assert_int_equal(fl_control_name_check(long_name, NULL, NULL), 0);
}

static void test_due_text(void **state)
{
    struct fl_error e;
    int64_t t = 0, before = 0;
    (void)state;
    assert_int_equal(fl_control_due_parse("2026-12-31", "due", T_NOW, 0, &t, NULL), 0);
    assert_int_equal(t, fl_days_from_civil(2026, 12, 31) * T_DAY);
    /* a plain date is midnight where the case is */
    assert_int_equal(fl_control_due_parse("2026-12-31", "due", T_NOW, 60, &t, NULL), 0);
    assert_int_equal(t, fl_days_from_civil(2026, 12, 31) * T_DAY - T_HOUR);
    assert_int_equal(fl_control_due_parse("2026-12-31T17:00:00Z", "due", T_NOW, 60, &t, NULL), 0);
    assert_int_equal(t, fl_days_from_civil(2026, 12, 31) * T_DAY + 17 * T_HOUR);
    assert_int_equal(fl_control_due_parse("2026-12-31T17:00:00+02:00", "due", T_NOW, 0, &t, NULL),
                     0);
    assert_int_equal(t, fl_days_from_civil(2026, 12, 31) * T_DAY + 15 * T_HOUR);
    assert_int_equal(fl_control_due_parse("2026-12-31T17:00", "due", T_NOW, 120, &t, NULL), 0);
    assert_int_equal(t, fl_days_from_civil(2026, 12, 31) * T_DAY + 15 * T_HOUR);
    assert_int_equal(fl_control_due_parse("P14D", "due", T_NOW, 0, &t, NULL), 0);
    assert_int_equal(t, T_NOW + 14 * T_DAY);
    assert_int_equal(fl_control_due_parse("PT0S", "due", T_NOW, 0, &t, NULL), 0);
    assert_int_equal(t, T_NOW);

    fl_error_clear(&e);
    assert_int_equal(fl_control_due_parse("2026-02-30", "due", T_NOW, 0, &t, &e), FL_EINVAL);
    assert_string_equal(e.field, "due");
    assert_non_null(strstr(e.msg, "'2026-02-30' is not a date"));
    fl_error_clear(&e);
    assert_int_equal(fl_control_due_parse("P", "due", T_NOW, 0, &t, &e), FL_EINVAL);
    assert_non_null(strstr(e.msg, "'P' is not an ISO 8601 duration"));
    assert_string_equal(e.field, "due");
    fl_error_clear(&e);
    assert_int_equal(fl_control_due_parse("-P1D", "due", T_NOW, 0, &t, &e), FL_EINVAL);
    assert_non_null(strstr(e.msg, "negative"));
    assert_int_equal(fl_control_due_parse("", "due", T_NOW, 0, &t, NULL), FL_EINVAL);
    assert_int_equal(fl_control_due_parse("tomorrow", "due", T_NOW, 0, &t, NULL), FL_EINVAL);
    assert_int_equal(fl_control_due_parse("2026-12-31T25:00:00Z", "due", T_NOW, 0, &t, NULL),
                     FL_EINVAL);

    assert_int_equal(fl_control_remind_parse("P2D", "remind_before", T_NOW, &before, NULL), 0);
    assert_int_equal(before, 2 * T_DAY);
    assert_int_equal(fl_control_remind_parse("PT0S", "remind_before", T_NOW, &before, NULL), 0);
    assert_int_equal(before, 0);
    fl_error_clear(&e);
    assert_int_equal(fl_control_remind_parse("P", "remind_before", T_NOW, &before, &e), FL_EINVAL);
    assert_string_equal(e.field, "remind_before");
    assert_int_equal(fl_control_remind_parse("-PT1H", "r", T_NOW, &before, NULL), FL_EINVAL);
}

/* ---- reader ---- */

#define HEAD                                                                                       \
    "<?xml version=\"1.0\"?>\n"                                                                    \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"\n"               \
    " xmlns:flowd=\"https://flowd.dev/schema/bpmn/1.0\" id=\"d\">\n"
#define TAIL "</bpmn:definitions>\n"

/* A process p: start -> task a (stage with RACI A head_of_sales) -> task b -> end, with extension
 * elements on the process (proc_ext), the start event (start_ext) and the task (task_ext). */
static char *doc(const char *proc_ext, const char *start_ext, const char *task_ext)
{
    static char buf[8192];
    snprintf(buf, sizeof(buf),
             HEAD "<bpmn:process id=\"p\" isExecutable=\"true\">\n"
                  "<bpmn:extensionElements>%s</bpmn:extensionElements>\n"
                  "<bpmn:startEvent id=\"s\"><bpmn:extensionElements>%s"
                  "</bpmn:extensionElements></bpmn:startEvent>\n"
                  "<bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"a\"/>\n"
                  "<bpmn:userTask id=\"a\" name=\"Send the offer\"><bpmn:extensionElements>\n"
                  "<flowd:stage><flowd:raci responsible=\"sales\" accountable=\"head_of_sales\"/>"
                  "</flowd:stage>\n%s</bpmn:extensionElements></bpmn:userTask>\n"
                  "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"a\" targetRef=\"b\"/>\n"
                  "<bpmn:userTask id=\"b\"/>\n"
                  "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"b\" targetRef=\"e\"/>\n"
                  "<bpmn:endEvent id=\"e\"/>\n"
                  "</bpmn:process>\n" TAIL,
             proc_ext, start_ext, task_ext);
    return buf;
}

static struct fl_model *read_ok(const char *xml)
{
    struct fl_bpmn_doc *d = NULL;
    struct fl_error e;
    struct fl_model *m;
    fl_error_clear(&e);
    if (fl_bpmn_read(xml, strlen(xml), &d, &e) != 0)
        fail_msg("read: %s (line %d, column %d)", e.msg, e.line, e.column);
    m = fl_bpmn_doc_take(d, 0);
    fl_bpmn_doc_free(d);
    return m;
}

static int read_err(const char *xml, struct fl_error *e)
{
    struct fl_bpmn_doc *d = NULL;
    int rc;
    fl_error_clear(e);
    rc = fl_bpmn_read(xml, strlen(xml), &d, e);
    fl_bpmn_doc_free(d);
    return rc;
}

static void test_reader(void **state)
{
    struct fl_model *m;
    const struct fl_node *a;
    const struct fl_control_def *d;
    uint32_t node;
    (void)state;

    m = read_ok(doc("<flowd:controlPoint name=\"event_date\" due=\"=eventDate\" "
                    "remindBefore=\"P7D\" escalateTo=\"event_manager, head\"/>",
                    "<flowd:controlPoint name=\"survey\" due=\"2027-01-15\"/>",
                    "<flowd:controlPoint name=\"offer_expiry\" due=\"P14D\" remindBefore=\"P2D\" "
                    "escalateTo=\"accountable\" calendar=\"default\">\n"
                    "<flowd:escalation after=\"P1D\" to=\"head\"/>"
                    "<flowd:escalation after=\"P3D\" to=\"director, owner\"/>"
                    "</flowd:controlPoint>"));
    assert_int_equal(m->n_controls, 1);
    assert_string_equal(m->controls[0].name, "event_date");
    assert_string_equal(m->controls[0].due, "=eventDate");
    assert_string_equal(m->controls[0].remind_before, "P7D");
    assert_int_equal(m->controls[0].escalate_to.n, 2);
    assert_string_equal(m->controls[0].escalate_to.items[1], "head");
    assert_int_equal(m->nodes[m->start].n_controls, 1);
    assert_string_equal(m->nodes[m->start].controls[0].due, "2027-01-15");
    a = &m->nodes[fl_model_find_node(m, "a")];
    assert_int_equal(a->n_controls, 1);
    d = &a->controls[0];
    assert_string_equal(d->name, "offer_expiry");
    assert_string_equal(d->calendar, "default");
    assert_string_equal(d->escalate_to.items[0], "accountable");
    assert_int_equal(d->n_escalations, 2);
    assert_string_equal(d->escalations[1].after, "P3D");
    assert_string_equal(d->escalations[1].to.items[1], "owner");
    assert_true(d->line > 0 && d->column > 0);
    assert_ptr_equal(fl_model_find_control(m, "offer_expiry", &node), d);
    assert_int_equal(node, fl_model_find_node(m, "a"));
    assert_ptr_equal(fl_model_find_control(m, "event_date", &node), &m->controls[0]);
    assert_int_equal(node, FL_NONE);
    assert_null(fl_model_find_control(m, "nope", NULL));
    fl_model_free(m);
}

struct bad_case {
    const char *proc, *start, *task;
    const char *msg; /* substring of the message */
    int line;        /* expected line, or 0 */
};

static void test_reader_errors(void **state)
{
    static const struct bad_case cases[] = {
        {"", "", "<flowd:controlPoint name=\"x\" due=\"2026-02-30\"/>",
         "invalid due of control point 'x' on 'a': due '2026-02-30' is not a date", 10},
        {"", "", "<flowd:controlPoint name=\"x\" due=\"P\"/>", "'P' is not an ISO 8601 duration",
         10},
        {"", "", "<flowd:controlPoint name=\"x\" due=\"=a +\"/>", "syntax error in due", 10},
        {"", "", "<flowd:controlPoint name=\"x\" due=\"P1D\" remindBefore=\"P\"/>",
         "invalid remindBefore 'P'", 10},
        {"", "", "<flowd:controlPoint name=\"x\" due=\"P1D\" remindBefore=\"-P1D\"/>",
         "must not be negative", 10},
        {"", "", "<flowd:controlPoint name=\"x\" due=\"P1D\" remindbefore=\"P1D\"/>",
         "unknown attribute 'remindbefore' on flowd:controlPoint", 10},
        {"", "", "<flowd:controlPoint due=\"P1D\"/>", "has no name", 10},
        {"", "", "<flowd:controlPoint name=\"9x\" due=\"P1D\"/>", "must start with a letter", 10},
        {"", "", "<flowd:controlPoint name=\"x\"/>", "control point 'x' on 'a' has no due", 10},
        {"", "", "<flowd:controlPoint name=\"x\" due=\"${a}\"/>", "JUEL", 10},
        {"", "",
         "<flowd:controlPoint name=\"x\" due=\"P1D\"/>\n<flowd:controlPoint name=\"x\" "
         "due=\"P2D\"/>",
         "control point 'x' is defined twice on 'a'", 11},
        {"", "",
         "<flowd:controlPoint name=\"x\" due=\"P1D\"><flowd:escalation after=\"P3D\" to=\"h\"/>"
         "<flowd:escalation after=\"P1D\" to=\"d\"/></flowd:controlPoint>",
         "escalation levels of control point 'x' on 'a' are out of order", 10},
        {"", "",
         "<flowd:controlPoint name=\"x\" due=\"P1D\"><flowd:escalation after=\"P3D\"/>"
         "</flowd:controlPoint>",
         "flowd:escalation of control point 'x' on 'a' has no to", 10},
        {"", "", "<flowd:controlPoint name=\"x\" due=\"P1D\"><flowd:remind/></flowd:controlPoint>",
         "unknown element 'remind' in control point 'x'", 10},
        {"<flowd:controlPoint name=\"x\" due=\"P1D\" escalateTo=\"accountable\"/>", "", "",
         "'accountable' in escalateTo of control point 'x' on 'p' needs a user task", 5},
        {"<flowd:stage/>", "", "", "flowd:stage is not allowed on process 'p'", 5},
    };
    struct fl_error e;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_case *c = &cases[i];
        int rc = read_err(doc(c->proc, c->start, c->task), &e);
        if (rc == 0)
            fail_msg("case %zu read without error", i);
        assert_int_equal(rc, strstr(c->msg, "JUEL") ? FL_EUNSUPPORTED : FL_EMODEL);
        if (!strstr(e.msg, c->msg))
            fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, c->msg);
        if (c->line && e.line != c->line)
            fail_msg("case %zu: line %d, not %d (%s)", i, e.line, c->line, e.msg);
        assert_true(e.column > 0);
    }
    /* a control point on a service task is refused where it stands */
    {
        const char *xml =
            HEAD "<bpmn:process id=\"p\" isExecutable=\"true\">\n"
                 "<bpmn:startEvent id=\"s\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" "
                 "targetRef=\"j\"/>\n"
                 "<bpmn:serviceTask id=\"j\"><bpmn:extensionElements><flowd:job type=\"t\"/>\n"
                 "<flowd:controlPoint name=\"x\" due=\"P1D\"/></bpmn:extensionElements>"
                 "</bpmn:serviceTask>\n"
                 "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"j\" targetRef=\"e\"/><bpmn:endEvent "
                 "id=\"e\"/></bpmn:process>\n" TAIL;
        assert_int_equal(read_err(xml, &e), FL_EMODEL);
        assert_non_null(strstr(e.msg, "flowd:controlPoint is not allowed on serviceTask 'j'"));
        assert_int_equal(e.line, 7);
    }
    /* a "field" main action must name its variable */
    {
        const char *xml =
            HEAD "<bpmn:process id=\"p\" isExecutable=\"true\">\n"
                 "<bpmn:startEvent id=\"s\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" "
                 "targetRef=\"a\"/>\n"
                 "<bpmn:userTask id=\"a\"><bpmn:extensionElements><flowd:stage>\n"
                 "<flowd:mainAction kind=\"field\" required=\"true\"/></flowd:stage>"
                 "</bpmn:extensionElements></bpmn:userTask>\n"
                 "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"a\" targetRef=\"e\"/><bpmn:endEvent "
                 "id=\"e\"/></bpmn:process>\n" TAIL;
        assert_int_equal(read_err(xml, &e), FL_EMODEL);
        assert_non_null(strstr(e.msg, "kind 'field' of user task 'a' needs ref"));
        assert_int_equal(e.line, 7);
    }
}

/* ---- engine ---- */

struct ids {
    uint64_t n[FL__ID_COUNT];
};

static uint64_t next_id(void *arg, enum fl_id_kind kind)
{
    struct ids *ids = arg;
    return (uint64_t)(kind + 1) * 1000 + ++ids->n[kind];
}

struct env {
    struct fl_model *m;
    struct ids ids;
    struct fl_engine_ctx ctx;
    struct fl_effects fx;
    struct fl_instance *inst;
    struct fl_error err;
};

static void env_init(struct env *t, const char *xml)
{
    memset(t, 0, sizeof(*t));
    t->m = read_ok(xml);
    t->ctx.now_ms = T_NOW;
    t->ctx.next_id = next_id;
    t->ctx.id_arg = &t->ids;
    fl_effects_init(&t->fx);
}

static void env_release(struct env *t)
{
    fl_instance_free(t->inst);
    fl_effects_release(&t->fx);
    fl_model_free(t->m);
}

static struct fl_value *json(const char *text)
{
    struct fl_value *v = NULL;
    if (fl_value_from_json(text, strlen(text), &v, NULL) != 0)
        fail_msg("bad json %s", text);
    return v;
}

static int start(struct env *t, const char *vars_json)
{
    struct fl_value *vars = vars_json ? json(vars_json) : NULL;
    struct fl_command cmd = {.kind = FL_CMD_START, .variables = vars, .actor = "alice"};
    int rc;
    fl_effects_reset(&t->fx);
    fl_error_clear(&t->err);
    rc = fl_engine_start(t->m, 1, &cmd, &t->ctx, &t->inst, &t->fx, &t->err);
    fl_value_unref(vars);
    return rc;
}

static int apply(struct env *t, const struct fl_command *cmd)
{
    fl_effects_reset(&t->fx);
    fl_error_clear(&t->err);
    return fl_engine_apply(t->m, t->inst, cmd, &t->ctx, &t->fx, &t->err);
}

static int complete(struct env *t, uint64_t task, const char *vars_json)
{
    struct fl_value *vars = vars_json ? json(vars_json) : NULL;
    struct fl_command cmd = {
        .kind = FL_CMD_COMPLETE_TASK, .target_id = task, .variables = vars, .actor = "bob"};
    int rc = apply(t, &cmd);
    fl_value_unref(vars);
    return rc;
}

static int set_control(struct env *t, const char *name, int64_t due, int64_t remind)
{
    struct fl_command cmd = {.kind = FL_CMD_SET_CONTROL,
                             .control_name = name,
                             .control_due_ms = due,
                             .control_remind_ms = remind,
                             .actor = "carol"};
    return apply(t, &cmd);
}

static int fire(struct env *t, uint64_t timer)
{
    struct fl_command cmd = {.kind = FL_CMD_FIRE_TIMER, .target_id = timer};
    return apply(t, &cmd);
}

static size_t fx_count(const struct fl_effects *fx, enum fl_effect_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->n; i++)
        n += fx->items[i].kind == k;
    return n;
}

static const struct fl_effect *fx_nth(const struct fl_effects *fx, enum fl_effect_kind k,
                                      size_t nth)
{
    for (size_t i = 0; i < fx->n; i++)
        if (fx->items[i].kind == k && nth-- == 0)
            return &fx->items[i];
    return NULL;
}

static const struct fl_event *ev_nth(const struct fl_effects *fx, enum fl_event_type ty, size_t nth)
{
    for (size_t i = 0; i < fx->n; i++)
        if (fx->items[i].kind == FL_FX_EVENT && fx->items[i].u.event.type == ty && nth-- == 0)
            return &fx->items[i].u.event;
    return NULL;
}

/* The pending timer of a kind for control point id (level for DUE), or NULL. */
static const struct fl_timer *timer_of(const struct fl_instance *inst, enum fl_timer_kind k,
                                       uint64_t control, uint16_t level)
{
    for (size_t i = 0; i < inst->n_timers; i++)
        if (inst->timers[i].kind == k && inst->timers[i].ref_id == control &&
            inst->timers[i].level == level)
            return &inst->timers[i];
    return NULL;
}

static const struct fl_control *control_named(const struct fl_instance *inst, const char *name)
{
    for (size_t i = 0; i < inst->n_controls; i++)
        if (!strcmp(inst->controls[i].name, name))
            return &inst->controls[i];
    return NULL;
}

static uint64_t open_task(const struct env *t)
{
    for (size_t i = 0; i < t->inst->n_tokens; i++)
        if (t->inst->tokens[i].task_id)
            return t->inst->tokens[i].task_id;
    return 0;
}

#define OFFER_TASK                                                                                 \
    "<flowd:controlPoint name=\"offer_expiry\" due=\"=date(sent) + duration(&quot;P14D&quot;)\" "  \
    "remindBefore=\"P2D\" escalateTo=\"accountable\">"                                             \
    "<flowd:escalation after=\"P1D\" to=\"head\"/></flowd:controlPoint>"                           \
    "<flowd:controlPoint name=\"next_contact\" due=\"P7D\"/>"                                      \
    "<flowd:controlPoint name=\"event_date\" due=\"=if cancelled = true then null else "           \
    "eventDate\"/>"

static void test_engine_model_sets(void **state)
{
    struct env t;
    const struct fl_effect *e;
    const struct fl_control *c;
    uint64_t task, event_id;
    (void)state;

    env_init(&t, doc("<flowd:controlPoint name=\"event_date\" due=\"=eventDate\" "
                     "remindBefore=\"P7D\" escalateTo=\"event_manager\"/>",
                     "", OFFER_TASK));
    /* at start: the process's control point over the start variables */
    assert_int_equal(start(&t, "{\"eventDate\":\"2026-12-20\",\"owner\":\"olga\"}"), 0);
    assert_int_equal(t.inst->n_controls, 1);
    c = &t.inst->controls[0];
    event_id = c->id;
    assert_int_equal(c->id, 7001);
    assert_string_equal(c->name, "event_date");
    assert_int_equal(c->due_at, fl_days_from_civil(2026, 12, 20) * T_DAY);
    assert_int_equal(c->remind_at, c->due_at - 7 * T_DAY);
    assert_int_equal(c->set_at, T_NOW);
    assert_string_equal(t.inst->started_by, "alice");
    e = fx_nth(&t.fx, FL_FX_CONTROL_SET, 0);
    assert_non_null(e);
    assert_int_equal(e->u.control.id, 7001);
    assert_int_equal(e->u.control.instance_id, t.inst->id);
    assert_string_equal(e->u.control.name, "event_date");
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 2); /* reminder, due (the task has none) */
    assert_non_null(timer_of(t.inst, FL_TIMER_CONTROL_REMIND, event_id, 0));
    assert_int_equal(timer_of(t.inst, FL_TIMER_CONTROL_DUE, event_id, 0)->due_at, c->due_at);
    assert_string_equal(ev_nth(&t.fx, FL_EV_CONTROL_SET, 0)->detail,
                        "{\"name\":\"event_date\",\"due\":\"2026-12-20T00:00:00.000Z\","
                        "\"remind\":\"2026-12-13T00:00:00.000Z\"}");
    assert_int_equal(ev_nth(&t.fx, FL_EV_CONTROL_SET, 0)->ref_id, event_id);

    /* completing the task sets its control points over the merged variables */
    task = open_task(&t);
    t.ctx.now_ms = T_NOW + T_HOUR;
    assert_int_equal(complete(&t, task,
                              "{\"sent\":\"2026-11-23\",\"eventDate\":\"2026-12-27\","
                              "\"cancelled\":false}"),
                     0);
    c = control_named(t.inst, "offer_expiry");
    assert_non_null(c);
    assert_int_equal(c->due_at, fl_days_from_civil(2026, 12, 7) * T_DAY);
    assert_int_equal(c->remind_at, c->due_at - 2 * T_DAY);
    c = control_named(t.inst, "next_contact");
    assert_int_equal(c->due_at, T_NOW + T_HOUR + 7 * T_DAY);
    assert_int_equal(c->remind_at, 0);
    assert_null(timer_of(t.inst, FL_TIMER_CONTROL_REMIND, c->id, 0));
    /* event_date moved: same id, the old timers replaced */
    c = control_named(t.inst, "event_date");
    assert_int_equal(c->id, event_id);
    assert_int_equal(c->due_at, fl_days_from_civil(2026, 12, 27) * T_DAY);
    assert_int_equal(c->remind_at, 0); /* the task's definition has no reminder */
    assert_null(timer_of(t.inst, FL_TIMER_CONTROL_REMIND, event_id, 0));
    assert_int_equal(timer_of(t.inst, FL_TIMER_CONTROL_DUE, event_id, 0)->due_at, c->due_at);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 2);
    assert_int_equal(ev_nth(&t.fx, FL_EV_CONTROL_SET, 0)->token_id != 0, 1);
    assert_string_equal(ev_nth(&t.fx, FL_EV_CONTROL_SET, 0)->node_id, "a");
    /* ...and when the instance completes, every control point closes, every timer goes */
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_int_equal(t.inst->n_controls, 3);
    assert_int_equal(complete(&t, open_task(&t), NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(t.inst->n_controls, 0);
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_CONTROL_DEL), 3);
    assert_int_equal(fx_nth(&t.fx, FL_FX_CONTROL_DEL, 0)->u.control.done_at, T_NOW + T_HOUR);
    env_release(&t);
}

static void test_engine_null_clears_and_refusals(void **state)
{
    struct env t;
    uint64_t task;
    size_t n_fx;
    (void)state;

    env_init(&t,
             doc("", "<flowd:controlPoint name=\"event_date\" due=\"=eventDate\"/>", OFFER_TASK));
    /* a due of the wrong type refuses the start, naming the control point */
    assert_int_equal(start(&t, "{\"eventDate\":42}"), FL_EINVAL);
    assert_null(t.inst);
    assert_int_equal(t.fx.n, 0);
    assert_non_null(strstr(t.err.msg, "control point 'event_date' on 's'"));
    assert_non_null(strstr(t.err.msg, "gives a number"));
    assert_string_equal(t.err.field, "event_date");
    assert_string_equal(t.err.element, "s");
    assert_int_equal(start(&t, "{\"eventDate\":\"2026-02-30\"}"), FL_EINVAL);
    assert_non_null(strstr(t.err.msg, "'2026-02-30' is not a date"));
    /* null: nothing to set */
    assert_int_equal(start(&t, "{\"eventDate\":null}"), 0);
    assert_int_equal(t.inst->n_controls, 0);
    fl_instance_free(t.inst);
    t.inst = NULL;
    assert_int_equal(start(&t, "{\"eventDate\":\"2026-12-20T18:00:00Z\"}"), 0);
    assert_int_equal(t.inst->n_controls, 1);

    /* a failing due refuses the completion and changes nothing */
    task = open_task(&t);
    n_fx = t.inst->n_timers;
    assert_int_equal(complete(&t, task, "{\"sent\":\"yesterday\"}"), FL_EINVAL);
    assert_non_null(strstr(t.err.msg, "control point 'offer_expiry' on 'a': due ("));
    assert_string_equal(t.err.element, "a");
    assert_int_equal(t.fx.n, 0);
    assert_int_equal(t.inst->n_timers, n_fx);
    assert_int_equal(t.inst->revision, 1);
    assert_int_equal(open_task(&t), task);

    /* the model's null clears one that was set */
    assert_int_equal(complete(&t, task, "{\"sent\":\"2026-11-23\",\"cancelled\":true}"), 0);
    assert_string_equal(ev_nth(&t.fx, FL_EV_CONTROL_SET, 2)->detail,
                        "{\"name\":\"event_date\",\"due\":null}");
    assert_int_equal(fx_nth(&t.fx, FL_FX_CONTROL_DEL, 0)->u.control.name[0], 'e');
    env_release(&t);
}

/* A process that waits at task a until told, with offer_expiry defined on a. */
static void env_waiting(struct env *t)
{
    env_init(t, doc("", "", OFFER_TASK));
    assert_int_equal(start(t, "{\"owner\":\"olga\"}"), 0);
    assert_int_equal(t->inst->n_controls, 0);
}

static void test_engine_api_set_move_clear(void **state)
{
    struct env t;
    const struct fl_control *c;
    const struct fl_effect *e;
    uint64_t id, old_due_timer;
    (void)state;

    env_waiting(&t);
    /* set: a definition of that name gives the default reminder (-1) */
    assert_int_equal(set_control(&t, "offer_expiry", T_NOW + 10 * T_DAY, -1), 0);
    c = control_named(t.inst, "offer_expiry");
    id = c->id;
    assert_int_equal(c->remind_at, T_NOW + 8 * T_DAY);
    assert_string_equal(ev_nth(&t.fx, FL_EV_CONTROL_SET, 0)->actor, "carol");
    assert_int_equal(t.inst->revision, 2);
    old_due_timer = timer_of(t.inst, FL_TIMER_CONTROL_DUE, id, 0)->id;

    /* move: same control point, new timers, old ones deleted */
    assert_int_equal(set_control(&t, "offer_expiry", T_NOW + 20 * T_DAY, T_HOUR), 0);
    c = control_named(t.inst, "offer_expiry");
    assert_int_equal(c->id, id);
    assert_int_equal(c->due_at, T_NOW + 20 * T_DAY);
    assert_int_equal(c->remind_at, T_NOW + 20 * T_DAY - T_HOUR);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 2);
    assert_int_equal(fx_nth(&t.fx, FL_FX_TIMER_DEL, 0)->u.timer.ref_id, id);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 2);
    assert_true(timer_of(t.inst, FL_TIMER_CONTROL_DUE, id, 0)->id != old_due_timer);
    assert_int_equal(t.inst->n_timers, 2);

    /* a name the model does not know, no reminder */
    assert_int_equal(set_control(&t, "invoice_due", T_NOW + 30 * T_DAY, 0), 0);
    assert_int_equal(control_named(t.inst, "invoice_due")->remind_at, 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 1);
    /* one already overdue gets its due timer (fires at once) but no reminder */
    assert_int_equal(set_control(&t, "late", T_NOW - T_DAY, T_HOUR), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 1);
    assert_int_equal(fx_nth(&t.fx, FL_FX_TIMER_SET, 0)->u.timer.kind, FL_TIMER_CONTROL_DUE);

    /* clear */
    assert_int_equal(set_control(&t, "offer_expiry", 0, 0), 0);
    assert_null(control_named(t.inst, "offer_expiry"));
    assert_null(timer_of(t.inst, FL_TIMER_CONTROL_DUE, id, 0));
    e = fx_nth(&t.fx, FL_FX_CONTROL_DEL, 0);
    assert_int_equal(e->u.control.id, id);
    assert_int_equal(e->u.control.done_at, T_NOW);
    assert_string_equal(ev_nth(&t.fx, FL_EV_CONTROL_SET, 0)->detail,
                        "{\"name\":\"offer_expiry\",\"due\":null}");

    /* refusals change nothing */
    {
        uint64_t rev = t.inst->revision;
        size_t n = t.inst->n_timers;
        assert_int_equal(set_control(&t, "offer_expiry", 0, 0), FL_ENOTFOUND);
        assert_non_null(strstr(t.err.msg, "control point 'offer_expiry' is not set"));
        assert_int_equal(set_control(&t, "bad name", T_NOW, 0), FL_EINVAL);
        assert_string_equal(t.err.field, "name");
        assert_int_equal(set_control(&t, NULL, T_NOW, 0), FL_EINVAL);
        assert_int_equal(set_control(&t, "x", -5, 0), FL_EINVAL);
        assert_string_equal(t.err.field, "due");
        assert_int_equal(t.fx.n, 0);
        assert_int_equal(t.inst->revision, rev);
        assert_int_equal(t.inst->n_timers, n);
    }

    /* cancel: the open control points close, their timers go */
    {
        struct fl_command cancel = {.kind = FL_CMD_CANCEL, .reason = "lost"};
        assert_int_equal(apply(&t, &cancel), 0);
        assert_int_equal(t.inst->n_controls, 0);
        assert_int_equal(t.inst->n_timers, 0);
        assert_int_equal(fx_count(&t.fx, FL_FX_CONTROL_DEL), 2);
        assert_int_equal(set_control(&t, "x", T_NOW + T_DAY, 0), FL_ECONFLICT);
    }
    env_release(&t);
}

static void test_engine_fire(void **state)
{
    struct env t;
    const struct fl_timer *tm;
    const struct fl_effect *e;
    const struct fl_event *ev;
    uint64_t id, due;
    (void)state;

    env_waiting(&t);
    due = T_NOW + 10 * T_DAY;
    assert_int_equal(set_control(&t, "offer_expiry", due, -1), 0);
    id = control_named(t.inst, "offer_expiry")->id;

    /* not due yet: refused, still pending */
    tm = timer_of(t.inst, FL_TIMER_CONTROL_REMIND, id, 0);
    assert_int_equal(fire(&t, tm->id), FL_ECONFLICT);

    /* the reminder tells the owner (the "owner" variable) */
    t.ctx.now_ms = due - 2 * T_DAY;
    assert_int_equal(fire(&t, tm->id), 0);
    assert_null(timer_of(t.inst, FL_TIMER_CONTROL_REMIND, id, 0));
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_NOTIFY), 1);
    e = fx_nth(&t.fx, FL_FX_NOTIFY, 0);
    assert_string_equal(e->u.notify.kind, "control_point");
    assert_string_equal(e->u.notify.to_user, "olga");
    assert_int_equal(e->u.notify.control_id, id);
    assert_int_equal(e->u.notify.instance_id, t.inst->id);
    assert_string_equal(e->u.notify.node_id, "a");
    assert_non_null(strstr(e->u.notify.message, "control point 'offer_expiry'"));
    ev = ev_nth(&t.fx, FL_EV_CONTROL_REMINDED, 0);
    assert_non_null(ev);
    assert_int_equal(ev->ref_id, id);
    assert_string_equal(ev->detail,
                        "{\"name\":\"offer_expiry\",\"due\":\"2026-12-03T11:00:00.000Z\"}");

    /* due: the owner and escalateTo ("accountable": the stage's RACI A) */
    t.ctx.now_ms = due;
    tm = timer_of(t.inst, FL_TIMER_CONTROL_DUE, id, 0);
    assert_int_equal(fire(&t, tm->id), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_NOTIFY), 2);
    assert_string_equal(fx_nth(&t.fx, FL_FX_NOTIFY, 0)->u.notify.to_user, "olga");
    assert_string_equal(fx_nth(&t.fx, FL_FX_NOTIFY, 0)->u.notify.kind, "overdue");
    assert_string_equal(fx_nth(&t.fx, FL_FX_NOTIFY, 1)->u.notify.to_role, "head_of_sales");
    ev = ev_nth(&t.fx, FL_EV_ESCALATED, 0);
    assert_int_equal(ev->ref_id, id);
    assert_string_equal(ev->detail, "{\"level\":0,\"to\":[\"owner\",\"accountable\"]}");
    /* still open (overdue), and the next level is pending a day after the due time */
    assert_non_null(control_named(t.inst, "offer_expiry"));
    tm = timer_of(t.inst, FL_TIMER_CONTROL_DUE, id, 1);
    assert_non_null(tm);
    assert_int_equal(tm->due_at, due + T_DAY);
    assert_int_equal(tm->base_at, due);

    /* level 1: the head of the owner's department; the chain ends there */
    t.ctx.now_ms = due + 2 * T_DAY; /* late (a restart): fires all the same */
    assert_int_equal(fire(&t, tm->id), 0);
    e = fx_nth(&t.fx, FL_FX_NOTIFY, 0);
    assert_string_equal(e->u.notify.kind, "escalation");
    assert_string_equal(e->u.notify.to_head_of, "olga");
    assert_string_equal(ev_nth(&t.fx, FL_EV_ESCALATED, 0)->detail,
                        "{\"level\":1,\"to\":[\"head\"]}");
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_SET), 0);

    /* a fired timer is gone: firing it again is not found */
    assert_int_equal(fire(&t, tm->id), FL_ENOTFOUND);
    env_release(&t);
}

static void test_engine_fire_without_definition(void **state)
{
    struct env t;
    uint64_t id;
    (void)state;

    env_init(&t, doc("", "", ""));
    assert_int_equal(start(&t, NULL), 0); /* no owner variable: the starter is the owner */
    assert_int_equal(set_control(&t, "invoice_due", T_NOW + T_DAY, T_HOUR), 0);
    id = control_named(t.inst, "invoice_due")->id;
    t.ctx.now_ms = T_NOW + T_DAY;
    assert_int_equal(fire(&t, timer_of(t.inst, FL_TIMER_CONTROL_REMIND, id, 0)->id), 0);
    assert_string_equal(fx_nth(&t.fx, FL_FX_NOTIFY, 0)->u.notify.to_user, "alice");
    assert_null(fx_nth(&t.fx, FL_FX_NOTIFY, 0)->u.notify.node_id);
    assert_int_equal(fire(&t, timer_of(t.inst, FL_TIMER_CONTROL_DUE, id, 0)->id), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_NOTIFY), 1);
    assert_string_equal(ev_nth(&t.fx, FL_EV_ESCALATED, 0)->detail,
                        "{\"level\":0,\"to\":[\"owner\"]}");
    assert_int_equal(t.inst->n_timers, 0);
    env_release(&t);
}

/* A calendar where a day is two: proves durations go through ctx->calendar_add. */
static int slow_calendar(void *arg, const char *cal, int64_t t_ms, const struct fl_iso_duration *d,
                         int64_t *out, struct fl_error *err)
{
    (void)arg;
    if (!cal || strcmp(cal, "work") != 0)
        return fl_error_set(err, FL_ENOTFOUND, "no calendar '%s'", cal ? cal : "");
    *out = t_ms + 2 * d->days * T_DAY;
    return 0;
}

static void test_engine_calendar_and_next_contact(void **state)
{
    struct env t;
    const struct fl_control *c;
    uint64_t id, task;
    (void)state;

    /* a loop: the call is made again and again, each time moving the next contact */
    env_init(&t, HEAD "<bpmn:process id=\"p\" isExecutable=\"true\">\n"
                      "<bpmn:startEvent id=\"s\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" "
                      "targetRef=\"call\"/>\n"
                      "<bpmn:userTask id=\"call\"><bpmn:extensionElements>\n"
                      "<flowd:controlPoint name=\"next_contact\" due=\"P3D\" calendar=\"work\">"
                      "<flowd:escalation after=\"P1D\" to=\"sales_head\"/></flowd:controlPoint>\n"
                      "<flowd:controlPoint name=\"survey\" due=\"P1D\" calendar=\"nope\"/>\n"
                      "</bpmn:extensionElements></bpmn:userTask>\n"
                      "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"call\" targetRef=\"call2\"/>\n"
                      "<bpmn:userTask id=\"call2\"><bpmn:extensionElements>\n"
                      "<flowd:controlPoint name=\"next_contact\" due=\"P3D\" calendar=\"work\"/>\n"
                      "</bpmn:extensionElements></bpmn:userTask>\n"
                      "<bpmn:sequenceFlow id=\"f3\" sourceRef=\"call2\" targetRef=\"e\"/>"
                      "<bpmn:endEvent id=\"e\"/></bpmn:process>\n" TAIL);
    t.ctx.calendar_add = slow_calendar;
    assert_int_equal(start(&t, NULL), 0);
    task = open_task(&t);
    /* an unknown calendar refuses the completion, naming the control point */
    assert_int_equal(complete(&t, task, NULL), FL_ENOTFOUND);
    assert_non_null(strstr(t.err.msg, "control point 'survey' on 'call': no calendar 'nope'"));
    assert_int_equal(t.fx.n, 0);
    env_release(&t);

    env_init(&t, HEAD "<bpmn:process id=\"p\" isExecutable=\"true\">\n"
                      "<bpmn:startEvent id=\"s\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" "
                      "targetRef=\"call\"/>\n"
                      "<bpmn:userTask id=\"call\"><bpmn:extensionElements>\n"
                      "<flowd:controlPoint name=\"next_contact\" due=\"P3D\" calendar=\"work\">"
                      "<flowd:escalation after=\"P1D\" to=\"sales_head\"/></flowd:controlPoint>\n"
                      "</bpmn:extensionElements></bpmn:userTask>\n"
                      "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"call\" targetRef=\"gw\"/>\n"
                      "<bpmn:exclusiveGateway id=\"gw\" default=\"again\"/>\n"
                      "<bpmn:sequenceFlow id=\"done\" sourceRef=\"gw\" targetRef=\"e\">"
                      "<bpmn:conditionExpression>stop = true</bpmn:conditionExpression>"
                      "</bpmn:sequenceFlow>\n"
                      "<bpmn:sequenceFlow id=\"again\" sourceRef=\"gw\" targetRef=\"call\"/>\n"
                      "<bpmn:endEvent id=\"e\"/></bpmn:process>\n" TAIL);
    t.ctx.calendar_add = slow_calendar;
    assert_int_equal(start(&t, NULL), 0);
    assert_int_equal(complete(&t, open_task(&t), "{\"stop\":false}"), 0);
    c = control_named(t.inst, "next_contact");
    id = c->id;
    assert_int_equal(c->due_at, T_NOW + 6 * T_DAY); /* three "working" days of two */
    /* the next call, two days later, moves it: same control point, due from then */
    t.ctx.now_ms = T_NOW + 2 * T_DAY;
    assert_int_equal(complete(&t, open_task(&t), "{\"stop\":false}"), 0);
    c = control_named(t.inst, "next_contact");
    assert_int_equal(c->id, id);
    assert_int_equal(c->due_at, T_NOW + 8 * T_DAY);
    assert_int_equal(t.inst->n_timers, 1);
    /* due, then the level after it on the same calendar */
    t.ctx.now_ms = c->due_at;
    assert_int_equal(fire(&t, timer_of(t.inst, FL_TIMER_CONTROL_DUE, id, 0)->id), 0);
    assert_int_equal(timer_of(t.inst, FL_TIMER_CONTROL_DUE, id, 1)->due_at, T_NOW + 10 * T_DAY);
    /* the last call: the instance ends, the pending level goes */
    assert_int_equal(complete(&t, open_task(&t), "{\"stop\":true}"), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(t.inst->n_timers, 0);
    assert_int_equal(t.inst->n_controls, 0);
    env_release(&t);
}

/* ---- main actions ---- */

#define ACTION_TASK(kind, ref, req)                                                                \
    "<bpmn:process id=\"p\" isExecutable=\"true\">\n"                                              \
    "<bpmn:startEvent id=\"s\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" targetRef=\"a\"/>\n"  \
    "<bpmn:userTask id=\"a\" name=\"Issue the invoice\"><bpmn:extensionElements><flowd:stage>\n"   \
    "<flowd:mainAction kind=\"" kind "\" " ref " required=\"" req "\"/></flowd:stage>"             \
    "</bpmn:extensionElements></bpmn:userTask>\n"                                                  \
    "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"a\" targetRef=\"e\"/><bpmn:endEvent id=\"e\"/>"      \
    "</bpmn:process>\n"

static void test_main_action_refusal(void **state)
{
    static const char *const kinds[] = {"document", "email", "call"};
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        char xml[4096], want[256];
        struct env t;
        uint64_t task;
        snprintf(xml, sizeof(xml),
                 HEAD "<bpmn:process id=\"p\" isExecutable=\"true\">\n"
                      "<bpmn:startEvent id=\"s\"/><bpmn:sequenceFlow id=\"f1\" sourceRef=\"s\" "
                      "targetRef=\"a\"/>\n"
                      "<bpmn:userTask id=\"a\" name=\"Issue the invoice\"><bpmn:extensionElements>"
                      "<flowd:stage>\n<flowd:mainAction kind=\"%s\" required=\"true\"/>"
                      "</flowd:stage></bpmn:extensionElements></bpmn:userTask>\n"
                      "<bpmn:sequenceFlow id=\"f2\" sourceRef=\"a\" targetRef=\"e\"/>"
                      "<bpmn:endEvent id=\"e\"/></bpmn:process>\n" TAIL,
                 kinds[i]);
        env_init(&t, xml);
        assert_int_equal(start(&t, NULL), 0);
        task = open_task(&t);
        assert_int_equal(complete(&t, task, "{\"x\":1}"), FL_EREFUSED);
        snprintf(want, sizeof(want),
                 "task %llu cannot be completed: stage 'Issue the invoice' (a) requires its "
                 "main action '%s' to be recorded first",
                 (unsigned long long)task, kinds[i]);
        assert_string_equal(t.err.msg, want);
        assert_string_equal(t.err.element, "a");
        assert_int_equal(t.err.line, 6);
        assert_int_equal(t.fx.n, 0);
        /* recorded with its kind and a reference, then the completion goes through */
        {
            struct fl_command rec = {.kind = FL_CMD_RECORD_ACTION,
                                     .target_id = task,
                                     .action_kind = kinds[i],
                                     .action_ref = "doc-17"};
            assert_int_equal(apply(&t, &rec), 0);
            assert_non_null(
                strstr(ev_nth(&t.fx, FL_EV_MAIN_ACTION_RECORDED, 0)->detail, "\"ref\":\"doc-17\""));
        }
        assert_int_equal(complete(&t, task, NULL), 0);
        assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
        env_release(&t);
    }
}

static void test_main_action_field(void **state)
{
    struct env t;
    uint64_t task;
    const struct fl_effect *e;
    (void)state;

    env_init(&t, HEAD ACTION_TASK("field", "ref=\"invoiceNo\"", "true") TAIL);
    assert_int_equal(start(&t, "{\"invoiceNo\":\"\"}"), 0);
    task = open_task(&t);
    /* not filled: absent, null, or the empty string */
    assert_int_equal(complete(&t, task, NULL), FL_EREFUSED);
    assert_string_equal(t.err.msg,
                        "task 3001 cannot be completed: stage 'Issue the invoice' (a) requires "
                        "its main action 'field': fill the variable 'invoiceNo' (or record the "
                        "action)");
    assert_string_equal(t.err.field, "invoiceNo");
    assert_int_equal(complete(&t, task, "{\"invoiceNo\":null}"), FL_EREFUSED);
    assert_int_equal(complete(&t, task, "{\"other\":\"x\"}"), FL_EREFUSED);
    assert_int_equal(t.fx.n, 0);
    /* filled by the completion: recorded on the way, before the task closes */
    assert_int_equal(complete(&t, task, "{\"invoiceNo\":\"INV-7\"}"), 0);
    e = fx_nth(&t.fx, FL_FX_TASK_ACTION, 0);
    assert_non_null(e);
    assert_string_equal(e->u.task_close.kind, "field");
    assert_string_equal(e->u.task_close.ref, "invoiceNo");
    assert_string_equal(e->u.task_close.actor, "bob");
    assert_string_equal(ev_nth(&t.fx, FL_EV_MAIN_ACTION_RECORDED, 0)->detail,
                        "{\"kind\":\"field\",\"ref\":\"invoiceNo\"}");
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    env_release(&t);

    /* filled earlier (a start variable, here a number) */
    env_init(&t, HEAD ACTION_TASK("field", "ref=\"amount\"", "true") TAIL);
    assert_int_equal(start(&t, "{\"amount\":0}"), 0);
    assert_int_equal(complete(&t, open_task(&t), NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_ACTION), 1);
    env_release(&t);

    /* a recorded field action counts too (filled in another system) */
    env_init(&t, HEAD ACTION_TASK("field", "ref=\"amount\"", "true") TAIL);
    assert_int_equal(start(&t, NULL), 0);
    task = open_task(&t);
    {
        struct fl_command rec = {.kind = FL_CMD_RECORD_ACTION,
                                 .target_id = task,
                                 .action_kind = "field",
                                 .action_ref = "CRM"};
        assert_int_equal(apply(&t, &rec), 0);
    }
    assert_int_equal(complete(&t, task, NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_ACTION), 0); /* not twice */
    env_release(&t);

    /* not required: recorded when filled, completed either way */
    env_init(&t, HEAD ACTION_TASK("field", "ref=\"amount\"", "false") TAIL);
    assert_int_equal(start(&t, NULL), 0);
    assert_int_equal(complete(&t, open_task(&t), NULL), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_ACTION), 0);
    env_release(&t);
}

/* ---- store ---- */

struct store_fx {
    char dir[64], path[128];
};

static void store_dir(struct store_fx *f)
{
    strcpy(f->dir, "/tmp/flowd-control-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
}

static void store_dir_remove(struct store_fx *f)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[160];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
}

static void store_apply(struct fl_store *s, const struct env *t)
{
    struct fl_error e;
    fl_error_clear(&e);
    assert_int_equal(fl_store_begin(s, NULL), 0);
    if (fl_store_apply(s, t->m, t->inst, &t->fx, &e) != 0)
        fail_msg("apply: %s", e.msg);
    assert_int_equal(fl_store_commit(s, NULL), 0);
}

static void test_store(void **state)
{
    struct fl_store_options o = {.create = true, .synchronous = 0, .synchronous_set = true};
    struct fl_definition_row def;
    struct fl_control_query q = {0};
    struct fl_control_row *rows = NULL;
    struct fl_instance *back = NULL;
    struct fl_principal viewer;
    char alice[] = "alice", dave[] = "dave", root[] = "root";
    struct fl_store *s = NULL;
    struct store_fx f;
    struct env a, b;
    bool created;
    size_t n = 0;
    (void)state;

    store_dir(&f);
    assert_int_equal(fl_store_open(f.path, &o, &s, NULL), 0);
    assert_int_equal(fl_store_definition_put(s, "p", NULL, "x", 1, 1, &def, &created, NULL), 0);
    fl_definition_row_release(&def);

    /* two cases: alice's with two control points, then one cleared; dave's with one */
    env_waiting(&a);
    store_apply(s, &a);
    assert_int_equal(set_control(&a, "offer_expiry", T_NOW + 10 * T_DAY, -1), 0);
    store_apply(s, &a);
    assert_int_equal(set_control(&a, "invoice_due", T_NOW - T_DAY, 0), 0);
    store_apply(s, &a);
    assert_int_equal(set_control(&a, "offer_expiry", T_NOW + 12 * T_DAY, 0), 0); /* moved */
    store_apply(s, &a);
    env_init(&b, doc("", "", ""));
    b.ids.n[FL_ID_INSTANCE] = 1; /* a second instance id */
    b.ids.n[FL_ID_CONTROL] = 10;
    b.ids.n[FL_ID_TIMER] = 20;
    b.ids.n[FL_ID_TOKEN] = 10;
    b.ids.n[FL_ID_TASK] = 10;
    {
        struct fl_command st = {.kind = FL_CMD_START, .actor = "dave"};
        assert_int_equal(fl_engine_start(b.m, 1, &st, &b.ctx, &b.inst, &b.fx, &b.err), 0);
    }
    store_apply(s, &b);
    assert_int_equal(set_control(&b, "survey", T_NOW - T_HOUR, 0), 0);
    store_apply(s, &b);

    /* reloaded with the instance: the open ones, as the engine holds them */
    assert_int_equal(fl_store_instance_load(s, a.inst->id, &back, NULL), 0);
    assert_int_equal(back->n_controls, 2);
    assert_string_equal(back->controls[0].name, "offer_expiry");
    assert_int_equal(back->controls[0].id, control_named(a.inst, "offer_expiry")->id);
    assert_int_equal(back->controls[0].due_at, T_NOW + 12 * T_DAY);
    assert_int_equal(back->controls[0].remind_at, 0);
    assert_int_equal(back->controls[0].set_at, T_NOW);
    assert_string_equal(back->controls[1].name, "invoice_due");
    assert_string_equal(back->started_by, "alice");
    assert_int_equal(back->n_timers, a.inst->n_timers);
    fl_instance_free(back);

    /* clear one: the row stays with done_at */
    assert_int_equal(set_control(&a, "invoice_due", 0, 0), 0);
    store_apply(s, &a);

    q.instance_id = a.inst->id;
    assert_int_equal(fl_store_control_list(s, &q, &rows, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].name, "offer_expiry");
    assert_string_equal(rows[0].process_key, "p");
    assert_int_equal(rows[0].done_at, 0);
    assert_int_equal(rows[1].done_at, T_NOW);
    fl_control_rows_free(rows, n);
    q.open_only = true;
    assert_int_equal(fl_store_control_list(s, &q, &rows, &n, NULL), 0);
    assert_int_equal(n, 1);
    fl_control_rows_free(rows, n);

    /* overdue across cases: only dave's survey (alice's invoice was cleared) */
    memset(&q, 0, sizeof(q));
    q.overdue_at = T_NOW;
    assert_int_equal(fl_store_control_list(s, &q, &rows, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].name, "survey");
    assert_int_equal(rows[0].instance_id, b.inst->id);
    fl_control_rows_free(rows, n);
    /* ...and a viewer sees only the cases they may see (alice started a, not b) */
    fl_principal_init(&viewer);
    viewer.login = alice;
    viewer.user_id = 99;
    q.viewer = &viewer;
    assert_int_equal(fl_store_control_list(s, &q, &rows, &n, NULL), 0);
    assert_int_equal(n, 0);
    fl_control_rows_free(rows, n);
    q.overdue_at = 0;
    assert_int_equal(fl_store_control_list(s, &q, &rows, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].instance_id, a.inst->id);
    fl_control_rows_free(rows, n);
    viewer.login = dave;
    q.overdue_at = T_NOW;
    assert_int_equal(fl_store_control_list(s, &q, &rows, &n, NULL), 0);
    assert_int_equal(n, 1);
    fl_control_rows_free(rows, n);
    viewer.admin = true;
    viewer.login = root;
    q.overdue_at = 0;
    assert_int_equal(fl_store_control_list(s, &q, &rows, &n, NULL), 0);
    assert_int_equal(n, 3);
    /* the cursor */
    q.after_id = rows[0].id;
    fl_control_rows_free(rows, n);
    assert_int_equal(fl_store_control_list(s, &q, &rows, &n, NULL), 0);
    assert_int_equal(n, 2);
    fl_control_rows_free(rows, n);

    /* the instance ends: its open control points close in the store too */
    {
        struct fl_command cancel = {.kind = FL_CMD_CANCEL};
        assert_int_equal(apply(&b, &cancel), 0);
        store_apply(s, &b);
        memset(&q, 0, sizeof(q));
        q.open_only = true;
        assert_int_equal(fl_store_control_list(s, &q, &rows, &n, NULL), 0);
        assert_int_equal(n, 1);
        assert_string_equal(rows[0].name, "offer_expiry");
        fl_control_rows_free(rows, n);
        assert_int_equal(fl_store_instance_load(s, b.inst->id, &back, NULL), 0);
        assert_int_equal(back->n_controls, 0);
        fl_instance_free(back);
    }
    {
        uint64_t max = 0;
        assert_int_equal(fl_store_max_id(s, FL_ID_CONTROL, &max, NULL), 0);
        assert_int_equal(max, 7011);
    }
    env_release(&a);
    env_release(&b);
    fl_store_close(s);
    store_dir_remove(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_due_text),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_reader_errors),
        cmocka_unit_test(test_engine_model_sets),
        cmocka_unit_test(test_engine_null_clears_and_refusals),
        cmocka_unit_test(test_engine_api_set_move_clear),
        cmocka_unit_test(test_engine_fire),
        cmocka_unit_test(test_engine_fire_without_definition),
        cmocka_unit_test(test_engine_calendar_and_next_contact),
        cmocka_unit_test(test_main_action_refusal),
        cmocka_unit_test(test_main_action_field),
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
