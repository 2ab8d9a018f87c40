/* The DMN reader's entry point: parse the XML with the BPMN reader's safe parser (no
 * network, no entities, size cap, line and column of every element), check the root is a
 * DMN 1.1 - 1.5 definitions, read each decision (decision table in dmn_table.c, or literal
 * expression), resolve the requirements between decisions and refuse cycles. Elements are
 * matched by namespace URI, never by prefix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/entities.h>
#include <libxml/hash.h>

#include "core/dmn_int.h"
#include "flowd/alloc.h"

/* The DMN namespaces without their scheme (modelers write http or https). */
static const char *const dmn_ns[] = {
    "www.omg.org/spec/DMN/20151101/dmn.xsd",   /* DMN 1.1 (Camunda 7) */
    "www.omg.org/spec/DMN/20151101/dmn11.xsd", /* early DMN 1.1 drafts */
    "www.omg.org/spec/DMN/20180521/MODEL/",    /* DMN 1.2 */
    "www.omg.org/spec/DMN/20191111/MODEL/",    /* DMN 1.3 (Camunda 7.13+, Camunda 8) */
    "www.omg.org/spec/DMN/20211108/MODEL/",    /* DMN 1.4 */
    "www.omg.org/spec/DMN/20230324/MODEL/",    /* DMN 1.5 */
    NULL,
};

static bool ns_is_dmn(const char *href, size_t n)
{
    if (n >= 8 && !strncmp(href, "https://", 8)) {
        href += 8;
        n -= 8;
    } else if (n >= 7 && !strncmp(href, "http://", 7)) {
        href += 7;
        n -= 7;
    } else {
        return false;
    }
    for (size_t i = 0; dmn_ns[i]; i++) {
        size_t k = strlen(dmn_ns[i]);
        if (n == k && !memcmp(href, dmn_ns[i], k))
            return true;
        /* also without the trailing slash */
        if (dmn_ns[i][k - 1] == '/' && n == k - 1 && !memcmp(href, dmn_ns[i], k - 1))
            return true;
    }
    return false;
}

bool fl__dmn_in_ns(const xmlNode *node)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns && node->ns->href &&
           ns_is_dmn((const char *)node->ns->href, strlen((const char *)node->ns->href));
}

bool fl__dmn_is(const xmlNode *node, const char *local)
{
    return fl__dmn_in_ns(node) && !strcmp((const char *)node->name, local);
}

xmlNode *fl__dmn_child(const xmlNode *node, const char *local)
{
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
        if (fl__dmn_is(c, local))
            return c;
    return NULL;
}

/* ---- detection on the text ---- */

static const char *skip_prolog(const char *p, const char *end)
{
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (end - p >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
            (unsigned char)p[2] == 0xBF) {
            p += 3;
            continue;
        }
        if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
            const char *q = p + 4;
            while (end - q >= 3 && memcmp(q, "-->", 3))
                q++;
            if (end - q < 3)
                return end;
            p = q + 3;
            continue;
        }
        if (end - p >= 2 && p[0] == '<' && (p[1] == '?' || p[1] == '!')) {
            const char *q = memchr(p, '>', (size_t)(end - p));
            if (!q)
                return end;
            p = q + 1;
            continue;
        }
        return p;
    }
}

bool fl_dmn_is_dmn(const char *xml, size_t len)
{
    const char *end, *p, *name, *colon, *tag_end;
    char attr[80];
    size_t prefix_len = 0;

    if (!xml || len == 0)
        return false;
    if (len > FL_DMN_MAX_BYTES)
        len = FL_DMN_MAX_BYTES;
    end = xml + len;
    p = skip_prolog(xml, end);
    if (p >= end || *p != '<')
        return false;
    name = ++p;
    while (p < end && *p != ' ' && *p != '>' && *p != '/' && *p != '\t' && *p != '\r' && *p != '\n')
        p++;
    colon = memchr(name, ':', (size_t)(p - name));
    if (colon) {
        prefix_len = (size_t)(colon - name);
        name = colon + 1;
    }
    if ((size_t)(p - name) != 11 || memcmp(name, "definitions", 11))
        return false;
    if (prefix_len + 8 >= sizeof(attr))
        return false;
    tag_end = memchr(p, '>', (size_t)(end - p));
    if (!tag_end)
        return false;
    if (colon)
        snprintf(attr, sizeof(attr), "xmlns:%.*s", (int)prefix_len, colon - prefix_len);
    else
        snprintf(attr, sizeof(attr), "xmlns");
    /* find attr="..." inside the start tag */
    for (const char *q = p; q < tag_end; q++) {
        size_t k = strlen(attr);
        const char *v, *ve;
        char quote;
        if ((size_t)(tag_end - q) <= k || memcmp(q, attr, k) != 0 ||
            !(q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\n' || q[-1] == '\r'))
            continue;
        v = q + k;
        while (v < tag_end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
            v++;
        if (v >= tag_end || *v != '=')
            continue;
        v++;
        while (v < tag_end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
            v++;
        if (v >= tag_end || (*v != '"' && *v != '\''))
            continue;
        quote = *v++;
        ve = memchr(v, quote, (size_t)(tag_end - v));
        if (!ve)
            return false;
        return ns_is_dmn(v, (size_t)(ve - v));
    }
    return false;
}

/* ---- errors ---- */

int fl__dmn_feel(struct fl__bpmn_reader *rd, xmlNode *holder, bool unary, bool allow_empty,
                 const char *what, const char *owner, struct fl_feel_expr **out)
{
    xmlNode *text = fl__dmn_child(holder, "text");
    char *t = text ? fl__bpmn_text(text) : fl_strdup("");
    const char *a = t;
    size_t n;
    struct fl_error fe;
    int rc = 0;

    *out = NULL;
    while (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\n')
        a++;
    n = strlen(a);
    while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t' || a[n - 1] == '\r' || a[n - 1] == '\n'))
        n--;
    if (n == 0 || (unary && n == 1 && a[0] == '-')) {
        if (!allow_empty)
            rc = fl__bpmn_fail(rd, holder, FL_EMODEL, "%s of '%s' is empty", what, owner);
        goto out;
    }
    fl_error_clear(&fe);
    rc = unary ? fl_feel_compile_unary(a, n, out, &fe) : fl_feel_compile(a, n, out, &fe);
    if (rc < 0) {
        int line = 0, col = 0;
        if (rc == FL_EPARSE || rc == FL_EMODEL) {
            /* the offset is counted on the compiled text, which ends at a + n */
            char *src = fl_strndup(a, n);
            size_t off = (size_t)(a - t) + fl__bpmn_feel_offset(src, &fe);
            free(src);
            fl__bpmn_text_pos(rd, text, off, &line, &col);
        } else {
            fl__bpmn_node_pos(rd, holder, &line, &col);
        }
        rc = fl_error_set(rd->err, rc == FL_ETOOBIG ? FL_ETOOBIG : FL_EMODEL,
                          "syntax error in %s of '%s': %s", what, owner,
                          fe.msg[0] ? fe.msg : "invalid FEEL");
        fl_error_at(rd->err, owner, line, col);
        *out = NULL;
    }
out:
    free(t);
    return rc;
}

int fl__dmn_check_lang(struct fl__bpmn_reader *rd, xmlNode *el, const char *dflt, const char *owner)
{
    char *lang = fl__bpmn_attr(el, "expressionLanguage", NULL);
    const char *l = lang ? lang : dflt;
    int rc = 0;
    /* JUEL texts that are plain names ("amount") read the same in FEEL: only JUEL's
     * ${...} and other languages are refused */
    if (l && !fl__bpmn_lang_is_feel(l)) {
        xmlNode *text = fl__dmn_child(el, "text");
        char *t = text ? fl__bpmn_text(text) : NULL;
        bool juel = !strcasecmp(l, "juel") || strstr(l, "juel") != NULL;
        if (!juel || (t && (strstr(t, "${") || strstr(t, "#{"))))
            rc = fl__bpmn_fail_attr(rd, el, lang ? "expressionLanguage" : "id", FL_EUNSUPPORTED,
                                    "'%s' uses expression language '%s'; only FEEL is supported",
                                    owner, l);
        free(t);
    }
    free(lang);
    return rc;
}

/* ---- decisions ---- */

static const char *const unsupported_logic[][2] = {
    {"context", "a boxed context"},
    {"invocation", "a boxed invocation"},
    {"relation", "a relation"},
    {"list", "a boxed list"},
    {"functionDefinition", "a function definition"},
    {"conditional", "a boxed conditional"},
    {"filter", "a boxed filter"},
    {"for", "a boxed iterator"},
    {"some", "a boxed iterator"},
    {"every", "a boxed iterator"},
    {NULL, NULL},
};

static int read_literal(struct fl__bpmn_reader *rd, xmlNode *el, struct fl_dmn_decision *d,
                        const char *dflt_lang)
{
    int rc;
    char *type = fl__bpmn_attr(el, "typeRef", NULL);
    if (type && !d->var_type) {
        d->var_type = type;
        type = NULL;
    }
    free(type);
    if ((rc = fl__dmn_check_lang(rd, el, dflt_lang, d->id)) < 0)
        return rc;
    return fl__dmn_feel(rd, el, false, false, "the literal expression", d->id, &d->literal);
}

/* The decision id an href names ("#id"); NULL when it points into another document. */
static const char *href_id(const char *href)
{
    if (!href || href[0] != '#' || !href[1])
        return NULL;
    return href + 1;
}

struct pending_req {
    xmlNode *el;  /* the requiredDecision element */
    char *target; /* id it names */
};

static int read_decision(struct fl__bpmn_reader *rd, xmlNode *el, struct fl_dmn_decision *d,
                         const char *dflt_lang, struct pending_req **reqs, size_t *n_reqs,
                         size_t *cap_reqs)
{
    xmlNode *c, *logic = NULL;
    int rc = 0;

    d->id = fl__bpmn_id(el);
    d->name = fl__bpmn_attr(el, "name", NULL);
    fl__bpmn_node_pos(rd, el, &d->line, &d->column);
    if (!d->id || !d->id[0])
        return fl__bpmn_fail(rd, el, FL_EMODEL, "a decision has no id");
    if ((rc = fl__bpmn_claim_id(rd, el, d->id)) < 0)
        return rc;
    for (c = el->children; c; c = c->next) {
        if (!fl__dmn_in_ns(c))
            continue;
        if (fl__dmn_is(c, "variable")) {
            free(d->var_type);
            d->var_type = fl__bpmn_attr(c, "typeRef", NULL);
        } else if (fl__dmn_is(c, "informationRequirement")) {
            xmlNode *rq = fl__dmn_child(c, "requiredDecision");
            char *href;
            const char *id;
            if (!rq)
                continue; /* requiredInput: the variables come from the caller */
            href = fl__bpmn_attr(rq, "href", NULL);
            id = href_id(href);
            if (!id) {
                rc = fl__bpmn_fail_attr(rd, rq, "href", FL_EUNSUPPORTED,
                                        "decision '%s' requires '%s', which is not a decision "
                                        "of this document (href \"#id\")",
                                        d->id, href ? href : "");
                free(href);
                return rc;
            }
            fl_grow(reqs, cap_reqs, *n_reqs + 1, sizeof(**reqs));
            (*reqs)[*n_reqs].el = rq;
            (*reqs)[*n_reqs].target = fl_strdup(id);
            (*n_reqs)++;
            free(href);
        } else if (fl__dmn_is(c, "knowledgeRequirement")) {
            return fl__bpmn_fail(rd, c, FL_EUNSUPPORTED,
                                 "decision '%s' requires a business knowledge model, which is "
                                 "not supported",
                                 d->id);
        } else if (fl__dmn_is(c, "decisionTable") || fl__dmn_is(c, "literalExpression")) {
            if (logic)
                return fl__bpmn_fail(rd, c, FL_EMODEL, "decision '%s' has two decision logics",
                                     d->id);
            logic = c;
        } else {
            for (size_t i = 0; unsupported_logic[i][0]; i++)
                if (!strcmp((const char *)c->name, unsupported_logic[i][0]))
                    return fl__bpmn_fail(rd, c, FL_EUNSUPPORTED,
                                         "decision '%s' is %s; only decision tables and literal "
                                         "expressions are supported",
                                         d->id, unsupported_logic[i][1]);
        }
    }
    if (!logic)
        return fl__bpmn_fail(rd, el, FL_EMODEL,
                             "decision '%s' has neither a decision table nor a literal expression",
                             d->id);
    if (fl__dmn_is(logic, "literalExpression"))
        return read_literal(rd, logic, d, dflt_lang);
    d->table = fl_calloc(1, sizeof(*d->table));
    return fl__dmn_read_table(rd, logic, d, dflt_lang);
}

/* Depth-first walk of the requirements: 0, or FL_EMODEL on a cycle or too deep a chain. */
static int check_cycles(struct fl__bpmn_reader *rd, const struct fl_dmn_doc *doc, uint32_t i,
                        uint8_t *state, unsigned depth)
{
    const struct fl_dmn_decision *d = &doc->decisions[i];
    int rc;
    if (state[i] == 2)
        return 0;
    if (state[i] == 1) {
        rc = fl_error_set(rd->err, FL_EMODEL,
                          "decision '%s' requires itself (a cycle of "
                          "requirements)",
                          d->id);
        fl_error_at(rd->err, d->id, d->line, d->column);
        return rc;
    }
    if (depth > FL_DMN_MAX_DEPTH) {
        rc = fl_error_set(rd->err, FL_EMODEL,
                          "requirements of decision '%s' nest deeper than %d decisions", d->id,
                          FL_DMN_MAX_DEPTH);
        fl_error_at(rd->err, d->id, d->line, d->column);
        return rc;
    }
    state[i] = 1;
    for (size_t k = 0; k < d->n_required; k++)
        if ((rc = check_cycles(rd, doc, d->required[k], state, depth + 1)) < 0)
            return rc;
    state[i] = 2;
    return 0;
}

static int link_requirements(struct fl__bpmn_reader *rd, struct fl_dmn_doc *doc,
                             struct pending_req *reqs, size_t n_reqs, const size_t *owner)
{
    uint8_t *state;
    int rc = 0;
    for (size_t k = 0; k < n_reqs; k++) {
        struct fl_dmn_decision *d = &doc->decisions[owner[k]];
        uint32_t target = UINT32_MAX;
        for (size_t j = 0; j < doc->n_decisions; j++)
            if (!strcmp(doc->decisions[j].id, reqs[k].target))
                target = (uint32_t)j;
        if (target == UINT32_MAX)
            return fl__bpmn_fail_attr(rd, reqs[k].el, "href", FL_EMODEL,
                                      "decision '%s' requires '%s', which is not a decision of "
                                      "this document",
                                      d->id, reqs[k].target);
        d->required = fl_realloc(d->required, (d->n_required + 1) * sizeof(*d->required));
        d->required[d->n_required++] = target;
    }
    state = fl_calloc(doc->n_decisions ? doc->n_decisions : 1, 1);
    for (uint32_t i = 0; i < doc->n_decisions && rc == 0; i++)
        rc = check_cycles(rd, doc, i, state, 0);
    free(state);
    return rc;
}

static void free_table(struct fl_dmn_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_inputs; i++) {
        free(t->inputs[i].id);
        free(t->inputs[i].label);
        free(t->inputs[i].type_ref);
        free(t->inputs[i].var_name);
        fl_feel_free(t->inputs[i].expr);
        fl_feel_free(t->inputs[i].allowed);
    }
    for (size_t i = 0; i < t->n_outputs; i++) {
        struct fl_dmn_output *o = &t->outputs[i];
        free(o->id);
        free(o->name);
        free(o->label);
        free(o->type_ref);
        if (o->values)
            fl_value_free_frozen(o->values);
        fl_feel_free(o->default_value);
    }
    for (size_t r = 0; r < t->n_rules; r++) {
        struct fl_dmn_rule *rule = &t->rules[r];
        for (size_t i = 0; rule->inputs && i < t->n_inputs; i++)
            fl_feel_free(rule->inputs[i]);
        for (size_t i = 0; rule->outputs && i < t->n_outputs; i++)
            fl_feel_free(rule->outputs[i]);
        free(rule->inputs);
        free(rule->outputs);
        free(rule->id);
    }
    free(t->inputs);
    free(t->outputs);
    free(t->rules);
    free(t);
}

void fl_dmn_doc_free(struct fl_dmn_doc *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->n_decisions; i++) {
        struct fl_dmn_decision *d = &doc->decisions[i];
        free(d->id);
        free(d->name);
        free(d->var_type);
        free_table(d->table);
        fl_feel_free(d->literal);
        free(d->required);
    }
    for (size_t i = 0; i < doc->n_input_data; i++)
        free(doc->input_data[i]);
    free(doc->input_data);
    free(doc->decisions);
    free(doc->id);
    free(doc->name);
    free(doc->ns);
    free(doc);
}

const struct fl_dmn_decision *fl_dmn_find(const struct fl_dmn_doc *doc, const char *id)
{
    if (!doc || !id)
        return NULL;
    for (size_t i = 0; i < doc->n_decisions; i++)
        if (!strcmp(doc->decisions[i].id, id))
            return &doc->decisions[i];
    for (size_t i = 0; i < doc->n_decisions; i++)
        if (doc->decisions[i].name && !strcmp(doc->decisions[i].name, id))
            return &doc->decisions[i];
    return NULL;
}

static int read_root(struct fl__bpmn_reader *rd, xmlNode *root, struct fl_dmn_doc *doc)
{
    struct pending_req *reqs = NULL;
    size_t n_reqs = 0, cap_reqs = 0, cap = 0, cap_in = 0, *owner = NULL, cap_owner = 0;
    char *lang = fl__bpmn_attr(root, "expressionLanguage", NULL);
    xmlNode *c;
    int rc = 0;

    doc->id = fl__bpmn_id(root);
    doc->name = fl__bpmn_attr(root, "name", NULL);
    doc->ns = fl__bpmn_attr(root, "namespace", NULL);
    for (c = root->children; c && rc == 0; c = c->next) {
        if (fl__dmn_is(c, "decision")) {
            size_t before = n_reqs;
            fl_grow(&doc->decisions, &cap, doc->n_decisions + 1, sizeof(*doc->decisions));
            memset(&doc->decisions[doc->n_decisions], 0, sizeof(*doc->decisions));
            doc->decisions[doc->n_decisions].doc = doc;
            doc->n_decisions++;
            rc = read_decision(rd, c, &doc->decisions[doc->n_decisions - 1], lang, &reqs, &n_reqs,
                               &cap_reqs);
            fl_grow(&owner, &cap_owner, n_reqs + 1, sizeof(*owner));
            for (size_t k = before; k < n_reqs; k++)
                owner[k] = doc->n_decisions - 1;
        } else if (fl__dmn_is(c, "inputData")) {
            char *nm = fl__bpmn_attr(c, "name", NULL);
            if (!nm)
                nm = fl__bpmn_id(c);
            if (nm) {
                fl_grow(&doc->input_data, &cap_in, doc->n_input_data + 1, sizeof(*doc->input_data));
                doc->input_data[doc->n_input_data++] = nm;
            }
        }
        /* businessKnowledgeModel, decisionService, itemDefinition, knowledgeSource,
         * textAnnotation, DMNDI: read only where a decision uses them */
    }
    if (rc == 0 && doc->n_decisions == 0)
        rc = fl__bpmn_fail(rd, root, FL_EMODEL, "no decision in the document");
    if (rc == 0)
        rc = link_requirements(rd, doc, reqs, n_reqs, owner);
    for (size_t k = 0; k < n_reqs; k++)
        free(reqs[k].target);
    free(reqs);
    free(owner);
    free(lang);
    return rc;
}

int fl_dmn_read(const char *xml, size_t len, struct fl_dmn_doc **out, struct fl_error *err)
{
    struct fl__bpmn_reader rd;
    struct fl_dmn_doc *doc = NULL;
    struct fl_error scratch;
    xmlNode *root;
    int rc;

    *out = NULL;
    if (!err)
        err = &scratch;
    fl_error_clear(err);
    memset(&rd, 0, sizeof(rd));
    rd.xml = xml;
    rd.len = len;
    rd.err = err;
    if (len > FL_DMN_MAX_BYTES) {
        rc = fl_error_set(err, FL_ETOOBIG, "DMN document is %zu bytes, the limit is %zu", len,
                          FL_DMN_MAX_BYTES);
        goto out;
    }
    if (!xml || len == 0) {
        rc = fl_error_set(err, FL_EPARSE, "empty document");
        goto out;
    }
    xmlInitParser();
    if ((rc = fl__bpmn_parse(&rd)) < 0)
        goto out;
    if (rd.doc->intSubset && rd.doc->intSubset->entities &&
        xmlHashSize(rd.doc->intSubset->entities) > 0) {
        rc = fl_error_set(err, FL_EUNSUPPORTED, "DTD entity declarations are not supported");
        fl_error_at(err, NULL, 1, 1);
        goto out;
    }
    fl__bpmn_lines_init(&rd);
    fl__bpmn_index_tags(&rd);
    root = xmlDocGetRootElement(rd.doc);
    if (!fl__dmn_is(root, "definitions")) {
        rc = fl__bpmn_fail(&rd, root, FL_EMODEL,
                           "root element is '%s' in namespace '%s', expected DMN definitions "
                           "(DMN 1.1 to 1.5)",
                           root ? (const char *)root->name : "",
                           root && root->ns && root->ns->href ? (const char *)root->ns->href : "");
        goto out;
    }
    rd.ids = xmlHashCreate(64);
    doc = fl_calloc(1, sizeof(*doc));
    if ((rc = read_root(&rd, root, doc)) < 0)
        goto out;
    *out = doc;
    doc = NULL;
    rc = 0;
out:
    fl_dmn_doc_free(doc);
    if (rd.ids)
        xmlHashFree(rd.ids, NULL);
    if (rd.doc)
        xmlFreeDoc(rd.doc);
    free(rd.line_starts);
    free(rd.chars_before);
    return rc;
}
