/* Internals of the DMN reader shared by its files (dmn.c: document and decisions,
 * dmn_table.c: decision tables). It reuses the BPMN reader's parser and source positions,
 * so both speak of lines and columns the same way. Nothing here is visible outside
 * src/core/dmn*.c. */
#ifndef FLOWD_CORE_DMN_INT_H
#define FLOWD_CORE_DMN_INT_H

#include <stdbool.h>

#include "core/bpmn_internal.h"
#include "flowd/dmn.h"

#define FL__NS_CAMUNDA_DMN "http://camunda.org/schema/1.0/dmn"

/* True when node is an element in a DMN namespace (named local). */
bool fl__dmn_in_ns(const xmlNode *node);
bool fl__dmn_is(const xmlNode *node, const char *local);

/* First child element named local in a DMN namespace, or NULL. */
xmlNode *fl__dmn_child(const xmlNode *node, const char *local);

/* Compile the <text> child of holder as FEEL (unary: as unary tests, where "-" means
 * anything). Empty text: *out NULL, an error unless allow_empty. A syntax error is
 * FL_EMODEL at its line and column, naming what and owner. */
int fl__dmn_feel(struct fl__bpmn_reader *rd, xmlNode *holder, bool unary, bool allow_empty,
                 const char *what, const char *owner, struct fl_feel_expr **out);

/* FL_EUNSUPPORTED when el's expressionLanguage (or dflt) is not FEEL -- JUEL texts without
 * ${...} are let through, since a plain name reads the same in both. */
int fl__dmn_check_lang(struct fl__bpmn_reader *rd, xmlNode *el, const char *dflt,
                       const char *owner);

/* Read decisionTable el into d->table (allocated, zeroed). */
int fl__dmn_read_table(struct fl__bpmn_reader *rd, xmlNode *el, struct fl_dmn_decision *d,
                       const char *dflt_lang);

#endif
