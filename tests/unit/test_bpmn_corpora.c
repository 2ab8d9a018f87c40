/* Conformance of the BPMN reader against the public corpora (FLOWD_CORPORA/bpmn): every
 * file either loads or is rejected with a precise error (a message, and a line unless the
 * whole document is at fault); none crashes or leaks (this runs under ASan in CI). Prints
 * how many loaded and the rejection reasons, most frequent first. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "flowd/alloc.h"
#include "flowd/model.h"

struct reason {
    char *text;
    size_t count;
    char example[600];
};

struct folder {
    char name[128];
    size_t loaded, rejected;
};

struct tally {
    size_t files, loaded, rejected, with_warnings, processes;
    struct folder folders[32];
    size_t n_folders;
    const char *base;
    struct reason *reasons, *warnings;
    size_t n_reasons, cap_reasons, n_warnings, cap_warnings;
};

/* Message with element ids blanked, so equal reasons group: keep quoted words that name
 * an element kind or language (after "element ", "with ", "in "), blank the rest. */
static char *normalize(const char *code, const char *msg)
{
    static const char *const keep_after[] = {"element ",      "with ",      "in ", "language ",
                                             "camunda:type ", "attribute ", NULL};
    size_t n = strlen(msg), i, o = 0;
    char *out = fl_malloc(n + strlen(code) + 8);
    o += (size_t)sprintf(out, "%s: ", code);
    for (i = 0; i < n; i++) {
        bool keep = false;
        size_t k, j;
        if (msg[i] != '\'') {
            out[o++] = msg[i];
            continue;
        }
        for (k = 0; keep_after[k]; k++) {
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
            memcpy(out + o, "'*'", 3);
            o += 3;
        }
        i = j;
    }
    out[o] = '\0';
    return out;
}

static void count(struct reason **rs, size_t *n, size_t *cap, char *text, const char *example)
{
    size_t i;
    for (i = 0; i < *n; i++) {
        if (!strcmp((*rs)[i].text, text)) {
            (*rs)[i].count++;
            free(text);
            return;
        }
    }
    fl_grow(rs, cap, *n + 1, sizeof(**rs));
    (*rs)[*n].text = text;
    (*rs)[*n].count = 1;
    snprintf((*rs)[*n].example, sizeof((*rs)[*n].example), "%s", example);
    (*n)++;
}

/* Count per top-level folder of the corpus (bpmn-miwg, camunda-bpm-platform, ...). */
static void tally_folder(struct tally *t, const char *path, bool loaded)
{
    const char *rel = path + strlen(t->base) + 1;
    size_t n = strcspn(rel, "/"), i;
    for (i = 0; i < t->n_folders; i++)
        if (strlen(t->folders[i].name) == n && !strncmp(t->folders[i].name, rel, n))
            break;
    if (i == t->n_folders) {
        if (t->n_folders == 32)
            return;
        snprintf(t->folders[i].name, sizeof(t->folders[i].name), "%.*s", (int)n, rel);
        t->n_folders++;
    }
    if (loaded)
        t->folders[i].loaded++;
    else
        t->folders[i].rejected++;
}

static bool wanted(const char *name)
{
    size_t l = strlen(name);
    return (l > 5 && !strcmp(name + l - 5, ".bpmn")) ||
           (l > 6 && !strcmp(name + l - 6, ".bpmn2")) || (l > 4 && !strcmp(name + l - 4, ".xml"));
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf;
    size_t cap;
    if (!f)
        return NULL;
    /* one byte over the cap is enough for the reader to refuse a huge file */
    cap = fstat(fileno(f), &st) == 0 && (size_t)st.st_size <= FL_BPMN_MAX_BYTES
              ? (size_t)st.st_size + 1
              : FL_BPMN_MAX_BYTES + 2;
    buf = fl_malloc(cap);
    *len = fread(buf, 1, cap - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void read_one(struct tally *t, const char *path)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    size_t len, i, k;
    char *xml = slurp(path, &len);
    int rc;
    if (!xml)
        return;
    t->files++;
    rc = fl_bpmn_read(xml, len, &doc, &err);
    tally_folder(t, path, rc == 0);
    if (rc == 0) {
        bool warned = false;
        assert_non_null(doc);
        t->loaded++;
        t->processes += doc->n_processes;
        for (i = 0; i < doc->n_processes; i++) {
            const struct fl_model *m = doc->processes[i];
            assert_true(m->start != FL_NONE || m->n_timer_starts > 0 || m->n_message_starts > 0);
            for (k = 0; k < m->n_warnings; k++) {
                char ex[700];
                warned = true;
                snprintf(ex, sizeof(ex), "%s: %s", path, m->warnings[k].message);
                count(&t->warnings, &t->n_warnings, &t->cap_warnings,
                      normalize("warning", m->warnings[k].message), ex);
            }
        }
        t->with_warnings += warned;
        fl_bpmn_doc_free(doc);
    } else {
        char ex[700];
        bool whole = rc == FL_ETOOBIG || !strcmp(err.msg, "DTD entity declarations are not "
                                                          "supported");
        assert_null(doc);
        t->rejected++;
        if (!(rc == FL_EMODEL || rc == FL_EPARSE || rc == FL_EUNSUPPORTED || rc == FL_ETOOBIG))
            fail_msg("%s: unexpected code %d", path, rc);
        if (!err.msg[0])
            fail_msg("%s: rejected without a message", path);
        if (!whole && err.line <= 0)
            fail_msg("%s: rejected without a line: %s", path, err.msg);
        snprintf(ex, sizeof(ex), "%s:%d:%d: %s", path, err.line, err.column, err.msg);
        count(&t->reasons, &t->n_reasons, &t->cap_reasons, normalize(fl_err_name(rc), err.msg), ex);
    }
    free(xml);
}

static void walk(struct tally *t, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    if (!d)
        return;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        fl_grow(&names, &cap, n + 1, sizeof(*names));
        names[n++] = fl_strdup(e->d_name);
    }
    closedir(d);
    for (i = 0; i < n; i++) {
        size_t l = strlen(dir) + strlen(names[i]) + 2;
        char *path = fl_malloc(l);
        struct stat st;
        snprintf(path, l, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                walk(t, path);
            else if (S_ISREG(st.st_mode) && wanted(names[i]))
                read_one(t, path);
        }
        free(path);
        free(names[i]);
    }
    free(names);
}

static int by_count(const void *a, const void *b)
{
    const struct reason *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->text, y->text);
}

static void print_reasons(const char *title, struct reason *rs, size_t n)
{
    size_t i;
    qsort(rs, n, sizeof(*rs), by_count);
    printf("%s:\n", title);
    for (i = 0; i < n; i++) {
        printf("  %5zu  %s\n", rs[i].count, rs[i].text);
        if (i < 25)
            printf("         e.g. %s\n", rs[i].example);
        free(rs[i].text);
    }
    free(rs);
}

static void test_corpora(void **state)
{
    struct tally t;
    const char *base = getenv("FLOWD_CORPORA");
    char dir[4096];
    (void)state;
    memset(&t, 0, sizeof(t));
    snprintf(dir, sizeof(dir), "%s/bpmn", base && base[0] ? base : FLOWD_CORPORA);
    t.base = dir;
    walk(&t, dir);
    printf("bpmn corpora (%s): %zu files, %zu loaded (%zu processes, %zu with warnings), "
           "%zu rejected\n",
           dir, t.files, t.loaded, t.processes, t.with_warnings, t.rejected);
    for (size_t i = 0; i < t.n_folders; i++)
        printf("  %-24s %5zu loaded %5zu rejected\n", t.folders[i].name, t.folders[i].loaded,
               t.folders[i].rejected);
    print_reasons("rejected, by reason", t.reasons, t.n_reasons);
    print_reasons("warnings of loaded files, by reason", t.warnings, t.n_warnings);
    assert_true(t.files > 1000); /* the corpus is there and was walked */
    assert_int_equal(t.files, t.loaded + t.rejected);
    assert_true(t.loaded > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpora),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
