/* Unit tests of instance migration and modification in the engine, on models read from
 * BPMN text: a waiting user task moves to the new version (same task id, new node), a
 * renamed element needs a pair, a token that cannot be placed refuses the whole migration
 * naming its element (and changes nothing), boundary timers follow the new version, and
 * FL_CMD_MODIFY cancels tokens and starts tokens before elements with the actor
 * recorded. Pure: no store, the clock is ctx.now_ms. */
#include "engine_fixture.h"

#include <stdio.h>

#define DOC(body)                                                                                  \
    "<?xml version=\"1.0\"?>\n"                                                                    \
    "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"\n"               \
    " xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\">\n"                                      \
    "<bpmn:process id=\"order\" isExecutable=\"true\">\n" body "</bpmn:process>\n"                 \
    "</bpmn:definitions>\n"
#define FLOW(id, a, b) "<bpmn:sequenceFlow id=\"" id "\" sourceRef=\"" a "\" targetRef=\"" b "\"/>\n"
#define USER(id) "<bpmn:userTask id=\"" id "\"/>\n"
#define JOB(id, type)                                                                              \
    "<bpmn:serviceTask id=\"" id "\"><bpmn:extensionElements><zeebe:taskDefinition type=\"" type  \
    "\"/></bpmn:extensionElements></bpmn:serviceTask>\n"
#define BTIMER(id, on, dur)                                                                        \
    "<bpmn:boundaryEvent id=\"" id "\" attachedToRef=\"" on "\"><bpmn:timerEventDefinition>"       \
    "<bpmn:timeDuration>" dur "</bpmn:timeDuration></bpmn:timerEventDefinition>"                  \
    "</bpmn:boundaryEvent>\n"

/* v1: start -> review -> pay (job) -> end */
static const char v1[] = DOC("<bpmn:startEvent id=\"start\"/>\n" USER("review") JOB("pay", "payment")
                                 "<bpmn:endEvent id=\"end\"/>\n" FLOW("f1", "start", "review")
                                     FLOW("f2", "review", "pay") FLOW("f3", "pay", "end"));

/* v2: a check before review (indices shift), and an extra step after it. */
static const char v2[] = DOC("<bpmn:startEvent id=\"start\"/>\n<bpmn:task id=\"check\"/>\n" USER(
    "review") USER("confirm") JOB("pay", "payment") "<bpmn:endEvent id=\"end\"/>\n"
                                 FLOW("f0", "start", "check") FLOW("f1", "check", "review")
                                     FLOW("f2", "review", "confirm") FLOW("f2b", "confirm", "pay")
                                         FLOW("f3", "pay", "end"));

/* v3: review renamed to review2; pay is a user task now. */
static const char v3[] = DOC("<bpmn:startEvent id=\"start\"/>\n" USER("review2") USER("pay")
                                 "<bpmn:endEvent id=\"end\"/>\n" FLOW("f1", "start", "review2")
                                     FLOW("f2", "review2", "pay") FLOW("f3", "pay", "end"));

/* parallel: start -> fork -> a, b -> join -> end */
static const char par1[] = DOC(
    "<bpmn:startEvent id=\"start\"/>\n<bpmn:parallelGateway id=\"fork\"/>\n" USER("a") USER("b")
        "<bpmn:parallelGateway id=\"join\"/>\n<bpmn:endEvent id=\"end\"/>\n" FLOW(
            "f1", "start", "fork") FLOW("fa", "fork", "a") FLOW("fb", "fork", "b")
            FLOW("ja", "a", "join") FLOW("jb", "b", "join") FLOW("f9", "join", "end"));

/* par2: b is gone (a goes straight to the join) */
static const char par2[] =
    DOC("<bpmn:startEvent id=\"start\"/>\n<bpmn:parallelGateway id=\"fork\"/>\n" USER("a") USER(
        "c") "<bpmn:parallelGateway id=\"join\"/>\n<bpmn:endEvent id=\"end\"/>\n"
            FLOW("f1", "start", "fork") FLOW("fa", "fork", "a") FLOW("fb", "fork", "c")
                FLOW("ja", "a", "join") FLOW("jb", "c", "join") FLOW("f9", "join", "end"));

/* timers: review with a 1 hour boundary (t1), the same with 2 hours and a second one */
static const char tm1[] = DOC("<bpmn:startEvent id=\"start\"/>\n" USER("review") BTIMER(
    "late", "review", "PT1H") "<bpmn:endEvent id=\"end\"/>\n<bpmn:endEvent id=\"late_end\"/>\n"
                                  FLOW("f1", "start", "review") FLOW("f2", "review", "end")
                                      FLOW("fl", "late", "late_end"));
static const char tm2[] = DOC("<bpmn:startEvent id=\"start\"/>\n" USER("review") BTIMER(
    "late", "review", "PT2H") BTIMER("later", "review", "PT5H")
                                  "<bpmn:endEvent id=\"end\"/>\n<bpmn:endEvent id=\"late_end\"/>\n"
                                      FLOW("f1", "start", "review") FLOW("f2", "review", "end")
                                          FLOW("fl", "late", "late_end")
                                              FLOW("fl2", "later", "late_end"));

/* cp1: start -> book (compensable by undo) -> wait -> end; cp2 adds a task before book, so
 * indices change; cp3 has book without a compensation handler. */
#define COMP_BOUNDARY                                                                              \
    "<bpmn:boundaryEvent id=\"cb\" attachedToRef=\"book\"><bpmn:compensateEventDefinition/>"      \
    "</bpmn:boundaryEvent>\n<bpmn:userTask id=\"undo\" isForCompensation=\"true\"/>\n"             \
    "<bpmn:association id=\"as\" sourceRef=\"cb\" targetRef=\"undo\"/>\n"
static const char cp1[] = DOC("<bpmn:startEvent id=\"start\"/>\n" USER("book") COMP_BOUNDARY USER(
    "wait") "<bpmn:endEvent id=\"end\"/>\n" FLOW("f1", "start", "book") FLOW("f2", "book", "wait")
                                  FLOW("f3", "wait", "end"));
static const char cp2[] = DOC("<bpmn:startEvent id=\"start\"/>\n<bpmn:task id=\"first\"/>\n" USER(
    "book") COMP_BOUNDARY USER("wait") "<bpmn:endEvent id=\"end\"/>\n" FLOW("f0", "start", "first")
                                  FLOW("f1", "first", "book") FLOW("f2", "book", "wait")
                                      FLOW("f3", "wait", "end"));
static const char cp3[] = DOC("<bpmn:startEvent id=\"start\"/>\n" USER("book") USER(
    "wait") "<bpmn:endEvent id=\"end\"/>\n" FLOW("f1", "start", "book") FLOW("f2", "book", "wait")
                                  FLOW("f3", "wait", "end"));

static struct fl_model *read_model(const char *xml)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_model *m;
    struct fl_error err;
    char msg[1024];

    fl_error_clear(&err);
    if (fl_bpmn_read(xml, strlen(xml), &doc, &err) != 0)
        fail_msg("bpmn: %s", fl_error_format(&err, msg, sizeof(msg)));
    m = fl_bpmn_doc_take(doc, 0);
    fl_bpmn_doc_free(doc);
    return m;
}

static void env_release(struct t_env *t)
{
    fl_model_free(t->m);
    t->m = NULL;
    fl_instance_free(t->inst);
    fl_effects_release(&t->fx);
}

/* Migrate t's instance to model `to` (definition 8); t->m becomes `to` on success. */
static int migrate(struct t_env *t, struct fl_model *to, const struct fl_migration_pair *pairs,
                   size_t n)
{
    int rc;
    fl_effects_reset(&t->fx);
    fl_error_clear(&t->err);
    rc = fl_engine_migrate(t->m, to, 8, t->inst, pairs, n, &t->ctx, "admin", &t->fx, &t->err);
    if (rc == 0) {
        /* The effects point into the new model: keep the old one until they are gone. */
        fl_model_free(t->m);
        t->m = to;
    }
    return rc;
}

static const struct fl_token *token_at(const struct t_env *t, const char *node)
{
    uint32_t n = fl_model_find_node(t->m, node);
    for (size_t i = 0; n != FL_NONE && i < t->inst->n_tokens; i++)
        if (t->inst->tokens[i].node == n)
            return &t->inst->tokens[i];
    return NULL;
}

static void test_user_task_moves(void **state)
{
    struct t_env t;
    struct fl_model *to = read_model(v2);
    uint64_t task;
    const struct fl_token *tok;
    const struct fl_effect *e;
    const struct fl_event *ev;
    (void)state;

    t_env_init(&t, read_model(v1));
    t_start(&t, "{\"amount\": 10}");
    task = fx_task(&t.fx, 0);
    assert_int_equal(t.inst->revision, 1);
    assert_int_equal(migrate(&t, to, NULL, 0), 0);
    tok = token_at(&t, "review");
    assert_non_null(tok);
    assert_int_equal(tok->node, fl_model_find_node(to, "review"));
    assert_int_not_equal(fl_model_find_node(to, "review"), 1); /* the index did change */
    assert_int_equal(tok->task_id, task);
    assert_int_equal(t.inst->definition_id, 8);
    assert_int_equal(t.inst->revision, 2);
    /* effects: the token's new row, then MIGRATE, and the event by the actor */
    e = fx_nth(&t.fx, FL_FX_TOKEN_PUT, 0);
    assert_non_null(e);
    assert_int_equal(e->u.token.node, fl_model_find_node(to, "review"));
    e = fx_nth(&t.fx, FL_FX_MIGRATE, 0);
    assert_non_null(e);
    assert_int_equal(e->u.migrate.definition_id, 8);
    assert_int_equal(e->u.migrate.from_definition_id, 7);
    assert_true(e > fx_nth(&t.fx, FL_FX_TOKEN_PUT, 0));
    ev = ev_nth(&t.fx, FL_EV_INSTANCE_MIGRATED, 0);
    assert_non_null(ev);
    assert_string_equal(ev->actor, "admin");
    assert_string_equal(ev->detail, "{\"from\":7,\"to\":8}");
    /* and it runs on in the new version: review -> confirm (new) */
    assert_int_equal(t_complete(&t, task, NULL), 0);
    assert_non_null(token_at(&t, "confirm"));
    assert_string_equal(fx_task_of(&t.fx, 0)->node_id, "confirm");
    env_release(&t);
}

static void test_job_keeps_its_id(void **state)
{
    struct t_env t;
    struct fl_model *to = read_model(v2);
    const struct fl_token *tok;
    uint64_t job;
    (void)state;

    t_env_init(&t, read_model(v1));
    t_start(&t, NULL);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    job = fx_nth(&t.fx, FL_FX_JOB_CREATE, 0)->u.job.id;
    assert_int_equal(migrate(&t, to, NULL, 0), 0);
    tok = token_at(&t, "pay");
    assert_non_null(tok);
    assert_int_equal(tok->job_id, job);
    struct fl_command done = {.kind = FL_CMD_COMPLETE_JOB, .target_id = job};
    assert_int_equal(t_apply(&t, &done), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    env_release(&t);
}

static void test_renamed_needs_a_pair(void **state)
{
    struct t_env t;
    struct fl_model *to = read_model(v3);
    struct fl_migration_pair pairs[] = {{"review", "review2"}};
    (void)state;

    t_env_init(&t, read_model(v1));
    t_start(&t, NULL);
    assert_int_equal(migrate(&t, to, NULL, 0), FL_EINVAL);
    assert_string_equal(t.err.element, "review");
    assert_non_null(strstr(t.err.msg, "no element 'review'"));
    assert_int_equal(t.fx.n, 0);
    assert_int_equal(t.inst->definition_id, 7);
    assert_int_equal(t.inst->revision, 1);
    /* a pair naming an element neither model has is refused too */
    struct fl_migration_pair bad[] = {{"review", "nope"}};
    assert_int_equal(migrate(&t, to, bad, 1), FL_EINVAL);
    assert_non_null(strstr(t.err.msg, "no element 'nope'"));
    assert_int_equal(migrate(&t, to, pairs, 1), 0);
    assert_non_null(token_at(&t, "review2"));
    env_release(&t);
}

static void test_other_kind_refused(void **state)
{
    struct t_env t;
    struct fl_model *to = read_model(v3); /* pay is a user task there */
    struct fl_migration_pair to_service[] = {{"review", "pay"}};
    (void)state;

    /* a user task mapped to a service task */
    t_env_init(&t, read_model(v1));
    t_start(&t, NULL);
    uint64_t task = fx_task(&t.fx, 0);
    struct fl_model *v1b = read_model(v1);
    struct fl_migration_pair up[] = {{"review", "pay"}};
    assert_int_equal(migrate(&t, v1b, up, 1), FL_EINVAL);
    assert_non_null(strstr(t.err.msg, "serviceTask"));
    assert_string_equal(t.err.element, "review");
    fl_model_free(v1b);
    /* a waiting job at pay cannot become v3's user task pay */
    assert_int_equal(t_complete(&t, task, NULL), 0);
    assert_int_equal(migrate(&t, to, to_service, 1), FL_EINVAL);
    assert_string_equal(t.err.element, "pay");
    assert_non_null(strstr(t.err.msg, "userTask in the new version"));
    assert_int_equal(t.fx.n, 0);
    fl_model_free(to);
    env_release(&t);
}

static void test_unmapped_token_refuses_all(void **state)
{
    struct t_env t;
    struct fl_model *to = read_model(par2);
    uint32_t a_old, b_old;
    (void)state;

    t_env_init(&t, read_model(par1));
    t_start(&t, NULL);
    assert_int_equal(t.inst->n_tokens, 2);
    a_old = t.inst->tokens[0].node;
    b_old = t.inst->tokens[1].node;
    assert_int_equal(migrate(&t, to, NULL, 0), FL_EINVAL);
    assert_string_equal(t.err.element, "b");
    /* nothing changed: not even the token at a, which could have moved */
    assert_int_equal(t.inst->tokens[0].node, a_old);
    assert_int_equal(t.inst->tokens[1].node, b_old);
    assert_int_equal(t.inst->definition_id, 7);
    assert_int_equal(t.fx.n, 0);
    /* with b mapped onto c, both move */
    struct fl_migration_pair pairs[] = {{"b", "c"}};
    assert_int_equal(migrate(&t, to, pairs, 1), 0);
    assert_non_null(token_at(&t, "a"));
    assert_non_null(token_at(&t, "c"));
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_PUT), 2);
    env_release(&t);
}

static void test_joining_token_keeps_its_flow(void **state)
{
    struct t_env t;
    struct fl_model *to = read_model(par2);
    struct fl_migration_pair pairs[] = {{"b", "c"}};
    const struct fl_token *j;
    uint64_t task_b;
    (void)state;

    t_env_init(&t, read_model(par1));
    t_start(&t, NULL);
    task_b = fx_task(&t.fx, 1);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0); /* a arrives at the join */
    assert_int_equal(migrate(&t, to, pairs, 1), 0);
    j = token_at(&t, "join");
    assert_non_null(j);
    assert_int_equal(j->state, FL_TOKEN_JOINING);
    assert_string_equal(to->flows[j->flow].id, "ja");
    assert_int_equal(t_complete(&t, task_b, NULL), 0); /* c's task, was b's */
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    env_release(&t);
}

static void test_boundary_timers_follow_the_new_version(void **state)
{
    struct t_env t;
    struct fl_model *to = read_model(tm2);
    uint64_t late_id;
    const struct fl_effect *e;
    (void)state;

    t_env_init(&t, read_model(tm1));
    t_start(&t, NULL);
    assert_int_equal(t.inst->n_timers, 1);
    late_id = t.inst->timers[0].id;
    t.ctx.now_ms = T_NOW + 10 * 60000; /* ten minutes later */
    assert_int_equal(migrate(&t, to, NULL, 0), 0);
    assert_int_equal(t.inst->n_timers, 2);
    /* late is kept with its due time (armed at start) at its new node ... */
    e = fx_nth(&t.fx, FL_FX_TIMER_SET, 0);
    assert_non_null(e);
    assert_int_equal(e->u.timer.id, late_id);
    assert_int_equal(e->u.timer.node, fl_model_find_node(to, "late"));
    assert_int_equal(e->u.timer.due_at, T_NOW + T_HOUR);
    /* ... and later, new in v2, is armed from now */
    e = fx_nth(&t.fx, FL_FX_TIMER_SET, 1);
    assert_non_null(e);
    assert_int_not_equal(e->u.timer.id, late_id);
    assert_int_equal(e->u.timer.node, fl_model_find_node(to, "later"));
    assert_int_equal(e->u.timer.due_at, T_NOW + 10 * 60000 + 5 * T_HOUR);
    /* back to v1: later has no boundary there and is deleted */
    assert_int_equal(migrate(&t, read_model(tm1), NULL, 0), 0);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    assert_int_equal(t.inst->n_timers, 1);
    assert_int_equal(t.inst->timers[0].id, late_id);
    /* and the kept timer fires in the new model: the task is interrupted */
    t.ctx.now_ms = T_NOW + T_HOUR;
    struct fl_command fire = {.kind = FL_CMD_FIRE_TIMER, .target_id = late_id};
    assert_int_equal(t_apply(&t, &fire), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    env_release(&t);
}

static void test_not_active_refused(void **state)
{
    struct t_env t;
    struct fl_model *to = read_model(v2);
    struct fl_command cancel = {.kind = FL_CMD_CANCEL, .reason = "x"};
    (void)state;

    t_env_init(&t, read_model(v1));
    t_start(&t, NULL);
    assert_int_equal(t_apply(&t, &cancel), 0);
    assert_int_equal(migrate(&t, to, NULL, 0), FL_ECONFLICT);
    fl_model_free(to);
    env_release(&t);
}

/* A completed activity owed compensation moves to its element in the new version (a
 * COMP_PUT rewrites its row), and a version without its handler is refused. */
static void test_compensation_record_follows(void **state)
{
    struct t_env t;
    struct fl_model *to = read_model(cp2), *bad = read_model(cp3);
    const struct fl_effect *e;
    (void)state;

    t_env_init(&t, read_model(cp1));
    t_start(&t, NULL);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    e = fx_nth(&t.fx, FL_FX_COMP_PUT, 0);
    assert_non_null(e);
    assert_int_equal(e->u.comp.seq, 1);
    assert_int_equal(t.inst->n_comps, 1);

    assert_int_equal(migrate(&t, bad, NULL, 0), FL_EINVAL);
    assert_non_null(strstr(t.err.msg, "compensation handler"));
    assert_int_equal(t.inst->comps[0].node, fl_model_find_node(t.m, "book")); /* unchanged */
    fl_model_free(bad);

    assert_int_equal(migrate(&t, to, NULL, 0), 0);
    assert_int_equal(t.inst->comps[0].node, fl_model_find_node(to, "book"));
    e = fx_nth(&t.fx, FL_FX_COMP_PUT, 0);
    assert_non_null(e);
    assert_int_equal(e->u.comp.node, fl_model_find_node(to, "book"));
    assert_int_equal(e->u.comp.seq, 1);
    env_release(&t);
}

/* ---- modification ---- */

static int modify(struct t_env *t, uint64_t cancel, const char *start_before)
{
    struct fl_command cmd = {.kind = FL_CMD_MODIFY,
                             .target_id = cancel,
                             .start_node_id = start_before,
                             .actor = "root"};
    return t_apply(t, &cmd);
}

/* A token stuck in an incident (a job out of retries) that the modification cancels takes
 * its incident along: resolved in the store, and the instance's flag drops. */
static void test_modify_cancel_resolves_incident(void **state)
{
    struct t_env t;
    uint64_t job, tok, incident;
    const struct fl_effect *e;
    (void)state;

    t_env_init(&t, read_model(v1));
    t_start(&t, NULL);
    assert_int_equal(t_complete(&t, fx_task(&t.fx, 0), NULL), 0);
    e = fx_nth(&t.fx, FL_FX_JOB_CREATE, 0);
    assert_non_null(e);
    job = e->u.job.id;
    struct fl_command fail = {.kind = FL_CMD_FAIL_JOB, .target_id = job, .retries = 0,
                              .error_message = "down"};
    assert_int_equal(t_apply(&t, &fail), 0);
    assert_true(t.inst->incident);
    tok = token_at(&t, "pay")->id;
    incident = token_at(&t, "pay")->incident_id;
    assert_true(incident != 0);

    assert_int_equal(modify(&t, tok, "review"), 0);
    e = fx_nth(&t.fx, FL_FX_INCIDENT_RESOLVE, 0);
    assert_non_null(e);
    assert_int_equal(e->u.incident.id, incident);
    assert_int_equal(e->u.incident.token_id, tok);
    assert_non_null(ev_nth(&t.fx, FL_EV_INCIDENT_RESOLVED, 0));
    assert_false(t.inst->incident);
    assert_non_null(token_at(&t, "review"));
    env_release(&t);
}

static void test_modify_cancel_last_token_cancels(void **state)
{
    struct t_env t;
    uint64_t task, tok;
    const struct fl_effect *e;
    const struct fl_event *ev;
    char want[64];
    (void)state;

    t_env_init(&t, read_model(tm1));
    t_start(&t, NULL);
    task = fx_task(&t.fx, 0);
    tok = t.inst->tokens[0].id;
    assert_int_equal(modify(&t, tok, NULL), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_CANCELLED);
    assert_int_equal(t.inst->n_tokens, 0);
    assert_int_equal(t.inst->n_timers, 0);
    e = fx_nth(&t.fx, FL_FX_TASK_CLOSE, 0);
    assert_non_null(e);
    assert_int_equal(e->u.task_close.id, task);
    assert_int_equal(e->u.task_close.status, FL_TASK_CANCELLED);
    assert_string_equal(e->u.task_close.actor, "root");
    assert_int_equal(fx_count(&t.fx, FL_FX_TOKEN_DEL), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_TIMER_DEL), 1);
    ev = ev_nth(&t.fx, FL_EV_INSTANCE_MODIFIED, 0);
    assert_non_null(ev);
    assert_string_equal(ev->actor, "root");
    assert_string_equal(ev->node_id, "review");
    snprintf(want, sizeof(want), "{\"cancelled\":%llu}", (unsigned long long)tok);
    assert_string_equal(ev->detail, want);
    assert_non_null(ev_nth(&t.fx, FL_EV_INSTANCE_CANCELLED, 0));
    assert_null(ev_nth(&t.fx, FL_EV_INSTANCE_COMPLETED, 0));
    env_release(&t);
}

static void test_modify_move_token(void **state)
{
    struct t_env t;
    uint64_t tok;
    const struct fl_event *ev;
    (void)state;

    t_env_init(&t, read_model(v1));
    t_start(&t, NULL);
    tok = t.inst->tokens[0].id;
    /* cancel review and start before pay at once: the instance goes on */
    assert_int_equal(modify(&t, tok, "pay"), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_ACTIVE);
    assert_int_equal(t.inst->n_tokens, 1);
    assert_non_null(token_at(&t, "pay"));
    assert_int_not_equal(t.inst->tokens[0].id, tok);
    assert_int_equal(fx_count(&t.fx, FL_FX_JOB_CREATE), 1);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CLOSE), 1);
    ev = ev_nth(&t.fx, FL_EV_INSTANCE_MODIFIED, 0);
    assert_non_null(ev);
    assert_string_equal(ev->detail, "{\"started_before\":\"pay\"}");
    assert_string_equal(ev->actor, "root");
    assert_non_null(ev_nth(&t.fx, FL_EV_INSTANCE_MODIFIED, 1));
    assert_int_equal(t.inst->revision, 2);
    /* start before review again: two tokens now */
    assert_int_equal(modify(&t, 0, "review"), 0);
    assert_int_equal(t.inst->n_tokens, 2);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CREATE), 1);
    env_release(&t);
}

static void test_modify_lists_and_variables(void **state)
{
    struct t_env t;
    uint64_t toks[2];
    const char *starts[] = {"end"};
    struct fl_value *vars = t_json("{\"why\": \"repair\"}");
    (void)state;

    t_env_init(&t, read_model(par1));
    t_start(&t, NULL);
    toks[0] = t.inst->tokens[0].id;
    toks[1] = t.inst->tokens[1].id;
    struct fl_command cmd = {.kind = FL_CMD_MODIFY,
                             .cancel_tokens = toks,
                             .n_cancel_tokens = 2,
                             .start_before = starts,
                             .n_start_before = 1,
                             .variables = vars,
                             .actor = "root"};
    /* both tokens cancelled, one started before the end: the instance completes */
    assert_int_equal(t_apply(&t, &cmd), 0);
    assert_int_equal(t.inst->status, FL_INSTANCE_COMPLETED);
    assert_int_equal(fx_count(&t.fx, FL_FX_TASK_CLOSE), 2);
    assert_int_equal(fx_count(&t.fx, FL_FX_VAR_SET), 1);
    assert_int_equal(ev_count(&t.fx, FL_EV_INSTANCE_MODIFIED), 3);
    fl_value_unref(vars);
    env_release(&t);
}

static void test_modify_refusals(void **state)
{
    struct t_env t;
    uint64_t tok;
    (void)state;

    t_env_init(&t, read_model(tm1));
    t_start(&t, NULL);
    tok = t.inst->tokens[0].id;
    assert_int_equal(modify(&t, 0, NULL), FL_EINVAL);
    assert_int_equal(modify(&t, 999, NULL), FL_ENOTFOUND);
    assert_non_null(strstr(t.err.msg, "token 999"));
    assert_int_equal(modify(&t, 0, "nope"), FL_EINVAL);
    assert_non_null(strstr(t.err.msg, "no element 'nope'"));
    assert_int_equal(modify(&t, 0, "late"), FL_EINVAL);
    assert_string_equal(t.err.element, "late");
    assert_non_null(strstr(t.err.msg, "boundary event"));
    /* a refused instruction refuses the valid ones with it */
    assert_int_equal(modify(&t, tok, "nope"), FL_EINVAL);
    assert_int_equal(t.inst->n_tokens, 1);
    assert_int_equal(t.inst->revision, 1);
    assert_int_equal(t.fx.n, 0);
    uint64_t twice[] = {tok, tok};
    struct fl_command cmd = {.kind = FL_CMD_MODIFY, .cancel_tokens = twice, .n_cancel_tokens = 2};
    assert_int_equal(t_apply(&t, &cmd), FL_EINVAL);
    env_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_task_moves),
        cmocka_unit_test(test_job_keeps_its_id),
        cmocka_unit_test(test_renamed_needs_a_pair),
        cmocka_unit_test(test_other_kind_refused),
        cmocka_unit_test(test_unmapped_token_refuses_all),
        cmocka_unit_test(test_joining_token_keeps_its_flow),
        cmocka_unit_test(test_boundary_timers_follow_the_new_version),
        cmocka_unit_test(test_not_active_refused),
        cmocka_unit_test(test_compensation_record_follows),
        cmocka_unit_test(test_modify_cancel_resolves_incident),
        cmocka_unit_test(test_modify_cancel_last_token_cancels),
        cmocka_unit_test(test_modify_move_token),
        cmocka_unit_test(test_modify_lists_and_variables),
        cmocka_unit_test(test_modify_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
