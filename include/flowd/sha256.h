/* SHA-256 (FIPS 180-4), written here because none of the libraries flowd links provides
 * it: the store fingerprints deployed process XML with it so that re-deploying unchanged
 * bytes is recognised. Incremental (init/update/final) and one-shot hex helpers. */
#ifndef FLOWD_SHA256_H
#define FLOWD_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct fl_sha256 {
    uint32_t h[8];
    uint64_t total; /* bytes hashed so far */
    unsigned char block[64];
    size_t used; /* bytes pending in block */
};

/* Start a new hash; allocates nothing. */
void fl_sha256_init(struct fl_sha256 *c);

/* Hash n more bytes of p. */
void fl_sha256_update(struct fl_sha256 *c, const void *p, size_t n);

/* Finish: write the 32-byte digest to out; c must be re-initialised before reuse. */
void fl_sha256_final(struct fl_sha256 *c, unsigned char out[32]);

/* Digest of p[0..n) as 64 lower-case hex characters and a NUL, into hex. */
void fl_sha256_hex(const void *p, size_t n, char hex[65]);

#endif
