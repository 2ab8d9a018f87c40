/* Expressions in the BPMN reader, whichever dialect the modeler wrote: Camunda 8's "=feel",
 * bare FEEL in a condition, or Camunda 7's JUEL "${...}", translated to FEEL (juel.c) when
 * the translation is exact and refused with the construct's position otherwise. Errors
 * point at the character in the attribute or the element text where the fault is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bpmn_internal.h"
#include "core/juel.h"
#include "flowd/alloc.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Record an error at byte offset off of the value (attr of el, or el's text). */
static int fail_at(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, size_t off,
                   const char *owner, int code, const char *msg)
{
    int line, col;
    if (attr)
        fl__bpmn_attr_text_pos(p->rd, el, attr, off, &line, &col);
    else
        fl__bpmn_text_pos(p->rd, el, off, &line, &col);
    fl_error_set(p->rd->err, code, "%s", msg);
    fl_error_at(p->rd->err, owner, line, col);
    return code;
}

/* JUEL text -> FEEL source (caller frees), errors at their place in the value. */
static int juel(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, const char *text,
                const char *owner, const char *what, char **feel)
{
    struct fl_error je;
    size_t at = 0;
    char msg[1400];
    int rc;
    fl_error_clear(&je);
    if ((rc = fl_juel_to_feel(text, feel, &at, &je)) == 0)
        return 0;
    snprintf(msg, sizeof(msg), "%.100s of '%.128s' ('%.80s'): %.400s", what, owner, text, je.msg);
    return fail_at(p, el, attr, at, owner, rc == FL_EPARSE ? FL_EMODEL : FL_EUNSUPPORTED, msg);
}

/* Compile FEEL src (which starts at byte offset off of the value). */
static int compile(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, const char *src,
                   size_t off, const char *owner, const char *what, bool translated,
                   struct fl_feel_expr **out)
{
    struct fl_error fe;
    char msg[1400];
    fl_error_clear(&fe);
    if (fl_feel_compile(src, strlen(src), out, &fe) == 0)
        return 0;
    *out = NULL;
    if (translated) /* the fault is in our translation's terms: point at the value */
        snprintf(msg, sizeof(msg),
                 "%.100s of '%.128s': the JUEL translates to FEEL '%.80s', which "
                 "does not compile: %.400s",
                 what, owner, src, fe.msg[0] ? fe.msg : "invalid FEEL");
    else
        snprintf(msg, sizeof(msg), "syntax error in %.100s of '%.128s': %.400s", what, owner,
                 fe.msg[0] ? fe.msg : "invalid FEEL");
    return fail_at(p, el, attr, translated ? off : off + fl__bpmn_feel_offset(src, &fe), owner,
                   FL_EMODEL, msg);
}

int fl__bpmn_compile(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, const char *text,
                     const char *owner, const char *what, struct fl_feel_expr **out)
{
    const char *src, *q;
    char *feel = NULL, msg[300];
    int is_expr, rc;
    size_t off = 0;
    *out = NULL;
    while (is_space(text[off]))
        off++;
    if (fl_juel_is_expr(text)) {
        if ((rc = juel(p, el, attr, text, owner, what, &feel)) < 0)
            return rc;
        rc = compile(p, el, attr, feel, off, owner, what, true, out);
        free(feel);
        return rc;
    }
    src = fl_feel_strip(text, &is_expr);
    for (q = src; is_space(*q); q++)
        ;
    if (!*q) {
        snprintf(msg, sizeof(msg), "%s of '%s' is empty", what, owner);
        return fail_at(p, el, attr, off, owner, FL_EMODEL, msg);
    }
    return compile(p, el, attr, src, (size_t)(src - text), owner, what, false, out);
}

int fl__bpmn_value(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, const char *text,
                   const char *owner, const char *what, char **out)
{
    struct fl_feel_expr *e = NULL;
    const char *src;
    char *feel = NULL;
    int is_expr, rc;
    if (fl_juel_is_expr(text)) {
        if ((rc = juel(p, el, attr, text, owner, what, &feel)) < 0)
            return rc;
        if ((rc = compile(p, el, attr, feel, 0, owner, what, true, &e)) < 0) {
            free(feel);
            return rc;
        }
        fl_feel_free(e);
        free(*out);
        *out = fl_malloc(strlen(feel) + 2);
        (*out)[0] = '=';
        memcpy(*out + 1, feel, strlen(feel) + 1);
        free(feel);
        return 0;
    }
    src = fl_feel_strip(text, &is_expr);
    if (is_expr) {
        if ((rc = compile(p, el, attr, src, (size_t)(src - text), owner, what, false, &e)) < 0)
            return rc;
        fl_feel_free(e);
    }
    free(*out);
    *out = fl_strdup(text);
    return 0;
}

int fl__bpmn_source(struct fl__bpmn_proc *p, const xmlNode *el, const char *attr, const char *text,
                    const char *owner, const char *what, struct fl_feel_expr **out)
{
    struct fl_buf b = FL_BUF_INIT;
    const char *src;
    int is_expr, rc;
    src = fl_feel_strip(text, &is_expr);
    if (is_expr || fl_juel_is_expr(text))
        return fl__bpmn_compile(p, el, attr, text, owner, what, out);
    (void)src;
    /* a plain value is a string literal */
    fl_buf_addc(&b, '"');
    for (const char *s = text; *s; s++) {
        if (*s == '"' || *s == '\\')
            fl_buf_addc(&b, '\\');
        if (*s == '\n')
            fl_buf_adds(&b, "\\n");
        else if (*s == '\r')
            fl_buf_adds(&b, "\\r");
        else if (*s == '\t')
            fl_buf_adds(&b, "\\t");
        else
            fl_buf_addc(&b, *s);
    }
    fl_buf_addc(&b, '"');
    rc = compile(p, el, attr, b.ptr, 0, owner, what, true, out);
    fl_buf_release(&b);
    return rc;
}
