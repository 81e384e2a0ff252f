#include <string.h>
#include <apr_strings.h>

#include "orm_sha256.h"

static const apr_uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress_block(apr_uint32_t state[8], const unsigned char *block)
{
    apr_uint32_t w[64];
    apr_uint32_t a, b, c, d, e, f, g, h;
    int i;

    for (i = 0; i < 16; i++) {
        w[i] = ((apr_uint32_t)block[i * 4] << 24)
             | ((apr_uint32_t)block[i * 4 + 1] << 16)
             | ((apr_uint32_t)block[i * 4 + 2] << 8)
             | (apr_uint32_t)block[i * 4 + 3];
    }
    for (i = 16; i < 64; i++) {
        apr_uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18)
                        ^ (w[i - 15] >> 3);
        apr_uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19)
                        ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }

    a = state[0]; b = state[1]; c = state[2]; d = state[3];
    e = state[4]; f = state[5]; g = state[6]; h = state[7];
    for (i = 0; i < 64; i++) {
        apr_uint32_t s1 = ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25);
        apr_uint32_t ch = (e & f) ^ (~e & g);
        apr_uint32_t t1 = h + s1 + ch + round_constants[i] + w[i];
        apr_uint32_t s0 = ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22);
        apr_uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        apr_uint32_t t2 = s0 + maj;
        h = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    state[0] += a; state[1] += b; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
}

void orm_sha256_init(orm_sha256_ctx *ctx)
{
    static const apr_uint32_t initial[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
    };
    memcpy(ctx->state, initial, sizeof(initial));
    ctx->total_len = 0;
    ctx->block_len = 0;
}

void orm_sha256_update(orm_sha256_ctx *ctx, const void *data, apr_size_t len)
{
    const unsigned char *in = data;

    ctx->total_len += len;
    while (len > 0) {
        apr_size_t take = 64 - ctx->block_len;
        if (take > len) {
            take = len;
        }
        memcpy(ctx->block + ctx->block_len, in, take);
        ctx->block_len += take;
        in += take;
        len -= take;
        if (ctx->block_len == 64) {
            compress_block(ctx->state, ctx->block);
            ctx->block_len = 0;
        }
    }
}

void orm_sha256_final(orm_sha256_ctx *ctx,
                      unsigned char digest[ORM_SHA256_DIGEST_LEN])
{
    apr_uint64_t bit_len = ctx->total_len * 8;
    int i;

    ctx->block[ctx->block_len++] = 0x80;
    if (ctx->block_len > 56) {
        memset(ctx->block + ctx->block_len, 0, 64 - ctx->block_len);
        compress_block(ctx->state, ctx->block);
        ctx->block_len = 0;
    }
    memset(ctx->block + ctx->block_len, 0, 56 - ctx->block_len);
    for (i = 0; i < 8; i++) {
        ctx->block[56 + i] = (unsigned char)(bit_len >> (56 - 8 * i));
    }
    compress_block(ctx->state, ctx->block);

    for (i = 0; i < 8; i++) {
        digest[i * 4] = (unsigned char)(ctx->state[i] >> 24);
        digest[i * 4 + 1] = (unsigned char)(ctx->state[i] >> 16);
        digest[i * 4 + 2] = (unsigned char)(ctx->state[i] >> 8);
        digest[i * 4 + 3] = (unsigned char)ctx->state[i];
    }
}

char *orm_sha256_hex(apr_pool_t *pool, const void *data, apr_size_t len)
{
    static const char hexdigits[] = "0123456789abcdef";
    unsigned char digest[ORM_SHA256_DIGEST_LEN];
    orm_sha256_ctx ctx;
    char *hex = apr_palloc(pool, ORM_SHA256_HEX_LEN + 1);
    int i;

    orm_sha256_init(&ctx);
    orm_sha256_update(&ctx, data, len);
    orm_sha256_final(&ctx, digest);
    for (i = 0; i < ORM_SHA256_DIGEST_LEN; i++) {
        hex[i * 2] = hexdigits[digest[i] >> 4];
        hex[i * 2 + 1] = hexdigits[digest[i] & 0x0f];
    }
    hex[ORM_SHA256_HEX_LEN] = '\0';
    return hex;
}
