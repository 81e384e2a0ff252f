#include <string.h>
#include <apr_strings.h>

#include "orm_token.h"
#include "orm_sha256.h"

static const char base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void orm_base64url_encode(char *out, const unsigned char *in, apr_size_t len)
{
    apr_size_t i;
    char *p = out;

    for (i = 0; i + 2 < len; i += 3) {
        *p++ = base64url_alphabet[in[i] >> 2];
        *p++ = base64url_alphabet[((in[i] & 0x03) << 4) | (in[i + 1] >> 4)];
        *p++ = base64url_alphabet[((in[i + 1] & 0x0f) << 2) | (in[i + 2] >> 6)];
        *p++ = base64url_alphabet[in[i + 2] & 0x3f];
    }
    if (len - i == 1) {
        *p++ = base64url_alphabet[in[i] >> 2];
        *p++ = base64url_alphabet[(in[i] & 0x03) << 4];
    }
    else if (len - i == 2) {
        *p++ = base64url_alphabet[in[i] >> 2];
        *p++ = base64url_alphabet[((in[i] & 0x03) << 4) | (in[i + 1] >> 4)];
        *p++ = base64url_alphabet[(in[i + 1] & 0x0f) << 2];
    }
    *p = '\0';
}

apr_status_t orm_random_base64url(apr_pool_t *pool, orm_random_fn *random,
                                  apr_size_t bytes, const char **text)
{
    unsigned char raw[ORM_RANDOM_MAX_BYTES];
    char *encoded;
    apr_status_t rv;

    if (bytes > sizeof(raw)) {
        return APR_EINVAL;
    }
    if ((rv = random(raw, bytes)) != APR_SUCCESS) {
        return rv;
    }
    encoded = apr_palloc(pool, 4 * bytes / 3 + 3);
    orm_base64url_encode(encoded, raw, bytes);
    memset(raw, 0, sizeof(raw));
    *text = encoded;
    return APR_SUCCESS;
}

apr_status_t orm_token_generate(apr_pool_t *pool, orm_random_fn *random,
                                const char **token)
{
    return orm_random_base64url(pool, random, ORM_TOKEN_BYTES, token);
}

static int is_base64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int orm_token_is_wellformed(const char *value, apr_size_t len)
{
    apr_size_t i;

    if (value == NULL || len != ORM_TOKEN_LEN) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!is_base64url_char((unsigned char)value[i])) {
            return 0;
        }
    }
    /* 32 bytes fill 43 characters with 2 bits to spare in the last one: a
     * token we issued has them zero, so only 16 of the 64 letters end one. */
    return (strchr(base64url_alphabet, value[len - 1]) - base64url_alphabet)
           % 4 == 0;
}

const char *orm_token_digest(apr_pool_t *pool, const char *token)
{
    return orm_sha256_hex(pool, token, strlen(token));
}

const char *orm_user_digest(apr_pool_t *pool, const char *user)
{
    const char *keyed = apr_pstrcat(pool, "user:", user, NULL);
    return orm_sha256_hex(pool, keyed, strlen(keyed));
}
