/* Internals shared by the two halves of the FEEL parser: feel_parse.c (token helpers,
 * names, operator precedence levels) and feel_parse_forms.c (bracketed forms, contexts,
 * function definitions, iterations and type names). */
#ifndef FLOWD_CORE_FEEL_PARSE_IMPL_H
#define FLOWD_CORE_FEEL_PARSE_IMPL_H

#include "core/feel_impl.h"

#define FLAG_USES_Q 4 /* N_TEST_CMP flag: the expression refers to '?' */

struct parser {
    const char *src;
    const struct feel_token *t;
    size_t n, pos;
    struct fl_error *err;
    int depth;
    int failed;
    bool saw_q;
};

const struct feel_token *fl__fp_peek(struct parser *p);
const struct feel_token *fl__fp_peek_at(struct parser *p, size_t k);
const struct feel_token *fl__fp_advance(struct parser *p);
bool fl__fp_is_word(const struct feel_token *t, const char *w);
bool fl__fp_is_keyword(const struct feel_token *t);
bool fl__fp_is_cmp(int kind);
/* Record a syntax error at col (first one wins); returns NULL. */
struct feel_node *fl__fp_fail_at(struct parser *p, int col, const char *msg);
/* Syntax error at the current token: "unexpected 'x', expected <what>"; returns NULL. */
struct feel_node *fl__fp_unexpected(struct parser *p, const char *what);
/* Consume a token of kind or record an error. */
bool fl__fp_expect(struct parser *p, int kind, const char *what);
bool fl__fp_enter(struct parser *p);
struct feel_node *fl__fp_node_new(int kind, int col);
void fl__fp_add_kid(struct feel_node *n, struct feel_node *k);
void fl__fp_add_name(struct feel_node *n, const char *s, size_t len);
struct feel_node *fl__fp_lit_node(struct fl_value *v, int col);
/* Join the words at the current token into one FEEL name (see feel_parse.c). */
void fl__fp_collect_name(struct parser *p, struct fl_buf *name, bool stop_at_keywords);

struct feel_node *fl__fp_parse_expr(struct parser *p);
struct feel_node *fl__fp_parse_add(struct parser *p);
struct feel_node *fl__fp_parse_unary_test(struct parser *p);

/* feel_parse_forms.c */
struct feel_node *fl__fp_parse_type(struct parser *p);
struct feel_node *fl__fp_parse_iteration(struct parser *p, int kind, const char *body_kw);
struct feel_node *fl__fp_parse_context(struct parser *p);
struct feel_node *fl__fp_parse_funcdef(struct parser *p);
struct feel_node *fl__fp_parse_paren(struct parser *p);
struct feel_node *fl__fp_parse_bracket(struct parser *p);

#endif
