/* half.c: binary16 conversions, bit-exact with numpy's astype; bfloat16. */
#include <string.h>

#include "half.h"

float usj_half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t man = h & 0x3ff;
	uint32_t bits;
	if (exp == 0x1f) {
		bits = sign | 0x7f800000 | (man << 13); /* inf, nan */
	} else if (exp != 0) {
		bits = sign | ((exp + 112) << 23) | (man << 13);
	} else if (man == 0) {
		bits = sign;
	} else { /* subnormal: normalise */
		int e = -1;
		do {
			e++;
			man <<= 1;
		} while (!(man & 0x400));
		bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

uint16_t usj_float_to_half(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
	uint32_t absx = x & 0x7fffffff;
	if (absx >= 0x7f800000) /* inf or nan (keep nan quiet and non-zero) */
		return sign | 0x7c00 | (absx > 0x7f800000 ? (uint16_t)(0x200 | ((absx >> 13) & 0x3ff)) : 0);
	if (absx >= 0x477ff000) /* rounds to beyond the largest half */
		return sign | 0x7c00;
	if (absx < 0x38800000) { /* below the smallest normal half: subnormal or zero */
		if (absx < 0x33000000) /* below half the smallest subnormal */
			return sign;
		uint32_t e = absx >> 23;
		uint32_t man = (absx & 0x7fffff) | 0x800000;
		uint32_t shift = 126 - e; /* 14..24 */
		uint32_t half = man >> shift;
		uint32_t rem = man & ((1u << shift) - 1);
		uint32_t mid = 1u << (shift - 1);
		if (rem > mid || (rem == mid && (half & 1)))
			half++;
		return sign | (uint16_t)half;
	}
	uint32_t half = ((absx >> 13) - (112u << 10));
	uint32_t rem = absx & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
		half++; /* may carry into the exponent, which is right */
	return sign | (uint16_t)half;
}

float usj_bf16_to_float(uint16_t b)
{
	uint32_t bits = (uint32_t)b << 16;
	float f;
	memcpy(&f, &bits, 4);
	return f;
}
