/* `flowd deploy FILE.bpmn` and `flowd definitions`: store a BPMN model as a new version of
 * its process (or report it unchanged), and list what is deployed. The file is read here
 * with the size cap and checked by the BPMN reader before the database is even opened, so
 * a bad file cannot create or change anything. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_source.h"
#include "flowd/alloc.h"
#include "flowd/dmn.h"
#include "flowd/model.h"

#define MAX_PROCESSES 64 /* executable processes reported per document */

static const char deploy_usage[] =
    "usage: flowd deploy [options] FILE.bpmn|FILE.dmn\n\n"
    "Read a BPMN 2.0 file and deploy each executable process in it. A changed model\n"
    "becomes a new version of its process; deploying the same XML again is reported as\n"
    "\"unchanged\" and keeps the version. A DMN file (1.1 to 1.5) deploys each of its\n"
    "decisions the same way, as a version of its decision id (see `flowd decide`). FILE\n"
    "may be - for standard input. Files larger than 8 MiB are refused.\n";

/* Warnings of the models in doc, printed on stderr or added to j. */
static void warnings(const char *path, const struct fl_bpmn_doc *doc, const char *key,
                     struct cli_json *j)
{
    for (size_t p = 0; p < doc->n_processes; p++) {
        const struct fl_model *m = doc->processes[p];
        if (strcmp(m->key, key) != 0)
            continue;
        for (size_t i = 0; i < m->n_warnings; i++) {
            const struct fl_model_warning *w = &m->warnings[i];
            if (j) {
                cli_json_object(j, NULL);
                cli_json_str(j, "element", w->element);
                cli_json_str(j, "message", w->message);
                cli_json_int(j, "line", w->line);
                cli_json_int(j, "column", w->column);
                cli_json_end(j);
            } else {
                struct fl_error e;
                fl_error_clear(&e);
                snprintf(e.msg, sizeof(e.msg), "%s", w->message ? w->message : "warning");
                fl_error_at(&e, w->element, w->line, w->column);
                cli_warn(path, &e);
            }
        }
    }
}

/* A DMN document: each decision becomes a version of its id. */
static int deploy_dmn(const struct cli_common *c, const char *path, const char *xml, size_t len)
{
    struct fl_deploy_result results[MAX_PROCESSES];
    struct fl_dmn_doc *doc = NULL;
    struct cli_source *src = NULL;
    struct fl_error err;
    struct cli_json j;
    size_t n = 0;
    int rc;

    fl_error_clear(&err);
    if ((rc = fl_dmn_read(xml, len, &doc, &err)) != 0)
        return cli_fail_in(path, rc, &err);
    fl_dmn_doc_free(doc);
    if ((rc = cli_source_open(c, &src, &err)) != 0)
        return cli_fail(rc, &err);
    rc = src->ops->deploy(src, xml, len, results, MAX_PROCESSES, &n, &err);
    cli_source_close(src);
    if (rc)
        return cli_fail_in(path, rc, &err);
    if (c->json) {
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_array(&j, "deployed");
        cli_json_end(&j);
        cli_json_array(&j, "decisions");
        for (size_t i = 0; i < n; i++) {
            cli_json_object(&j, NULL);
            cli_json_str(&j, "key", results[i].key);
            cli_json_int(&j, "version", results[i].version);
            cli_json_uint(&j, "decision_id", results[i].definition_id);
            cli_json_bool(&j, "created", results[i].created);
            cli_json_end(&j);
        }
        cli_json_end(&j);
        cli_json_end(&j);
        return (rc = cli_json_emit(&j)) ? cli_fail(rc, NULL) : 0;
    }
    for (size_t i = 0; i < n; i++)
        printf("%s decision %s version %d\n", results[i].created ? "deployed" : "unchanged",
               results[i].key, (int)results[i].version);
    return 0;
}

static int run_deploy(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    struct cli_common c;
    struct fl_error err;
    struct fl_bpmn_doc *doc = NULL;
    struct cli_source *src = NULL;
    struct fl_deploy_result results[MAX_PROCESSES];
    struct cli_json j;
    const char *path;
    char *xml = NULL;
    size_t len = 0, n = 0;
    int rc, opt, ex = 0;

    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    if ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END)
        return opt == CLI_GETOPT_HELP ? 0 : 1;
    if (optind == argc)
        return cli_usage_error(&c, "missing FILE");
    if (optind != argc - 1)
        return cli_usage_error(&c, "one FILE at a time");
    path = argv[optind];

    fl_error_clear(&err);
    rc = cli_read_file(path, FL_BPMN_MAX_BYTES, &xml, &len, &err);
    if (rc) {
        ex = cli_fail(rc, &err);
        goto out;
    }
    if (fl_dmn_is_dmn(xml, len)) {
        ex = deploy_dmn(&c, path, xml, len);
        goto out;
    }
    rc = fl_bpmn_read(xml, len, &doc, &err);
    if (rc == 0 && doc->n_processes == 0)
        rc = fl_error_set(&err, FL_EMODEL, "no executable process in the document");
    if (rc) {
        ex = cli_fail_in(path, rc, &err);
        goto out;
    }
    rc = cli_source_open(&c, &src, &err);
    if (rc) {
        ex = cli_fail(rc, &err);
        goto out;
    }
    rc = src->ops->deploy(src, xml, len, results, MAX_PROCESSES, &n, &err);
    cli_source_close(src);
    src = NULL;
    if (rc) {
        ex = cli_fail_in(path, rc, &err);
        goto out;
    }

    if (c.json) {
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_array(&j, "deployed");
        for (size_t i = 0; i < n; i++) {
            cli_json_object(&j, NULL);
            cli_json_str(&j, "key", results[i].key);
            cli_json_int(&j, "version", results[i].version);
            cli_json_uint(&j, "definition_id", results[i].definition_id);
            cli_json_bool(&j, "created", results[i].created);
            cli_json_array(&j, "warnings");
            warnings(path, doc, results[i].key, &j);
            cli_json_end(&j);
            cli_json_end(&j);
        }
        cli_json_end(&j);
        cli_json_end(&j);
        if ((rc = cli_json_emit(&j)))
            ex = cli_fail(rc, NULL);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        warnings(path, doc, results[i].key, NULL);
        if (results[i].created)
            printf("deployed %s version %d (definition %llu)\n", results[i].key,
                   (int)results[i].version, (unsigned long long)results[i].definition_id);
        else
            printf("unchanged %s version %d (definition %llu): same XML as the latest version\n",
                   results[i].key, (int)results[i].version,
                   (unsigned long long)results[i].definition_id);
    }
out:
    fl_bpmn_doc_free(doc);
    free(xml);
    return ex;
}

const struct cli_command cli_cmd_deploy = {
    "deploy", run_deploy, "deploy a BPMN file (a new version if it changed)", deploy_usage};

static const char definitions_usage[] =
    "usage: flowd definitions [options]\n\n"
    "List the deployed process definitions, every version, newest first.\n";

static int run_definitions(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    struct cli_common c;
    struct fl_error err;
    struct cli_source *src = NULL;
    struct fl_definition_row *rows = NULL;
    struct cli_table t;
    struct cli_json j;
    size_t n = 0;
    int rc, opt, ex = 0;

    if ((ex = cli_common_init(&c, cmd)))
        return ex;
    if ((opt = cli_getopt(&c, argc, argv, longopts)) != CLI_GETOPT_END)
        return opt == CLI_GETOPT_HELP ? 0 : 1;
    if (optind != argc)
        return cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);

    fl_error_clear(&err);
    if ((rc = cli_source_open(&c, &src, &err)) || (rc = src->ops->require(src, &err)) ||
        (rc = src->ops->definition_list(src, &rows, &n, &err))) {
        ex = cli_fail(rc, &err);
        goto out;
    }
    if (c.json) {
        cli_json_init(&j);
        cli_json_object(&j, NULL);
        cli_json_array(&j, "definitions");
        for (size_t i = 0; i < n; i++) {
            cli_json_object(&j, NULL);
            cli_json_uint(&j, "id", rows[i].id);
            cli_json_str(&j, "key", rows[i].key);
            cli_json_int(&j, "version", rows[i].version);
            cli_json_str(&j, "name", rows[i].name);
            cli_json_str(&j, "checksum", rows[i].checksum);
            cli_json_time(&j, "deployed_at", rows[i].deployed_at);
            cli_json_end(&j);
        }
        cli_json_end(&j);
        cli_json_end(&j);
        if ((rc = cli_json_emit(&j)))
            ex = cli_fail(rc, NULL);
        goto out;
    }
    if (n == 0) {
        printf("no process deployed\n");
        goto out;
    }
    cli_table_init(&t, 6, "ID", "KEY", "VERSION", "NAME", "DEPLOYED", "CHECKSUM");
    for (size_t i = 0; i < n; i++) {
        char id[24], ver[16], tb[40], sum[13];
        snprintf(id, sizeof(id), "%llu", (unsigned long long)rows[i].id);
        snprintf(ver, sizeof(ver), "%d", (int)rows[i].version);
        snprintf(sum, sizeof(sum), "%.12s", rows[i].checksum);
        cli_table_add(&t, id, rows[i].key, ver, rows[i].name,
                      cli_time(rows[i].deployed_at, false, tb), sum);
    }
    cli_table_print(&t, stdout, "");
    cli_table_release(&t);
out:
    if (rows)
        fl_definition_rows_free(rows, n);
    cli_source_close(src);
    return ex;
}

const struct cli_command cli_cmd_definitions = {
    "definitions", run_definitions, "list deployed process definitions", definitions_usage};
