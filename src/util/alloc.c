/* Allocation wrappers that abort on out-of-memory (see alloc.h for why). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"

static void oom(size_t n)
{
    fprintf(stderr, "flowd: fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *fl_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *fl_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *fl_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void *fl_reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        oom((size_t)-1);
    return fl_realloc(p, n * size);
}

char *fl_strdup(const char *s)
{
    return s ? fl_strndup(s, strlen(s)) : NULL;
}

char *fl_strndup(const char *s, size_t n)
{
    char *p = fl_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void fl_grow(void *arr_ptr, size_t *cap, size_t need, size_t size)
{
    void **arr = arr_ptr;
    size_t c;
    if (need <= *cap)
        return;
    c = *cap ? *cap : 8;
    while (c < need)
        c = c * 2;
    *arr = fl_reallocarray(*arr, c, size);
    *cap = c;
}
