/* The conformance harness behind `flowd conformance DIR`: reads every BPMN file under a
 * folder, classifies each executable process as loaded or rejected (with the reader's
 * reason), and runs each loaded one in auto-drive (user tasks and jobs completed with no
 * variables, required main actions recorded, timers fired at once) to an end event, an
 * incident or a step bound. Each file runs in a child process, so a crash is counted,
 * not suffered. */
#ifndef FLOWD_CLI_CONFORMANCE_H
#define FLOWD_CLI_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>

#include "flowd/model.h"

/* Commands one auto-drive run may apply before it stops at the step bound. */
#define CONF_MAX_COMMANDS 1000

/* A reason and how often it was seen, with one example "file: message". */
struct conf_reason {
    char *text;
    size_t count;
    char *example;
};

struct conf_reasons {
    struct conf_reason *items;
    size_t n, cap;
};

/* Totals of one source folder (the first path component under DIR), or of all. */
struct conf_tally {
    char *source;
    size_t files, executable, loaded, processes_run, ran_to_end, crashed, timed_out;
    struct conf_reasons rejected, stopped;
};

/* Outcome of auto-driving one process model. */
struct conf_run {
    bool ended;         /* reached an end (completed, terminated) */
    char reason[768];   /* why it stopped otherwise: "incident: ...", "step bound", ... */
};

/* Finds the model a call activity calls by process key (the same document first, then
 * the files beside it); NULL when there is none. The drive does not free it. */
struct conf_resolver {
    const struct fl_model *(*find)(void *arg, const char *key);
    void *arg;
};

/* Drive a fresh instance of m as described above, in a small world of instances: call
 * activities start their called process (found through res, may be NULL), signals reach
 * every instance, awaited messages are correlated. Fills out. Never fails. */
void conf_drive(const struct fl_model *m, const struct conf_resolver *res, struct conf_run *out);

/* Count text (copied; example copied) in rs. */
void conf_reasons_add(struct conf_reasons *rs, const char *text, const char *example);

/* Sort by count, most frequent first (ties by text). */
void conf_reasons_sort(struct conf_reasons *rs);

void conf_reasons_release(struct conf_reasons *rs);

/* A message with quoted names blanked ('x' -> '*') except element kinds and languages, so
 * equal reasons group. Caller frees. */
char *conf_normalize(const char *msg);

#endif
