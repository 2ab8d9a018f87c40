/* Growable byte buffer with a size cap, after git's strbuf and sqlite3_str: the buffer is
 * never NULL and always NUL-terminated, the first error (cap exceeded) is remembered so a
 * sequence of appends needs one check at the end, and ownership leaves only by detach. */
#ifndef FLOWD_BUF_H
#define FLOWD_BUF_H

#include <stddef.h>

struct fl_buf {
    char *ptr;  /* never NULL; NUL-terminated at ptr[len] */
    size_t len; /* bytes used, excluding the terminating NUL */
    size_t cap; /* bytes allocated (0 while ptr is the shared empty string) */
    size_t max; /* cap on len; 0 means FL_BUF_DEFAULT_MAX */
    int err;    /* first error: 0 or FL_ETOOBIG */
};

#define FL_BUF_DEFAULT_MAX ((size_t)1 << 30)
extern char fl_buf__empty[1];
#define FL_BUF_INIT {fl_buf__empty, 0, 0, 0, 0}

/* Make b empty with length cap max (0 = default); allocates nothing. */
void fl_buf_init(struct fl_buf *b, size_t max);

/* Free b's memory and make it empty (reusable). */
void fl_buf_release(struct fl_buf *b);

/* Truncate to length 0, keeping the allocation and the remembered error cleared. */
void fl_buf_reset(struct fl_buf *b);

/* Append n bytes; returns 0 or FL_ETOOBIG (then b is unchanged and b->err set). */
int fl_buf_add(struct fl_buf *b, const void *p, size_t n);

/* Append a NUL-terminated string. */
int fl_buf_adds(struct fl_buf *b, const char *s);

/* Append one byte. */
int fl_buf_addc(struct fl_buf *b, char c);

/* Append printf-formatted text. */
int fl_buf_addf(struct fl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Make room for n more bytes without changing len; returns 0 or FL_ETOOBIG. */
int fl_buf_grow(struct fl_buf *b, size_t n);

/* Hand the contents to the caller (caller frees with free()); b becomes empty.
 * *len_out (if not NULL) receives the length. Never returns NULL. */
char *fl_buf_detach(struct fl_buf *b, size_t *len_out);

#endif
