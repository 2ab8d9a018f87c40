/* `flowd conformance DIR [--json]`: the conformance harness over a folder of BPMN files
 * (the public corpora). Each file is read and driven in a child process that reports on a
 * pipe, so a crash or a hang of one file is counted and the walk goes on. Prints a table per
 * source folder and the reasons for rejections and stopped runs, most frequent first. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/conformance.h"
#include "flowd/alloc.h"

#define CHILD_SECONDS 30 /* a file that takes longer is counted as timed out */

static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};

static bool is_bpmn_name(const char *name)
{
    size_t l = strlen(name);
    return (l > 5 && !strcmp(name + l - 5, ".bpmn")) ||
           (l > 6 && !strcmp(name + l - 6, ".bpmn2")) || (l > 4 && !strcmp(name + l - 4, ".xml"));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every BPMN file under dir, sorted, appended to *paths. */
static void walk(const char *dir, char ***paths, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t nn = 0, nc = 0;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        fl_grow(&names, &nc, nn + 1, sizeof(*names));
        names[nn++] = fl_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof(*names), cmp_str);
    for (size_t i = 0; i < nn; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *path = fl_malloc(len);
        struct stat st;
        snprintf(path, len, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            walk(path, paths, n, cap);
            free(path);
        } else if (S_ISREG(st.st_mode) && is_bpmn_name(names[i])) {
            fl_grow(paths, cap, *n + 1, sizeof(**paths));
            (*paths)[(*n)++] = path;
        } else {
            free(path);
        }
        free(names[i]);
    }
    free(names);
}

/* One line to the parent; tabs and newlines inside fields become spaces. */
static void report(FILE *f, char tag, const char *a, const char *b)
{
    fputc(tag, f);
    for (const char *field[2] = {a, b}, **p = field; p < field + 2; p++) {
        if (!*p)
            continue;
        fputc('\t', f);
        for (const char *c = *p; *c; c++)
            fputc(*c == '\t' || *c == '\n' || *c == '\r' ? ' ' : *c, f);
    }
    fputc('\n', f);
}

/* Models a call activity may call: the file's own processes, then processes of the files
 * beside it that mention the key (Camunda's tests deploy a caller and its callee from
 * files side by side). Loaded documents stay until the file is done. */
struct resolver_state {
    const char *path;
    struct fl_bpmn_doc *self;
    struct fl_bpmn_doc **extra;
    size_t n_extra, cap_extra;
};

static const struct fl_model *in_doc(const struct fl_bpmn_doc *doc, const char *key)
{
    for (size_t i = 0; doc && i < doc->n_processes; i++)
        if (doc->processes[i] && !strcmp(doc->processes[i]->key, key))
            return doc->processes[i];
    return NULL;
}

static const struct fl_model *resolve(void *arg, const char *key)
{
    struct resolver_state *rs = arg;
    const struct fl_model *m = in_doc(rs->self, key);
    char *dir, *slash, *xml = NULL, needle[300];
    DIR *d;
    struct dirent *de;
    struct fl_error err;
    size_t len;

    if (m || !key)
        return m;
    for (size_t i = 0; i < rs->n_extra; i++)
        if ((m = in_doc(rs->extra[i], key)) != NULL)
            return m;
    dir = fl_strdup(rs->path);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    snprintf(needle, sizeof(needle), "id=\"%s\"", key);
    if ((d = opendir(dir)) != NULL) {
        while (!m && (de = readdir(d)) != NULL) {
            char full[4096];
            struct fl_bpmn_doc *doc = NULL;
            if (!is_bpmn_name(de->d_name))
                continue;
            snprintf(full, sizeof(full), "%s/%s", dir, de->d_name);
            if (!strcmp(full, rs->path) ||
                cli_read_file(full, FL_BPMN_MAX_BYTES + 1, &xml, &len, &err) < 0)
                continue;
            if (strstr(xml, needle) && fl_bpmn_read(xml, len, &doc, &err) == 0) {
                if ((m = in_doc(doc, key)) != NULL) {
                    fl_grow(&rs->extra, &rs->cap_extra, rs->n_extra + 1, sizeof(*rs->extra));
                    rs->extra[rs->n_extra++] = doc;
                } else {
                    fl_bpmn_doc_free(doc);
                }
            }
            free(xml);
            xml = NULL;
        }
        closedir(d);
    }
    free(dir);
    return m;
}

/* The child's work on one file: X count, then J reason or L count and E/S per process. */
static void child(const char *path, FILE *f)
{
    struct fl_bpmn_doc *doc = NULL;
    struct fl_error err;
    char *xml = NULL, num[32], example[1024];
    size_t len;
    int exec;

    fl_error_clear(&err);
    if (cli_read_file(path, FL_BPMN_MAX_BYTES + 1, &xml, &len, &err) < 0) {
        report(f, 'J', err.msg, path);
        return;
    }
    exec = fl_bpmn_count_executable(xml, len);
    snprintf(num, sizeof(num), "%d", exec < 0 ? 0 : exec);
    report(f, 'X', num, NULL);
    if (fl_bpmn_read(xml, len, &doc, &err) < 0) {
        char *why = conf_normalize(err.msg);
        snprintf(example, sizeof(example), "%s:%d:%d: %s", path, err.line, err.column, err.msg);
        report(f, 'J', why, example);
        free(why);
        free(xml);
        return;
    }
    snprintf(num, sizeof(num), "%zu", doc->n_processes);
    report(f, 'L', num, NULL);
    struct resolver_state rs = {.path = path, .self = doc};
    struct conf_resolver res = {.find = resolve, .arg = &rs};
    for (size_t i = 0; i < doc->n_processes && exec > 0; i++) {
        struct conf_run run;
        conf_drive(doc->processes[i], &res, &run);
        if (run.ended) {
            report(f, 'E', NULL, NULL);
        } else {
            char *why = conf_normalize(run.reason);
            snprintf(example, sizeof(example), "%s: process '%s': %s", path,
                     doc->processes[i]->key, run.reason);
            report(f, 'S', why, example);
            free(why);
        }
    }
    for (size_t i = 0; i < rs.n_extra; i++)
        fl_bpmn_doc_free(rs.extra[i]);
    free(rs.extra);
    fl_bpmn_doc_free(doc);
    free(xml);
}

/* The tally of path's source: its first folder under base. */
static struct conf_tally *source_of(struct conf_tally **ts, size_t *n, size_t *cap,
                                    const char *base, const char *path)
{
    const char *rel = path + strlen(base);
    size_t len;
    while (*rel == '/')
        rel++;
    len = strchr(rel, '/') ? (size_t)(strchr(rel, '/') - rel) : 0;
    if (len == 0) {
        rel = ".";
        len = 1;
    }
    for (size_t i = 0; i < *n; i++)
        if (strlen((*ts)[i].source) == len && !strncmp((*ts)[i].source, rel, len))
            return &(*ts)[i];
    fl_grow(ts, cap, *n + 1, sizeof(**ts));
    memset(&(*ts)[*n], 0, sizeof(**ts));
    (*ts)[*n].source = fl_strndup(rel, len);
    return &(*ts)[(*n)++];
}

/* Run one file in a child and add what it reported to t and all. */
static void run_file(const char *path, struct conf_tally *t, struct conf_tally *all)
{
    int fds[2], status = 0;
    pid_t pid;
    FILE *in;
    char *line = NULL;
    size_t cap = 0;
    size_t exec = 0;
    bool rejected = false;

    t->files++;
    all->files++;
    if (pipe(fds) < 0 || (pid = fork()) < 0) {
        fprintf(stderr, "flowd: conformance: cannot fork: %s\n", strerror(errno));
        exit(1);
    }
    if (pid == 0) {
        FILE *out;
        close(fds[0]);
        alarm(CHILD_SECONDS);
        out = fdopen(fds[1], "w");
        child(path, out);
        fclose(out);
        _exit(0);
    }
    close(fds[1]);
    in = fdopen(fds[0], "r");
    while (getline(&line, &cap, in) > 0) {
        char *a = strchr(line, '\t'), *b = NULL;
        line[strcspn(line, "\n")] = '\0';
        if (a) {
            *a++ = '\0';
            if ((b = strchr(a, '\t')) != NULL)
                *b++ = '\0';
        }
        switch (line[0]) {
        case 'X':
            exec = a ? strtoul(a, NULL, 10) : 0;
            t->executable += exec;
            all->executable += exec;
            break;
        case 'J':
            rejected = true;
            if (exec) { /* reasons count executable processes, as the targets do */
                for (size_t k = 0; k < exec; k++) {
                    conf_reasons_add(&t->rejected, a ? a : "?", b ? b : path);
                    conf_reasons_add(&all->rejected, a ? a : "?", b ? b : path);
                }
            }
            break;
        case 'L':
            if (exec) {
                size_t n = a ? strtoul(a, NULL, 10) : 0;
                t->loaded += n;
                all->loaded += n;
            }
            break;
        case 'E':
            t->processes_run++, all->processes_run++;
            t->ran_to_end++, all->ran_to_end++;
            break;
        case 'S':
            t->processes_run++, all->processes_run++;
            conf_reasons_add(&t->stopped, a ? a : "?", b ? b : path);
            conf_reasons_add(&all->stopped, a ? a : "?", b ? b : path);
            break;
        default:
            break;
        }
    }
    free(line);
    fclose(in);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    (void)rejected;
    if (WIFSIGNALED(status)) {
        bool hung = WTERMSIG(status) == SIGALRM;
        char why[64];
        if (hung)
            t->timed_out++, all->timed_out++;
        else
            t->crashed++, all->crashed++;
        snprintf(why, sizeof(why), hung ? "timed out (%d s)" : "crashed (signal %d)",
                 hung ? CHILD_SECONDS : WTERMSIG(status));
        conf_reasons_add(&t->stopped, why, path);
        conf_reasons_add(&all->stopped, why, path);
        fprintf(stderr, "flowd: conformance: %s: %s\n", path, why);
    }
}

static double pct(size_t a, size_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void print_reasons(const char *title, struct conf_reasons *rs)
{
    conf_reasons_sort(rs);
    printf("\n%s\n", title);
    if (rs->n == 0)
        printf("  (none)\n");
    for (size_t i = 0; i < rs->n; i++)
        printf("  %5zu  %s\n         e.g. %s\n", rs->items[i].count, rs->items[i].text,
               rs->items[i].example);
}

static void json_reasons(struct cli_json *j, const char *key, struct conf_reasons *rs)
{
    conf_reasons_sort(rs);
    cli_json_array(j, key);
    for (size_t i = 0; i < rs->n; i++) {
        cli_json_object(j, NULL);
        cli_json_str(j, "reason", rs->items[i].text);
        cli_json_uint(j, "count", rs->items[i].count);
        cli_json_str(j, "example", rs->items[i].example);
        cli_json_end(j);
    }
    cli_json_end(j);
}

static void json_totals(struct cli_json *j, const struct conf_tally *t)
{
    cli_json_uint(j, "files", t->files);
    cli_json_uint(j, "executable", t->executable);
    cli_json_uint(j, "loaded", t->loaded);
    cli_json_uint(j, "ran_to_end", t->ran_to_end);
    cli_json_uint(j, "crashed", t->crashed);
    cli_json_uint(j, "timed_out", t->timed_out);
}

static void print_row(const struct conf_tally *t)
{
    printf("%-24s %6zu %10zu %7zu %6.1f%% %10zu %6.1f%% %7zu\n", t->source, t->files,
           t->executable, t->loaded, pct(t->loaded, t->executable), t->ran_to_end,
           pct(t->ran_to_end, t->executable), t->crashed + t->timed_out);
}

static int run(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_common c;
    struct conf_tally all, *ts = NULL;
    char **paths = NULL;
    size_t n_paths = 0, cap_paths = 0, n_ts = 0, cap_ts = 0, i;
    struct stat st;
    int opt, rc;

    memset(&all, 0, sizeof(all));
    if ((rc = cli_common_init(&c, cmd)) != 0)
        return rc;
    while ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP)
            return 0;
        return 1; /* no options of its own: anything else is an error already printed */
    }
    if (optind + 1 != argc)
        return cli_usage_error(&c, "give exactly one folder");
    if (stat(argv[optind], &st) < 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "flowd: conformance: '%s' is not a folder\n", argv[optind]);
        return 2;
    }
    walk(argv[optind], &paths, &n_paths, &cap_paths);
    all.source = fl_strdup("all");
    fflush(stdout);
    for (i = 0; i < n_paths; i++)
        run_file(paths[i], source_of(&ts, &n_ts, &cap_ts, argv[optind], paths[i]), &all);
    if (c.json) {
        struct cli_json j;
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        json_totals(&j, &all);
        cli_json_array(&j, "sources");
        for (i = 0; i < n_ts; i++) {
            cli_json_object(&j, NULL);
            cli_json_str(&j, "source", ts[i].source);
            json_totals(&j, &ts[i]);
            cli_json_end(&j);
        }
        cli_json_end(&j);
        json_reasons(&j, "rejected", &all.rejected);
        json_reasons(&j, "stopped", &all.stopped);
        cli_json_end(&j);
        rc = cli_json_emit(&j) < 0 ? 1 : 0;
    } else {
        printf("%-24s %6s %10s %7s %7s %10s %7s %7s\n", "SOURCE", "FILES", "EXECUTABLE",
               "LOADED", "", "RAN TO END", "", "CRASHED");
        for (i = 0; i < n_ts; i++)
            print_row(&ts[i]);
        print_row(&all);
        print_reasons("executable processes rejected, by reason:", &all.rejected);
        print_reasons("runs stopped before an end, by reason:", &all.stopped);
        rc = 0;
    }
    for (i = 0; i < n_ts; i++) {
        free(ts[i].source);
        conf_reasons_release(&ts[i].rejected);
        conf_reasons_release(&ts[i].stopped);
    }
    free(ts);
    free(all.source);
    conf_reasons_release(&all.rejected);
    conf_reasons_release(&all.stopped);
    for (i = 0; i < n_paths; i++)
        free(paths[i]);
    free(paths);
    return rc;
}

const struct cli_command cli_cmd_conformance = {
    "conformance",
    run,
    "load and auto-drive every BPMN file under a folder; print what runs",
    "usage: flowd conformance DIR [--json]\n\n"
    "Read every .bpmn, .bpmn2 and .xml file under DIR. Each process marked\n"
    "isExecutable=\"true\" is counted as executable, then as loaded or rejected (with the\n"
    "reader's reason), and each loaded one is run in auto-drive: user tasks and jobs are\n"
    "completed with no variables (required main actions recorded first), timers fire at\n"
    "once; it stops at an end event, an incident, a wait nothing answers, or after 1000\n"
    "commands. Every file runs\n"
    "in a child process: a crash or a hang is counted, not suffered. Prints a table per\n"
    "source (the first folder under DIR) and the reasons, most frequent first; --json\n"
    "prints the totals as files, executable, loaded, ran_to_end, crashed, timed_out, with\n"
    "sources, rejected and stopped. Nothing is stored.\n",
};
