/* struct fl_buf: the growable, capped, always-terminated byte buffer (see buf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/buf.h"
#include "flowd/err.h"

char fl_buf__empty[1];

static size_t max_of(const struct fl_buf *b)
{
    return b->max ? b->max : FL_BUF_DEFAULT_MAX;
}

void fl_buf_init(struct fl_buf *b, size_t max)
{
    b->ptr = fl_buf__empty;
    b->len = b->cap = 0;
    b->max = max;
    b->err = 0;
}

void fl_buf_release(struct fl_buf *b)
{
    size_t max = b->max;
    if (b->cap)
        free(b->ptr);
    fl_buf_init(b, max);
}

void fl_buf_reset(struct fl_buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->cap)
        b->ptr[0] = '\0';
}

int fl_buf_grow(struct fl_buf *b, size_t n)
{
    size_t need, c;
    if (n > max_of(b) - b->len) {
        b->err = FL_ETOOBIG;
        return FL_ETOOBIG;
    }
    need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    c = b->cap ? b->cap : 64;
    while (c < need)
        c *= 2;
    if (b->cap) {
        b->ptr = fl_realloc(b->ptr, c);
    } else {
        b->ptr = fl_malloc(c);
        b->ptr[0] = '\0';
    }
    b->cap = c;
    return 0;
}

int fl_buf_add(struct fl_buf *b, const void *p, size_t n)
{
    if (fl_buf_grow(b, n))
        return FL_ETOOBIG;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int fl_buf_adds(struct fl_buf *b, const char *s)
{
    return fl_buf_add(b, s, strlen(s));
}

int fl_buf_addc(struct fl_buf *b, char c)
{
    return fl_buf_add(b, &c, 1);
}

int fl_buf_addf(struct fl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || fl_buf_grow(b, (size_t)n))
        return b->err = FL_ETOOBIG;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *fl_buf_detach(struct fl_buf *b, size_t *len_out)
{
    char *p;
    if (len_out)
        *len_out = b->len;
    if (!b->cap) {
        p = fl_malloc(1);
        p[0] = '\0';
    } else {
        p = b->ptr;
    }
    fl_buf_init(b, b->max);
    return p;
}
