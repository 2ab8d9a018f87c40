/* Login rate limiting: a sliding window of failure times per key ("l:" + login and
 * "a:" + client address), in memory and per process (a restart forgets, which is fine for
 * slowing down guessing; several server processes would each count on their own). Keys
 * live in an open hash table of bounded size; when it is full the key whose last failure
 * is oldest gives way, so an attacker cycling addresses cannot grow memory. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/auth.h"

#define DEFAULT_FAILURES 5
#define DEFAULT_WINDOW_MS (15 * 60 * 1000LL)
#define DEFAULT_KEYS 4096
#define MAX_FAILURES_KEPT 16
#define KEY_MAX 160

struct rl_entry {
    char key[KEY_MAX];                /* "" = free slot */
    int64_t times[MAX_FAILURES_KEPT]; /* ring of failure times */
    unsigned n, head;                 /* failures kept; index of the oldest */
    int64_t last;                     /* latest failure */
};

struct fl_ratelimit {
    pthread_mutex_t mu;
    unsigned max_failures;
    int64_t window_ms;
    size_t cap; /* slots in entries (a power of two, twice max_keys) */
    size_t max_keys, used;
    struct rl_entry *entries;
};

struct fl_ratelimit *fl_ratelimit_new(const struct fl_ratelimit_options *opt)
{
    struct fl_ratelimit *rl = fl_calloc(1, sizeof(*rl));
    pthread_mutex_init(&rl->mu, NULL);
    rl->max_failures = opt && opt->max_failures ? opt->max_failures : DEFAULT_FAILURES;
    if (rl->max_failures > MAX_FAILURES_KEPT - 1)
        rl->max_failures = MAX_FAILURES_KEPT - 1;
    rl->window_ms = opt && opt->window_ms > 0 ? opt->window_ms : DEFAULT_WINDOW_MS;
    rl->max_keys = opt && opt->max_keys ? opt->max_keys : DEFAULT_KEYS;
    rl->cap = 16;
    while (rl->cap < rl->max_keys * 2)
        rl->cap *= 2;
    rl->entries = fl_calloc(rl->cap, sizeof(*rl->entries));
    return rl;
}

void fl_ratelimit_free(struct fl_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->entries);
    free(rl);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Slot of key, or NULL when absent (create false). Linear probing; deletion is by
 * rebuilding (evict), so probes never cross holes left by removed keys. */
static struct rl_entry *lookup(struct fl_ratelimit *rl, const char *key, bool create);

static void rebuild_without(struct fl_ratelimit *rl, struct rl_entry *victim)
{
    struct rl_entry *old = rl->entries;
    victim->key[0] = '\0';
    rl->entries = fl_calloc(rl->cap, sizeof(*rl->entries));
    rl->used = 0;
    for (size_t i = 0; i < rl->cap; i++)
        if (old[i].key[0]) {
            struct rl_entry *e = lookup(rl, old[i].key, true);
            *e = old[i];
        }
    free(old);
}

static struct rl_entry *lookup(struct fl_ratelimit *rl, const char *key, bool create)
{
    size_t mask = rl->cap - 1, i = (size_t)fnv1a(key) & mask;
    for (;; i = (i + 1) & mask) {
        struct rl_entry *e = &rl->entries[i];
        if (!e->key[0]) {
            if (!create)
                return NULL;
            if (rl->used >= rl->max_keys) {
                struct rl_entry *victim = NULL;
                for (size_t k = 0; k < rl->cap; k++)
                    if (rl->entries[k].key[0] && (!victim || rl->entries[k].last < victim->last))
                        victim = &rl->entries[k];
                rebuild_without(rl, victim);
                return lookup(rl, key, true);
            }
            memset(e, 0, sizeof(*e));
            strncpy(e->key, key, KEY_MAX - 1);
            rl->used++;
            return e;
        }
        if (strcmp(e->key, key) == 0)
            return e;
    }
}

/* Drop failures older than the window. */
static void expire(struct fl_ratelimit *rl, struct rl_entry *e, int64_t now_ms)
{
    while (e->n > 0 && e->times[e->head] <= now_ms - rl->window_ms) {
        e->head = (e->head + 1) % MAX_FAILURES_KEPT;
        e->n--;
    }
}

static void make_key(char *out, char kind, const char *name)
{
    out[0] = kind;
    out[1] = ':';
    strncpy(out + 2, name, KEY_MAX - 3);
    out[KEY_MAX - 1] = '\0';
}

/* 0, or the time until the key may try again. */
static int64_t wait_for(struct fl_ratelimit *rl, char kind, const char *name, int64_t now_ms)
{
    char key[KEY_MAX];
    struct rl_entry *e;
    if (!name)
        return 0;
    make_key(key, kind, name);
    if (!(e = lookup(rl, key, false)))
        return 0;
    expire(rl, e, now_ms);
    if (e->n < rl->max_failures)
        return 0;
    /* Refused until enough of the oldest failures leave the window. */
    return e->times[(e->head + e->n - rl->max_failures) % MAX_FAILURES_KEPT] + rl->window_ms -
           now_ms;
}

int fl_ratelimit_check(struct fl_ratelimit *rl, const char *login, const char *address,
                       int64_t now_ms, int64_t *retry_after_ms)
{
    int64_t a, b;
    pthread_mutex_lock(&rl->mu);
    a = wait_for(rl, 'l', login, now_ms);
    b = wait_for(rl, 'a', address, now_ms);
    pthread_mutex_unlock(&rl->mu);
    if (a < b)
        a = b;
    if (retry_after_ms)
        *retry_after_ms = a > 0 ? a : 0;
    return a > 0 ? FL_ETOOMANY : 0;
}

static void fail_key(struct fl_ratelimit *rl, char kind, const char *name, int64_t now_ms)
{
    char key[KEY_MAX];
    struct rl_entry *e;
    make_key(key, kind, name);
    e = lookup(rl, key, true);
    expire(rl, e, now_ms);
    if (e->n == MAX_FAILURES_KEPT) {
        e->head = (e->head + 1) % MAX_FAILURES_KEPT;
        e->n--;
    }
    e->times[(e->head + e->n) % MAX_FAILURES_KEPT] = now_ms;
    e->n++;
    e->last = now_ms;
}

void fl_ratelimit_record(struct fl_ratelimit *rl, const char *login, const char *address,
                         bool success, int64_t now_ms)
{
    pthread_mutex_lock(&rl->mu);
    if (success) {
        char key[KEY_MAX];
        struct rl_entry *e;
        if (login) {
            make_key(key, 'l', login);
            if ((e = lookup(rl, key, false)) != NULL)
                e->n = 0;
        }
    } else {
        if (login)
            fail_key(rl, 'l', login, now_ms);
        if (address)
            fail_key(rl, 'a', address, now_ms);
    }
    pthread_mutex_unlock(&rl->mu);
}
