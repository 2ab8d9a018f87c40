/* Property test of the engine's effects: on random models (tasks, user and service tasks,
 * gateways, ends, terminate ends, cycles) driven by random commands, a store that only
 * applies the TOKEN_PUT/TOKEN_DEL, TASK_* and JOB_* effects must hold exactly the tokens of
 * the instance, one open task per waiting user-task token and one open job per waiting
 * service-task token. Deterministic: a fixed-seed generator. */
#include "engine_fixture.h"

#include <stdio.h>

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    /* xorshift64*: reproducible across platforms */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 33) % n;
}

static struct fl_model *random_model(void)
{
    static const enum fl_node_kind kinds[] = {
        FL_NODE_USER_TASK, FL_NODE_USER_TASK,    FL_NODE_USER_TASK,     FL_NODE_SERVICE_TASK,
        FL_NODE_TASK,      FL_NODE_EXCLUSIVE_GW, FL_NODE_PARALLEL_GW,   FL_NODE_PARALLEL_GW,
        FL_NODE_END_EVENT, FL_NODE_MANUAL_TASK,  FL_NODE_TERMINATE_END,
    };
    struct fl_model *m = mb_new("random");
    uint32_t n = 4 + rnd(10), start = mb_node(m, FL_NODE_START_EVENT, "start");
    char id[32];

    for (uint32_t i = 0; i < n; i++) {
        enum fl_node_kind k = kinds[rnd(sizeof(kinds) / sizeof(kinds[0]))];
        snprintf(id, sizeof(id), "n%u", i);
        uint32_t x = mb_node(m, k, id);
        if (k == FL_NODE_SERVICE_TASK)
            m->nodes[x].job_type = fl_strdup("work");
        if (k == FL_NODE_MANUAL_TASK) { /* a script instead: x changes as tokens move */
            m->nodes[x].kind = FL_NODE_SCRIPT_TASK;
            m->nodes[x].script = mb_feel(rnd(2) ? "x + 1" : "x / 0");
            m->nodes[x].result_variable = fl_strdup("x");
        }
    }
    snprintf(id, sizeof(id), "f_start");
    mb_flow(m, id, start, 1 + rnd(n), NULL);
    for (uint32_t i = 1; i <= n; i++) {
        uint32_t outs =
            m->nodes[i].kind == FL_NODE_END_EVENT || m->nodes[i].kind == FL_NODE_TERMINATE_END
                ? 0
                : 1 + rnd(3);
        for (uint32_t j = 0; j < outs; j++) {
            static const char *const conds[] = {"x > 3", "x < 5", "x = 2", "nowhere > 1", "x"};
            uint32_t c = rnd(12);
            snprintf(id, sizeof(id), "f%u_%u", i, j);
            uint32_t fl = mb_flow(m, id, i, 1 + rnd(n), c < 5 ? conds[c] : NULL);
            if (j == 0 && c == 6)
                m->nodes[i].default_flow = fl;
        }
    }
    return m;
}

/* What a store would hold after applying the effects. */
struct mirror {
    struct fl_token *tokens;
    size_t n_tokens, cap_tokens;
    uint64_t *tasks, *jobs;
    size_t n_tasks, n_jobs, cap_tasks, cap_jobs;
};

static void id_add(uint64_t **arr, size_t *n, size_t *cap, uint64_t id)
{
    for (size_t i = 0; i < *n; i++)
        assert_int_not_equal((*arr)[i], id);
    fl_grow(arr, cap, *n + 1, sizeof(**arr));
    (*arr)[(*n)++] = id;
}

static void id_del(uint64_t *arr, size_t *n, uint64_t id)
{
    for (size_t i = 0; i < *n; i++) {
        if (arr[i] == id) {
            arr[i] = arr[--*n];
            return;
        }
    }
    fail_msg("closing %llu which is not open", (unsigned long long)id);
}

static void mirror_apply(struct mirror *mr, const struct fl_effects *fx)
{
    for (size_t i = 0; i < fx->n; i++) {
        const struct fl_effect *e = &fx->items[i];
        size_t j;
        switch (e->kind) {
        case FL_FX_TOKEN_PUT:
        case FL_FX_TOKEN_DEL:
            for (j = 0; j < mr->n_tokens; j++)
                if (mr->tokens[j].id == e->u.token.id)
                    break;
            if (e->kind == FL_FX_TOKEN_PUT) {
                if (j == mr->n_tokens) {
                    fl_grow(&mr->tokens, &mr->cap_tokens, j + 1, sizeof(*mr->tokens));
                    mr->n_tokens++;
                }
                mr->tokens[j] = e->u.token;
            } else {
                if (j == mr->n_tokens)
                    fail_msg("TOKEN_DEL of unknown token %llu", (unsigned long long)e->u.token.id);
                mr->tokens[j] = mr->tokens[--mr->n_tokens];
            }
            break;
        case FL_FX_TASK_CREATE:
            id_add(&mr->tasks, &mr->n_tasks, &mr->cap_tasks, e->u.task.id);
            break;
        case FL_FX_TASK_CLOSE:
            id_del(mr->tasks, &mr->n_tasks, e->u.task_close.id);
            break;
        case FL_FX_JOB_CREATE:
            id_add(&mr->jobs, &mr->n_jobs, &mr->cap_jobs, e->u.job.id);
            break;
        case FL_FX_JOB_CLOSE:
            id_del(mr->jobs, &mr->n_jobs, e->u.job_close.id);
            break;
        default:
            break;
        }
    }
}

static void mirror_check(const struct mirror *mr, const struct fl_instance *inst)
{
    size_t tasks = 0, jobs = 0;
    assert_int_equal(mr->n_tokens, inst->n_tokens);
    for (size_t i = 0; i < inst->n_tokens; i++) {
        const struct fl_token *t = &inst->tokens[i];
        size_t j;
        for (j = 0; j < mr->n_tokens; j++)
            if (mr->tokens[j].id == t->id)
                break;
        assert_true(j < mr->n_tokens);
        assert_int_equal(mr->tokens[j].node, t->node);
        assert_int_equal(mr->tokens[j].flow, t->flow);
        assert_int_equal(mr->tokens[j].state, t->state);
        assert_int_equal(mr->tokens[j].main_action_done, t->main_action_done);
        assert_int_equal(mr->tokens[j].task_id, t->task_id);
        assert_int_equal(mr->tokens[j].job_id, t->job_id);
        tasks += t->task_id != 0;
        jobs += t->job_id != 0;
    }
    assert_int_equal(tasks, mr->n_tasks);
    assert_int_equal(jobs, mr->n_jobs);
    if (inst->status != FL_INSTANCE_ACTIVE)
        assert_int_equal(inst->n_tokens, 0);
}

static void test_mirror(void **state)
{
    struct mirror mr = {0};
    int commands = 0, completed = 0, incidents = 0;
    (void)state;

    rng_state = 0x9E3779B97F4A7C15ULL;
    for (int round = 0; round < 1000; round++) {
        struct t_env t;
        t_env_init(&t, random_model());
        t.ctx.max_steps = 60;
        mr.n_tokens = mr.n_tasks = mr.n_jobs = 0;
        t_start(&t, rnd(4) ? "{\"x\": 4}" : NULL);
        mirror_apply(&mr, &t.fx);
        mirror_check(&mr, t.inst);
        for (int step = 0; step < 40 && t.inst->status == FL_INSTANCE_ACTIVE; step++) {
            struct fl_command cmd = {.actor = "x"};
            size_t open = 0;
            for (size_t i = 0; i < t.inst->n_tokens; i++)
                open += t.inst->tokens[i].task_id || t.inst->tokens[i].job_id;
            if (open == 0)
                break;
            size_t pick = rnd((uint32_t)open);
            for (size_t i = 0; i < t.inst->n_tokens; i++) {
                const struct fl_token *tk = &t.inst->tokens[i];
                if (!tk->task_id && !tk->job_id)
                    continue;
                if (pick-- == 0) {
                    cmd.kind = tk->task_id   ? FL_CMD_COMPLETE_TASK
                               : rnd(3) == 0 ? FL_CMD_FAIL_JOB
                                             : FL_CMD_COMPLETE_JOB;
                    cmd.target_id = tk->task_id ? tk->task_id : tk->job_id;
                    cmd.retries = (int)rnd(2);
                    break;
                }
            }
            if (rnd(25) == 0)
                cmd.kind = FL_CMD_CANCEL;
            assert_int_equal(t_apply(&t, &cmd), 0);
            commands++;
            mirror_apply(&mr, &t.fx);
            mirror_check(&mr, t.inst);
        }
        completed += t.inst->status == FL_INSTANCE_COMPLETED;
        incidents += t.inst->incident;
        t_env_release(&t);
    }
    free(mr.tokens);
    free(mr.tasks);
    free(mr.jobs);
    printf("mirror: 1000 random models, %d commands, %d completed, %d with incidents\n", commands,
           completed, incidents);
    assert_true(completed > 20);
    assert_true(commands > 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mirror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
