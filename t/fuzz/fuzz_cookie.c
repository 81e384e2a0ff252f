/* libFuzzer harness: what a client sends in the cookie and what an admin
 * writes after SessionORMCookieName.
 *
 * Properties checked (abort on violation):
 *  - orm_token_is_wellformed(data, len) is true exactly when data is 43
 *    base64url characters that are the canonical encoding of 32 bytes
 *    (decoding and re-encoding gives the same text); a well-formed token's
 *    digest is 64 lower-case hex characters, equal to SHA-256 of the token
 *    and distinct from the per-user digest of the same text.
 *  - orm_base64url_encode of any bytes decodes back to them, has the
 *    unpadded length, and 32 bytes always make a well-formed token;
 *    orm_token_generate returns exactly that encoding of its random bytes.
 *  - SHA-256 fed in input-chosen chunks equals the one-shot digest (and
 *    OpenSSL's, when built with ORM_FUZZ_HAVE_OPENSSL).
 *  - orm_cookie_name_check accepts exactly the non-empty RFC 6265 tokens.
 *  - orm_cookie_attrs_parse rejects every item whose name is not a known
 *    attribute (and Max-Age/Expires); when it accepts, the attributes are
 *    sane, parsing again is idempotent, re-serialising them parses back to
 *    the same attributes, and orm_cookie_header's value has only printable
 *    ASCII (no CR/LF/NUL/controls), exactly the expected attributes in
 *    order, and no ';' ',' '"' or space inside any attribute value.
 */
#include <stdint.h>
#include <ctype.h>
#include <strings.h>

#include "fuzz_common.h"
#include "orm_token.h"
#include "orm_sha256.h"
#include "orm_cookie.h"
#include "orm_ttl.h"

#ifdef ORM_FUZZ_HAVE_OPENSSL
#include <openssl/sha.h>
#endif

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_index(unsigned char c)
{
    const char *p = c ? strchr(b64url, c) : NULL;
    return p ? (int)(p - b64url) : -1;
}

/* Independent unpadded base64url decoder; returns the byte count or -1. */
static long b64url_decode(unsigned char *out, const char *in, size_t len)
{
    size_t i, n = 0;
    unsigned int acc = 0;
    int bits = 0;

    if (len % 4 == 1) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        int v = b64_index((unsigned char)in[i]);
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    return (long)n;
}

static int is_lower_hex(const char *s, size_t len)
{
    size_t i;

    if (s == NULL || strlen(s) != len) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static const unsigned char *random_source;

static apr_status_t fake_random(unsigned char *buf, apr_size_t len)
{
    memcpy(buf, random_source, len);
    return APR_SUCCESS;
}

static void check_token(apr_pool_t *pool, const uint8_t *data, size_t size)
{
    const char *value = (const char *)data;
    int wf = orm_token_is_wellformed(value, size);
    int expected = 0;

    FUZZ_REQUIRE(orm_token_is_wellformed(NULL, size) == 0, "NULL accepted");
    if (size == ORM_TOKEN_LEN) {
        unsigned char raw[ORM_TOKEN_LEN];
        char again[ORM_TOKEN_LEN + 4];
        long n = b64url_decode(raw, value, size);

        if (n == ORM_TOKEN_BYTES) {
            orm_base64url_encode(again, raw, ORM_TOKEN_BYTES);
            expected = memcmp(again, value, ORM_TOKEN_LEN) == 0;
        }
    }
    FUZZ_REQUIRE(wf == expected, "orm_token_is_wellformed(%s, %zu) = %d, "
                 "expected %d", fuzz_show(pool, fuzz_cstr(pool, data, size)),
                 size, wf, expected);
    if (wf) {
        char *token = fuzz_cstr(pool, data, size);
        const char *digest = orm_token_digest(pool, token);
        const char *user = orm_user_digest(pool, token);
        size_t i;

        FUZZ_REQUIRE(size == ORM_TOKEN_LEN && strlen(token) == size,
                     "well-formed token of length %zu", size);
        for (i = 0; i < size; i++) {
            FUZZ_REQUIRE(b64_index((unsigned char)token[i]) >= 0,
                         "character %zu of a well-formed token is 0x%02x", i,
                         (unsigned char)token[i]);
        }
        FUZZ_REQUIRE(is_lower_hex(digest, ORM_SHA256_HEX_LEN),
                     "digest %s is not 64 lower-case hex characters",
                     fuzz_show(pool, digest));
        FUZZ_REQUIRE(!strcmp(digest, orm_sha256_hex(pool, token, size)),
                     "token digest is not SHA-256 of the token");
        FUZZ_REQUIRE(is_lower_hex(user, ORM_SHA256_HEX_LEN)
                     && strcmp(user, digest) != 0,
                     "user digest %s vs token digest %s",
                     fuzz_show(pool, user), digest);
    }
}

static void check_base64url(apr_pool_t *pool, const uint8_t *data,
                            size_t size)
{
    size_t len = size > 96 ? 96 : size;
    char *enc = apr_palloc(pool, 4 * len / 3 + 3);
    unsigned char *dec = apr_palloc(pool, len + 3);
    long n;

    orm_base64url_encode(enc, data, len);
    FUZZ_REQUIRE(strlen(enc) == (4 * len + 2) / 3,
                 "encoding of %zu bytes has %zu characters", len,
                 strlen(enc));
    n = b64url_decode(dec, enc, strlen(enc));
    FUZZ_REQUIRE(n == (long)len && memcmp(dec, data, len) == 0,
                 "base64url of %zu bytes does not decode back (got %ld)",
                 len, n);
    if (size >= ORM_TOKEN_BYTES) {
        const char *token = NULL;

        orm_base64url_encode(enc, data, ORM_TOKEN_BYTES);
        FUZZ_REQUIRE(orm_token_is_wellformed(enc, strlen(enc)),
                     "encoding of 32 bytes %s is not a well-formed token",
                     fuzz_show(pool, enc));
        random_source = data;
        FUZZ_REQUIRE(orm_token_generate(pool, fake_random, &token)
                     == APR_SUCCESS && token != NULL,
                     "orm_token_generate failed");
        FUZZ_REQUIRE(!strcmp(token, enc), "generated %s, expected %s",
                     fuzz_show(pool, token), fuzz_show(pool, enc));
    }
}

static void check_sha256(apr_pool_t *pool, const uint8_t *data, size_t size)
{
    unsigned char one_shot[ORM_SHA256_DIGEST_LEN];
    unsigned char chunked[ORM_SHA256_DIGEST_LEN];
    orm_sha256_ctx ctx;
    size_t pos = 0, k = 0;
    char *hex;
    int i;

    orm_sha256_init(&ctx);
    orm_sha256_update(&ctx, data, size);
    orm_sha256_final(&ctx, one_shot);

    /* chunk lengths taken from the data itself, including empty updates */
    orm_sha256_init(&ctx);
    while (pos < size) {
        size_t chunk = size ? data[k++ % size] % 131 : 0;
        if (chunk > size - pos) {
            chunk = size - pos;
        }
        orm_sha256_update(&ctx, data + pos, chunk);
        pos += chunk;
        if (k > 4 * size + 16) {            /* many zero-length chunks */
            orm_sha256_update(&ctx, data + pos, size - pos);
            pos = size;
        }
    }
    orm_sha256_final(&ctx, chunked);
    FUZZ_REQUIRE(!memcmp(one_shot, chunked, sizeof(one_shot)),
                 "chunked SHA-256 of %zu bytes differs from one-shot", size);

    hex = orm_sha256_hex(pool, data, size);
    FUZZ_REQUIRE(is_lower_hex(hex, ORM_SHA256_HEX_LEN), "hex digest %s",
                 fuzz_show(pool, hex));
    for (i = 0; i < ORM_SHA256_DIGEST_LEN; i++) {
        char two[3];
        snprintf(two, sizeof(two), "%02x", one_shot[i]);
        FUZZ_REQUIRE(hex[2 * i] == two[0] && hex[2 * i + 1] == two[1],
                     "orm_sha256_hex differs from the raw digest at byte %d",
                     i);
    }
#ifdef ORM_FUZZ_HAVE_OPENSSL
    {
        unsigned char reference[SHA256_DIGEST_LENGTH];
        SHA256(data, size, reference);
        FUZZ_REQUIRE(!memcmp(reference, one_shot, sizeof(reference)),
                     "SHA-256 of %zu bytes differs from OpenSSL's", size);
    }
#endif
}

static int is_token_char_ref(unsigned char c)
{
    static const char separators[] = "()<>@,;:\\\"/[]?={} \t";

    return c >= 0x21 && c <= 0x7e && strchr(separators, c) == NULL;
}

static int name_ok_ref(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;

    if (*p == '\0') {
        return 0;
    }
    for (; *p; p++) {
        if (!is_token_char_ref(*p)) {
            return 0;
        }
    }
    return 1;
}

/* Trimmed copy of [start, end) with C-locale white space removed. */
static char *trim_ref(apr_pool_t *pool, const char *start, const char *end)
{
    while (start < end && isspace((unsigned char)*start)) {
        start++;
    }
    while (end > start && isspace((unsigned char)end[-1])) {
        end--;
    }
    return apr_pstrmemdup(pool, start, end - start);
}

/* 1 when some ';'-separated item names something that must be refused. */
static int has_forbidden_item(apr_pool_t *pool, const char *arg)
{
    static const char *const known[] = {
        "path", "domain", "samesite", "secure", "httponly", "partitioned",
        "version"
    };
    const char *p = arg;

    for (;;) {
        const char *end = strchr(p, ';');
        const char *stop = end ? end : p + strlen(p);
        const char *eq = memchr(p, '=', stop - p);
        char *item = trim_ref(pool, p, stop);
        char *name = trim_ref(pool, p, eq ? eq : stop);

        if (*item != '\0') {
            size_t i;
            int found = 0;
            for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
                found |= !strcasecmp(name, known[i]);
            }
            if (!found) {
                return 1;
            }
        }
        if (end == NULL) {
            return 0;
        }
        p = end + 1;
    }
}

static int value_is_plain_ref(const char *v)
{
    const unsigned char *p = (const unsigned char *)v;

    if (v == NULL || *p == '\0') {
        return 0;
    }
    for (; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == ';' || *p == ',' || *p == '"') {
            return 0;
        }
    }
    return 1;
}

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && !strcmp(a, b));
}

static int same_attrs(const orm_cookie_attrs_t *a, const orm_cookie_attrs_t *b)
{
    return same_str(a->path, b->path) && same_str(a->domain, b->domain)
        && same_str(a->same_site, b->same_site)
        && a->http_only == b->http_only && a->secure == b->secure
        && a->partitioned == b->partitioned
        && a->version_ignored == b->version_ignored;
}

static const char *flag_text(orm_flag_e f)
{
    return f == ORM_FLAG_ON ? "On" : "Off";
}

/* The attributes written back as one directive argument. */
static const char *serialise(apr_pool_t *pool, const orm_cookie_attrs_t *a)
{
    const char *s = "";

    if (a->path) {
        s = apr_pstrcat(pool, s, "Path=", a->path, ";", NULL);
    }
    if (a->domain) {
        s = apr_pstrcat(pool, s, " Domain = ", a->domain, " ; ", NULL);
    }
    if (a->same_site) {
        s = apr_pstrcat(pool, s, "samesite=", a->same_site, ";", NULL);
    }
    if (a->http_only != ORM_FLAG_UNSET) {
        s = apr_pstrcat(pool, s, "HTTPONLY=", flag_text(a->http_only), ";",
                        NULL);
    }
    if (a->secure != ORM_FLAG_UNSET) {
        s = apr_pstrcat(pool, s, "\tSecure=", flag_text(a->secure), ";",
                        NULL);
    }
    if (a->partitioned != ORM_FLAG_UNSET) {
        s = apr_pstrcat(pool, s, "partitioned=", flag_text(a->partitioned),
                        ";", NULL);
    }
    if (a->version_ignored) {
        s = apr_pstrcat(pool, s, " Version=1", NULL);
    }
    return s;
}

static void check_header(apr_pool_t *pool, const char *name,
                         const char *value, const orm_cookie_attrs_t *a,
                         apr_int64_t max_age, int https)
{
    const char *hdr = orm_cookie_header(pool, name, value, a, max_age, https);
    int secure = a->secure == ORM_FLAG_UNSET ? https : a->secure == ORM_FLAG_ON;
    const char *expected;
    const unsigned char *p;
    int semicolons = 0, items = 4;
    char *copy, *item, *state = NULL;

    FUZZ_REQUIRE(hdr != NULL, "orm_cookie_header returned NULL");
    for (p = (const unsigned char *)hdr; *p; p++) {
        FUZZ_REQUIRE(*p >= 0x20 && *p < 0x7f,
                     "Set-Cookie value has byte 0x%02x: %s", *p,
                     fuzz_show(pool, hdr));
        semicolons += *p == ';';
    }
    items += (a->domain != NULL) + (a->http_only != ORM_FLAG_OFF) + secure
             + (a->partitioned == ORM_FLAG_ON);
    /* name=value plus one "; " per attribute: a ';' more means one was
     * smuggled inside a value */
    FUZZ_REQUIRE(semicolons == items - 1, "Set-Cookie value has %d ';' for "
                 "%d items: %s", semicolons, items, fuzz_show(pool, hdr));
    expected = apr_pstrcat(pool, name, "=", value,
                           "; Max-Age=",
                           apr_psprintf(pool, "%" APR_INT64_T_FMT, max_age),
                           "; Path=", a->path ? a->path : "/",
                           a->domain ? "; Domain=" : "",
                           a->domain ? a->domain : "",
                           "; SameSite=", a->same_site ? a->same_site : "Lax",
                           a->http_only != ORM_FLAG_OFF ? "; HttpOnly" : "",
                           secure ? "; Secure" : "",
                           a->partitioned == ORM_FLAG_ON ? "; Partitioned"
                                                         : "", NULL);
    FUZZ_REQUIRE(!strcmp(hdr, expected), "Set-Cookie %s, expected %s",
                 fuzz_show(pool, hdr), fuzz_show(pool, expected));
    /* every attribute value: no separators or white space */
    copy = apr_pstrdup(pool, hdr);
    for (item = apr_strtok(copy, ";", &state); item;
         item = apr_strtok(NULL, ";", &state)) {
        const char *eq = strchr(item, '=');
        FUZZ_REQUIRE(item[0] == ' ' || item == copy, "item %s",
                     fuzz_show(pool, item));
        if (item != copy && eq) {
            FUZZ_REQUIRE(value_is_plain_ref(eq + 1),
                         "attribute value %s in %s", fuzz_show(pool, eq + 1),
                         fuzz_show(pool, hdr));
        }
    }
}

static void check_attrs(apr_pool_t *pool, const char *text,
                        const uint8_t *data, size_t size)
{
    orm_cookie_attrs_t attrs, again, reparsed;
    const char *err, *err2, *ser, *name, *value;
    char token[ORM_TOKEN_LEN + 4];
    unsigned char raw[ORM_TOKEN_BYTES];
    apr_int64_t max_age;
    size_t i;

    orm_cookie_attrs_init(&attrs);
    err = orm_cookie_attrs_parse(pool, text, &attrs);
    if (has_forbidden_item(pool, text)) {
        FUZZ_REQUIRE(err != NULL, "accepted %s though an item names no "
                     "known attribute", fuzz_show(pool, text));
    }
    if (err != NULL) {
        FUZZ_REQUIRE(*err != '\0', "empty error text for %s",
                     fuzz_show(pool, text));
        return;
    }
    FUZZ_REQUIRE(attrs.path == NULL
                 || (attrs.path[0] == '/' && value_is_plain_ref(attrs.path)),
                 "accepted Path %s", fuzz_show(pool, attrs.path));
    FUZZ_REQUIRE(attrs.domain == NULL || value_is_plain_ref(attrs.domain),
                 "accepted Domain %s", fuzz_show(pool, attrs.domain));
    FUZZ_REQUIRE(attrs.same_site == NULL || !strcmp(attrs.same_site, "Strict")
                 || !strcmp(attrs.same_site, "Lax")
                 || !strcmp(attrs.same_site, "None"),
                 "accepted SameSite %s", fuzz_show(pool, attrs.same_site));
    FUZZ_REQUIRE(attrs.http_only >= ORM_FLAG_UNSET
                 && attrs.http_only <= ORM_FLAG_ON
                 && attrs.secure >= ORM_FLAG_UNSET
                 && attrs.secure <= ORM_FLAG_ON
                 && attrs.partitioned >= ORM_FLAG_UNSET
                 && attrs.partitioned <= ORM_FLAG_ON, "flag out of range");
    /* a partitioned cookie is never refused Secure */
    FUZZ_REQUIRE(!(attrs.partitioned == ORM_FLAG_ON
                   && attrs.secure == ORM_FLAG_OFF),
                 "accepted Partitioned with Secure=Off: %s",
                 fuzz_show(pool, text));

    /* the same argument on top of its own result changes nothing */
    again = attrs;
    err2 = orm_cookie_attrs_parse(pool, text, &again);
    FUZZ_REQUIRE(err2 == NULL && same_attrs(&attrs, &again),
                 "second parse of %s differs", fuzz_show(pool, text));

    /* written back as an argument, it parses to the same attributes */
    ser = serialise(pool, &attrs);
    orm_cookie_attrs_init(&reparsed);
    err2 = orm_cookie_attrs_parse(pool, ser, &reparsed);
    FUZZ_REQUIRE(err2 == NULL && same_attrs(&attrs, &reparsed),
                 "re-serialised %s (from %s) does not parse back: %s",
                 fuzz_show(pool, ser), fuzz_show(pool, text),
                 err2 ? err2 : "different attributes");

    name = orm_cookie_name_check(text) == NULL ? text : "orm_session";
    for (i = 0; i < ORM_TOKEN_BYTES; i++) {
        raw[i] = size ? data[i % size] ^ (unsigned char)i : (unsigned char)i;
    }
    orm_base64url_encode(token, raw, sizeof(raw));
    value = token;
    max_age = size ? (apr_int64_t)(data[0] * 977) % ORM_MAX_SECONDS : 0;
    check_header(pool, name, value, &attrs, max_age, 0);
    check_header(pool, name, value, &attrs, max_age, 1);
    check_header(pool, name, "", &attrs, 0, size & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    char *text = fuzz_cstr(pool, data, size);
    const char *err;

    check_token(pool, data, size);
    check_base64url(pool, data, size);
    check_sha256(pool, data, size);

    err = orm_cookie_name_check(text);
    FUZZ_REQUIRE((err == NULL) == name_ok_ref(text),
                 "orm_cookie_name_check(%s) = %s", fuzz_show(pool, text),
                 err ? err : "accepted");
    FUZZ_REQUIRE(orm_cookie_name_check(NULL) != NULL, "NULL name accepted");

    check_attrs(pool, text, data, size);
    /* a cookie header carries "name=value" pairs: the part after '='
     * is what a client would present as the token */
    {
        const char *eq = memchr(data, '=', size);
        if (eq) {
            size_t off = (size_t)(eq - (const char *)data) + 1;
            check_token(pool, data + off, size - off);
        }
    }
    apr_pool_destroy(pool);
    return 0;
}
