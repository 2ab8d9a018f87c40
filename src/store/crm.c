/* The store front of CRM records (flowd/crm.h): the field tables of each record type, the
 * checks that turn a JSON object of fields into stored values (naming the field at fault),
 * the rules across fields (who may own a record, a deal's money and outcome), and the
 * transactions around the back end's reads and writes. The back end only stores what this
 * file has checked; it resolves references because that needs the database. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/alloc.h"
#include "flowd/auth.h"
#include "flowd/crm.h"
#include "flowd/timecalc.h"
#include "flowd/value.h"
#include "store/store_impl.h"

/* ---- the record types ---- */

static const char *const lead_status[] = {"new",       "in_progress",  "qualified",
                                          "converted", "disqualified", NULL};
static const char *const deal_status[] = {"open", "won", "lost", NULL};
static const char *const activity_kinds[] = {"call", "email", "meeting", "note", NULL};
static const char *const directions[] = {"in", "out", NULL};
static const char *const subject_types[] = {"company", "contact", "lead", "deal", NULL};

#define EXTERNAL_ID                                                                                \
    {                                                                                              \
        "external_id", FL_CRMK_TEXT, 0, 200, 0, NULL, NULL                                         \
    }
#define OWNER                                                                                      \
    {                                                                                              \
        "owner", FL_CRMK_USER, 0, 0, 0, NULL, NULL                                                 \
    }
#define PHONES                                                                                     \
    {                                                                                              \
        "phones", FL_CRMK_PHONES, FL_CRMF_SEARCH, 10, 0, NULL, NULL                                \
    }
#define EMAILS                                                                                     \
    {                                                                                              \
        "emails", FL_CRMK_EMAILS, FL_CRMF_SEARCH, 10, 0, NULL, NULL                                \
    }
#define TEXT(name, max, flags)                                                                     \
    {                                                                                              \
        name, FL_CRMK_TEXT, flags, max, 0, NULL, NULL                                              \
    }
#define REF(name, type)                                                                            \
    {                                                                                              \
        name, FL_CRMK_REF, 0, 0, type, NULL, NULL                                                  \
    }
#define TIME(name)                                                                                 \
    {                                                                                              \
        name, FL_CRMK_TIME, 0, 0, 0, NULL, NULL                                                    \
    }

/* Column order of each table is this order (src/store/sqlite_schema.c, migration 7). */
static const struct fl_crm_field company_fields[] = {
    EXTERNAL_ID,
    TEXT("name", 200, FL_CRMF_REQUIRED | FL_CRMF_SEARCH),
    TEXT("tax_id", 64, FL_CRMF_SEARCH),
    TEXT("industry", 200, FL_CRMF_SEARCH),
    {"addresses", FL_CRMK_TEXTS, FL_CRMF_SEARCH, 10, 0, NULL, NULL},
    PHONES,
    EMAILS,
    TEXT("website", 500, 0),
    OWNER,
};

static const struct fl_crm_field contact_fields[] = {
    EXTERNAL_ID,
    TEXT("first_name", 100, FL_CRMF_SEARCH),
    TEXT("last_name", 100, FL_CRMF_SEARCH),
    PHONES,
    EMAILS,
    REF("company_id", FL_CRM_COMPANY),
    TEXT("position", 200, FL_CRMF_SEARCH),
    {"birthday", FL_CRMK_DATE, 0, 0, 0, NULL, NULL},
    OWNER,
};

static const struct fl_crm_field lead_fields[] = {
    EXTERNAL_ID,
    TEXT("title", 200, FL_CRMF_REQUIRED | FL_CRMF_SEARCH),
    {"status", FL_CRMK_ENUM, FL_CRMF_REQUIRED, 0, 0, lead_status, "new"},
    TEXT("source", 100, FL_CRMF_SEARCH),
    TEXT("channel", 100, FL_CRMF_SEARCH),
    TEXT("utm_source", 200, 0),
    TEXT("utm_medium", 200, 0),
    TEXT("utm_campaign", 200, FL_CRMF_SEARCH),
    TEXT("utm_term", 200, 0),
    TEXT("utm_content", 200, 0),
    {"tracking_phone", FL_CRMK_PHONE, FL_CRMF_SEARCH, 0, 0, NULL, NULL},
    REF("contact_id", FL_CRM_CONTACT),
    REF("company_id", FL_CRM_COMPANY),
    OWNER,
    TIME("first_response_due"),
};

static const struct fl_crm_field deal_fields[] = {
    EXTERNAL_ID,
    TEXT("title", 200, FL_CRMF_REQUIRED | FL_CRMF_SEARCH),
    {"pipeline", FL_CRMK_PROCESS, 0, 0, 0, NULL, NULL},
    {"status", FL_CRMK_ENUM, FL_CRMF_REQUIRED, 0, 0, deal_status, "open"},
    {"amount", FL_CRMK_MONEY, 0, 0, 0, NULL, NULL},
    {"currency", FL_CRMK_CURRENCY, 0, 0, 0, NULL, NULL},
    {"expected_close", FL_CRMK_DATE, 0, 0, 0, NULL, NULL},
    {"probability", FL_CRMK_INT, 0, 100, 0, NULL, NULL},
    OWNER,
    {"department", FL_CRMK_DEPARTMENT, 0, 0, 0, NULL, NULL},
    REF("company_id", FL_CRM_COMPANY),
    {"contact_ids", FL_CRMK_REFS, 0, 50, FL_CRM_CONTACT, NULL, NULL},
    TEXT("loss_reason", 500, FL_CRMF_SEARCH),
    TIME("won_at"),
    TIME("lost_at"),
    {"instance_id", FL_CRMK_INSTANCE, FL_CRMF_READONLY, 0, 0, NULL, NULL},
};

static const struct fl_crm_field activity_fields[] = {
    {"subject_type", FL_CRMK_ENUM, FL_CRMF_REQUIRED | FL_CRMF_CREATE_ONLY, 0, 0, subject_types,
     NULL},
    {"subject_id", FL_CRMK_INT, FL_CRMF_REQUIRED | FL_CRMF_CREATE_ONLY, INT32_MAX, 0, NULL, NULL},
    {"kind", FL_CRMK_ENUM, FL_CRMF_REQUIRED, 0, 0, activity_kinds, NULL},
    {"direction", FL_CRMK_ENUM, 0, 0, 0, directions, NULL},
    {"duration_s", FL_CRMK_INT, 0, 10000000, 0, NULL, NULL},
    TEXT("outcome", 200, 0),
    TEXT("summary", 4000, 0),
    TIME("at"),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct fl_crm_type_desc types[FL_CRM_NTYPES] = {
    {FL_CRM_COMPANY, "company", "companies", company_fields, N(company_fields), true},
    {FL_CRM_CONTACT, "contact", "contacts", contact_fields, N(contact_fields), true},
    {FL_CRM_LEAD, "lead", "leads", lead_fields, N(lead_fields), true},
    {FL_CRM_DEAL, "deal", "deals", deal_fields, N(deal_fields), true},
    {FL_CRM_ACTIVITY, "activity", "activities", activity_fields, N(activity_fields), false},
};

const struct fl_crm_type_desc *fl_crm_type_get(enum fl_crm_type t)
{
    if ((unsigned)t >= FL_CRM_NTYPES)
        return NULL;
    return &types[t];
}

int fl_crm_type_parse(const char *name, enum fl_crm_type *out)
{
    for (int i = 0; name && i < FL_CRM_NTYPES; i++) {
        if (!strcmp(name, types[i].name) || !strcmp(name, types[i].plural)) {
            *out = (enum fl_crm_type)i;
            return 0;
        }
    }
    return FL_EINVAL;
}

int fl_crm_field_index(const struct fl_crm_type_desc *d, const char *name, size_t len)
{
    for (size_t i = 0; i < d->n_fields; i++)
        if (strlen(d->fields[i].name) == len && !memcmp(d->fields[i].name, name, len))
            return (int)i;
    return -1;
}

/* ---- records ---- */

void fl_crm_record_init(struct fl_crm_record *rec, enum fl_crm_type t)
{
    memset(rec, 0, sizeof(*rec));
    rec->type = t;
    rec->values = fl_calloc(types[t].n_fields, sizeof(*rec->values));
}

static void value_clear(struct fl_crm_value *v)
{
    free(v->text);
    memset(v, 0, sizeof(*v));
}

void fl_crm_record_release(struct fl_crm_record *rec)
{
    if (!rec)
        return;
    if (rec->values)
        for (size_t i = 0; i < types[rec->type].n_fields; i++)
            free(rec->values[i].text);
    free(rec->values);
    free(rec->created_by);
    memset(rec, 0, sizeof(*rec));
}

void fl_crm_records_free(struct fl_crm_record *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        fl_crm_record_release(&rows[i]);
    free(rows);
}

const struct fl_crm_value *fl_crm_record_value(const struct fl_crm_record *rec, const char *name)
{
    int i = fl_crm_field_index(&types[rec->type], name, strlen(name));
    return i < 0 ? NULL : &rec->values[i];
}

static struct fl_crm_value *value_of(struct fl_crm_record *rec, const char *name)
{
    int i = fl_crm_field_index(&types[rec->type], name, strlen(name));
    return i < 0 ? NULL : &rec->values[i];
}

static void jtime(struct fl_buf *b, int64_t ms)
{
    char t[40];
    fl_buf_addc(b, '"');
    fl_buf_adds(b, fl_time_format(ms, t));
    fl_buf_addc(b, '"');
}

void fl_crm_record_json(const struct fl_crm_record *rec, struct fl_buf *out)
{
    const struct fl_crm_type_desc *d = &types[rec->type];
    fl_buf_addf(out, "{\"id\":%llu", (unsigned long long)rec->id);
    for (size_t i = 0; i < d->n_fields; i++) {
        const struct fl_crm_field *f = &d->fields[i];
        const struct fl_crm_value *v = &rec->values[i];
        fl_buf_addc(out, ',');
        fl_json_cstring(out, f->name);
        fl_buf_addc(out, ':');
        if (!v->set) {
            fl_buf_adds(out, "null");
            continue;
        }
        switch (f->kind) {
        case FL_CRMK_TIME:
            jtime(out, v->num);
            break;
        case FL_CRMK_INT:
        case FL_CRMK_REF:
        case FL_CRMK_INSTANCE:
            fl_buf_addf(out, "%lld", (long long)v->num);
            break;
        case FL_CRMK_PHONES:
        case FL_CRMK_EMAILS:
        case FL_CRMK_TEXTS:
        case FL_CRMK_REFS:
            fl_buf_adds(out, v->text ? v->text : "[]"); /* stored as checked JSON */
            break;
        default:
            fl_json_cstring(out, v->text);
        }
    }
    fl_buf_adds(out, ",\"created_by\":");
    fl_json_cstring(out, rec->created_by);
    fl_buf_adds(out, ",\"created_at\":");
    jtime(out, rec->created_at);
    fl_buf_adds(out, ",\"updated_at\":");
    jtime(out, rec->updated_at);
    fl_buf_addc(out, '}');
}

/* ---- checking input ---- */

static int field_err(struct fl_error *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int field_err(struct fl_error *err, int code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fl_error_setv(err, code, fmt, ap);
    va_end(ap);
    if (err)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return code;
}

/* A field error from a value checker: keep its message, add the field. */
static int named(struct fl_error *err, int rc, const char *field)
{
    if (err)
        snprintf(err->field, sizeof(err->field), "%s", field);
    return rc;
}

/* Text people typed: no control characters but tab and line ends (UTF-8 is already checked
 * by the JSON reader and the CLI). */
static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            return false;
    }
    return true;
}

static int want_string(const struct fl_crm_field *f, const struct fl_value *v, const char **s,
                       size_t *n, struct fl_error *err)
{
    if (fl_value_type(v) != FL_VSTRING)
        return field_err(err, FL_ETYPE, f->name, "field '%s' must be a string", f->name);
    *s = fl_value_str(v, n);
    if (memchr(*s, '\0', *n))
        return field_err(err, FL_EINVAL, f->name, "field '%s' holds a NUL character", f->name);
    return 0;
}

/* One list item (phones, e-mails, texts, references) checked into norm (its JSON form). */
static int list_item(const struct fl_crm_field *f, const struct fl_value *it, const char *cc,
                     struct fl_buf *norm, struct fl_error *err)
{
    const char *s = NULL;
    size_t n = 0;
    char text[FL_EMAIL_MAX + 1];
    int64_t id;
    int rc;
    if (f->kind == FL_CRMK_REFS) {
        if (fl_value_type(it) != FL_VNUMBER || fl_value_to_int64(it, &id) != 0 || id <= 0)
            return field_err(err, FL_ETYPE, f->name, "field '%s' must be a list of ids", f->name);
        fl_buf_addf(norm, "%lld", (long long)id);
        return 0;
    }
    if ((rc = want_string(f, it, &s, &n, err)) != 0)
        return rc;
    if (f->kind == FL_CRMK_PHONES)
        rc = fl_phone_normalize(s, cc, text, err);
    else if (f->kind == FL_CRMK_EMAILS)
        rc = fl_email_normalize(s, text, err);
    else if (n == 0 || n > 500 || !printable(s, n))
        rc = fl_error_set(err, FL_EINVAL, "field '%s' items must be 1 to 500 printable bytes",
                          f->name);
    if (rc)
        return named(err, rc, f->name);
    if (f->kind == FL_CRMK_TEXTS)
        fl_json_string(norm, s, n);
    else
        fl_json_cstring(norm, text);
    return 0;
}

static int parse_list(const struct fl_crm_field *f, const struct fl_value *v, const char *cc,
                      struct fl_crm_value *out, struct fl_error *err)
{
    struct fl_buf b = FL_BUF_INIT, item = FL_BUF_INIT;
    char **seen;
    size_t n, n_seen = 0;
    int rc = 0;
    if (fl_value_type(v) != FL_VLIST)
        return field_err(err, FL_ETYPE, f->name, "field '%s' must be a list", f->name);
    if ((n = fl_value_list_len(v)) > (size_t)f->max)
        return field_err(err, FL_EINVAL, f->name, "field '%s' holds at most %d items", f->name,
                         f->max);
    if (n == 0)
        return 0; /* an empty list is no value */
    seen = fl_calloc(n, sizeof(*seen));
    fl_buf_addc(&b, '[');
    for (size_t i = 0; i < n && rc == 0; i++) {
        bool dup = false;
        fl_buf_reset(&item);
        if ((rc = list_item(f, fl_value_list_at(v, i), cc, &item, err)) != 0)
            break;
        /* The same phone or address twice is one (after normalising: "030 1" = "+49301"). */
        for (size_t k = 0; k < n_seen && !dup; k++)
            dup = !strcmp(seen[k], item.ptr);
        if (dup)
            continue;
        if (n_seen)
            fl_buf_addc(&b, ',');
        fl_buf_add(&b, item.ptr, item.len);
        seen[n_seen++] = fl_strdup(item.ptr);
    }
    fl_buf_addc(&b, ']');
    for (size_t k = 0; k < n_seen; k++)
        free(seen[k]);
    free(seen);
    fl_buf_release(&item);
    if (rc) {
        fl_buf_release(&b);
        return rc;
    }
    out->set = true;
    out->text = fl_buf_detach(&b, NULL);
    return 0;
}

/* Check v for field f and write its stored form into out (cleared first). */
static int parse_field(const struct fl_crm_field *f, const struct fl_value *v, const char *cc,
                       struct fl_crm_value *out, struct fl_error *err)
{
    const char *s = NULL;
    size_t n = 0;
    char norm[FL_EMAIL_MAX + 1];
    struct fl_buf b = FL_BUF_INIT;
    int64_t i64;
    int rc = 0;

    value_clear(out);
    if (!v || fl_value_type(v) == FL_VNULL)
        return 0;
    switch (f->kind) {
    case FL_CRMK_PHONES:
    case FL_CRMK_EMAILS:
    case FL_CRMK_TEXTS:
    case FL_CRMK_REFS:
        return parse_list(f, v, cc, out, err);
    case FL_CRMK_INT:
    case FL_CRMK_REF:
        if (fl_value_type(v) != FL_VNUMBER || fl_value_to_int64(v, &i64) != 0)
            return field_err(err, FL_ETYPE, f->name, "field '%s' must be an integer", f->name);
        if (f->kind == FL_CRMK_REF && i64 <= 0)
            return field_err(err, FL_EINVAL, f->name, "field '%s' must be an id", f->name);
        if (f->kind == FL_CRMK_INT && (i64 < 0 || i64 > f->max))
            return field_err(err, FL_EINVAL, f->name, "field '%s' must be 0 to %d", f->name,
                             f->max);
        out->set = true;
        out->num = i64;
        return 0;
    case FL_CRMK_MONEY:
        /* Kept as the exact decimal text; scaled to the currency when the record is checked. */
        if (fl_value_type(v) == FL_VNUMBER) {
            fl_value_number_format(v, &b);
        } else if (fl_value_type(v) == FL_VSTRING) {
            fl_buf_adds(&b, fl_value_str(v, NULL));
        } else {
            return field_err(err, FL_ETYPE, f->name, "field '%s' must be a decimal number",
                             f->name);
        }
        out->set = true;
        out->text = fl_buf_detach(&b, NULL);
        return 0;
    case FL_CRMK_INSTANCE:
        return field_err(err, FL_EINVAL, f->name, "field '%s' is read-only", f->name);
    default:
        break;
    }
    if ((rc = want_string(f, v, &s, &n, err)) != 0)
        return rc;
    if (n == 0)
        return 0; /* "" clears, like null */
    switch (f->kind) {
    case FL_CRMK_TEXT:
        if (n > (size_t)f->max || !printable(s, n))
            return field_err(err, FL_EINVAL, f->name,
                             "field '%s' must be at most %d bytes of printable text", f->name,
                             f->max);
        break;
    case FL_CRMK_ENUM: {
        bool ok = false;
        for (const char *const *c = f->choices; *c && !ok; c++)
            ok = !strcmp(*c, s);
        if (!ok) {
            struct fl_buf list = FL_BUF_INIT;
            for (const char *const *c = f->choices; *c; c++)
                fl_buf_addf(&list, "%s%s", c == f->choices ? "" : ", ", *c);
            rc = field_err(err, FL_EINVAL, f->name, "field '%s' must be one of: %s", f->name,
                           list.ptr);
            fl_buf_release(&list);
            return rc;
        }
        break;
    }
    case FL_CRMK_PHONE:
        if ((rc = fl_phone_normalize(s, cc, norm, err)) != 0)
            return named(err, rc, f->name);
        s = norm;
        break;
    case FL_CRMK_DATE:
        if ((rc = fl_date_check(s, err)) != 0)
            return named(err, rc, f->name);
        break;
    case FL_CRMK_TIME:
        if (fl_time_parse(s, &i64) != 0 || i64 <= 0)
            return field_err(err, FL_EINVAL, f->name,
                             "field '%s' must be an ISO 8601 date-time such as "
                             "2026-11-23T12:00:00Z",
                             f->name);
        out->set = true;
        out->num = i64;
        return 0;
    case FL_CRMK_CURRENCY:
        if (fl_currency_minor_units(s) < 0)
            return field_err(err, FL_EINVAL, f->name,
                             "unknown currency '%.8s' (want an ISO 4217 code such as EUR)", s);
        break;
    case FL_CRMK_USER:
    case FL_CRMK_DEPARTMENT:
    case FL_CRMK_PROCESS:
        if (n > 200 || !printable(s, n))
            return field_err(err, FL_EINVAL, f->name, "field '%s' is not a valid name", f->name);
        break;
    default:
        return field_err(err, FL_EINTERNAL, f->name, "field kind %d", (int)f->kind);
    }
    out->set = true;
    out->text = fl_strdup(s);
    return 0;
}

/* Apply the members of obj to rec; changed[i] marks the fields obj names. */
static int apply_members(struct fl_crm_record *rec, const struct fl_value *obj, bool create,
                         const char *cc, bool *changed, struct fl_error *err)
{
    const struct fl_crm_type_desc *d = &types[rec->type];
    int rc;
    if (!obj || fl_value_type(obj) != FL_VCONTEXT)
        return fl_error_set(err, FL_ETYPE, "the %s fields must be a JSON object", d->name);
    for (size_t i = 0; i < fl_value_context_len(obj); i++) {
        size_t kl;
        const char *k = fl_value_context_key(obj, i, &kl);
        int fi = fl_crm_field_index(d, k, kl);
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(kl < 100 ? kl : 100), k);
        if (fi < 0)
            return field_err(err, FL_EINVAL, name, "unknown field '%s' of a %s", name, d->name);
        if (d->fields[fi].flags & FL_CRMF_READONLY)
            return field_err(err, FL_EINVAL, name, "field '%s' is read-only", name);
        if (!create && (d->fields[fi].flags & FL_CRMF_CREATE_ONLY))
            return field_err(err, FL_EINVAL, name, "field '%s' cannot change", name);
        if ((rc = parse_field(&d->fields[fi], fl_value_context_val(obj, i), cc, &rec->values[fi],
                              err)) != 0)
            return rc;
        changed[fi] = true;
    }
    return 0;
}

/* May actor a make login the owner? Admins anyone; others themselves or a user of a
 * department they head (a head hands work to the team; nobody pushes records onto others). */
static int owner_allowed(const struct fl_principal *p, const char *login, struct fl_error *err)
{
    if (p->admin || (p->login && !strcmp(p->login, login)))
        return 0;
    for (size_t i = 0; i < p->managed_logins.n; i++)
        if (!strcmp(p->managed_logins.items[i], login))
            return 0;
    return field_err(err, FL_EINVAL, "owner",
                     "owner '%s': you may give records only to yourself or your department", login);
}

/* The rules across fields, after the members are applied. */
static int check_record(struct fl_crm_record *rec, const bool *changed, bool create,
                        const struct fl_crm_actor *a, struct fl_error *err)
{
    const struct fl_crm_type_desc *d = &types[rec->type];
    struct fl_crm_value *v;
    int rc;
    for (size_t i = 0; i < d->n_fields; i++) {
        const struct fl_crm_field *f = &d->fields[i];
        if (create && f->kind == FL_CRMK_ENUM && f->default_choice && !rec->values[i].set) {
            rec->values[i].set = true;
            rec->values[i].text = fl_strdup(f->default_choice);
        }
        if ((f->flags & FL_CRMF_REQUIRED) && !rec->values[i].set)
            return field_err(err, FL_EINVAL, f->name, "field '%s' is required", f->name);
    }
    if (d->has_owner && (v = value_of(rec, "owner"))) {
        if (create && !v->set && a->who->login) {
            v->set = true;
            v->text = fl_strdup(a->who->login);
        } else if (changed[fl_crm_field_index(d, "owner", 5)]) {
            /* An owner-less record is seen by admins only: only they may make one. */
            if (!v->set && !a->who->admin)
                return field_err(err, FL_EINVAL, "owner",
                                 "only an administrator may clear the owner");
            if (v->set && (rc = owner_allowed(a->who, v->text, err)) != 0)
                return rc;
        }
    }
    if (rec->type == FL_CRM_CONTACT && !value_of(rec, "first_name")->set &&
        !value_of(rec, "last_name")->set)
        return field_err(err, FL_EINVAL, "last_name", "a contact needs a first or a last name");
    if (rec->type == FL_CRM_ACTIVITY && create && !value_of(rec, "at")->set) {
        v = value_of(rec, "at");
        v->set = true;
        v->num = a->now_ms;
    }
    if (rec->type == FL_CRM_DEAL) {
        struct fl_crm_value *amount = value_of(rec, "amount"), *cur = value_of(rec, "currency");
        struct fl_crm_value *status = value_of(rec, "status");
        int ia = fl_crm_field_index(d, "amount", 6), ic = fl_crm_field_index(d, "currency", 8);
        int is = fl_crm_field_index(d, "status", 6);
        if (amount->set) {
            struct fl_money m;
            struct fl_buf b = FL_BUF_INIT;
            if (!cur->set)
                return field_err(err, FL_EINVAL, "currency", "an amount needs a currency");
            /* No silent re-denomination: 100 EUR does not become 100 USD. */
            if (!create && changed[ic] && !changed[ia])
                return field_err(err, FL_EINVAL, "currency",
                                 "currency mismatch: the amount %s is in the old currency; "
                                 "send the amount with the new currency",
                                 amount->text);
            if ((rc = fl_money_parse(amount->text, cur->text, &m, err)) != 0)
                return named(err, rc, "amount");
            if (m.units < 0)
                return field_err(err, FL_EINVAL, "amount", "amount must not be negative");
            fl_money_format(&m, &b);
            free(amount->text);
            amount->text = fl_buf_detach(&b, NULL);
        }
        if (changed[is] || create) {
            struct fl_crm_value *won = value_of(rec, "won_at"), *lost = value_of(rec, "lost_at");
            if (!strcmp(status->text, "lost")) {
                if (!value_of(rec, "loss_reason")->set)
                    return field_err(err, FL_EINVAL, "loss_reason",
                                     "a lost deal needs a loss reason");
                if (!lost->set)
                    *lost = (struct fl_crm_value){true, a->now_ms, NULL};
                value_clear(won);
            } else if (!strcmp(status->text, "won")) {
                if (!won->set)
                    *won = (struct fl_crm_value){true, a->now_ms, NULL};
                value_clear(lost);
            } else {
                value_clear(won);
                value_clear(lost);
            }
        }
    }
    return 0;
}

/* ---- operations ---- */

static int in_tx(struct fl_store *s, int rc, struct fl_error *err)
{
    if (rc == 0)
        return s->ops->commit(s, err);
    s->ops->rollback(s);
    return rc;
}

int fl_crm_create(struct fl_store *s, enum fl_crm_type t, const struct fl_value *fields,
                  const struct fl_crm_actor *a, uint64_t *id, struct fl_error *err)
{
    struct fl_crm_record rec;
    bool *changed;
    int rc;
    *id = 0;
    if ((unsigned)t >= FL_CRM_NTYPES)
        return fl_error_set(err, FL_EINVAL, "unknown record type %d", (int)t);
    fl_crm_record_init(&rec, t);
    changed = fl_calloc(types[t].n_fields, sizeof(bool));
    if ((rc = apply_members(&rec, fields, true, a->phone_country, changed, err)) != 0 ||
        (rc = check_record(&rec, changed, true, a, err)) != 0)
        goto out;
    rec.created_at = rec.updated_at = a->now_ms;
    rec.created_by = a->who->login ? fl_strdup(a->who->login) : NULL;
    if ((rc = s->ops->begin(s, err)) != 0)
        goto out;
    rc = s->ops->crm_resolve(s, &rec, NULL, a->who, err);
    if (rc == 0)
        rc = s->ops->crm_insert(s, &rec, id, err);
    rc = in_tx(s, rc, err);
    if (rc)
        *id = 0;
out:
    free(changed);
    fl_crm_record_release(&rec);
    return rc;
}

int fl_crm_update(struct fl_store *s, enum fl_crm_type t, uint64_t id, const struct fl_value *patch,
                  const struct fl_crm_actor *a, struct fl_error *err)
{
    struct fl_crm_record rec;
    bool *changed;
    int rc;
    if ((unsigned)t >= FL_CRM_NTYPES)
        return fl_error_set(err, FL_EINVAL, "unknown record type %d", (int)t);
    changed = fl_calloc(types[t].n_fields, sizeof(bool));
    memset(&rec, 0, sizeof(rec));
    if ((rc = s->ops->begin(s, err)) != 0)
        goto out;
    /* Read and write in one transaction: a concurrent patch cannot be lost in between. */
    if ((rc = s->ops->crm_get(s, t, id, a->who, &rec, err)) == 0 &&
        (rc = apply_members(&rec, patch, false, a->phone_country, changed, err)) == 0 &&
        (rc = check_record(&rec, changed, false, a, err)) == 0 &&
        (rc = s->ops->crm_resolve(s, &rec, changed, a->who, err)) == 0) {
        rec.updated_at = a->now_ms;
        rc = s->ops->crm_update(s, &rec, err);
    }
    rc = in_tx(s, rc, err);
out:
    free(changed);
    fl_crm_record_release(&rec);
    return rc;
}

int fl_crm_delete(struct fl_store *s, enum fl_crm_type t, uint64_t id, const struct fl_crm_actor *a,
                  struct fl_error *err)
{
    struct fl_crm_record rec;
    int rc;
    if ((unsigned)t >= FL_CRM_NTYPES)
        return fl_error_set(err, FL_EINVAL, "unknown record type %d", (int)t);
    memset(&rec, 0, sizeof(rec));
    if ((rc = s->ops->begin(s, err)) != 0)
        return rc;
    if ((rc = s->ops->crm_get(s, t, id, a->who, &rec, err)) == 0)
        rc = s->ops->crm_delete(s, t, id, a->now_ms, err);
    fl_crm_record_release(&rec);
    return in_tx(s, rc, err);
}

int fl_crm_get(struct fl_store *s, enum fl_crm_type t, uint64_t id,
               const struct fl_principal *viewer, struct fl_crm_record *out, struct fl_error *err)
{
    memset(out, 0, sizeof(*out));
    if ((unsigned)t >= FL_CRM_NTYPES)
        return fl_error_set(err, FL_EINVAL, "unknown record type %d", (int)t);
    return s->ops->crm_get(s, t, id, viewer, out, err);
}

int fl_crm_list(struct fl_store *s, const struct fl_crm_query *q, struct fl_crm_record **rows,
                size_t *n, struct fl_error *err)
{
    const struct fl_crm_type_desc *d = fl_crm_type_get(q->type);
    *rows = NULL;
    *n = 0;
    if (!d)
        return fl_error_set(err, FL_EINVAL, "unknown record type %d", (int)q->type);
    if (q->owner && !d->has_owner)
        return field_err(err, FL_EINVAL, "owner", "%s records have no owner filter", d->name);
    if (q->status && q->type != FL_CRM_LEAD && q->type != FL_CRM_DEAL)
        return field_err(err, FL_EINVAL, "status", "%s records have no status", d->name);
    if (q->company_id && fl_crm_field_index(d, "company_id", 10) < 0)
        return field_err(err, FL_EINVAL, "company_id", "%s records have no company", d->name);
    if ((q->subject_type || q->subject_id || q->kind) && q->type != FL_CRM_ACTIVITY)
        return field_err(err, FL_EINVAL, q->kind ? "kind" : "subject_type",
                         "only activities filter by subject and kind");
    if (q->subject_id && !q->subject_type)
        return field_err(err, FL_EINVAL, "subject_type", "subject_id needs subject_type");
    if (q->q && (strlen(q->q) > 200 || q->type == FL_CRM_ACTIVITY))
        return field_err(err, FL_EINVAL, "q",
                         q->type == FL_CRM_ACTIVITY ? "activities are not searchable"
                                                    : "search text longer than 200 bytes");
    return s->ops->crm_list(s, q, rows, n, err);
}
