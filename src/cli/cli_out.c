/* Output of the flowd CLI: ISO 8601 UTC times, tables aligned for a terminal, a small
 * streaming JSON writer (so numbers and variables that are already JSON text in the store
 * are passed through exactly, never via binary floating point), and the task and instance
 * renderings that several subcommands share. */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "flowd/alloc.h"
#include "flowd/engine.h"

const char *cli_time(int64_t t_ms, bool millis, char *out)
{
    struct tm tm;
    time_t secs;
    int64_t ms;

    if (t_ms == 0) {
        strcpy(out, "-");
        return out;
    }
    /* Floor division, so instants before 1970 still print the right second. */
    ms = t_ms % 1000;
    if (ms < 0)
        ms += 1000;
    secs = (time_t)((t_ms - ms) / 1000);
    if (!gmtime_r(&secs, &tm)) {
        strcpy(out, "?");
        return out;
    }
    /* strftime bounds the year's width for us; the millisecond digits are added by hand. */
    if (strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        strcpy(out, "?");
        return out;
    }
    if (millis) {
        size_t len = strlen(out);
        if (len + 6 > 39) {
            strcpy(out, "?");
            return out;
        }
        out[len++] = '.';
        out[len++] = (char)('0' + ms / 100);
        out[len++] = (char)('0' + ms / 10 % 10);
        out[len++] = (char)('0' + ms % 10);
        out[len] = '\0';
    }
    strcat(out, "Z");
    return out;
}

const char *cli_instance_status_name(int status)
{
    switch (status) {
    case FL_INSTANCE_ACTIVE:
        return "active";
    case FL_INSTANCE_COMPLETED:
        return "completed";
    case FL_INSTANCE_CANCELLED:
        return "cancelled";
    default:
        return "unknown";
    }
}

const char *cli_task_status_name(int status)
{
    switch (status) {
    case FL_TASK_OPEN:
        return "open";
    case FL_TASK_COMPLETED:
        return "completed";
    case FL_TASK_CANCELLED:
        return "cancelled";
    default:
        return "unknown";
    }
}

const char *cli_task_mark(const struct fl_task_row *t, int64_t now_ms)
{
    if (t->status != FL_TASK_OPEN)
        return "";
    if (t->due_at && now_ms > t->due_at)
        return "overdue";
    if (t->remind_at && now_ms >= t->remind_at)
        return "remind";
    return "";
}

/* ---- tables ---- */

void cli_table_init(struct cli_table *t, size_t n_cols, ...)
{
    va_list ap;
    memset(t, 0, sizeof(*t));
    t->n_cols = n_cols;
    t->cap_cells = n_cols * 8;
    t->cells = fl_calloc(t->cap_cells, sizeof(char *));
    va_start(ap, n_cols);
    for (size_t i = 0; i < n_cols; i++)
        t->cells[t->n_cells++] = fl_strdup(va_arg(ap, const char *));
    va_end(ap);
}

void cli_table_add(struct cli_table *t, ...)
{
    va_list ap;
    const char *s;

    fl_grow(&t->cells, &t->cap_cells, t->n_cells + t->n_cols, sizeof(char *));
    va_start(ap, t);
    for (size_t i = 0; i < t->n_cols; i++) {
        s = va_arg(ap, const char *);
        t->cells[t->n_cells++] = fl_strdup(s && s[0] ? s : "-");
    }
    va_end(ap);
}

size_t cli_table_rows(const struct cli_table *t)
{
    return t->n_cols ? t->n_cells / t->n_cols - 1 : 0;
}

/* Terminal width of UTF-8 text: one column per code point (good enough for the Latin
 * and Cyrillic names our users type; no wide CJK handling). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

void cli_table_print(const struct cli_table *t, FILE *f, const char *indent)
{
    size_t *width = fl_calloc(t->n_cols, sizeof(size_t));
    size_t n_rows = t->n_cols ? t->n_cells / t->n_cols : 0;

    for (size_t i = 0; i < t->n_cells; i++) {
        size_t w = text_width(t->cells[i]);
        if (w > width[i % t->n_cols])
            width[i % t->n_cols] = w;
    }
    for (size_t r = 0; r < n_rows; r++) {
        fputs(indent, f);
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *cell = t->cells[r * t->n_cols + c];
            fputs(cell, f);
            if (c + 1 < t->n_cols) {
                for (size_t k = text_width(cell); k < width[c] + 2; k++)
                    fputc(' ', f);
            }
        }
        fputc('\n', f);
    }
    free(width);
}

void cli_table_release(struct cli_table *t)
{
    for (size_t i = 0; i < t->n_cells; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

/* ---- JSON writer ---- */

void cli_json_init(struct cli_json *j)
{
    memset(j, 0, sizeof(*j));
    fl_buf_init(&j->buf, 0);
}

static void newline(struct cli_json *j)
{
    fl_buf_addc(&j->buf, '\n');
    for (unsigned i = 0; i < j->depth; i++)
        fl_buf_adds(&j->buf, "  ");
}

/* Start a member (or array item): comma, line break, key. */
static void member(struct cli_json *j, const char *key)
{
    if (j->need_comma[j->depth])
        fl_buf_addc(&j->buf, ',');
    if (j->depth > 0)
        newline(j);
    j->need_comma[j->depth] = true;
    if (key) {
        fl_json_cstring(&j->buf, key);
        fl_buf_adds(&j->buf, ": ");
    }
}

static void open_container(struct cli_json *j, const char *key, char open)
{
    member(j, key);
    fl_buf_addc(&j->buf, open);
    assert(j->depth + 1 < FL_JSON_MAX_DEPTH);
    j->depth++;
    j->need_comma[j->depth] = false;
    j->close[j->depth] = open == '{' ? '}' : ']';
}

void cli_json_object(struct cli_json *j, const char *key)
{
    open_container(j, key, '{');
}

void cli_json_array(struct cli_json *j, const char *key)
{
    open_container(j, key, '[');
}

void cli_json_end(struct cli_json *j)
{
    bool had_members;

    assert(j->depth > 0);
    had_members = j->need_comma[j->depth];
    j->depth--;
    if (had_members)
        newline(j);
    fl_buf_addc(&j->buf, j->close[j->depth + 1]);
}

void cli_json_str(struct cli_json *j, const char *key, const char *s)
{
    member(j, key);
    if (s)
        fl_json_cstring(&j->buf, s);
    else
        fl_buf_adds(&j->buf, "null");
}

void cli_json_int(struct cli_json *j, const char *key, int64_t n)
{
    member(j, key);
    fl_buf_addf(&j->buf, "%lld", (long long)n);
}

void cli_json_uint(struct cli_json *j, const char *key, uint64_t n)
{
    member(j, key);
    fl_buf_addf(&j->buf, "%llu", (unsigned long long)n);
}

void cli_json_bool(struct cli_json *j, const char *key, bool b)
{
    member(j, key);
    fl_buf_adds(&j->buf, b ? "true" : "false");
}

void cli_json_null(struct cli_json *j, const char *key)
{
    member(j, key);
    fl_buf_adds(&j->buf, "null");
}

void cli_json_time(struct cli_json *j, const char *key, int64_t t_ms)
{
    char tb[40];
    if (t_ms == 0)
        cli_json_null(j, key);
    else
        cli_json_str(j, key, cli_time(t_ms, true, tb));
}

void cli_json_raw(struct cli_json *j, const char *key, const char *json)
{
    member(j, key);
    fl_buf_adds(&j->buf, json && json[0] ? json : "null");
}

int cli_json_emit(struct cli_json *j)
{
    int rc = j->buf.err;
    if (!rc) {
        fwrite(j->buf.ptr, 1, j->buf.len, stdout);
        fputc('\n', stdout);
    }
    fl_buf_release(&j->buf);
    return rc;
}
