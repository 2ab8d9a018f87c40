/* The pure half of the CLI's HTTP client: turning an API answer that is not 2xx into the
 * fl_err code and detail the local CLI would have printed, and escaping query values.
 * The server names its problem types after the error table of err.h ("notfound" for
 * FL_ENOTFOUND), so mapping the type back gives the very exit code of local mode; the
 * status decides only when the type is foreign (a proxy, another server). No network
 * here, so tests/unit/test_cli_problem.c can include this file directly. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_http.h"
#include "flowd/value.h"

#define PROBLEM_BASE "https://flowd.dev/problems/"

/* The fl_err code whose lower-case name is name, or 0. */
static int code_of_name(const char *name, size_t len)
{
    for (int code = -1; strcmp(fl_err_name(code), "UNKNOWN") != 0; code--) {
        const char *n = fl_err_name(code);
        if (strlen(n) == len && !strncasecmp(n, name, len))
            return code;
    }
    return 0;
}

static int code_of_status(long status)
{
    switch (status) {
    case 400:
        return FL_EINVAL;
    case 404:
    case 410:
        return FL_ENOTFOUND;
    case 409:
        return FL_ECONFLICT;
    case 413:
        return FL_ETOOBIG;
    case 422:
        return FL_EREFUSED;
    case 429:
        return FL_ETOOMANY;
    case 503:
        return FL_EBUSY;
    default:
        return status >= 500 ? FL_EINTERNAL : FL_EINVAL;
    }
}

/* Copy member key of obj, a string, into out (size n); false when absent or not one. */
static bool member_str(const struct fl_value *obj, const char *key, char *out, size_t n)
{
    const struct fl_value *v = obj ? fl_value_context_get(obj, key, strlen(key)) : NULL;
    size_t len;
    const char *s = v ? fl_value_str(v, &len) : NULL;
    if (!s)
        return false;
    snprintf(out, n, "%.*s", (int)len, s);
    return true;
}

static int member_int(const struct fl_value *obj, const char *key)
{
    const struct fl_value *v = obj ? fl_value_context_get(obj, key, strlen(key)) : NULL;
    int64_t n = 0;
    if (!v || fl_value_type(v) != FL_VNUMBER || fl_value_to_int64(v, &n) != 0 || n < 0 ||
        n > 1000000000)
        return 0;
    return (int)n;
}

/* One line of text: control characters (a stray newline in an HTML error page) become
 * spaces so the CLI's error stays one line. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20)
            *s = ' ';
}

int cli_problem_to_error(long status, const char *ctype, const char *body, size_t len,
                         struct fl_error *err)
{
    struct fl_value *doc = NULL;
    char type[160] = "", detail[sizeof(err->msg)] = "";
    const char *name = NULL;
    bool auth = status == 401 || status == 403;
    int code;

    if (status >= 200 && status < 300)
        return 0;
    /* Only a JSON body is read; anything else (an HTML page of a proxy) is reported by
     * status alone. */
    if (ctype && strstr(ctype, "json") && body && len &&
        (fl_value_from_json(body, len, &doc, NULL) != 0 || fl_value_type(doc) != FL_VCONTEXT)) {
        fl_value_unref(doc);
        doc = NULL;
    }
    member_str(doc, "type", type, sizeof(type));
    if (!member_str(doc, "detail", detail, sizeof(detail)))
        member_str(doc, "title", detail, sizeof(detail));
    one_line(detail);
    if (!strncmp(type, PROBLEM_BASE, strlen(PROBLEM_BASE)))
        name = type + strlen(PROBLEM_BASE);
    code = name && !auth ? code_of_name(name, strlen(name)) : 0;
    if (!code)
        code = code_of_status(status);
    if (auth) {
        /* The server says why (no token, bad token, scope, not an administrator). */
        fl_error_set(err, FL_EINVAL, "not authorised: %s",
                     detail[0]       ? detail
                     : status == 401 ? "the server wants a valid token (--token or "
                                       "FLOWD_TOKEN)"
                                     : "the token may not do this");
    } else if (detail[0]) {
        fl_error_set(err, code, "%s", detail);
    } else {
        fl_error_set(err, code, "the server answered HTTP %ld (%s)", status, fl_err_message(code));
    }
    if (err) {
        member_str(doc, "field", err->field, sizeof(err->field));
        member_str(doc, "element", err->element, sizeof(err->element));
        err->line = member_int(doc, "line");
        err->column = member_int(doc, "column");
    }
    fl_value_unref(doc);
    return code == 0 ? FL_EINTERNAL : (auth ? FL_EINVAL : code);
}

void cli_url_escape(struct fl_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        /* RFC 3986 unreserved, and '@' (logins have it; fine in a path or a query). */
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '@')
            fl_buf_addc(b, (char)ch);
        else
            fl_buf_addf(b, "%%%02X", ch);
    }
}
