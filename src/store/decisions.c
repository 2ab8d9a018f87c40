/* The store front for DMN decisions (flowd/store.h, "decisions"): argument checks, then the
 * back end. Decisions are versioned by id like process definitions; the back end keeps the
 * whole DMN document in each row, so a decision is always compiled with the decisions it
 * requires. */
#include <stdint.h>

#include "store/store_impl.h"

int fl_store_decision_put(struct fl_store *s, const char *key, const char *name, const char *xml,
                          size_t xml_len, int64_t now_ms, struct fl_definition_row *out,
                          bool *created, struct fl_error *err)
{
    if (!key || !*key || !xml)
        return fl_error_set(err, FL_EINVAL, "decision needs a key and xml");
    if (xml_len > (size_t)INT32_MAX)
        return fl_error_set(err, FL_ETOOBIG, "decision '%s' too large", key);
    return s->ops->decision_put(s, key, name, xml, xml_len, now_ms, out, created, err);
}

int fl_store_decision_get(struct fl_store *s, const char *key, int32_t version, uint64_t id,
                          struct fl_definition_row *out, struct fl_error *err)
{
    return s->ops->decision_get(s, key, version, id, out, err);
}

int fl_store_decision_head(struct fl_store *s, const char *key, uint64_t *id, char checksum[65],
                           struct fl_error *err)
{
    if (!key || !*key)
        return fl_error_set(err, FL_EINVAL, "decision key missing");
    return s->ops->decision_head(s, key, id, checksum, err);
}

int fl_store_decision_list(struct fl_store *s, struct fl_definition_row **rows, size_t *n,
                           struct fl_error *err)
{
    return s->ops->decision_list(s, rows, n, err);
}
