/* CRM records: the phone normaliser (E.164, default country, trunk prefixes), e-mail
 * checks, dates, ISO 4217 currencies and exact money arithmetic; then store round trips
 * of every record type, field errors that store nothing, external-id conflicts, patches
 * (currency mismatch, a lost deal needs a reason), soft delete, FTS5 search kept in step
 * with updates, list filters and cursors, and the access rules per record type (owner,
 * department head, stranger, admin; activities follow their record). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/auth.h"
#include "flowd/crm.h"
#include "flowd/store.h"
#include "flowd/value.h"
#include "svc_fixture.h"

#define T0 1700000000000LL

/* ---- values ---- */

static void phone_ok(const char *in, const char *cc, const char *want)
{
    char out[FL_PHONE_MAX + 1];
    struct fl_error e;
    int rc = fl_phone_normalize(in, cc, out, &e);
    if (rc != 0)
        fprintf(stderr, "phone '%s': %s\n", in, e.msg);
    assert_int_equal(rc, 0);
    assert_string_equal(out, want);
}

static void phone_bad(const char *in, const char *cc)
{
    char out[FL_PHONE_MAX + 1];
    struct fl_error e;
    assert_int_equal(fl_phone_normalize(in, cc, out, &e), FL_EINVAL);
    assert_non_null(strstr(e.msg, "phone"));
}

static void test_phone(void **state)
{
    (void)state;
    phone_ok("+49 (30) 1234-567", NULL, "+49301234567");
    phone_ok("+49 (0)30 1234567", NULL, "+49301234567");
    phone_ok("0049 30 1234567", NULL, "+49301234567");
    phone_ok("030 1234567", "49", "+49301234567");
    phone_ok("8 (916) 123-45-67", "7", "+79161234567");
    phone_ok("+7 916 123 45 67", "49", "+79161234567");
    phone_ok("06 1234 5678", "39", "+390612345678"); /* Italy keeps its leading zero */
    phone_ok("(212) 555-0100", "1", "+12125550100");
    phone_ok("+683 4002", NULL, "+6834002");
    phone_bad("030 1234567", NULL);      /* national without a default */
    phone_bad("030 1234567", "");        /* same */
    phone_bad("+49 30 CALL-NOW", NULL);  /* letters */
    phone_bad("+49 30 123 ext 4", NULL); /* extensions */
    phone_bad("+1234567890123456", NULL);
    phone_bad("+49 12", NULL);
    phone_bad("+0 30 1234567", NULL);
    phone_bad("+28 1234567", NULL); /* spare zone */
    phone_bad("", "49");
    phone_bad("+", "49");
    {
        char out[FL_PHONE_MAX + 1];
        struct fl_error e;
        assert_int_equal(fl_phone_normalize("030 1", "28", out, &e), FL_EINVAL);
        assert_non_null(strstr(e.msg, "default country"));
    }
    assert_int_equal(fl_phone_cc_len("4930"), 2);
    assert_int_equal(fl_phone_cc_len("79161"), 1);
    assert_int_equal(fl_phone_cc_len("3531"), 3);
    assert_int_equal(fl_phone_cc_len("0"), 0);
}

static void email_ok(const char *in, const char *want)
{
    char out[FL_EMAIL_MAX + 1];
    struct fl_error e;
    int rc = fl_email_normalize(in, out, &e);
    if (rc)
        fprintf(stderr, "email '%s': %s\n", in, e.msg);
    assert_int_equal(rc, 0);
    assert_string_equal(out, want);
}

static void email_bad(const char *in)
{
    char out[FL_EMAIL_MAX + 1];
    assert_int_equal(fl_email_normalize(in, out, NULL), FL_EINVAL);
}

static void test_email(void **state)
{
    char longer[300];
    (void)state;
    email_ok("Anna.Schmidt@Example.COM", "Anna.Schmidt@example.com");
    email_ok("o'brien+crm@mail.example.co.uk", "o'brien+crm@mail.example.co.uk");
    email_ok("x@xn--bcher-kva.example", "x@xn--bcher-kva.example");
    email_ok("x@EXAMPLE.xn--p1ai", "x@example.xn--p1ai");
    email_bad("anna");
    email_bad("@example.com");
    email_bad("anna@");
    email_bad("anna@localhost");
    email_bad("anna@example.c");
    email_bad("anna@example.123");
    email_bad("an..na@example.com");
    email_bad(".anna@example.com");
    email_bad("anna.@example.com");
    email_bad("anna@-example.com");
    email_bad("anna@example-.com");
    email_bad("anna@exa_mple.com");
    email_bad("anna@example..com");
    email_bad("an na@example.com");
    email_bad("\"anna\"@example.com");
    email_bad("anna@[127.0.0.1]");
    email_bad("anna@bücher.de");
    memset(longer, 'a', sizeof(longer));
    memcpy(longer + 250, "@b.de", 6);
    email_bad(longer);
    memset(longer, 'a', 70);
    memcpy(longer + 65, "@b.de", 6);
    email_bad(longer); /* local part of 65 */
}

static void test_date_currency(void **state)
{
    (void)state;
    assert_int_equal(fl_date_check("2024-02-29", NULL), 0);
    assert_int_equal(fl_date_check("2000-02-29", NULL), 0);
    assert_int_equal(fl_date_check("1900-02-29", NULL), FL_EINVAL);
    assert_int_equal(fl_date_check("2025-02-29", NULL), FL_EINVAL);
    assert_int_equal(fl_date_check("2025-13-01", NULL), FL_EINVAL);
    assert_int_equal(fl_date_check("2025-04-31", NULL), FL_EINVAL);
    assert_int_equal(fl_date_check("2025-4-1", NULL), FL_EINVAL);
    assert_int_equal(fl_date_check("0000-01-01", NULL), FL_EINVAL);
    assert_int_equal(fl_currency_minor_units("EUR"), 2);
    assert_int_equal(fl_currency_minor_units("JPY"), 0);
    assert_int_equal(fl_currency_minor_units("BHD"), 3);
    assert_int_equal(fl_currency_minor_units("CLF"), 4);
    assert_int_equal(fl_currency_minor_units("eur"), -1);
    assert_int_equal(fl_currency_minor_units("EURO"), -1);
    assert_int_equal(fl_currency_minor_units("XXX"), -1);
    assert_int_equal(fl_currency_minor_units(NULL), -1);
}

static char *fmt(const struct fl_money *m)
{
    struct fl_buf b = FL_BUF_INIT;
    fl_money_format(m, &b);
    return fl_buf_detach(&b, NULL);
}

static void test_money(void **state)
{
    struct fl_money a, b, c;
    struct fl_error e;
    char *s;
    (void)state;
    assert_int_equal(fl_money_parse("1200.5", "EUR", &a, &e), 0);
    s = fmt(&a);
    assert_string_equal(s, "1200.50");
    free(s);
    /* 0.1 + 0.2 is exactly 0.3: no binary floating point anywhere */
    assert_int_equal(fl_money_parse("0.1", "USD", &a, NULL), 0);
    assert_int_equal(fl_money_parse("0.2", "USD", &b, NULL), 0);
    assert_int_equal(fl_money_add(&a, &b, &c, NULL), 0);
    s = fmt(&c);
    assert_string_equal(s, "0.30");
    free(s);
    assert_int_equal(fl_money_parse("0.30", "USD", &a, NULL), 0);
    assert_int_equal(fl_money_cmp(&a, &c), 0);
    assert_int_equal(fl_money_parse("1e3", "JPY", &a, NULL), 0);
    s = fmt(&a);
    assert_string_equal(s, "1000");
    free(s);
    assert_int_equal(fl_money_parse("-0.125", "BHD", &a, NULL), 0);
    s = fmt(&a);
    assert_string_equal(s, "-0.125");
    free(s);
    assert_int_equal(fl_money_parse("999999999999999999", "JPY", &a, NULL), 0);
    assert_int_equal(fl_money_parse("1", "JPY", &b, NULL), 0);
    assert_int_equal(fl_money_add(&a, &b, &c, &e), FL_ELIMIT);
    assert_int_equal(fl_money_parse("1000000000000000000", "JPY", &a, NULL), FL_EINVAL);
    assert_int_equal(fl_money_parse("10.5", "JPY", &a, &e), FL_EINVAL);
    assert_non_null(strstr(e.msg, "more decimals than JPY allows (0)"));
    assert_int_equal(fl_money_parse("1.001", "EUR", &a, NULL), FL_EINVAL);
    assert_int_equal(fl_money_parse("1.0010", "EUR", &a, NULL), FL_EINVAL);
    assert_int_equal(fl_money_parse("1.000", "EUR", &a, NULL), 0); /* trailing zeros are exact */
    assert_int_equal(fl_money_parse("abc", "EUR", &a, NULL), FL_EINVAL);
    assert_int_equal(fl_money_parse("1", "ZZZ", &a, NULL), FL_EINVAL);
    assert_int_equal(fl_money_parse("5", "EUR", &a, NULL), 0);
    assert_int_equal(fl_money_parse("5", "USD", &b, NULL), 0);
    assert_int_equal(fl_money_add(&a, &b, &c, &e), FL_EINVAL);
    assert_non_null(strstr(e.msg, "currency mismatch"));
    assert_int_equal(fl_money_cmp(&a, &b), 2);
}

/* ---- store ---- */

struct db {
    char dir[64];
    char url[128];
    struct fl_store *s;
    struct fl_principal admin, anna, bob, head, stranger;
};

static uint64_t user(struct fl_store *s, const char *login, bool admin, const char *dept)
{
    struct fl_user_new u = {.login = login, .admin = admin, .department = dept};
    uint64_t id = 0;
    assert_int_equal(fl_auth_user_add(s, &u, T0, &id, NULL), 0);
    return id;
}

static void load(struct db *d, uint64_t id, struct fl_principal *p)
{
    assert_int_equal(fl_auth_principal_load(d->s, id, FL_SCOPE_WRITE, p, NULL), 0);
}

static int db_setup(void **state)
{
    struct db *d = calloc(1, sizeof(*d));
    struct fl_store_options o = {.create = true, .synchronous = 0, .synchronous_set = true};
    uint64_t id, ids[5];
    if (svc_tmpdir(d->dir))
        return -1;
    snprintf(d->url, sizeof(d->url), "sqlite:%s/t.db", d->dir);
    if (fl_store_open(d->url, &o, &d->s, NULL))
        return -1;
    ids[0] = user(d->s, "root", true, NULL);
    ids[3] = user(d->s, "hedda", false, NULL);
    assert_int_equal(fl_auth_department_add(d->s, "Sales", NULL, "hedda", &id, NULL), 0);
    assert_int_equal(fl_auth_department_add(d->s, "Sales EU", "Sales", NULL, &id, NULL), 0);
    assert_int_equal(fl_auth_department_add(d->s, "Ops", NULL, NULL, &id, NULL), 0);
    ids[1] = user(d->s, "anna", false, "Sales EU");
    ids[2] = user(d->s, "bob", false, "Ops");
    ids[4] = user(d->s, "sam", false, NULL);
    load(d, ids[0], &d->admin);
    load(d, ids[1], &d->anna);
    load(d, ids[2], &d->bob);
    load(d, ids[3], &d->head);
    load(d, ids[4], &d->stranger);
    {
        struct fl_definition_row def;
        bool created;
        static const char xml[] = "<definitions/>"; /* the store keeps what it is given */
        assert_int_equal(fl_store_definition_put(d->s, "sales", "Sales", xml, sizeof(xml) - 1, T0,
                                                 &def, &created, NULL),
                         0);
        fl_definition_row_release(&def);
    }
    *state = d;
    return 0;
}

static int db_teardown(void **state)
{
    struct db *d = *state;
    fl_principal_release(&d->admin);
    fl_principal_release(&d->anna);
    fl_principal_release(&d->bob);
    fl_principal_release(&d->head);
    fl_principal_release(&d->stranger);
    fl_store_close(d->s);
    svc_rmdb(d->dir);
    free(d);
    return 0;
}

static struct fl_value *json(const char *text)
{
    struct fl_value *v = NULL;
    assert_int_equal(fl_value_from_json(text, strlen(text), &v, NULL), 0);
    return v;
}

static int create(struct db *d, const struct fl_principal *p, enum fl_crm_type t,
                  const char *fields, uint64_t *id, struct fl_error *e)
{
    struct fl_crm_actor a = {.who = p, .now_ms = T0, .phone_country = "49"};
    struct fl_value *v = json(fields);
    int rc = fl_crm_create(d->s, t, v, &a, id, e);
    fl_value_unref(v);
    return rc;
}

static int patch(struct db *d, const struct fl_principal *p, enum fl_crm_type t, uint64_t id,
                 const char *fields, struct fl_error *e)
{
    struct fl_crm_actor a = {.who = p, .now_ms = T0 + 1000, .phone_country = "49"};
    struct fl_value *v = json(fields);
    int rc = fl_crm_update(d->s, t, id, v, &a, e);
    fl_value_unref(v);
    return rc;
}

static char *record_json(struct db *d, enum fl_crm_type t, uint64_t id,
                         const struct fl_principal *p)
{
    struct fl_crm_record r;
    struct fl_buf b = FL_BUF_INIT;
    assert_int_equal(fl_crm_get(d->s, t, id, p, &r, NULL), 0);
    fl_crm_record_json(&r, &b);
    fl_crm_record_release(&r);
    return fl_buf_detach(&b, NULL);
}

static size_t count(struct db *d, const struct fl_crm_query *q)
{
    struct fl_crm_record *rows = NULL;
    size_t n = 0;
    struct fl_error e;
    int rc = fl_crm_list(d->s, q, &rows, &n, &e);
    if (rc)
        fprintf(stderr, "list: %s\n", e.msg);
    assert_int_equal(rc, 0);
    fl_crm_records_free(rows, n);
    return n;
}

static void expect_field(int rc, int want, const struct fl_error *e, const char *field)
{
    if (rc != want)
        fprintf(stderr, "rc %d: %s\n", rc, e->msg);
    assert_int_equal(rc, want);
    assert_string_equal(e->field, field);
}

static void test_round_trip(void **state)
{
    struct db *d = *state;
    struct fl_error e;
    uint64_t co, ct, ld, dl, ac;
    char *s;

    assert_int_equal(create(d, &d->anna, FL_CRM_COMPANY,
                            "{\"name\":\"Acme GmbH\",\"tax_id\":\"DE123456789\","
                            "\"industry\":\"machinery\",\"addresses\":[\"Hauptstr. 1, Berlin\"],"
                            "\"phones\":[\"030 1234567\",\"+49 30 1234567\"],"
                            "\"emails\":[\"Info@ACME.de\"],\"external_id\":\"c-1\"}",
                            &co, &e),
                     0);
    s = record_json(d, FL_CRM_COMPANY, co, NULL);
    assert_non_null(strstr(s, "\"phones\":[\"+49301234567\"]")); /* normalised, one */
    assert_non_null(strstr(s, "\"emails\":[\"Info@acme.de\"]"));
    assert_non_null(strstr(s, "\"owner\":\"anna\""));
    assert_non_null(strstr(s, "\"created_by\":\"anna\""));
    assert_non_null(strstr(s, "\"created_at\":\"2023-11-14T22:13:20.000Z\""));
    free(s);

    assert_int_equal(create(d, &d->anna, FL_CRM_CONTACT,
                            "{\"first_name\":\"Jörg\",\"last_name\":\"Müller\","
                            "\"phones\":[\"0171 555 1234\"],\"company_id\":1,"
                            "\"position\":\"buyer\",\"birthday\":\"1980-02-29\"}",
                            &ct, &e),
                     0);
    assert_int_equal(create(d, &d->anna, FL_CRM_LEAD,
                            "{\"title\":\"Press inquiry\",\"source\":\"google\",\"channel\":"
                            "\"call\",\"utm_campaign\":\"spring-sale\",\"tracking_phone\":"
                            "\"+49 800 1234567\",\"contact_id\":1,\"company_id\":1,"
                            "\"first_response_due\":\"2026-11-23T12:00:00+01:00\"}",
                            &ld, &e),
                     0);
    s = record_json(d, FL_CRM_LEAD, ld, NULL);
    assert_non_null(strstr(s, "\"status\":\"new\""));
    assert_non_null(strstr(s, "\"first_response_due\":\"2026-11-23T11:00:00.000Z\""));
    assert_non_null(strstr(s, "\"tracking_phone\":\"+498001234567\""));
    free(s);
    assert_int_equal(create(d, &d->anna, FL_CRM_DEAL,
                            "{\"title\":\"Press line\",\"amount\":125000.5,\"currency\":\"EUR\","
                            "\"probability\":40,\"company_id\":1,\"contact_ids\":[1,1],"
                            "\"department\":\"Sales EU\",\"expected_close\":\"2026-12-31\","
                            "\"pipeline\":\"sales\"}",
                            &dl, &e),
                     0);
    s = record_json(d, FL_CRM_DEAL, dl, NULL);
    assert_non_null(strstr(s, "\"amount\":\"125000.50\""));
    assert_non_null(strstr(s, "\"contact_ids\":[1]"));
    assert_non_null(strstr(s, "\"department\":\"Sales EU\""));
    assert_non_null(strstr(s, "\"status\":\"open\""));
    assert_non_null(strstr(s, "\"instance_id\":null"));
    free(s);
    assert_int_equal(create(d, &d->anna, FL_CRM_ACTIVITY,
                            "{\"subject_type\":\"deal\",\"subject_id\":1,\"kind\":\"call\","
                            "\"direction\":\"out\",\"duration_s\":95,\"outcome\":\"reached\"}",
                            &ac, &e),
                     0);
    s = record_json(d, FL_CRM_ACTIVITY, ac, NULL);
    assert_non_null(strstr(s, "\"at\":\"2023-11-14T22:13:20.000Z\"")); /* defaults to now */
    free(s);

    /* a patch changes only what it names; null clears */
    assert_int_equal(
        patch(d, &d->anna, FL_CRM_DEAL, dl, "{\"probability\":60,\"pipeline\":null}", &e), 0);
    s = record_json(d, FL_CRM_DEAL, dl, NULL);
    assert_non_null(strstr(s, "\"probability\":60"));
    assert_non_null(strstr(s, "\"pipeline\":null"));
    assert_non_null(strstr(s, "\"amount\":\"125000.50\""));
    assert_non_null(strstr(s, "\"updated_at\":\"2023-11-14T22:13:21.000Z\""));
    free(s);

    /* a patch checks the references it changes, not those it keeps: the company is gone */
    {
        struct fl_crm_actor a = {.who = &d->anna, .now_ms = T0};
        assert_int_equal(fl_crm_delete(d->s, FL_CRM_COMPANY, co, &a, &e), 0);
    }
    assert_int_equal(patch(d, &d->anna, FL_CRM_CONTACT, ct, "{\"position\":\"head buyer\"}", &e),
                     0);
    expect_field(patch(d, &d->anna, FL_CRM_CONTACT, ct, "{\"company_id\":1}", &e), FL_EINVAL, &e,
                 "company_id");
}

static void test_bad_input(void **state)
{
    struct db *d = *state;
    struct fl_error e;
    uint64_t id, co;
    struct fl_crm_query q = {.type = FL_CRM_CONTACT};

    expect_field(create(d, &d->anna, FL_CRM_CONTACT,
                        "{\"last_name\":\"X\",\"phones\":[\"+49 30 CALL\"]}", &id, &e),
                 FL_EINVAL, &e, "phones");
    expect_field(
        create(d, &d->anna, FL_CRM_CONTACT, "{\"last_name\":\"X\",\"emails\":[\"x@y\"]}", &id, &e),
        FL_EINVAL, &e, "emails");
    expect_field(
        create(d, &d->anna, FL_CRM_CONTACT, "{\"last_name\":\"X\",\"company_id\":99}", &id, &e),
        FL_EINVAL, &e, "company_id");
    assert_non_null(strstr(e.msg, "unknown company 99"));
    expect_field(create(d, &d->anna, FL_CRM_CONTACT, "{\"last_name\":\"X\",\"shoe\":42}", &id, &e),
                 FL_EINVAL, &e, "shoe");
    expect_field(create(d, &d->anna, FL_CRM_CONTACT, "{\"position\":\"boss\"}", &id, &e), FL_EINVAL,
                 &e, "last_name");
    expect_field(create(d, &d->anna, FL_CRM_CONTACT,
                        "{\"last_name\":\"X\",\"birthday\":\"1990-02-30\"}", &id, &e),
                 FL_EINVAL, &e, "birthday");
    expect_field(create(d, &d->anna, FL_CRM_CONTACT, "{\"last_name\":7}", &id, &e), FL_ETYPE, &e,
                 "last_name");
    expect_field(
        create(d, &d->anna, FL_CRM_CONTACT, "{\"last_name\":\"X\",\"owner\":\"bob\"}", &id, &e),
        FL_EINVAL, &e, "owner"); /* not hers to give */
    expect_field(
        create(d, &d->admin, FL_CRM_CONTACT, "{\"last_name\":\"X\",\"owner\":\"nobody\"}", &id, &e),
        FL_EINVAL, &e, "owner");
    expect_field(create(d, &d->anna, FL_CRM_DEAL,
                        "{\"title\":\"D\",\"amount\":\"10.001\","
                        "\"currency\":\"EUR\"}",
                        &id, &e),
                 FL_EINVAL, &e, "amount");
    expect_field(create(d, &d->anna, FL_CRM_DEAL, "{\"title\":\"D\",\"amount\":10}", &id, &e),
                 FL_EINVAL, &e, "currency");
    expect_field(
        create(d, &d->anna, FL_CRM_DEAL, "{\"title\":\"D\",\"currency\":\"EURO\"}", &id, &e),
        FL_EINVAL, &e, "currency");
    expect_field(create(d, &d->anna, FL_CRM_DEAL, "{\"title\":\"D\",\"probability\":101}", &id, &e),
                 FL_EINVAL, &e, "probability");
    expect_field(create(d, &d->anna, FL_CRM_DEAL, "{\"title\":\"D\",\"status\":\"lost\"}", &id, &e),
                 FL_EINVAL, &e, "loss_reason");
    expect_field(
        create(d, &d->anna, FL_CRM_DEAL, "{\"title\":\"D\",\"department\":\"Nope\"}", &id, &e),
        FL_EINVAL, &e, "department");
    expect_field(create(d, &d->anna, FL_CRM_DEAL, "{\"title\":\"D\",\"instance_id\":3}", &id, &e),
                 FL_EINVAL, &e, "instance_id");
    expect_field(create(d, &d->anna, FL_CRM_DEAL, "{\"title\":\"D\",\"pipeline\":\"hr\"}", &id, &e),
                 FL_EINVAL, &e, "pipeline");
    assert_non_null(strstr(e.msg, "unknown pipeline (process) 'hr'"));
    expect_field(create(d, &d->anna, FL_CRM_LEAD, "{\"title\":\"L\",\"status\":\"hot\"}", &id, &e),
                 FL_EINVAL, &e, "status");
    expect_field(create(d, &d->anna, FL_CRM_ACTIVITY,
                        "{\"subject_type\":\"deal\",\"subject_id\":424242,\"kind\":\"call\"}", &id,
                        &e),
                 FL_EINVAL, &e, "subject_id");
    assert_int_equal(count(d, &q), 0); /* nothing stored by any of them */

    /* external ids are unique per type, not across types */
    assert_int_equal(
        create(d, &d->anna, FL_CRM_COMPANY, "{\"name\":\"A\",\"external_id\":\"x1\"}", &co, &e), 0);
    expect_field(
        create(d, &d->bob, FL_CRM_COMPANY, "{\"name\":\"B\",\"external_id\":\"x1\"}", &id, &e),
        FL_ECONFLICT, &e, "external_id");
    assert_int_equal(create(d, &d->anna, FL_CRM_CONTACT,
                            "{\"last_name\":\"C\",\"external_id\":\"x1\"}", &id, &e),
                     0);
    q.type = FL_CRM_COMPANY;
    assert_int_equal(count(d, &q), 1);
    /* the search index was not left with a row of the refused company */
    q.q = "B";
    assert_int_equal(count(d, &q), 0);
}

static void test_deal_rules(void **state)
{
    struct db *d = *state;
    struct fl_error e;
    uint64_t id;
    char *s;
    assert_int_equal(create(d, &d->anna, FL_CRM_DEAL,
                            "{\"title\":\"D\",\"amount\":\"100\",\"currency\":\"EUR\"}", &id, &e),
                     0);
    expect_field(patch(d, &d->anna, FL_CRM_DEAL, id, "{\"currency\":\"USD\"}", &e), FL_EINVAL, &e,
                 "currency");
    assert_non_null(strstr(e.msg, "currency mismatch"));
    assert_int_equal(
        patch(d, &d->anna, FL_CRM_DEAL, id, "{\"currency\":\"JPY\",\"amount\":15000}", &e), 0);
    expect_field(patch(d, &d->anna, FL_CRM_DEAL, id, "{\"amount\":\"1.5\"}", &e), FL_EINVAL, &e,
                 "amount");
    expect_field(patch(d, &d->anna, FL_CRM_DEAL, id, "{\"status\":\"lost\"}", &e), FL_EINVAL, &e,
                 "loss_reason");
    assert_int_equal(
        patch(d, &d->anna, FL_CRM_DEAL, id, "{\"status\":\"lost\",\"loss_reason\":\"price\"}", &e),
        0);
    s = record_json(d, FL_CRM_DEAL, id, NULL);
    assert_non_null(strstr(s, "\"lost_at\":\"2023-11-14T22:13:21.000Z\""));
    assert_non_null(strstr(s, "\"won_at\":null"));
    assert_non_null(strstr(s, "\"amount\":\"15000\""));
    free(s);
    assert_int_equal(patch(d, &d->anna, FL_CRM_DEAL, id, "{\"status\":\"won\"}", &e), 0);
    s = record_json(d, FL_CRM_DEAL, id, NULL);
    assert_non_null(strstr(s, "\"lost_at\":null"));
    assert_non_null(strstr(s, "\"won_at\":\"2023-11-14T22:13:21.000Z\""));
    free(s);
    expect_field(patch(d, &d->anna, FL_CRM_DEAL, id, "{\"created_at\":1}", &e), FL_EINVAL, &e,
                 "created_at");
    assert_int_equal(patch(d, &d->anna, FL_CRM_DEAL, 999, "{}", &e), FL_ENOTFOUND);
}

static void test_search(void **state)
{
    struct db *d = *state;
    struct fl_error e;
    uint64_t a, b;
    struct fl_crm_query q = {.type = FL_CRM_CONTACT};
    struct fl_crm_actor act = {.who = &d->admin, .now_ms = T0};
    assert_int_equal(create(d, &d->anna, FL_CRM_CONTACT,
                            "{\"first_name\":\"Jörg\",\"last_name\":\"Müller\","
                            "\"emails\":[\"joerg@acme.de\"],\"phones\":[\"030 7654321\"]}",
                            &a, &e),
                     0);
    assert_int_equal(create(d, &d->anna, FL_CRM_CONTACT,
                            "{\"first_name\":\"Anna\",\"last_name\":\"Mueller\"}", &b, &e),
                     0);
    q.q = "muller";
    assert_int_equal(count(d, &q), 1); /* diacritics folded */
    q.q = "mu";
    assert_int_equal(count(d, &q), 2); /* prefixes */
    q.q = "JÖRG müller";
    assert_int_equal(count(d, &q), 1);
    q.q = "joerg@acme.de";
    assert_int_equal(count(d, &q), 1);
    q.q = "030 765-4321";
    assert_int_equal(count(d, &q), 1); /* the phone as dialled at home */
    q.q = "+49 (30) 7654";
    assert_int_equal(count(d, &q), 1);
    q.q = "307654321";
    assert_int_equal(count(d, &q), 1); /* without its country code */
    q.q = "7654321";
    assert_int_equal(count(d, &q), 0); /* prefixes, not inner digits */
    q.q = "\"AND OR NEAR(* ";
    assert_int_equal(count(d, &q), 0); /* typed operators are words, never syntax errors */
    q.q = "--- ***";
    {
        struct fl_crm_record *rows;
        size_t n;
        assert_int_equal(fl_crm_list(d->s, &q, &rows, &n, &e), FL_EINVAL);
        assert_string_equal(e.field, "q");
    }
    /* the index follows updates and deletes in the same transaction */
    assert_int_equal(patch(d, &d->anna, FL_CRM_CONTACT, a, "{\"last_name\":\"Schulz\"}", &e), 0);
    q.q = "muller";
    assert_int_equal(count(d, &q), 0);
    q.q = "schulz";
    assert_int_equal(count(d, &q), 1);
    assert_int_equal(fl_crm_delete(d->s, FL_CRM_CONTACT, a, &act, &e), 0);
    assert_int_equal(count(d, &q), 0);
    assert_int_equal(fl_crm_delete(d->s, FL_CRM_CONTACT, a, &act, &e), FL_ENOTFOUND);
    {
        struct fl_crm_record r;
        assert_int_equal(fl_crm_get(d->s, FL_CRM_CONTACT, a, NULL, &r, &e), FL_ENOTFOUND);
    }
    q.q = NULL;
    assert_int_equal(count(d, &q), 1);
}

static void test_filters_and_cursor(void **state)
{
    struct db *d = *state;
    struct fl_error e;
    uint64_t id, co;
    struct fl_crm_query q = {.type = FL_CRM_LEAD};
    struct fl_crm_record *rows;
    size_t n;
    assert_int_equal(create(d, &d->anna, FL_CRM_COMPANY, "{\"name\":\"Acme\"}", &co, &e), 0);
    for (int i = 0; i < 7; i++) {
        char f[200];
        snprintf(f, sizeof(f), "{\"title\":\"lead %d\",\"status\":\"%s\"%s}", i,
                 i % 2 ? "qualified" : "new", i < 3 ? ",\"company_id\":1" : "");
        assert_int_equal(create(d, i == 6 ? &d->bob : &d->anna, FL_CRM_LEAD, f, &id, &e), 0);
    }
    assert_int_equal(count(d, &q), 7);
    q.status = "qualified";
    assert_int_equal(count(d, &q), 3);
    q.status = NULL;
    q.owner = "bob";
    assert_int_equal(count(d, &q), 1);
    q.owner = NULL;
    q.company_id = co;
    assert_int_equal(count(d, &q), 3);
    q.company_id = 0;
    q.limit = 3;
    assert_int_equal(fl_crm_list(d->s, &q, &rows, &n, &e), 0);
    assert_int_equal(n, 3);
    q.after_id = rows[2].id;
    fl_crm_records_free(rows, n);
    assert_int_equal(count(d, &q), 3);
    q.after_id = 6;
    assert_int_equal(count(d, &q), 1);
    q.after_id = 0;
    q.limit = 0;
    q.kind = "call";
    assert_int_equal(fl_crm_list(d->s, &q, &rows, &n, &e), FL_EINVAL);
    assert_string_equal(e.field, "kind");
}

static void test_access(void **state)
{
    struct db *d = *state;
    struct fl_error e;
    uint64_t id[FL_CRM_NTYPES], bobdeal, deptdeal, act, bobact;
    const struct fl_principal *who[5] = {&d->admin, &d->anna, &d->bob, &d->head, &d->stranger};
    /* expected visibility of anna's records: admin, anna, bob, head (of anna's parent dept), sam */
    static const bool sees[5] = {true, true, false, true, false};
    struct fl_crm_record r;

    assert_int_equal(create(d, &d->anna, FL_CRM_COMPANY, "{\"name\":\"C\"}", &id[0], &e), 0);
    assert_int_equal(create(d, &d->anna, FL_CRM_CONTACT, "{\"last_name\":\"C\"}", &id[1], &e), 0);
    assert_int_equal(create(d, &d->anna, FL_CRM_LEAD, "{\"title\":\"L\"}", &id[2], &e), 0);
    assert_int_equal(create(d, &d->anna, FL_CRM_DEAL, "{\"title\":\"D\"}", &id[3], &e), 0);
    assert_int_equal(create(d, &d->anna, FL_CRM_ACTIVITY,
                            "{\"subject_type\":\"lead\",\"subject_id\":1,\"kind\":\"note\"}",
                            &id[4], &e),
                     0);
    assert_int_equal(create(d, &d->bob, FL_CRM_DEAL, "{\"title\":\"B\"}", &bobdeal, &e), 0);
    /* a deal of bob's placed in Sales: its head sees it, anna does not */
    assert_int_equal(create(d, &d->bob, FL_CRM_DEAL, "{\"title\":\"B2\",\"department\":\"Sales\"}",
                            &deptdeal, &e),
                     0);
    for (int t = 0; t < FL_CRM_NTYPES; t++) {
        for (int w = 0; w < 5; w++) {
            struct fl_crm_query q = {.type = (enum fl_crm_type)t, .viewer = who[w]};
            int rc = fl_crm_get(d->s, (enum fl_crm_type)t, id[t], who[w], &r, &e);
            assert_int_equal(rc, sees[w] ? 0 : FL_ENOTFOUND);
            fl_crm_record_release(&r);
            if (t != FL_CRM_DEAL)
                assert_int_equal(count(d, &q), sees[w] ? 1 : 0);
        }
    }
    {
        struct fl_crm_query q = {.type = FL_CRM_DEAL, .viewer = &d->head};
        assert_int_equal(count(d, &q), 2); /* anna's and the one in Sales */
        q.viewer = &d->bob;
        assert_int_equal(count(d, &q), 2);
        q.viewer = &d->anna;
        assert_int_equal(count(d, &q), 1);
        q.viewer = &d->stranger;
        assert_int_equal(count(d, &q), 0);
        q.viewer = &d->admin;
        assert_int_equal(count(d, &q), 3);
    }
    /* invisible records cannot be changed, deleted or referenced: same answer as missing */
    assert_int_equal(patch(d, &d->bob, FL_CRM_DEAL, id[3], "{\"title\":\"mine\"}", &e),
                     FL_ENOTFOUND);
    {
        struct fl_crm_actor a = {.who = &d->stranger, .now_ms = T0};
        assert_int_equal(fl_crm_delete(d->s, FL_CRM_LEAD, id[2], &a, &e), FL_ENOTFOUND);
    }
    expect_field(
        create(d, &d->bob, FL_CRM_CONTACT, "{\"last_name\":\"X\",\"company_id\":1}", &act, &e),
        FL_EINVAL, &e, "company_id");
    expect_field(create(d, &d->bob, FL_CRM_ACTIVITY,
                        "{\"subject_type\":\"deal\",\"subject_id\":1,\"kind\":\"call\"}", &act, &e),
                 FL_EINVAL, &e, "subject_id");
    /* activities on bob's deal: bob sees them, anna does not */
    assert_int_equal(create(d, &d->bob, FL_CRM_ACTIVITY,
                            "{\"subject_type\":\"deal\",\"subject_id\":2,\"kind\":\"call\"}",
                            &bobact, &e),
                     0);
    {
        struct fl_crm_query q = {.type = FL_CRM_ACTIVITY, .viewer = &d->anna};
        assert_int_equal(count(d, &q), 1);
        q.viewer = &d->bob;
        assert_int_equal(count(d, &q), 1);
        q.subject_type = "deal";
        q.subject_id = 2;
        assert_int_equal(count(d, &q), 1);
        q.viewer = NULL;
        q.subject_type = "lead";
        q.subject_id = 1;
        assert_int_equal(count(d, &q), 1);
    }
    /* the head hands anna's lead to a member of the department; not to bob (Ops) */
    assert_int_equal(patch(d, &d->head, FL_CRM_LEAD, id[2], "{\"owner\":\"hedda\"}", &e), 0);
    expect_field(patch(d, &d->head, FL_CRM_LEAD, id[2], "{\"owner\":\"bob\"}", &e), FL_EINVAL, &e,
                 "owner");
    expect_field(patch(d, &d->head, FL_CRM_LEAD, id[2], "{\"owner\":null}", &e), FL_EINVAL, &e,
                 "owner");
    assert_int_equal(patch(d, &d->admin, FL_CRM_LEAD, id[2], "{\"owner\":null}", &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phone),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_date_currency),
        cmocka_unit_test(test_money),
        cmocka_unit_test_setup_teardown(test_round_trip, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_deal_rules, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_search, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_filters_and_cursor, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_access, db_setup, db_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
