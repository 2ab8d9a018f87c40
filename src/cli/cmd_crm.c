/* `flowd company|contact|lead|deal|activity`: add, list, show, set and delete CRM records
 * straight in the database, like the people commands (SQLite WAL lets them run next to a
 * server). The options of add and set are the type's fields (--tax-id, --company-id; list
 * fields repeat), built from the same field table the API uses, so the CLI and the API
 * check every value the same way. Without --as the command acts as an administrator. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/people.h"
#include "flowd/alloc.h"
#include "flowd/auth.h"
#include "flowd/crm.h"

#define COMMON_USAGE                                                                               \
    "\n"                                                                                           \
    "Fields are options named as in docs/crm.md (--tax-id or --tax_id); list fields\n"             \
    "repeat (--phones A --phones B); an empty value clears a field on set. Phones in\n"            \
    "national form need FLOWD_PHONE_COUNTRY (e.g. 49).\n\n"                                        \
    "options of every verb:\n"                                                                     \
    "  --as LOGIN        act as this user (their access rules and ownership); default:\n"          \
    "                    an administrator\n"                                                       \
    "options of list:\n"                                                                           \
    "  --owner LOGIN  --status S  --company-id ID  --search TEXT\n"                                \
    "  --subject-type T  --subject-id ID  --kind K   (activities)\n"                               \
    "  --limit N      at most N records (default all)\n"

#define VERBS(type)                                                                                \
    "usage: flowd " type " add --FIELD VALUE ...\n"                                                \
    "       flowd " type " list [filters]\n"                                                       \
    "       flowd " type " show ID\n"                                                              \
    "       flowd " type " set ID --FIELD VALUE ...\n"                                             \
    "       flowd " type " delete ID\n\n"

static const char company_usage[] =
    VERBS("company") "Companies (counterparties). Fields: external-id, name (required), tax-id,\n"
                     "industry, addresses (list), phones (list), emails (list), website, "
                     "owner.\n" COMMON_USAGE;
static const char contact_usage[] =
    VERBS("contact") "Contacts (people). Fields: external-id, first-name, last-name (one of the\n"
                     "two required), phones (list), emails (list), company-id, position,\n"
                     "birthday (YYYY-MM-DD), owner.\n" COMMON_USAGE;
static const char lead_usage[] =
    VERBS("lead") "Leads. Fields: external-id, title (required), status (new, in_progress,\n"
                  "qualified, converted, disqualified), source, channel, utm-source, utm-medium,\n"
                  "utm-campaign, utm-term, utm-content, tracking-phone, contact-id, company-id,\n"
                  "owner, first-response-due (ISO 8601).\n" COMMON_USAGE;
static const char deal_usage[] =
    VERBS("deal") "Deals. Fields: external-id, title (required), pipeline, status (open, won,\n"
                  "lost; lost needs loss-reason), amount (exact decimal) with currency (ISO\n"
                  "4217), expected-close, probability (0-100), owner, department, company-id,\n"
                  "contact-ids (list), loss-reason, won-at, lost-at.\n" COMMON_USAGE;
static const char activity_usage[] =
    VERBS("activity") "Activities on a record. Fields: subject-type (company, contact, lead,\n"
                      "deal) and subject-id (required, fixed once set), kind (call, email,\n"
                      "meeting, note; required), direction (in, out), duration-s, outcome,\n"
                      "summary, at (ISO 8601; default now).\n" COMMON_USAGE;

/* Columns of the list table after ID. */
static const char *const columns[FL_CRM_NTYPES][6] = {
    {"name", "tax_id", "industry", "phones", "owner", NULL},
    {"first_name", "last_name", "company_id", "phones", "owner", NULL},
    {"title", "status", "source", "channel", "owner", NULL},
    {"title", "status", "amount", "currency", "owner", NULL},
    {"subject_type", "subject_id", "kind", "direction", "at", NULL},
};

enum {
    OPT_AS = CLI_OPT_CMD,
    OPT_OWNER,
    OPT_STATUS,
    OPT_COMPANY,
    OPT_SEARCH,
    OPT_STYPE,
    OPT_SID,
    OPT_KIND,
    OPT_LIMIT,
    OPT_FIELD = CLI_OPT_CMD + 64
};

struct crm_cli {
    struct cli_common c;
    enum fl_crm_type type;
    const struct fl_crm_type_desc *d;
    const char *as;
    struct fl_principal who;
};

/* cli_fail names the field at fault itself ("(field 'emails')"). */
static int fail(int rc, struct fl_error *err)
{
    return cli_fail(rc, err);
}

/* The principal commands act as: --as LOGIN, else an administrator without a login. */
static int load_actor(struct crm_cli *x, struct fl_store *s, struct fl_error *err)
{
    struct fl_user_row u;
    int rc;
    fl_principal_init(&x->who);
    if (!x->as) {
        x->who.admin = true;
        x->who.scope = FL_SCOPE_ADMIN;
        return 0;
    }
    if ((rc = fl_auth_user_get(s, x->as, 0, &u, err)) != 0)
        return rc;
    rc = fl_auth_principal_load(s, u.id, FL_SCOPE_WRITE, &x->who, err);
    fl_user_row_release(&u);
    return rc;
}

static void fill_actor(struct crm_cli *x, struct fl_crm_actor *a)
{
    const char *cc = getenv("FLOWD_PHONE_COUNTRY");
    a->who = &x->who;
    a->now_ms = x->c.now_ms;
    a->phone_country = cc && *cc ? cc : NULL;
}

/* Long options --as and one per field (dashes and underscores both), for add and set. */
static struct option *field_options(const struct fl_crm_type_desc *d, char ***names)
{
    size_t n = 0;
    struct option *o = fl_calloc(4 + 2 * d->n_fields + 1, sizeof(*o));
    const struct option common[] = {CLI_COMMON_LONGOPTS};
    *names = fl_calloc(d->n_fields + 1, sizeof(char *));
    for (size_t i = 0; i < 3; i++)
        o[n++] = common[i];
    o[n++] = (struct option){"as", required_argument, NULL, OPT_AS};
    for (size_t i = 0; i < d->n_fields; i++) {
        char *dash = fl_strdup(d->fields[i].name);
        for (char *p = dash; *p; p++)
            if (*p == '_')
                *p = '-';
        (*names)[i] = dash;
        o[n++] = (struct option){dash, required_argument, NULL, OPT_FIELD + (int)i};
        if (strcmp(dash, d->fields[i].name) != 0)
            o[n++] =
                (struct option){d->fields[i].name, required_argument, NULL, OPT_FIELD + (int)i};
    }
    return o;
}

static void free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

/* Add option value text of field f to the fields object being built. */
static int add_field(struct fl_value *obj, const struct fl_crm_field *f, const char *text,
                     struct fl_error *err)
{
    struct fl_value *v = NULL;
    size_t len = strlen(text);
    bool number = f->kind == FL_CRMK_INT || f->kind == FL_CRMK_REF || f->kind == FL_CRMK_REFS;
    bool list = f->kind == FL_CRMK_PHONES || f->kind == FL_CRMK_EMAILS ||
                f->kind == FL_CRMK_TEXTS || f->kind == FL_CRMK_REFS;
    int rc = 0;
    if (len == 0)
        v = fl_value_null();
    else if (number && (rc = fl_value_number_parse(text, len, &v)) != 0)
        rc = fl_error_set(err, FL_EUSAGE, "--%s needs a number, not '%s'", f->name, text);
    else if (!number && (rc = fl_value_string_new(text, len, &v)) != 0)
        rc = fl_error_set(err, FL_EUSAGE, "--%s is not valid UTF-8", f->name);
    if (!v)
        return rc;
    if (list && fl_value_type(v) != FL_VNULL) {
        const struct fl_value *have = fl_value_context_get(obj, f->name, strlen(f->name));
        struct fl_value *l = fl_value_list_new();
        for (size_t i = 0; have && i < fl_value_list_len(have); i++)
            fl_value_list_push(l, fl_value_ref(fl_value_list_at(have, i)));
        fl_value_list_push(l, v);
        v = l;
    }
    fl_value_context_set(obj, f->name, strlen(f->name), v);
    return 0;
}

static int print_record(struct crm_cli *x, struct fl_store *s, uint64_t id, const char *verb)
{
    struct fl_crm_record rec;
    struct fl_error err;
    int rc;
    fl_error_clear(&err);
    if (!x->c.json) {
        printf("%s %llu %s\n", x->d->name, (unsigned long long)id, verb);
        return 0;
    }
    if ((rc = fl_crm_get(s, x->type, id, NULL, &rec, &err)) != 0)
        return fail(rc, &err);
    {
        struct fl_buf b = FL_BUF_INIT;
        fl_crm_record_json(&rec, &b);
        puts(b.ptr);
        fl_buf_release(&b);
    }
    fl_crm_record_release(&rec);
    return 0;
}

/* add (id 0) or set ID. */
static int crm_write(struct crm_cli *x, int argc, char **argv, bool set)
{
    char **names = NULL;
    struct option *o = field_options(x->d, &names);
    struct fl_value *obj = fl_value_context_new();
    struct fl_store *s = NULL;
    struct fl_crm_actor a;
    struct fl_error err;
    uint64_t id = 0;
    int rc = 0, opt, ex = 0;

    fl_error_clear(&err);
    while ((opt = cli_getopt(&x->c, argc, argv, o)) != CLI_GETOPT_END) {
        if (opt == OPT_AS) {
            x->as = optarg;
        } else if (opt >= OPT_FIELD && opt < OPT_FIELD + (int)x->d->n_fields) {
            if ((rc = add_field(obj, &x->d->fields[opt - OPT_FIELD], optarg, &err)) != 0) {
                ex = cli_usage_error(&x->c, "%s", err.msg);
                goto out;
            }
        } else {
            ex = opt == CLI_GETOPT_HELP ? 0 : 1;
            goto out;
        }
    }
    if (set) {
        if (optind >= argc) {
            ex = cli_usage_error(&x->c, "%s set needs an ID", x->d->name);
            goto out;
        }
        if ((rc = cli_parse_id(argv[optind++], x->d->name, &id, &err)) != 0) {
            ex = cli_usage_error(&x->c, "%s", err.msg);
            goto out;
        }
    }
    if (optind < argc) {
        ex = cli_usage_error(&x->c, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if ((rc = cli_people_open(&x->c, &s, &err)) == 0 && (rc = load_actor(x, s, &err)) == 0) {
        fill_actor(x, &a);
        if (set)
            rc = fl_crm_update(s, x->type, id, obj, &a, &err);
        else
            rc = fl_crm_create(s, x->type, obj, &a, &id, &err);
    }
    ex = rc ? fail(rc, &err) : print_record(x, s, id, set ? "updated" : "added");
out:
    fl_store_close(s);
    fl_value_unref(obj);
    free(o);
    free_names(names);
    return ex;
}

static void cell(const struct fl_crm_record *r, const char *name, char *out, size_t n)
{
    const struct fl_crm_type_desc *d = fl_crm_type_get(r->type);
    int i = fl_crm_field_index(d, name, strlen(name));
    const struct fl_crm_value *v = &r->values[i];
    out[0] = '\0';
    if (!v->set)
        snprintf(out, n, "-");
    else if (d->fields[i].kind == FL_CRMK_TIME)
        cli_time(v->num, false, out);
    else if (v->text)
        snprintf(out, n, "%s", v->text);
    else
        snprintf(out, n, "%lld", (long long)v->num);
}

static int crm_list(struct crm_cli *x, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONGOPTS,
                                             {"as", required_argument, NULL, OPT_AS},
                                             {"owner", required_argument, NULL, OPT_OWNER},
                                             {"status", required_argument, NULL, OPT_STATUS},
                                             {"company-id", required_argument, NULL, OPT_COMPANY},
                                             {"search", required_argument, NULL, OPT_SEARCH},
                                             {"subject-type", required_argument, NULL, OPT_STYPE},
                                             {"subject-id", required_argument, NULL, OPT_SID},
                                             {"kind", required_argument, NULL, OPT_KIND},
                                             {"limit", required_argument, NULL, OPT_LIMIT},
                                             {NULL, 0, NULL, 0}};
    struct fl_crm_query q = {.type = x->type, .limit = CLI_PAGE_ROWS};
    struct fl_store *s = NULL;
    struct fl_error err;
    struct cli_table t;
    struct fl_buf json = FL_BUF_INIT;
    uint64_t max = 0;
    size_t total = 0;
    int rc = 0, opt;

    fl_error_clear(&err);
    while ((opt = cli_getopt(&x->c, argc, argv, longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case OPT_AS:
            x->as = optarg;
            break;
        case OPT_OWNER:
            q.owner = optarg;
            break;
        case OPT_STATUS:
            q.status = optarg;
            break;
        case OPT_SEARCH:
            q.q = optarg;
            break;
        case OPT_STYPE:
            q.subject_type = optarg;
            break;
        case OPT_KIND:
            q.kind = optarg;
            break;
        case OPT_COMPANY:
        case OPT_SID:
        case OPT_LIMIT: {
            uint64_t v;
            if (cli_parse_id(optarg, opt == OPT_LIMIT ? "limit" : "id", &v, &err) != 0)
                return cli_usage_error(&x->c, "%s", err.msg);
            if (opt == OPT_COMPANY)
                q.company_id = v;
            else if (opt == OPT_SID)
                q.subject_id = v;
            else
                max = v;
            break;
        }
        default:
            return opt == CLI_GETOPT_HELP ? 0 : 1;
        }
    }
    if (optind != argc)
        return cli_usage_error(&x->c, "unexpected argument '%s'", argv[optind]);
    if ((rc = cli_store_open_ro(&x->c, &s, &err)) != 0)
        return cli_fail(rc, &err);
    if ((rc = load_actor(x, s, &err)) != 0) {
        fl_store_close(s);
        return fail(rc, &err);
    }
    q.viewer = &x->who;
    {
        char h[5][32];
        for (int k = 0; k < 5; k++) {
            snprintf(h[k], sizeof(h[k]), "%s", columns[x->type][k]);
            for (char *p = h[k]; *p; p++)
                *p = *p == '_' ? ' ' : (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        }
        cli_table_init(&t, 6, "ID", h[0], h[1], h[2], h[3], h[4]);
    }
    fl_buf_adds(&json, "{\"items\":[");
    for (;;) {
        struct fl_crm_record *rows = NULL;
        size_t n = 0;
        if ((rc = fl_crm_list(s, &q, &rows, &n, &err)) != 0)
            break;
        for (size_t i = 0; i < n && (!max || total < max); i++, total++) {
            char id[24], c[5][256];
            if (x->c.json) {
                if (total)
                    fl_buf_addc(&json, ',');
                fl_crm_record_json(&rows[i], &json);
                continue;
            }
            snprintf(id, sizeof(id), "%llu", (unsigned long long)rows[i].id);
            for (int k = 0; k < 5; k++)
                cell(&rows[i], columns[x->type][k], c[k], sizeof(c[k]));
            cli_table_add(&t, id, c[0], c[1], c[2], c[3], c[4]);
        }
        if (n)
            q.after_id = rows[n - 1].id;
        fl_crm_records_free(rows, n);
        if (n == 0 || (max && total >= max))
            break;
    }
    fl_buf_adds(&json, "]}");
    if (rc == 0) {
        if (x->c.json)
            puts(json.ptr);
        else if (total == 0)
            printf("no %s\n", x->d->plural);
        else
            cli_table_print(&t, stdout, "");
    }
    fl_buf_release(&json);
    cli_table_release(&t);
    fl_store_close(s);
    return rc ? fail(rc, &err) : 0;
}

/* show ID and delete ID */
static int crm_one(struct crm_cli *x, int argc, char **argv, bool del)
{
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS, {"as", required_argument, NULL, OPT_AS}, {NULL, 0, NULL, 0}};
    struct fl_store *s = NULL;
    struct fl_error err;
    struct fl_crm_record rec;
    uint64_t id;
    int rc, opt;
    fl_error_clear(&err);
    while ((opt = cli_getopt(&x->c, argc, argv, longopts)) != CLI_GETOPT_END) {
        if (opt == OPT_AS)
            x->as = optarg;
        else
            return opt == CLI_GETOPT_HELP ? 0 : 1;
    }
    if (optind + 1 != argc)
        return cli_usage_error(&x->c, "%s %s needs one ID", x->d->name, del ? "delete" : "show");
    if (cli_parse_id(argv[optind], x->d->name, &id, &err) != 0)
        return cli_usage_error(&x->c, "%s", err.msg);
    rc = del ? cli_people_open(&x->c, &s, &err) : cli_store_open_ro(&x->c, &s, &err);
    if (rc == 0)
        rc = load_actor(x, s, &err);
    if (rc == 0 && del) {
        struct fl_crm_actor a;
        fill_actor(x, &a);
        if ((rc = fl_crm_delete(s, x->type, id, &a, &err)) == 0)
            printf("%s %llu deleted\n", x->d->name, (unsigned long long)id);
    } else if (rc == 0 && (rc = fl_crm_get(s, x->type, id, &x->who, &rec, &err)) == 0) {
        struct fl_buf b = FL_BUF_INIT;
        if (x->c.json) {
            fl_crm_record_json(&rec, &b);
            puts(b.ptr);
        } else {
            char v[1024];
            printf("%-20s %llu\n", "id", (unsigned long long)rec.id);
            for (size_t i = 0; i < x->d->n_fields; i++) {
                cell(&rec, x->d->fields[i].name, v, sizeof(v));
                printf("%-20s %s\n", x->d->fields[i].name, v);
            }
            printf("%-20s %s\n", "created_by", rec.created_by ? rec.created_by : "-");
            printf("%-20s %s\n", "created_at", cli_time(rec.created_at, false, v));
            printf("%-20s %s\n", "updated_at", cli_time(rec.updated_at, false, v));
        }
        fl_buf_release(&b);
        fl_crm_record_release(&rec);
    }
    fl_store_close(s);
    return rc ? fail(rc, &err) : 0;
}

static int run_crm(const struct cli_command *cmd, int argc, char **argv)
{
    static const char *const verbs[] = {"add", "list", "show", "set", "delete"};
    struct crm_cli x;
    int v, ex;
    memset(&x, 0, sizeof(x));
    if ((ex = cli_common_init(&x.c, cmd)))
        return ex;
    if (fl_crm_type_parse(cmd->name, &x.type) != 0)
        return 1;
    x.d = fl_crm_type_get(x.type);
    v = cli_people_verb(&x.c, argc, argv, verbs, 5);
    if (v < 0)
        return v == -2 ? 0 : 1;
    argc--;
    argv++;
    switch (v) {
    case 0:
        ex = crm_write(&x, argc, argv, false);
        break;
    case 1:
        ex = crm_list(&x, argc, argv);
        break;
    case 3:
        ex = crm_write(&x, argc, argv, true);
        break;
    default:
        ex = crm_one(&x, argc, argv, v == 4);
    }
    fl_principal_release(&x.who);
    return ex;
}

const struct cli_command cli_cmd_company = {
    "company", run_crm, "add, list, show, set or delete companies", company_usage};
const struct cli_command cli_cmd_contact = {
    "contact", run_crm, "add, list, show, set or delete contacts", contact_usage};
const struct cli_command cli_cmd_lead = {"lead", run_crm, "add, list, show, set or delete leads",
                                         lead_usage};
const struct cli_command cli_cmd_deal = {"deal", run_crm, "add, list, show, set or delete deals",
                                         deal_usage};
const struct cli_command cli_cmd_activity = {
    "activity", run_crm, "log, list, show, set or delete activities on records", activity_usage};
