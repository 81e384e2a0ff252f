/* SHA-256 against FIPS 180-4 / NIST vectors and hashlib-computed values. */
#include <string.h>
#include <apr_strings.h>

#include "tests.h"
#include "orm_sha256.h"

static const char *hex_of(const unsigned char *digest)
{
    static const char hexdigits[] = "0123456789abcdef";
    char *hex = apr_palloc(test_pool, ORM_SHA256_HEX_LEN + 1);
    int i;

    for (i = 0; i < ORM_SHA256_DIGEST_LEN; i++) {
        hex[i * 2] = hexdigits[digest[i] >> 4];
        hex[i * 2 + 1] = hexdigits[digest[i] & 0x0f];
    }
    hex[ORM_SHA256_HEX_LEN] = '\0';
    return hex;
}

/* Digest computed through init/update/final with the given chunk size. */
static const char *chunked_hex(const unsigned char *data, apr_size_t len,
                               apr_size_t chunk)
{
    orm_sha256_ctx ctx;
    unsigned char digest[ORM_SHA256_DIGEST_LEN];
    apr_size_t off = 0;

    orm_sha256_init(&ctx);
    while (off < len) {
        apr_size_t n = len - off < chunk ? len - off : chunk;
        orm_sha256_update(&ctx, data + off, n);
        off += n;
    }
    orm_sha256_final(&ctx, digest);
    return hex_of(digest);
}

START_TEST(test_sha256_empty)
{
    const char *expected =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    orm_sha256_ctx ctx;
    unsigned char digest[ORM_SHA256_DIGEST_LEN];

    ck_assert_str_eq(orm_sha256_hex(test_pool, "", 0), expected);

    orm_sha256_init(&ctx);
    orm_sha256_final(&ctx, digest);
    ck_assert_str_eq(hex_of(digest), expected);
    ck_assert_uint_eq(digest[0], 0xe3);
    ck_assert_uint_eq(digest[31], 0x55);
}
END_TEST

START_TEST(test_sha256_abc)
{
    ck_assert_str_eq(orm_sha256_hex(test_pool, "abc", 3),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_sha256_448_bits)
{
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    ck_assert_uint_eq(strlen(msg), 56);
    ck_assert_str_eq(orm_sha256_hex(test_pool, msg, strlen(msg)),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_sha256_896_bits)
{
    const char *msg = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                      "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

    ck_assert_uint_eq(strlen(msg), 112);
    ck_assert_str_eq(orm_sha256_hex(test_pool, msg, strlen(msg)),
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

START_TEST(test_sha256_million_a)
{
    const char *expected =
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    unsigned char *a = apr_palloc(test_pool, 1000000);
    orm_sha256_ctx ctx;
    unsigned char digest[ORM_SHA256_DIGEST_LEN];
    int i;

    memset(a, 'a', 1000000);
    /* 1000 updates of 1000 bytes: never aligned on the 64-byte block */
    orm_sha256_init(&ctx);
    for (i = 0; i < 1000; i++) {
        orm_sha256_update(&ctx, a, 1000);
    }
    orm_sha256_final(&ctx, digest);
    ck_assert_str_eq(hex_of(digest), expected);

    /* odd-sized chunks, and the whole at once */
    ck_assert_str_eq(chunked_hex(a, 1000000, 7), expected);
    ck_assert_str_eq(orm_sha256_hex(test_pool, a, 1000000), expected);
}
END_TEST

/* Lengths around the padding boundary: 55 fits the length in the last
 * block, 56..63 need an extra block, 64 is exactly one block. */
START_TEST(test_sha256_padding_boundaries)
{
    static const struct { apr_size_t len; const char *hex; } cases[] = {
        { 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
        { 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
        { 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
        { 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
        { 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
    };
    unsigned char a[65];
    size_t i;

    memset(a, 'a', sizeof(a));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_str_eq(orm_sha256_hex(test_pool, a, cases[i].len),
                         cases[i].hex);
        ck_assert_str_eq(chunked_hex(a, cases[i].len, 1), cases[i].hex);
    }
}
END_TEST

START_TEST(test_sha256_chunked_equals_oneshot)
{
    /* bytes 0..255 four times: every byte value, 16 blocks */
    const char *expected =
        "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9";
    static const apr_size_t chunks[] = { 1, 2, 3, 31, 55, 56, 63, 64, 65,
                                         127, 128, 129, 1000, 1024 };
    unsigned char data[1024];
    const char *oneshot;
    size_t i;

    for (i = 0; i < sizeof(data); i++) {
        data[i] = (unsigned char)i;
    }
    oneshot = orm_sha256_hex(test_pool, data, sizeof(data));
    ck_assert_str_eq(oneshot, expected);
    for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        ck_assert_str_eq(chunked_hex(data, sizeof(data), chunks[i]), oneshot);
    }
}
END_TEST

START_TEST(test_sha256_irregular_updates_and_empty_updates)
{
    static const apr_size_t sizes[] = { 0, 5, 0, 59, 1, 64, 0, 200, 3, 692 };
    unsigned char data[1024];
    unsigned char digest[ORM_SHA256_DIGEST_LEN];
    orm_sha256_ctx ctx;
    apr_size_t off = 0;
    size_t i;

    for (i = 0; i < sizeof(data); i++) {
        data[i] = (unsigned char)i;
    }
    orm_sha256_init(&ctx);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        orm_sha256_update(&ctx, data + off, sizes[i]);
        off += sizes[i];
    }
    ck_assert_uint_eq(off, sizeof(data));
    orm_sha256_final(&ctx, digest);
    ck_assert_str_eq(hex_of(digest),
        "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9");
}
END_TEST

START_TEST(test_sha256_reinit_reuses_context)
{
    orm_sha256_ctx ctx;
    unsigned char digest[ORM_SHA256_DIGEST_LEN];

    orm_sha256_init(&ctx);
    orm_sha256_update(&ctx, "something else entirely", 23);
    orm_sha256_final(&ctx, digest);
    orm_sha256_init(&ctx);
    orm_sha256_update(&ctx, "abc", 3);
    orm_sha256_final(&ctx, digest);
    ck_assert_str_eq(hex_of(digest),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_sha256_hex_format)
{
    /* all-0xff input, and a digest with high nibbles a..f: lower-case only */
    const char *samples[] = { "abc", "", "The quick brown fox", "\xff\xfe" };
    size_t i;

    for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        unsigned char digest[ORM_SHA256_DIGEST_LEN];
        orm_sha256_ctx ctx;
        const char *hex = orm_sha256_hex(test_pool, samples[i],
                                         strlen(samples[i]));
        size_t j;

        ck_assert_uint_eq(strlen(hex), ORM_SHA256_HEX_LEN);
        ck_assert_uint_eq(strlen(hex), 64);
        for (j = 0; j < 64; j++) {
            ck_assert_msg((hex[j] >= '0' && hex[j] <= '9')
                          || (hex[j] >= 'a' && hex[j] <= 'f'),
                          "char %u of '%s' is not lower-case hex",
                          (unsigned)j, hex);
        }
        orm_sha256_init(&ctx);
        orm_sha256_update(&ctx, samples[i], strlen(samples[i]));
        orm_sha256_final(&ctx, digest);
        ck_assert_str_eq(hex, hex_of(digest));
    }
    /* distinct inputs, distinct digests (a constant output would pass the
     * format checks above) */
    ck_assert_str_ne(orm_sha256_hex(test_pool, "a", 1),
                     orm_sha256_hex(test_pool, "b", 1));
    /* length, not NUL, ends the input */
    ck_assert_str_ne(orm_sha256_hex(test_pool, "a\0b", 3),
                     orm_sha256_hex(test_pool, "a", 1));
}
END_TEST

TCase *tcase_sha256(void)
{
    TCase *tc = tcase_create("sha256");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_sha256_empty);
    tcase_add_test(tc, test_sha256_abc);
    tcase_add_test(tc, test_sha256_448_bits);
    tcase_add_test(tc, test_sha256_896_bits);
    tcase_add_test(tc, test_sha256_million_a);
    tcase_add_test(tc, test_sha256_padding_boundaries);
    tcase_add_test(tc, test_sha256_chunked_equals_oneshot);
    tcase_add_test(tc, test_sha256_irregular_updates_and_empty_updates);
    tcase_add_test(tc, test_sha256_reinit_reuses_context);
    tcase_add_test(tc, test_sha256_hex_format);
    return tc;
}
