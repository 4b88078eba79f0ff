/* simd8.h: 8-lane float vectors (GCC's vector extensions) for the ViT's
 * elementwise kernels and the optimiser, written once for every machine
 * (simd.h has the 4-lane ones of the image code). On x86-64,
 * target_clones builds each function marked CLONES twice, for AVX2 with FMA
 * (one instruction a vector) and for the baseline (two SSE2 halves), and the
 * loader picks one for the machine: the same bits on every run on a given
 * machine. Include from .c files only: the helpers are static inline. */
#ifndef USJ_SIMD8_H
#define USJ_SIMD8_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

/* the helpers below take and return 8-lane vectors, which the baseline ABI
 * passes differently from AVX's: harmless, as they are static and inlined */
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float f32x8 __attribute__((vector_size(32)));
typedef int32_t i32x8 __attribute__((vector_size(32)));
typedef float f32x8_unaligned __attribute__((vector_size(32), aligned(4), may_alias));

static inline f32x8 load8(const float *p) { return *(const f32x8_unaligned *)p; }
static inline void store8(float *p, f32x8 v) { *(f32x8_unaligned *)p = v; }
/* splat8 as a shuffle: inside a target_clones function GCC builds the
 * constructor {v, v, ...} lane by lane (8 inserts), the shuffle is one
 * vbroadcastss */
static inline f32x8 splat8(float v)
{
	f32x8 r = {v};
	return __builtin_shufflevector(r, r, 0, 0, 0, 0, 0, 0, 0, 0);
}
/* abs8: |x|, the sign bits cleared */
static inline f32x8 abs8(f32x8 x) { return (f32x8)((i32x8)x & 0x7fffffff); }
/* pick8: a where m (a comparison's result) is true, else b */
static inline f32x8 pick8(i32x8 m, f32x8 a, f32x8 b) { return (f32x8)(((i32x8)a & m) | ((i32x8)b & ~m)); }
static inline f32x8 min8(f32x8 a, f32x8 b) { return pick8(a < b, a, b); }
static inline f32x8 max8(f32x8 a, f32x8 b) { return pick8(a > b, a, b); }
/* sqrt8: lane by lane, correctly rounded as sqrtf; with -fno-math-errno
 * (config.mk) GCC makes it one vector instruction */
static inline f32x8 sqrt8(f32x8 x)
{
	f32x8 r;
	for (int k = 0; k < 8; k++)
		r[k] = sqrtf(x[k]);
	return r;
}
/* sum8: the lanes' sum in a fixed order */
static inline float sum8(f32x8 v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }

/* load_tail, store_tail: the last n < 8 values of a range as a vector (zeros after) */
static inline f32x8 load_tail(const float *p, int64_t n)
{
	float v[8] = {0};
	memcpy(v, p, (size_t)n * sizeof(float));
	return load8(v);
}
static inline void store_tail(float *p, f32x8 x, int64_t n)
{
	float v[8];
	store8(v, x);
	memcpy(p, v, (size_t)n * sizeof(float));
}
#endif
