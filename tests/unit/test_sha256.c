/* Unit tests of src/util/sha256.c against the FIPS 180-2 appendix B vectors, plus
 * incremental hashing split at every offset (the block-boundary paths). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowd/sha256.h"

static void test_fips_vectors(void **state)
{
    char hex[65];
    (void)state;
    fl_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    fl_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    fl_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_million_a(void **state)
{
    struct fl_sha256 c;
    unsigned char d[32], chunk[1000];
    static const unsigned char want[32] = {0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92,
                                           0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
                                           0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e,
                                           0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    int i;
    (void)state;
    memset(chunk, 'a', sizeof(chunk));
    fl_sha256_init(&c);
    for (i = 0; i < 1000; i++)
        fl_sha256_update(&c, chunk, sizeof(chunk));
    fl_sha256_final(&c, d);
    assert_memory_equal(d, want, 32);
}

static void test_split_updates(void **state)
{
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
                      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    size_t n = strlen(msg), cut;
    unsigned char whole[32], part[32];
    struct fl_sha256 c;
    (void)state;
    fl_sha256_init(&c);
    fl_sha256_update(&c, msg, n);
    fl_sha256_final(&c, whole);
    for (cut = 0; cut <= n; cut++) {
        fl_sha256_init(&c);
        fl_sha256_update(&c, msg, cut);
        fl_sha256_update(&c, msg + cut, n - cut);
        fl_sha256_final(&c, part);
        assert_memory_equal(whole, part, 32);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_split_updates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
