/* rng.h: a small deterministic generator (xoshiro256**, seeded by
 * splitmix64), the same on every machine, so seeds reproduce results. */
#ifndef USJ_RNG_H
#define USJ_RNG_H
#include <stdint.h>

typedef struct usj_rng { uint64_t s[4]; } usj_rng;

void usj_rng_seed(usj_rng *r, uint64_t seed);
/* usj_rng_seed_key: seed from (seed, key), an FNV-1a hash of key started
 * from seed, so that each record's draws depend on its id, not its order. */
void usj_rng_seed_key(usj_rng *r, uint64_t seed, const char *key);
uint64_t usj_rng_u64(usj_rng *r);
double usj_rng_uniform(usj_rng *r);              /* [0, 1) with 53 random bits */
uint64_t usj_rng_below(usj_rng *r, uint64_t n);  /* uniform in [0, n), unbiased */
double usj_rng_normal(usj_rng *r);               /* standard normal */

#endif
