/* simd.h: 4-lane float vectors through the GCC and clang vector extensions
 * (SSE2 on x86-64, NEON on arm64), for the few loops that touch every
 * pixel of a frame: gcc -O2 vectorises almost none of them by itself.
 * Loads and stores go through an unaligned, may_alias type, so any float
 * pointer will do. */
#ifndef USJ_SIMD_H
#define USJ_SIMD_H
#include <stddef.h>
#include <stdint.h>

typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef float f32x4_unaligned __attribute__((vector_size(16), aligned(4), may_alias));

static inline f32x4 load4(const float *p) { return *(const f32x4_unaligned *)p; }
static inline void store4(float *p, f32x4 v) { *(f32x4_unaligned *)p = v; }

/* add_scaled: d += w s over n floats */
static inline void add_scaled(float *d, const float *s, float w, size_t n)
{
	size_t x = 0;
	for (; x + 4 <= n; x += 4)
		store4(d + x, load4(d + x) + w * load4(s + x));
	for (; x < n; x++)
		d[x] += w * s[x];
}

/* min4, max4: a < b ? a : b and a > b ? a : b in each lane; mask4: bit k
 * set when lane k of m (a comparison's result) is true. SSE2 has each as
 * one instruction; elsewhere the vector extensions spell them out. */
#ifdef __SSE2__
#include <emmintrin.h>
static inline f32x4 min4(f32x4 a, f32x4 b) { return _mm_min_ps(a, b); }
static inline f32x4 max4(f32x4 a, f32x4 b) { return _mm_max_ps(a, b); }
static inline int mask4(i32x4 m) { return _mm_movemask_ps((__m128)m); }
#else
static inline f32x4 min4(f32x4 a, f32x4 b)
{
	i32x4 m = a < b;
	return (f32x4)(((i32x4)a & m) | ((i32x4)b & ~m));
}
static inline f32x4 max4(f32x4 a, f32x4 b)
{
	i32x4 m = a > b;
	return (f32x4)(((i32x4)a & m) | ((i32x4)b & ~m));
}
static inline int mask4(i32x4 m) { return (m[0] & 1) | (m[1] & 2) | (m[2] & 4) | (m[3] & 8); }
#endif

#endif
