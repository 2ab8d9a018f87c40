/* The BPMN 2.0 reader's entry point: parse the XML safely with libxml2 (no network, no
 * entity expansion, no DTD loading, size cap, one parser context per call), check the
 * root, pick the processes to read, and hand each to bpmn_process.c. Also the small XML
 * and diagnostic helpers all reader files share. Elements are matched by namespace URI,
 * never by prefix, because modelers choose prefixes freely. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlversion.h>
#include <libxml/xmlerror.h>

#include "core/bpmn_internal.h"
#include "flowd/alloc.h"

/* Camunda 7 still reads models written for Activiti, its ancestor: the Activiti namespace
 * is another name for Camunda's. */
static bool ns_is(const char *href, const char *ns)
{
    return !strcmp(href, ns) || (!strcmp(ns, FL__NS_CAMUNDA) && !strcmp(href, FL__NS_ACTIVITI));
}

bool fl__bpmn_in_ns(const xmlNode *node, const char *ns)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
           ns_is((const char *)node->ns->href, ns);
}

bool fl__bpmn_is(const xmlNode *node, const char *ns, const char *local)
{
    return fl__bpmn_in_ns(node, ns) && !strcmp((const char *)node->name, local);
}

char *fl__bpmn_attr(const xmlNode *node, const char *name, const char *ns)
{
    xmlChar *v = ns ? xmlGetNsProp(node, (const xmlChar *)name, (const xmlChar *)ns)
                    : xmlGetNoNsProp(node, (const xmlChar *)name);
    char *s;
    if (!v && ns && !strcmp(ns, FL__NS_CAMUNDA))
        v = xmlGetNsProp(node, (const xmlChar *)name, (const xmlChar *)FL__NS_ACTIVITI);
    if (!v)
        return NULL;
    s = fl_strdup((const char *)v);
    xmlFree(v);
    return s;
}

char *fl__bpmn_text(const xmlNode *node)
{
    xmlChar *v = xmlNodeGetContent(node);
    char *s = fl_strdup(v ? (const char *)v : "");
    xmlFree(v);
    return s;
}

char *fl__bpmn_id(const xmlNode *node)
{
    return fl__bpmn_attr(node, "id", NULL);
}

/* Diagnostics name the nearest element with an id: an extension element inside a task
 * is reported as that task. Caller frees. */
static char *nearest_id(const xmlNode *node)
{
    char *id = NULL;
    for (; node && node->type == XML_ELEMENT_NODE && !id; node = node->parent)
        id = fl__bpmn_id(node);
    return id;
}

static void fail_at(struct fl__bpmn_reader *rd, const xmlNode *node, int line, int col)
{
    char *id = nearest_id(node);
    fl_error_at(rd->err, id, line, col);
    free(id);
}

int fl__bpmn_fail(struct fl__bpmn_reader *rd, const xmlNode *node, int code, const char *fmt, ...)
{
    va_list ap;
    int line, col;
    va_start(ap, fmt);
    fl_error_setv(rd->err, code, fmt, ap);
    va_end(ap);
    fl__bpmn_node_pos(rd, node, &line, &col);
    fail_at(rd, node, line, col);
    return code;
}

int fl__bpmn_fail_attr(struct fl__bpmn_reader *rd, const xmlNode *node, const char *attr, int code,
                       const char *fmt, ...)
{
    va_list ap;
    int line, col;
    va_start(ap, fmt);
    fl_error_setv(rd->err, code, fmt, ap);
    va_end(ap);
    fl__bpmn_attr_pos(rd, node, attr, &line, &col);
    fail_at(rd, node, line, col);
    return code;
}

void fl__bpmn_warn(struct fl__bpmn_proc *p, const xmlNode *node, const char *fmt, ...)
{
    struct fl_model *m = p->m;
    struct fl_model_warning *w;
    va_list ap;
    char *id = nearest_id(node);
    fl_grow(&m->warnings, &p->cap_warnings, m->n_warnings + 1, sizeof(*m->warnings));
    w = &m->warnings[m->n_warnings++];
    char tmp[512];
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    w->message = fl_strdup(tmp);
    w->element = id;
    fl__bpmn_node_pos(p->rd, node, &w->line, &w->column);
}

int fl__bpmn_claim_id(struct fl__bpmn_reader *rd, const xmlNode *node, const char *id)
{
    void *prev = xmlHashLookup(rd->ids, (const xmlChar *)id);
    if (prev) {
        int line, col;
        fl__bpmn_node_pos(rd, prev, &line, &col);
        return fl__bpmn_fail_attr(rd, node, "id", FL_EMODEL,
                                  "duplicate id '%s' (first used at line %d, column %d)", id, line,
                                  col);
    }
    /* the table borrows node: the tree outlives it */
    xmlHashAddEntry(rd->ids, (const xmlChar *)id, (void *)(uintptr_t)node);
    return 0;
}

void fl__bpmn_split_list(const char *s, struct fl_strlist *l)
{
    size_t cap = l->n;
    while (s && *s) {
        const char *e = strchr(s, ',');
        const char *end = e ? e : s + strlen(s);
        const char *a = s;
        while (a < end && (*a == ' ' || *a == '\t' || *a == '\n' || *a == '\r'))
            a++;
        while (end > a && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
            end--;
        if (end > a) {
            fl_grow(&l->items, &cap, l->n + 1, sizeof(*l->items));
            l->items[l->n++] = fl_strndup(a, (size_t)(end - a));
        }
        s = e ? e + 1 : NULL;
    }
}

bool fl__bpmn_lang_is_feel(const char *lang)
{
    const char *p;
    for (p = lang; p && *p; p++)
        if (!strncasecmp(p, "feel", 4))
            return true;
    return false;
}

bool fl__bpmn_lang_is_juel(const char *lang)
{
    const char *p;
    for (p = lang; p && *p; p++)
        if (!strncasecmp(p, "juel", 4) || !strncasecmp(p, "jsp", 3) || !strncasecmp(p, "/el", 3))
            return true;
    return false;
}

int fl__bpmn_reject_juel(struct fl__bpmn_reader *rd, const xmlNode *node, const char *attr,
                         const char *value)
{
    char *owner;
    int rc;
    if (!value || (!strstr(value, "${") && !strstr(value, "#{")))
        return 0;
    owner = nearest_id(node);
    rc = fl__bpmn_fail_attr(rd, node, attr, FL_EUNSUPPORTED,
                            "%s of '%s' is a JUEL expression ('%.60s'); only FEEL ('=expr') "
                            "is supported",
                            attr, owner ? owner : (const char *)node->name, value);
    free(owner);
    return rc;
}

size_t fl__bpmn_feel_offset(const char *src, const struct fl_error *fe)
{
    size_t i = 0;
    int line = 1, col = 1;
    for (; src[i] && line < fe->line; i++) /* FEEL counts columns per line */
        if (src[i] == '\n')
            line++;
    for (; src[i] && src[i] != '\n' && col < fe->column; i++) {
        while (((unsigned char)src[i + 1] & 0xC0) == 0x80) /* code points, not bytes */
            i++;
        col++;
    }
    return i;
}

/* libxml2 would print parse errors to stderr; we read them from the context instead. */
#if LIBXML_VERSION >= 21200
static void quiet_error(void *ctx, const xmlError *e)
#else
static void quiet_error(void *ctx, xmlError *e)
#endif
{
    (void)ctx;
    (void)e;
}

/* A process "has flow nodes" when the builder would make a node of any child; bpmn.io
 * writes isExecutable="false" even on runnable drawings. */
static bool has_flow_nodes(const xmlNode *proc)
{
    const xmlNode *c;
    for (c = proc->children; c; c = c->next)
        if (fl__bpmn_child_kind(c) == FL__BPMN_CHILD_NODE)
            return true;
    return false;
}

static int parse_quietly(struct fl__bpmn_reader *rd)
{
    const xmlError *e;
    xmlParserCtxt *ctxt = xmlCreateMemoryParserCtxt(rd->xml, (int)rd->len);
    int rc = FL_EPARSE;
    if (!ctxt)
        return fl_error_set(rd->err, FL_ENOMEM, "cannot create an XML parser");
    /* NONET: never fetch; no NOENT/DTDLOAD/DTDATTR/HUGE: entities stay unexpanded and
     * libxml2's size limits stay on */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                XML_PARSE_BIG_LINES);
    ctxt->sax->serror = quiet_error;
    xmlParseDocument(ctxt);
    if (ctxt->wellFormed && ctxt->myDoc) {
        rd->doc = ctxt->myDoc;
        ctxt->myDoc = NULL;
        rc = 0;
        goto out;
    }
    if (ctxt->myDoc) {
        xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
    }
    e = xmlCtxtGetLastError(ctxt);
    if (e && e->message) {
        size_t n = strcspn(e->message, "\n"); /* some messages add a second line */
        while (n > 0 && e->message[n - 1] == ' ')
            n--;
        fl_error_set(rd->err, FL_EPARSE, "malformed XML: %.*s", (int)n, e->message);
        fl_error_at(rd->err, NULL, e->line, e->int2);
    } else {
        fl_error_set(rd->err, FL_EPARSE, "malformed XML");
    }
out:
    xmlFreeParserCtxt(ctxt);
    return rc;
}

/* Encoding and I/O errors bypass the parser context and go to libxml2's generic handler,
 * which prints to stderr; it is per thread (libxml2 is built with threads), so we swap it
 * for the duration of one parse. */
static void quiet_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static int parse(struct fl__bpmn_reader *rd)
{
    xmlGenericErrorFunc old_fn = xmlGenericError;
    void *old_ctx = xmlGenericErrorContext;
    int rc;
    xmlSetGenericErrorFunc(NULL, quiet_generic);
    rc = parse_quietly(rd);
    xmlSetGenericErrorFunc(old_ctx, old_fn);
    return rc;
}

int fl_bpmn_read(const char *xml, size_t len, struct fl_bpmn_doc **out, struct fl_error *err)
{
    struct fl__bpmn_reader rd;
    struct fl_bpmn_doc *doc = NULL;
    xmlNode *root, *c;
    size_t cap = 0;
    bool any_exec = false, any_proc = false;
    struct fl_error scratch;
    int rc;

    *out = NULL;
    if (!err) /* the reader reads back what it recorded, so it always needs somewhere */
        err = &scratch;
    fl_error_clear(err);
    memset(&rd, 0, sizeof(rd));
    rd.xml = xml;
    rd.len = len;
    rd.err = err;
    if (len > FL_BPMN_MAX_BYTES) {
        rc = fl_error_set(err, FL_ETOOBIG, "BPMN document is %zu bytes, the limit is %zu", len,
                          FL_BPMN_MAX_BYTES);
        goto out;
    }
    if (!xml || len == 0) {
        rc = fl_error_set(err, FL_EPARSE, "empty document");
        goto out;
    }
    xmlInitParser(); /* cheap after fl_bpmn_global_init; covers callers that skipped it */
    if ((rc = parse(&rd)) < 0)
        goto out;
    if (rd.doc->intSubset && rd.doc->intSubset->entities &&
        xmlHashSize(rd.doc->intSubset->entities) > 0) {
        /* BPMN never needs them; refusing them closes the door on entity bombs */
        rc = fl_error_set(err, FL_EUNSUPPORTED, "DTD entity declarations are not supported");
        fl_error_at(err, NULL, 1, 1);
        goto out;
    }
    fl__bpmn_lines_init(&rd);
    fl__bpmn_index_tags(&rd);
    root = xmlDocGetRootElement(rd.doc);
    if (!fl__bpmn_is(root, FL__NS_BPMN, "definitions")) {
        rc = fl__bpmn_fail(&rd, root, FL_EMODEL,
                           "root element is '%s' in namespace '%s', expected BPMN 2.0 "
                           "definitions ('definitions' in namespace '%s')",
                           root ? (const char *)root->name : "",
                           root && root->ns && root->ns->href ? (const char *)root->ns->href : "",
                           FL__NS_BPMN);
        goto out;
    }
    rd.expr_lang = fl__bpmn_attr(root, "expressionLanguage", NULL);
    rd.ids = xmlHashCreate(64);
    doc = fl_calloc(1, sizeof(*doc));
    for (c = root->children; c; c = c->next) {
        if (fl__bpmn_is(c, FL__NS_BPMN, "process")) {
            xmlChar *x = xmlGetNoNsProp(c, (const xmlChar *)"isExecutable");
            any_proc = true;
            if (x && !strcmp((const char *)x, "true"))
                any_exec = true;
            xmlFree(x);
        }
    }
    for (c = root->children; c; c = c->next) {
        struct fl_model *m = NULL;
        bool take;
        if (!fl__bpmn_is(c, FL__NS_BPMN, "process"))
            continue;
        if (any_exec) {
            xmlChar *x = xmlGetNoNsProp(c, (const xmlChar *)"isExecutable");
            take = x && !strcmp((const char *)x, "true");
            xmlFree(x);
        } else {
            take = has_flow_nodes(c);
        }
        if (!take)
            continue;
        if ((rc = fl__bpmn_read_process(&rd, c, !any_exec, &m)) < 0)
            goto out;
        fl_grow(&doc->processes, &cap, doc->n_processes + 1, sizeof(*doc->processes));
        doc->processes[doc->n_processes++] = m;
    }
    if (doc->n_processes == 0) {
        rc = fl__bpmn_fail(&rd, root, FL_EMODEL,
                           any_proc ? "no process with flow nodes in the document"
                                    : "no process in the document");
        goto out;
    }
    *out = doc;
    doc = NULL;
    rc = 0;
out:
    if (doc)
        fl_bpmn_doc_free(doc);
    if (rd.ids)
        xmlHashFree(rd.ids, NULL);
    if (rd.doc)
        xmlFreeDoc(rd.doc);
    free(rd.expr_lang);
    free(rd.line_starts);
    free(rd.chars_before);
    return rc;
}

int fl_bpmn_count_executable(const char *xml, size_t len)
{
    struct fl__bpmn_reader rd;
    struct fl_error err;
    const xmlNode *root, *c;
    int n = 0;

    memset(&rd, 0, sizeof(rd));
    rd.xml = xml;
    rd.len = len;
    rd.err = &err;
    if (!xml || len == 0 || len > FL_BPMN_MAX_BYTES)
        return -1;
    xmlInitParser();
    if (parse(&rd) < 0)
        return -1;
    root = xmlDocGetRootElement(rd.doc);
    if (fl__bpmn_is(root, FL__NS_BPMN, "definitions")) {
        for (c = root->children; c; c = c->next) {
            xmlChar *x;
            if (!fl__bpmn_is(c, FL__NS_BPMN, "process"))
                continue;
            x = xmlGetNoNsProp(c, (const xmlChar *)"isExecutable");
            n += x && !strcmp((const char *)x, "true");
            xmlFree(x);
        }
    }
    xmlFreeDoc(rd.doc);
    return n;
}

void fl_bpmn_global_init(void)
{
    xmlInitParser();
}
