/* Unit tests of src/cli/cli_remote_json.c, the API JSON to row converters of the CLI's
 * remote mode: a task and an instance read back member by member (exact decimals kept in
 * variables), absent members read as absent, and answers of the wrong shape (a string
 * where a number belongs, a list that is not of strings, a bad time, a main_action that
 * is no object) give an error naming the member -- never a crash or a leak (ASan). The
 * file under test belongs to the flowd binary and is compiled into this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_remote_json.c"

static struct fl_value *parse(const char *json)
{
    struct fl_value *v = NULL;
    assert_int_equal(fl_value_from_json(json, strlen(json), &v, NULL), 0);
    return v;
}

static void test_task(void **state)
{
    struct fl_value *v =
        parse("{\"id\":7,\"instance_id\":3,\"process_key\":\"sales\",\"node_id\":\"offer\","
              "\"name\":\"Offer\",\"status\":\"completed\",\"assignee\":null,"
              "\"candidate_roles\":[\"a\",\"b\"],\"candidate_users\":[],"
              "\"created_at\":\"2026-03-02T09:00:00.250Z\",\"due_at\":null,"
              "\"closed_by\":\"anna\",\"main_action\":{\"kind\":\"document\",\"required\":true,"
              "\"done\":false},\"future_member\":{\"x\":1}}");
    struct fl_task_row t;
    struct fl_error e;
    (void)state;
    fl_error_clear(&e);
    assert_int_equal(cli_remote_task(v, &t, &e), 0);
    assert_int_equal(t.id, 7);
    assert_int_equal(t.instance_id, 3);
    assert_string_equal(t.process_key, "sales");
    assert_int_equal(t.status, FL_TASK_COMPLETED);
    assert_null(t.assignee);
    assert_string_equal(t.candidate_roles, "a,b");
    assert_null(t.candidate_users);
    assert_int_equal(t.created_at, 1772442000250LL);
    assert_int_equal(t.due_at, 0);
    assert_int_equal(t.remind_at, 0); /* absent */
    assert_string_equal(t.closed_by, "anna");
    assert_string_equal(t.main_action_kind, "document");
    assert_true(t.main_action_required);
    assert_false(t.main_action_done);
    fl_task_row_release(&t);
    fl_value_unref(v);

    /* the API's "no main action": an object whose kind is null */
    v = parse("{\"id\":1,\"status\":\"open\",\"main_action\":{\"kind\":null,\"required\":false,"
              "\"done\":false}}");
    assert_int_equal(cli_remote_task(v, &t, &e), 0);
    assert_null(t.main_action_kind);
    assert_int_equal(t.status, FL_TASK_OPEN);
    fl_task_row_release(&t);
    fl_value_unref(v);
}

static void expect_bad_task(const char *json, const char *member)
{
    struct fl_value *v = parse(json);
    struct fl_task_row t;
    struct fl_error e;
    fl_error_clear(&e);
    assert_int_equal(cli_remote_task(v, &t, &e), FL_EINVAL);
    assert_non_null(strstr(e.msg, member));
    assert_null(t.process_key); /* released and zeroed */
    fl_value_unref(v);
}

static void test_task_wrong_shapes(void **state)
{
    (void)state;
    expect_bad_task("{\"id\":\"7\",\"process_key\":\"p\"}", "'id'");
    expect_bad_task("{\"id\":-1,\"process_key\":\"p\"}", "'id'");
    expect_bad_task("{\"id\":1.5,\"process_key\":\"p\"}", "'id'");
    expect_bad_task("{\"process_key\":\"p\",\"name\":5}", "'name'");
    expect_bad_task("{\"process_key\":\"p\",\"candidate_roles\":\"a,b\"}", "'candidate_roles'");
    expect_bad_task("{\"process_key\":\"p\",\"candidate_users\":[1]}", "'candidate_users'");
    expect_bad_task("{\"process_key\":\"p\",\"due_at\":\"tomorrow\"}", "'due_at'");
    expect_bad_task("{\"process_key\":\"p\",\"status\":\"lost\"}", "'status'");
    expect_bad_task("{\"process_key\":\"p\",\"main_action\":\"document\"}", "'main_action'");
    expect_bad_task("{\"process_key\":\"p\",\"main_action\":{\"kind\":\"d\",\"done\":1}}",
                    "'done'");
}

static void test_not_an_object(void **state)
{
    struct fl_value *v = parse("[1,2]");
    struct fl_instance_row i;
    struct fl_error e;
    (void)state;
    assert_int_equal(cli_remote_instance(v, &i, &e), FL_EINVAL);
    assert_int_equal(cli_remote_instance(NULL, &i, &e), FL_EINVAL);
    fl_value_unref(v);
}

static void test_instance_keeps_exact_numbers(void **state)
{
    struct fl_value *v = parse("{\"id\":12,\"definition_id\":4,\"process_key\":\"sales\","
                               "\"version\":2,\"business_key\":\"D-1\",\"status\":\"active\","
                               "\"incident\":true,\"started_at\":\"2026-03-02T09:00:00.000Z\","
                               "\"ended_at\":null,\"variables\":{\"amount\":1500.50,"
                               "\"ratio\":0.1,\"big\":123456789012345678901234567890,"
                               "\"list\":[1,\"x\",null]}}");
    struct fl_instance_row i;
    struct fl_error e;
    (void)state;
    assert_int_equal(cli_remote_instance(v, &i, &e), 0);
    assert_int_equal(i.definition_id, 4);
    assert_int_equal(i.version, 2);
    assert_int_equal(i.status, FL_INSTANCE_ACTIVE);
    assert_true(i.incident);
    assert_int_equal(i.ended_at, 0);
    assert_non_null(strstr(i.variables_json, "\"ratio\":0.1"));
    assert_non_null(strstr(i.variables_json, "123456789012345678901234567890"));
    assert_non_null(strstr(i.variables_json, "\"list\":[1,\"x\",null]"));
    fl_instance_row_release(&i);
    fl_value_unref(v);
}

static void test_event_and_people(void **state)
{
    struct fl_value *v = parse("{\"seq\":9,\"type\":\"task_completed\",\"node_id\":\"n\","
                               "\"actor\":\"anna\",\"token_id\":2,\"ref_id\":5,"
                               "\"at\":\"2026-03-02T09:00:00.000Z\",\"detail\":{\"a\":[1]}}");
    struct fl_event_row ev;
    struct fl_user_row u;
    struct fl_token_row t;
    struct fl_department_row d;
    struct fl_error e;
    (void)state;
    assert_int_equal(cli_remote_event(v, &ev, &e), 0);
    assert_string_equal(fl_event_type_name((enum fl_event_type)ev.type), "task_completed");
    assert_string_equal(ev.detail, "{\"a\":[1]}");
    assert_int_equal(ev.token_id, 2);
    free(ev.node_id);
    free(ev.actor);
    free(ev.detail);
    fl_value_unref(v);

    v = parse("{\"type\":\"something_new\"}");
    assert_int_equal(cli_remote_event(v, &ev, &e), 0);
    assert_int_equal(ev.type, -1); /* printed as "unknown" */
    fl_value_unref(v);

    v = parse("{\"id\":3,\"login\":\"anna\",\"roles\":[\"a\",\"b\"],\"admin\":false}");
    assert_int_equal(cli_remote_user(v, &u, &e), 0);
    assert_int_equal(u.roles.n, 2);
    assert_string_equal(u.roles.items[1], "b");
    fl_user_row_release(&u);
    fl_value_unref(v);
    v = parse("{\"id\":3,\"login\":\"anna\",\"roles\":[\"a\",7]}");
    assert_int_equal(cli_remote_user(v, &u, &e), FL_EINVAL);
    assert_null(u.login);
    fl_value_unref(v);

    v = parse("{\"id\":1,\"user\":\"anna\",\"scope\":\"write\",\"revoked_at\":null}");
    assert_int_equal(cli_remote_token(v, &t, &e), 0);
    assert_int_equal(t.scope, FL_SCOPE_WRITE);
    free(t.name);
    free(t.login);
    fl_value_unref(v);
    v = parse("{\"id\":1,\"user\":\"anna\",\"scope\":\"root\"}");
    assert_int_equal(cli_remote_token(v, &t, &e), FL_EINVAL);
    fl_value_unref(v);

    v = parse("{\"id\":2,\"name\":\"East\",\"parent_id\":1,\"head\":null}");
    assert_int_equal(cli_remote_department(v, &d, &e), 0);
    assert_int_equal(d.parent_id, 1);
    assert_null(d.head_login);
    free(d.name);
    fl_value_unref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task),
        cmocka_unit_test(test_task_wrong_shapes),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_instance_keeps_exact_numbers),
        cmocka_unit_test(test_event_and_people),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
