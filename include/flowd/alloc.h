/* Allocation wrappers: they abort the process on out-of-memory with a message, so callers
 * never test for NULL. A server that cannot allocate cannot keep its promises anyway; the
 * durable store guarantees that nothing acknowledged is lost by such an abort. */
#ifndef FLOWD_ALLOC_H
#define FLOWD_ALLOC_H

#include <stddef.h>

/* malloc that never returns NULL (aborts); size 0 gives a unique pointer. Caller frees. */
void *fl_malloc(size_t n);

/* calloc(n, size) that never returns NULL and checks n*size for overflow. Caller frees. */
void *fl_calloc(size_t n, size_t size);

/* realloc that never returns NULL. */
void *fl_realloc(void *p, size_t n);

/* realloc of an array of n elements of size bytes, checking the product for overflow. */
void *fl_reallocarray(void *p, size_t n, size_t size);

/* strdup that never returns NULL; NULL in gives NULL out. Caller frees. */
char *fl_strdup(const char *s);

/* Copy of the first n bytes of s, NUL-terminated. Caller frees. */
char *fl_strndup(const char *s, size_t n);

/* Grow *arr (of *cap elements of size bytes) so it holds at least need elements. */
void fl_grow(void *arr_ptr, size_t *cap, size_t need, size_t size);

#endif
