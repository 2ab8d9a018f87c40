/* The tallies of reasons the conformance harness prints: counting, sorting and grouping
 * equal messages. The auto-drive itself is in conformance_drive.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/conformance.h"
#include "flowd/alloc.h"
#include "flowd/engine.h"

void conf_reasons_add(struct conf_reasons *rs, const char *text, const char *example)
{
    for (size_t i = 0; i < rs->n; i++) {
        if (!strcmp(rs->items[i].text, text)) {
            rs->items[i].count++;
            return;
        }
    }
    fl_grow(&rs->items, &rs->cap, rs->n + 1, sizeof(*rs->items));
    rs->items[rs->n].text = fl_strdup(text);
    rs->items[rs->n].example = fl_strdup(example);
    rs->items[rs->n].count = 1;
    rs->n++;
}

static int by_count(const void *a, const void *b)
{
    const struct conf_reason *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->text, y->text);
}

void conf_reasons_sort(struct conf_reasons *rs)
{
    if (rs->n > 1)
        qsort(rs->items, rs->n, sizeof(*rs->items), by_count);
}

void conf_reasons_release(struct conf_reasons *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->items[i].text);
        free(rs->items[i].example);
    }
    free(rs->items);
    memset(rs, 0, sizeof(*rs));
}

char *conf_normalize(const char *msg)
{
    /* Quoted words after these stay: they name kinds of things, not particular ones. */
    static const char *const keep_after[] = {"element ", "a ", "an ", "with ", "language ",
                                             "attribute ", "type ", NULL};
    size_t n = strlen(msg), o = 0;
    char *out = fl_malloc(2 * n + 4); /* '' becomes '*': up to 3 bytes for 2 */
    for (size_t i = 0; i < n; i++) {
        bool keep = false;
        size_t j;
        if (msg[i] != '\'') {
            out[o++] = msg[i];
            continue;
        }
        for (size_t k = 0; keep_after[k]; k++) {
            size_t l = strlen(keep_after[k]);
            if (i >= l && !strncmp(msg + i - l, keep_after[k], l))
                keep = true;
        }
        for (j = i + 1; j < n && msg[j] != '\''; j++)
            ;
        if (keep) {
            memcpy(out + o, msg + i, j - i + (j < n));
            o += j - i + (j < n);
        } else {
            memcpy(out + o, "'*'", 3); /* never longer than the quoted word it replaces */
            o += 3;
        }
        i = j;
    }
    out[o] = '\0';
    return out;
}
