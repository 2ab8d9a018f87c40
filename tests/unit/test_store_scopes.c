/* Unit tests of the store's scope columns (migration 8) fed with hand-made engine effects:
 * tokens keep their scope, called instance, loop counter and multi-instance flag; an
 * instance keeps its caller; local variables are written per scope by VAR_SET with a
 * scope, dropped by LOCALS_DEL, loaded back into inst->locals, and roll back with the
 * step that wrote them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "flowd/store.h"
#include "flowd/value.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/flowd-scopes-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char p[160];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct fl_store *open_rw(const char *path)
{
    struct fl_store_options o = {.create = true, .synchronous = 0, .synchronous_set = true};
    struct fl_store *s = NULL;
    struct fl_error e;
    fl_error_clear(&e);
    int rc = fl_store_open(path, &o, &s, &e);
    if (rc)
        fprintf(stderr, "open: %s\n", e.msg);
    assert_int_equal(rc, 0);
    return s;
}

static struct fl_value *json(const char *t)
{
    struct fl_value *v = NULL;
    assert_int_equal(fl_value_from_json(t, strlen(t), &v, NULL), 0);
    return v;
}

static void var_set(struct fl_effects *fx, const char *name, const struct fl_value *v,
                    uint64_t scope)
{
    struct fl_effect *e = &fx->items[fx->n++];
    memset(e, 0, sizeof(*e));
    e->kind = FL_FX_VAR_SET;
    e->u.var.name = name;
    e->u.var.value = v;
    e->u.var.scope = scope;
}

static const struct fl_scope_vars *locals_of(const struct fl_instance *inst, uint64_t scope)
{
    for (size_t i = 0; i < inst->n_locals; i++)
        if (inst->locals[i].scope == scope)
            return &inst->locals[i];
    return NULL;
}

static void apply(struct fl_store *s, struct fl_instance *inst, struct fl_effects *fx, int want)
{
    struct fl_error e;
    fl_error_clear(&e);
    assert_int_equal(fl_store_begin(s, NULL), 0);
    int rc = fl_store_apply(s, NULL, inst, fx, &e);
    if (rc != want)
        fprintf(stderr, "apply: %s\n", e.msg);
    assert_int_equal(rc, want);
    if (rc == 0)
        assert_int_equal(fl_store_commit(s, NULL), 0);
    else
        fl_store_rollback(s);
}

static void test_scoped_tokens_and_locals(void **state)
{
    struct fixture *f = *state;
    struct fl_store *s = open_rw(f->path);
    struct fl_definition_row def;
    bool created;
    struct fl_effect items[16];
    struct fl_effects fx = {items, 0, 16, NULL};
    struct fl_token tok[3] = {
        {.id = 20, .node = 1, .flow = FL_NONE, .state = FL_TOKEN_SCOPE},
        {.id = 21, .node = 4, .flow = FL_NONE, .state = FL_TOKEN_SCOPE, .scope = 20,
         .loop = 3, .mi_body = true},
        {.id = 22, .node = 6, .flow = FL_NONE, .state = FL_TOKEN_SCOPE, .scope = 21,
         .call_id = 99, .loop = 2},
    };
    struct fl_instance inst = {.id = 8,
                               .status = FL_INSTANCE_ACTIVE,
                               .tokens = tok,
                               .n_tokens = 3,
                               .cap_tokens = 3,
                               .started_at = 1000,
                               .revision = 1,
                               .parent_instance_id = 5,
                               .parent_token_id = 55};
    struct fl_value *x1 = json("1"), *x2 = json("{\"a\":[1,2]}"), *g = json("\"global\"");
    struct fl_value *day = NULL;
    struct fl_instance *back;
    (void)state;

    assert_int_equal(fl_store_definition_put(s, "p", NULL, "p", 1, 1, &def, &created, NULL), 0);
    inst.definition_id = def.id;
    fl_definition_row_release(&def);
    inst.variables = json("{}");
    memset(items, 0, sizeof(items));
    for (size_t i = 0; i < 3; i++) {
        items[fx.n].kind = FL_FX_TOKEN_PUT;
        items[fx.n++].u.token = tok[i];
    }
    var_set(&fx, "x", x1, 20);
    var_set(&fx, "y", x2, 20);
    var_set(&fx, "x", x2, 21);
    var_set(&fx, "g", g, 0);
    /* a date keeps its type through the store, as an instance variable and as a local */
    static const char typed_day[] = "{\"\\u0000feel\":\"2026-01-31\"}";
    assert_int_equal(fl_value_from_json_typed(typed_day, strlen(typed_day), &day, NULL), 0);
    assert_int_equal(fl_value_type(day), FL_VDATE);
    var_set(&fx, "due", day, 0);
    var_set(&fx, "due", day, 21);
    apply(s, &inst, &fx, 0);

    assert_int_equal(fl_store_instance_load(s, 8, &back, NULL), 0);
    assert_int_equal(back->parent_instance_id, 5);
    assert_int_equal(back->parent_token_id, 55);
    assert_int_equal(back->n_tokens, 3);
    for (size_t i = 0; i < 3; i++)
        assert_memory_equal(&back->tokens[i], &tok[i], sizeof(tok[i]));
    /* the instance's variables do not hold the locals */
    assert_int_equal(fl_value_context_len(back->variables), 2);
    assert_true(fl_value_equal(fl_value_context_get(back->variables, "g", 1), g));
    assert_int_equal(fl_value_type(fl_value_context_get(back->variables, "due", 3)), FL_VDATE);
    assert_true(fl_value_equal(fl_value_context_get(back->variables, "due", 3), day));
    assert_int_equal(back->n_locals, 2);
    const struct fl_scope_vars *l20 = locals_of(back, 20), *l21 = locals_of(back, 21);
    assert_non_null(l20);
    assert_non_null(l21);
    assert_int_equal(fl_value_context_len(l20->vars), 2);
    assert_true(fl_value_equal(fl_value_context_get(l20->vars, "x", 1), x1));
    assert_true(fl_value_equal(fl_value_context_get(l20->vars, "y", 1), x2));
    assert_int_equal(fl_value_context_len(l21->vars), 2);
    assert_true(fl_value_equal(fl_value_context_get(l21->vars, "x", 1), x2));
    assert_int_equal(fl_value_type(fl_value_context_get(l21->vars, "due", 3)), FL_VDATE);
    fl_instance_free(back);

    /* a step the store refuses (stale revision) leaves the locals as they were */
    fx.n = 0;
    items[fx.n].kind = FL_FX_LOCALS_DEL;
    items[fx.n++].u.locals.scope = 20;
    inst.revision = 5;
    apply(s, &inst, &fx, FL_ECONFLICT);
    assert_int_equal(fl_store_instance_load(s, 8, &back, NULL), 0);
    assert_int_equal(back->n_locals, 2);
    fl_instance_free(back);

    /* the scope ends: its locals and token go, the others stay; an update of a local */
    fx.n = 0;
    items[fx.n].kind = FL_FX_LOCALS_DEL;
    items[fx.n++].u.locals.scope = 20;
    var_set(&fx, "x", x1, 21);
    items[fx.n].kind = FL_FX_TOKEN_DEL;
    items[fx.n++].u.token.id = 22;
    inst.n_tokens = 2;
    inst.revision = 2;
    apply(s, &inst, &fx, 0);
    assert_int_equal(fl_store_instance_load(s, 8, &back, NULL), 0);
    assert_int_equal(back->n_tokens, 2);
    assert_int_equal(back->n_locals, 1);
    l21 = locals_of(back, 21);
    assert_non_null(l21);
    assert_true(fl_value_equal(fl_value_context_get(l21->vars, "x", 1), x1));
    fl_instance_free(back);

    fl_value_unref(inst.variables);
    fl_value_unref(x1);
    fl_value_unref(x2);
    fl_value_unref(g);
    fl_value_unref(day);
    fl_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scoped_tokens_and_locals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
