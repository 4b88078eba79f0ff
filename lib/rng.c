/* rng.c: xoshiro256** (Blackman and Vigna) with splitmix64 seeding. */
#include <math.h>

#include "rng.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void usj_rng_seed(usj_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

void usj_rng_seed_key(usj_rng *r, uint64_t seed, const char *key)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	for (const char *p = key; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	usj_rng_seed(r, h);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t usj_rng_u64(usj_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double usj_rng_uniform(usj_rng *r) { return (double)(usj_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t usj_rng_below(usj_rng *r, uint64_t n)
{
	/* rejection keeps every value equally likely */
	uint64_t limit = -n % n;
	for (;;) {
		uint64_t x = usj_rng_u64(r);
		if (x >= limit)
			return x % n;
	}
}

double usj_rng_normal(usj_rng *r)
{
	/* Box-Muller; 1-u avoids log(0) */
	double u = usj_rng_uniform(r), v = usj_rng_uniform(r);
	return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}
