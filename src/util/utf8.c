/* Whole-buffer UTF-8 validation; the per-code-point helpers are inline in utf8.h. Kept
 * out of line because it is a loop called once per string, not per character. */
#include "util/utf8.h"

bool fl_utf8_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n;
        if ((unsigned char)s[i] < 0x80) { /* ASCII runs are the common case */
            i++;
            continue;
        }
        n = fl_utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}
