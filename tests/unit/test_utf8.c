/* Unit tests of the shared UTF-8 helpers (src/util/utf8.h): encoding at every length
 * boundary, decoding with its rejections (overlong, surrogate, truncated, bad
 * continuation, past U+10FFFF), whole-buffer validation, and an encode/decode round trip
 * over every scalar value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/utf8.h"

/* Decode s (n bytes) expecting a code point of want, taking all n bytes. */
static void expect_decode(const char *s, size_t n, uint32_t want)
{
    uint32_t cp = 0xFFFFFFFF;
    assert_int_equal(fl_utf8_decode(s, n, &cp), n);
    assert_int_equal(cp, want);
    assert_true(fl_utf8_valid(s, n));
}

/* s (n bytes) must be rejected by both the decoder and the validator. */
static void expect_bad(const char *s, size_t n)
{
    uint32_t cp = 0x1234;
    assert_int_equal(fl_utf8_decode(s, n, &cp), 0);
    assert_int_equal(cp, 0x1234); /* untouched on failure */
    assert_false(fl_utf8_valid(s, n));
}

static void test_encode_boundaries(void **state)
{
    static const struct {
        uint32_t cp;
        const char *utf8;
    } cases[] = {
        {0x00, "\x00"},
        {0x41, "A"},
        {0x7F, "\x7F"},
        {0x80, "\xC2\x80"},
        {0x7FF, "\xDF\xBF"},
        {0x800, "\xE0\xA0\x80"},
        {0xD7FF, "\xED\x9F\xBF"},
        {0xE000, "\xEE\x80\x80"},
        {0xFFFF, "\xEF\xBF\xBF"},
        {0x10000, "\xF0\x90\x80\x80"},
        {0x1F600, "\xF0\x9F\x98\x80"},
        {0x10FFFF, "\xF4\x8F\xBF\xBF"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[FL_UTF8_MAX];
        size_t want = cases[i].cp == 0 ? 1 : strlen(cases[i].utf8);
        assert_int_equal(fl_utf8_encode(cases[i].cp, out), want);
        assert_memory_equal(out, cases[i].utf8, want);
        expect_decode(cases[i].utf8, want, cases[i].cp);
    }
}

static void test_put_appends(void **state)
{
    struct fl_buf b = FL_BUF_INIT;
    (void)state;
    fl_buf_adds(&b, "x");
    fl_utf8_put(&b, 0xE9);
    fl_utf8_put(&b, 0x20AC);
    fl_utf8_put(&b, 0x1D11E);
    assert_int_equal(b.len, 1 + 2 + 3 + 4);
    assert_string_equal(b.ptr, "x\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E");
    fl_buf_release(&b);
}

static void test_overlong(void **state)
{
    (void)state;
    expect_bad("\xC0\x80", 2);         /* U+0000 in two bytes */
    expect_bad("\xC1\xBF", 2);         /* U+007F in two bytes */
    expect_bad("\xE0\x80\x80", 3);     /* U+0000 in three */
    expect_bad("\xE0\x9F\xBF", 3);     /* U+07FF in three */
    expect_bad("\xF0\x80\x80\x80", 4); /* U+0000 in four */
    expect_bad("\xF0\x8F\xBF\xBF", 4); /* U+FFFF in four */
}

static void test_surrogates(void **state)
{
    (void)state;
    expect_bad("\xED\xA0\x80", 3);             /* U+D800 */
    expect_bad("\xED\xAF\xBF", 3);             /* U+DBFF */
    expect_bad("\xED\xB0\x80", 3);             /* U+DC00 */
    expect_bad("\xED\xBF\xBF", 3);             /* U+DFFF */
    expect_bad("\xED\xA0\xBD\xED\xB8\x80", 6); /* CESU-8 pair */
}

static void test_past_max(void **state)
{
    (void)state;
    expect_bad("\xF4\x90\x80\x80", 4);     /* U+110000 */
    expect_bad("\xF7\xBF\xBF\xBF", 4);     /* U+1FFFFF */
    expect_bad("\xF8\x88\x80\x80\x80", 5); /* five-byte form */
    expect_bad("\xFC\x84\x80\x80\x80\x80", 6);
    expect_bad("\xFE", 1);
    expect_bad("\xFF", 1);
}

static void test_truncated_and_bad_continuation(void **state)
{
    (void)state;
    expect_bad("\xC3", 1);
    expect_bad("\xE2\x82", 2);
    expect_bad("\xF0\x9F\x98", 3);
    expect_bad("\xF0", 1);
    expect_bad("\x80", 1); /* lone continuation byte */
    expect_bad("\xBF", 1);
    expect_bad("\xC3\x28", 2); /* continuation replaced by ASCII */
    expect_bad("\xE2\x28\xA1", 3);
    expect_bad("\xE2\x82\x28", 3);
    expect_bad("\xF0\x9F\x28\x80", 4);
    /* The length bounds the read even when more bytes follow in memory. */
    uint32_t cp;
    assert_int_equal(fl_utf8_decode("\xE2\x82\xAC", 2, &cp), 0);
    assert_int_equal(fl_utf8_decode("", 0, &cp), 0);
}

static void test_valid_buffers(void **state)
{
    (void)state;
    assert_true(fl_utf8_valid("", 0));
    assert_true(fl_utf8_valid(NULL, 0));
    assert_true(fl_utf8_valid("a\0b", 3)); /* NUL is a code point */
    assert_true(fl_utf8_valid("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80!", 14));
    /* One bad byte anywhere spoils the buffer, including the last. */
    assert_false(fl_utf8_valid("caf\xC3\xA9\xC3", 6));
    assert_false(fl_utf8_valid("\x80"
                               "abc",
                               4));
    assert_false(fl_utf8_valid("ab\xED\xA0\x80"
                               "cd",
                               7));
    /* A valid prefix of a longer buffer is judged on its own length only. */
    assert_true(fl_utf8_valid("ab\xC3\xA9\xC3", 4));
}

static void test_round_trip_all_scalars(void **state)
{
    (void)state;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        char out[FL_UTF8_MAX];
        uint32_t back = 0xFFFFFFFF;
        if (cp == 0xD800)
            cp = 0xE000; /* surrogates are not scalar values */
        size_t n = fl_utf8_encode(cp, out);
        if (fl_utf8_decode(out, n, &back) != n || back != cp)
            fail_msg("round trip of U+%04X failed", (unsigned)cp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_boundaries),
        cmocka_unit_test(test_put_appends),
        cmocka_unit_test(test_overlong),
        cmocka_unit_test(test_surrogates),
        cmocka_unit_test(test_past_max),
        cmocka_unit_test(test_truncated_and_bad_continuation),
        cmocka_unit_test(test_valid_buffers),
        cmocka_unit_test(test_round_trip_all_scalars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
