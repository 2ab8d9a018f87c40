/* CRM records: companies, contacts, leads, deals and the activities logged on them. Each
 * record type is described by a static table of fields (name, kind, rules), and one set of
 * generic operations creates, reads, lists, searches, patches and deletes any type through
 * that table, applying the record-level access rules of docs/auth.md. Also the value
 * checks the records need, usable on their own: phone numbers to E.164, e-mail addresses,
 * calendar dates, ISO 4217 currencies and exact money amounts. */
#ifndef FLOWD_CRM_H
#define FLOWD_CRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd/buf.h"
#include "flowd/err.h"

struct fl_store;     /* flowd/store.h */
struct fl_principal; /* flowd/auth.h */
struct fl_value;     /* flowd/value.h */

/* ---- values (pure: no I/O, thread-safe) ---- */

#define FL_PHONE_MAX 16 /* "+" and at most 15 digits */

/* Normalise a phone number as people type it ("+49 (30) 1234-567", "0049 30 1234567",
 * "030 1234567") to E.164 ("+49301234567"). Spaces, dots, dashes, slashes and parentheses
 * are dropped; "+" or "00" starts an international number; any other number is national
 * and needs default_cc (country calling code digits, e.g. "49"; NULL or "" = none), its
 * one leading trunk "0" dropped (and a trunk "8" for country code 7). The country code
 * must be an assigned one and the whole number 8 to 15 digits. out holds FL_PHONE_MAX + 1
 * bytes. FL_EINVAL with a message saying why. */
int fl_phone_normalize(const char *text, const char *default_cc, char out[FL_PHONE_MAX + 1],
                       struct fl_error *err);

/* Digits of the country calling code at the start of an E.164 number's digits (1 to 3),
 * or 0 when none is assigned there. */
int fl_phone_cc_len(const char *digits);

#define FL_EMAIL_MAX 254

/* Check an e-mail address (dot-atom local part of at most 64 bytes, a domain of at least
 * two labels of letters, digits and inner hyphens with an alphabetic or punycode top label,
 * at most 254 bytes in all; no quoted local parts, no IP literals, no raw Unicode: IDN
 * domains in their xn-- form) and write it to out with the domain lower-cased (the local
 * part is kept as typed). out holds FL_EMAIL_MAX + 1 bytes. FL_EINVAL naming the fault. */
int fl_email_normalize(const char *text, char out[FL_EMAIL_MAX + 1], struct fl_error *err);

/* Check a calendar date "YYYY-MM-DD" (years 1..9999, real days: no 2025-02-29). */
int fl_date_check(const char *text, struct fl_error *err);

/* Minor units (digits after the point) of an ISO 4217 code ("EUR" 2, "JPY" 0, "BHD" 3), or
 * -1 when the code is not an active upper-case ISO 4217 code. */
int fl_currency_minor_units(const char *code);

/* An exact amount of money: a decimal amount (no binary floating point anywhere) and its
 * currency. The amount is kept as sign, coefficient and scale: value = units / 10^scale. */
struct fl_money {
    int64_t units; /* |units| < 10^18 */
    int scale;     /* digits after the point, 0..4: the currency's minor units */
    char currency[4];
};

/* Parse amount (decimal text such as "1200.5", "-3", "0.125") in currency: the currency must
 * be active ISO 4217, the amount may not have more digits after the point than the
 * currency's minor units (FL_EINVAL "has more decimals than EUR allows (2)") and at most
 * 18 digits in all at that scale. The result is at the currency's scale (1200.5 EUR -> 1200.50). */
int fl_money_parse(const char *amount, const char *currency, struct fl_money *out,
                   struct fl_error *err);

/* a + b exactly; FL_EINVAL "currency mismatch" when the currencies differ, FL_ELIMIT when
 * the sum leaves the range. */
int fl_money_add(const struct fl_money *a, const struct fl_money *b, struct fl_money *out,
                 struct fl_error *err);

/* -1, 0 or 1 by value; 2 when the currencies differ (amounts of two currencies do not
 * compare). */
int fl_money_cmp(const struct fl_money *a, const struct fl_money *b);

/* The amount with exactly the currency's digits after the point ("1200.50", "-3", "0.125"),
 * appended to out. */
void fl_money_format(const struct fl_money *m, struct fl_buf *out);

/* ---- record types and their fields ---- */

enum fl_crm_type {
    FL_CRM_COMPANY,
    FL_CRM_CONTACT,
    FL_CRM_LEAD,
    FL_CRM_DEAL,
    FL_CRM_ACTIVITY,
    FL_CRM_NTYPES
};

/* How a field is checked, stored and written. */
enum fl_crm_kind {
    FL_CRMK_TEXT,       /* printable UTF-8, at most max bytes */
    FL_CRMK_ENUM,       /* one of choices */
    FL_CRMK_PHONE,      /* one phone, stored E.164 */
    FL_CRMK_PHONES,     /* list of phones (E.164), stored as a JSON array */
    FL_CRMK_EMAILS,     /* list of e-mail addresses, stored as a JSON array */
    FL_CRMK_TEXTS,      /* list of texts (addresses), stored as a JSON array */
    FL_CRMK_DATE,       /* "YYYY-MM-DD" */
    FL_CRMK_TIME,       /* ISO 8601 instant in, ms since the epoch stored, UTC text out */
    FL_CRMK_INT,        /* integer in [0, max] */
    FL_CRMK_MONEY,      /* decimal amount; its currency is the field named by ref_field */
    FL_CRMK_CURRENCY,   /* ISO 4217 code */
    FL_CRMK_REF,        /* id of a visible record of type ref */
    FL_CRMK_REFS,       /* list of such ids, stored as a JSON array */
    FL_CRMK_USER,       /* login of an existing user */
    FL_CRMK_DEPARTMENT, /* name of an existing department (stored by id) */
    FL_CRMK_PROCESS,    /* key of a deployed process definition (a deal's pipeline) */
    FL_CRMK_INSTANCE    /* id of a process instance: read-only here (pipelines link it) */
};

#define FL_CRMF_REQUIRED 1u    /* must have a value */
#define FL_CRMF_SEARCH 2u      /* part of the full-text index */
#define FL_CRMF_READONLY 4u    /* never set by create or patch */
#define FL_CRMF_CREATE_ONLY 8u /* set by create, never changed by a patch */

struct fl_crm_field {
    const char *name; /* JSON member; column is the same name (department: department_id) */
    enum fl_crm_kind kind;
    unsigned flags;
    int max;                    /* TEXT: bytes; INT: largest value; lists: items */
    enum fl_crm_type ref;       /* REF, REFS */
    const char *const *choices; /* ENUM: NULL-terminated */
    const char *default_choice; /* ENUM: value when created without one, or NULL */
};

struct fl_crm_type_desc {
    enum fl_crm_type type;
    const char *name;   /* "company" */
    const char *plural; /* "companies": table name and route */
    const struct fl_crm_field *fields;
    size_t n_fields;
    bool has_owner; /* access by owner (and department); activities follow their record */
};

/* Description of type t (static, never freed). */
const struct fl_crm_type_desc *fl_crm_type_get(enum fl_crm_type t);

/* Type by name, singular or plural ("deal", "deals"); FL_EINVAL otherwise. */
int fl_crm_type_parse(const char *name, enum fl_crm_type *out);

/* Index of field name in d, or -1. */
int fl_crm_field_index(const struct fl_crm_type_desc *d, const char *name, size_t len);

/* ---- records ---- */

/* One field's value in its stored form: text for texts, enums, phones, dates, amounts
 * (fixed scale), currencies, logins, department names and lists (JSON array text); num
 * for times (ms), integers, references and instance ids. */
struct fl_crm_value {
    bool set; /* false: null */
    int64_t num;
    char *text;
};

/* A record of any type: values[i] belongs to the type's fields[i]. Owns its strings. */
struct fl_crm_record {
    enum fl_crm_type type;
    uint64_t id;
    struct fl_crm_value *values; /* n_fields of the type */
    char *created_by;            /* login of whoever created it, or NULL */
    int64_t created_at, updated_at;
};

/* Allocate rec's values for type t, all null (rec zeroed first). */
void fl_crm_record_init(struct fl_crm_record *rec, enum fl_crm_type t);

/* Free what rec owns and zero it. NULL-safe. */
void fl_crm_record_release(struct fl_crm_record *rec);

/* Release rows[0..n) and free the array (from fl_crm_list). NULL-safe. */
void fl_crm_records_free(struct fl_crm_record *rows, size_t n);

/* Value of field name of rec (NULL when the type has no such field). Borrowed. */
const struct fl_crm_value *fl_crm_record_value(const struct fl_crm_record *rec, const char *name);

/* Append rec as a JSON object: "id", the fields (times as ISO 8601 UTC, amounts as exact
 * decimal strings, lists as arrays, null when unset), "created_by", "created_at",
 * "updated_at". */
void fl_crm_record_json(const struct fl_crm_record *rec, struct fl_buf *out);

/* ---- operations (writes need a writable store and run in their own transaction, so
 * the caller must not have one open; the store is used by one thread at a time) ---- */

/* Who acts and when. The principal decides what is visible (owner; heads of the owner's
 * department and those above it; for deals also heads of the deal's department; admin all;
 * activities follow the record they are on). now_ms fills created_at/updated_at and
 * defaults (activity "at", won_at/lost_at). */
struct fl_crm_actor {
    const struct fl_principal *who; /* required */
    int64_t now_ms;
    const char *phone_country; /* default country calling code for national numbers, or NULL */
};

/* Create a record of type t from fields, a JSON object value (member -> value; null or
 * absent = no value). Each member is checked by its field's kind and named in the error:
 * FL_EINVAL for an unknown member, a read-only one, a bad value (phone, e-mail, date,
 * currency, amount, choice), a missing required field or an unknown or invisible reference
 * ("unknown company 7"); FL_ECONFLICT naming external_id when another record of the type
 * has it. The owner defaults to the actor; a non-admin may only give themself or a user of a
 * department they head. Nothing is stored on error. Fills *id. */
int fl_crm_create(struct fl_store *s, enum fl_crm_type t, const struct fl_value *fields,
                  const struct fl_crm_actor *a, uint64_t *id, struct fl_error *err);

/* Patch record id: only the members present change (null clears). Same checks as create;
 * changing a deal's currency while it has an amount needs the amount in the same patch
 * (FL_EINVAL "currency mismatch" naming currency otherwise). FL_ENOTFOUND when the record
 * does not exist, was deleted or is invisible to the actor. */
int fl_crm_update(struct fl_store *s, enum fl_crm_type t, uint64_t id, const struct fl_value *patch,
                  const struct fl_crm_actor *a, struct fl_error *err);

/* Soft-delete record id (it disappears from reads, lists and search; references to it stay
 * valid; its external id stays taken). Same FL_ENOTFOUND rule as update. */
int fl_crm_delete(struct fl_store *s, enum fl_crm_type t, uint64_t id, const struct fl_crm_actor *a,
                  struct fl_error *err);

/* Read record id as viewer sees it (viewer NULL = no restriction). FL_ENOTFOUND when absent,
 * deleted or invisible. Caller releases *out. */
int fl_crm_get(struct fl_store *s, enum fl_crm_type t, uint64_t id,
               const struct fl_principal *viewer, struct fl_crm_record *out, struct fl_error *err);

/* Filters of a list; NULL / 0 = any. Only the filters the type has apply (FL_EINVAL
 * naming the filter otherwise). */
struct fl_crm_query {
    enum fl_crm_type type;
    const char *owner;                 /* login */
    const char *status;                /* leads, deals */
    uint64_t company_id;               /* contacts, leads, deals */
    const char *q;                     /* full-text search: every word must match (prefix) */
    const char *subject_type;          /* activities: the record type they are on */
    uint64_t subject_id;               /* activities: with subject_type */
    const char *kind;                  /* activities */
    uint64_t after_id;                 /* cursor: ids greater than this */
    size_t limit;                      /* 0 = 100, at most 10000 */
    const struct fl_principal *viewer; /* NULL = all */
};

/* Records matching q in id order. Caller frees with fl_crm_records_free. */
int fl_crm_list(struct fl_store *s, const struct fl_crm_query *q, struct fl_crm_record **rows,
                size_t *n, struct fl_error *err);

#endif
