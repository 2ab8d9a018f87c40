/* The effects of a command and the arena that owns their strings and values. The service
 * resets one struct fl_effects per command on its hot path, so the arena keeps its blocks,
 * its list of held values and its scratch buffer across resets: after warm-up a command
 * allocates no memory for its effects. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "flowd/alloc.h"

#define FX_BLOCK_MIN 4096

struct fx_block {
    struct fx_block *next;
    size_t size, used;
    alignas(max_align_t) unsigned char mem[];
};

struct fx_arena {
    struct fx_block *head, *cur; /* blocks in a chain; cur is being filled */
    struct fl_value **held;      /* references dropped at reset */
    size_t n_held, cap_held;
    struct fl_buf scratch;
};

static const char *const event_names[FL__EV_COUNT] = {
    [FL_EV_INSTANCE_STARTED] = "instance_started",
    [FL_EV_INSTANCE_COMPLETED] = "instance_completed",
    [FL_EV_INSTANCE_CANCELLED] = "instance_cancelled",
    [FL_EV_NODE_ENTERED] = "node_entered",
    [FL_EV_NODE_LEFT] = "node_left",
    [FL_EV_TASK_CREATED] = "task_created",
    [FL_EV_TASK_COMPLETED] = "task_completed",
    [FL_EV_TASK_CANCELLED] = "task_cancelled",
    [FL_EV_MAIN_ACTION_RECORDED] = "main_action_recorded",
    [FL_EV_JOB_CREATED] = "job_created",
    [FL_EV_JOB_COMPLETED] = "job_completed",
    [FL_EV_JOB_FAILED] = "job_failed",
    [FL_EV_VARIABLES_CHANGED] = "variables_changed",
    [FL_EV_INCIDENT_RAISED] = "incident_raised",
    [FL_EV_TIMER_FIRED] = "timer_fired",
    [FL_EV_TASK_REMINDED] = "task_reminded",
    [FL_EV_ESCALATED] = "escalated",
    [FL_EV_CONTROL_SET] = "control_set",
    [FL_EV_CONTROL_REMINDED] = "control_reminded",
    [FL_EV_MESSAGE_CORRELATED] = "message_correlated",
    [FL_EV_MESSAGE_SENT] = "message_sent",
    [FL_EV_SIGNAL_THROWN] = "signal_thrown",
    [FL_EV_ERROR_THROWN] = "error_thrown",
    [FL_EV_ESCALATION_THROWN] = "escalation_thrown",
    [FL_EV_ERROR_CAUGHT] = "error_caught",
    [FL_EV_CALL_STARTED] = "call_started",
    [FL_EV_DECISION_EVALUATED] = "decision_evaluated",
    [FL_EV_COMPENSATED] = "compensated",
    [FL_EV_INCIDENT_RESOLVED] = "incident_resolved",
    [FL_EV_INSTANCE_MIGRATED] = "instance_migrated",
    [FL_EV_INSTANCE_MODIFIED] = "instance_modified",
};

const char *fl_event_type_name(enum fl_event_type t)
{
    if ((unsigned)t >= FL__EV_COUNT)
        return "unknown";
    return event_names[t];
}

void fl_effects_init(struct fl_effects *fx)
{
    fx->items = NULL;
    fx->n = fx->cap = 0;
    fx->arena = NULL;
}

static struct fx_arena *arena_of(struct fl_effects *fx)
{
    struct fx_arena *a = fx->arena;
    if (!a) {
        a = fl_calloc(1, sizeof(*a));
        fl_buf_init(&a->scratch, 0);
        fx->arena = a;
    }
    return a;
}

static void drop_held(struct fx_arena *a)
{
    for (size_t i = 0; i < a->n_held; i++)
        fl_value_unref(a->held[i]);
    a->n_held = 0;
}

void fl_effects_reset(struct fl_effects *fx)
{
    struct fx_arena *a = fx->arena;
    fx->n = 0;
    if (!a)
        return;
    drop_held(a);
    for (struct fx_block *b = a->head; b; b = b->next)
        b->used = 0;
    a->cur = a->head;
    fl_buf_reset(&a->scratch);
}

void fl_effects_release(struct fl_effects *fx)
{
    struct fx_arena *a = fx->arena;
    if (a) {
        struct fx_block *b = a->head;
        drop_held(a);
        free(a->held);
        while (b) {
            struct fx_block *next = b->next;
            free(b);
            b = next;
        }
        fl_buf_release(&a->scratch);
        free(a);
    }
    free(fx->items);
    fl_effects_init(fx);
}

void *fl__fx_alloc(struct fl_effects *fx, size_t n)
{
    struct fx_arena *a = arena_of(fx);
    struct fx_block *b;
    size_t size;

    n = (n + 7) & ~(size_t)7;
    /* Walk the chain kept from earlier commands before allocating a new block. */
    for (b = a->cur; b; b = b->next) {
        if (b->size - b->used >= n) {
            void *p = b->mem + b->used;
            b->used += n;
            a->cur = b;
            return p;
        }
    }
    size = FX_BLOCK_MIN;
    for (b = a->head; b; b = b->next)
        if (b->size >= size)
            size = b->size * 2; /* grow geometrically so big commands need few blocks */
    if (size < n)
        size = n;
    b = fl_malloc(sizeof(*b) + size);
    b->next = NULL;
    b->size = size;
    b->used = n;
    if (!a->head) {
        a->head = b;
    } else {
        struct fx_block *last = a->cur ? a->cur : a->head;
        while (last->next)
            last = last->next;
        last->next = b;
    }
    a->cur = b;
    return b->mem;
}

const char *fl__fx_strndup(struct fl_effects *fx, const char *s, size_t n)
{
    char *p = fl__fx_alloc(fx, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

const char *fl__fx_strdup(struct fl_effects *fx, const char *s)
{
    return s ? fl__fx_strndup(fx, s, strlen(s)) : NULL;
}

struct fl_buf *fl__fx_scratch(struct fl_effects *fx)
{
    struct fx_arena *a = arena_of(fx);
    fl_buf_reset(&a->scratch);
    return &a->scratch;
}

const char *fl__fx_scratch_keep(struct fl_effects *fx)
{
    struct fx_arena *a = arena_of(fx);
    return fl__fx_strndup(fx, a->scratch.ptr, a->scratch.len);
}

const struct fl_value *fl__fx_hold(struct fl_effects *fx, const struct fl_value *v)
{
    struct fx_arena *a = arena_of(fx);
    fl_grow(&a->held, &a->cap_held, a->n_held + 1, sizeof(*a->held));
    a->held[a->n_held++] = fl_value_ref(v);
    return v;
}

struct fl_effect *fl__fx_push(struct fl_effects *fx, enum fl_effect_kind k)
{
    struct fl_effect *e;
    if (fx->n == fx->cap)
        fl_grow(&fx->items, &fx->cap, fx->n + 1, sizeof(*fx->items));
    e = &fx->items[fx->n++];
    memset(e, 0, sizeof(*e));
    e->kind = k;
    return e;
}

