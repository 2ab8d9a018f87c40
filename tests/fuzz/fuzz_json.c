/* libFuzzer target for the JSON codec: whatever parses must write back to JSON that parses
 * again to an equal value (the round trip the store relies on), and errors must carry a
 * position. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowd/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fl_value *v = NULL, *again = NULL;
    struct fl_error err;
    struct fl_buf b = FL_BUF_INIT;
    if (fl_value_from_json((const char *)data, size, &v, &err)) {
        if (err.line < 1 || err.column < 1)
            abort();
        return 0;
    }
    if (fl_value_to_json(v, &b))
        abort();
    if (fl_value_from_json(b.ptr, b.len, &again, &err))
        abort();
    if (!fl_value_equal(v, again))
        abort();
    fl_buf_reset(&b);
    fl_value_to_text(v, &b);
    fl_buf_release(&b);
    fl_value_unref(v);
    fl_value_unref(again);
    return 0;
}
