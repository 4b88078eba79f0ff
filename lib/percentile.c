/* percentile.c: percentiles by a two-level radix select on 16-bit keys.
 * Values become keys floor(65536 v), read back as the key's centre: within
 * 2^-17 of the exact value, far below an 8-bit output's step of 1/255. A
 * 256-bin histogram of the keys' high bytes says which high byte each
 * wanted order statistic has and its rank among the keys that share it; a
 * second pass counts the low bytes of just those keys. That is two cheap
 * passes, no sorting, and no 65536-bin array to clear and scan for every
 * frame. Then the rescale that maps them to 0 and 255. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "percentile.h"
#include "simd.h"

/* key: floor(65536 v) clipped to 0..65535, clipped as an integer (float
 * clipping compiles to branches) */
static int key(float v)
{
	int k = (int)(v * 65536);
	k = k < 0 ? 0 : k;
	return k > 65535 ? 65535 : k;
}

/* masked_keys: the keys of the values inside the mask, in order, and the
 * histogram of their high bytes; returns their count. Keys are made 4 at a
 * time, and 4 pixels outside the mask skipped at once. */
static size_t masked_keys(const float *v, const uint8_t *mask, size_t n, uint16_t *keys,
                          size_t *by_high)
{
	size_t count = 0, i = 0;
	for (; i + 4 <= n; i += 4) {
		uint32_t four_masks;
		memcpy(&four_masks, mask + i, 4);
		if (!four_masks)
			continue;
		i32x4 k = __builtin_convertvector(load4(v + i) * 65536.0f, i32x4);
		k &= k > 0;
		k ^= (k ^ 65535) & (k > 65535); /* min(k, 65535) */
		for (int lane = 0; lane < 4; lane++) {
			if (!mask[i + lane])
				continue;
			keys[count++] = (uint16_t)k[lane];
			by_high[k[lane] >> 8]++;
		}
	}
	for (; i < n; i++) {
		if (!mask[i])
			continue;
		int k = key(v[i]);
		keys[count++] = (uint16_t)k;
		by_high[k >> 8]++;
	}
	return count;
}

int usj_masked_percentiles(const float *v, const uint8_t *mask, size_t n, double p_low,
                           double p_high, double *low, double *high)
{
	uint16_t *keys = xmalloc(n * sizeof *keys);
	size_t by_high[256] = {0};
	size_t count = masked_keys(v, mask, n, keys, by_high);
	if (!count) {
		free(keys);
		return 0;
	}
	double q_low = p_low / 100 * (double)(count - 1), q_high = p_high / 100 * (double)(count - 1);
	/* the order statistics either side of each percentile, ascending */
	size_t rank[4] = {(size_t)q_low, (size_t)ceil(q_low), (size_t)q_high, (size_t)ceil(q_high)};
	/* for each: its high byte, its rank among the keys with that high byte,
	 * and which of 4 low-byte histograms counts them (-1: none) */
	int high_byte[4], slot_of[256], order[4] = {0, 1, 2, 3};
	size_t within[4], below = 0;
	/* visit the ranks in ascending order: with p_low = p_high, ceil(q_low) passes q_high */
	for (int a = 1; a < 4; a++)
		for (int c = a; c > 0 && rank[order[c - 1]] > rank[order[c]]; c--) {
			int t = order[c];
			order[c] = order[c - 1];
			order[c - 1] = t;
		}
	for (int b = 0, k = 0; b < 256; b++) {
		slot_of[b] = -1;
		for (; k < 4 && rank[order[k]] < below + by_high[b]; k++) {
			int j = order[k];
			high_byte[j] = b;
			within[j] = rank[j] - below;
			slot_of[b] = j; /* ranks that share a high byte share a histogram */
		}
		below += by_high[b];
	}
	size_t by_low[4][256] = {{0}};
	size_t i = 0;
#ifdef __SSE2__
	/* few keys have a wanted high byte: 8 at a time are looked at only when
	 * one of them has */
	__m128i want[4];
	for (int j = 0; j < 4; j++)
		want[j] = _mm_set1_epi16((short)high_byte[j]);
	for (; i + 8 <= count; i += 8) {
		__m128i high = _mm_srli_epi16(_mm_loadu_si128((const __m128i *)(keys + i)), 8);
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi16(high, want[0]), _mm_cmpeq_epi16(high, want[1])),
		                           _mm_or_si128(_mm_cmpeq_epi16(high, want[2]), _mm_cmpeq_epi16(high, want[3])));
		if (!_mm_movemask_epi8(hit))
			continue;
		for (size_t k = i; k < i + 8; k++) {
			int slot = slot_of[keys[k] >> 8];
			if (slot >= 0)
				by_low[slot][keys[k] & 255]++;
		}
	}
#endif
	for (; i < count; i++) {
		int slot = slot_of[keys[i] >> 8];
		if (slot >= 0)
			by_low[slot][keys[i] & 255]++;
	}
	double value[4];
	for (int j = 0; j < 4; j++) {
		const size_t *counts = by_low[slot_of[high_byte[j]]];
		below = 0;
		int b = 0;
		while (below + counts[b] <= within[j])
			below += counts[b++];
		value[j] = ((high_byte[j] << 8 | b) + 0.5) / 65536;
	}
	*low = value[0] + (q_low - (double)rank[0]) * (value[1] - value[0]);
	*high = value[2] + (q_high - (double)rank[2]) * (value[3] - value[2]);
	free(keys);
	return 1;
}

/* usj_rescale_bytes: clipped as an integer: float clipping compiles to branches, which
 * mispredict on speckle. Grey and low are in [0, 1] and high - low is at
 * least 2^-16, so the product stays far inside int; negative values round
 * towards 0, and are clipped to 0 anyway. With SSE2, 8 at a time, clipped
 * by packing with saturation; the loop after them is the reference. */
void usj_rescale_bytes(const float *v, size_t n, double low, double high, uint8_t *out)
{
	float scale = (float)(255 / (high - low)), offset = (float)low;
	size_t i = 0;
#ifdef __SSE2__
	const __m128 s = _mm_set1_ps(scale), o = _mm_set1_ps(offset), half = _mm_set1_ps(0.5f);
	for (; i + 8 <= n; i += 8) {
		__m128i a = _mm_cvttps_epi32(_mm_add_ps(_mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(v + i), o), s), half));
		__m128i b = _mm_cvttps_epi32(_mm_add_ps(_mm_mul_ps(_mm_sub_ps(_mm_loadu_ps(v + i + 4), o), s), half));
		__m128i k = _mm_packs_epi32(a, b); /* to 16 bits, then 0..255 */
		_mm_storel_epi64((__m128i *)(out + i), _mm_packus_epi16(k, k));
	}
#endif
	for (; i < n; i++) {
		int k = (int)((v[i] - offset) * scale + 0.5f);
		k = k < 0 ? 0 : k;
		out[i] = (uint8_t)(k > 255 ? 255 : k);
	}
}
