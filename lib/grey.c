/* grey.c: luma and coloured-annotation removal. Every colour frame costs a
 * pass over its float RGB (12 bytes a pixel, the largest data the
 * pipeline touches), so that pass goes 4 pixels at a time and only counts
 * coloured pixels, row by row; where they are is asked again only in the
 * rows that have any. Large coloured areas are colour Doppler, whose luma
 * is the best grey there is: they stay. */
#include <stdlib.h>

#include "grey.h"
#include "inpaint.h"
#include "mem.h"
#include "simd.h"

/* rgb4: 4 interleaved RGB pixels at p (r0 g0 b0 r1 | g1 b1 r2 g2 | b2 r3 g3 b3)
 * as one vector per channel */
static void rgb4(const float *p, f32x4 *r, f32x4 *g, f32x4 *b)
{
	f32x4 x = load4(p), y = load4(p + 4), z = load4(p + 8);
	*r = __builtin_shufflevector(__builtin_shufflevector(x, y, 0, 3, 6, 6), z, 0, 1, 2, 5);
	*g = __builtin_shufflevector(__builtin_shufflevector(x, y, 1, 4, 7, 7), z, 0, 1, 2, 6);
	*b = __builtin_shufflevector(__builtin_shufflevector(x, y, 2, 5, 5, 5), z, 0, 1, 4, 7);
}

/* coloured4: -1 in the lanes where max(R,G,B) - min(R,G,B) > threshold.
 * That difference is the largest of |R-G|, |G-B|, |R-B|, and the same
 * float, so comparing those is exact and needs no min or max. */
static i32x4 coloured4(f32x4 r, f32x4 g, f32x4 b, float threshold)
{
	const i32x4 magnitude = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
	f32x4 rg = (f32x4)((i32x4)(r - g) & magnitude), gb = (f32x4)((i32x4)(g - b) & magnitude);
	f32x4 rb = (f32x4)((i32x4)(r - b) & magnitude);
	return (rg > threshold) | (gb > threshold) | (rb > threshold);
}

static int coloured1(const float *p, float threshold)
{
	float hi = p[0] > p[1] ? p[0] : p[1], lo = p[0] < p[1] ? p[0] : p[1];
	hi = hi > p[2] ? hi : p[2];
	lo = lo < p[2] ? lo : p[2];
	return hi - lo > threshold;
}

/* luma_and_colour: ITU-R 601 luma of n RGB pixels into grey; returns how
 * many are coloured */
static size_t luma_and_colour(const float *rgb, size_t n, float threshold, float *grey)
{
	i32x4 minus_count = {0, 0, 0, 0};
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		f32x4 r, g, b;
		rgb4(rgb + 3 * i, &r, &g, &b);
		store4(grey + i, 0.299f * r + 0.587f * g + 0.114f * b);
		minus_count += coloured4(r, g, b, threshold);
	}
	size_t count = (size_t)-(minus_count[0] + minus_count[1] + minus_count[2] + minus_count[3]);
	for (; i < n; i++) {
		const float *p = rgb + 3 * i;
		grey[i] = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
		count += coloured1(p, threshold);
	}
	return count;
}

/* mark_around: mask gets 1 on pixel i and its 8 neighbours, and masked
 * the indices newly marked; returns the new count */
static size_t mark_around(uint32_t i, int w, int h, uint8_t *mask, uint32_t *masked, size_t n)
{
	int x = (int)(i % (uint32_t)w), y = (int)(i / (uint32_t)w);
	for (int ny = y - 1; ny <= y + 1; ny++) {
		if (ny < 0 || ny >= h)
			continue;
		for (int nx = x - 1; nx <= x + 1; nx++) {
			size_t j = (size_t)ny * w + nx;
			if (nx < 0 || nx >= w || mask[j])
				continue;
			mask[j] = 1;
			masked[n++] = (uint32_t)j;
		}
	}
	return n;
}

/* grow_annotations: mask (zeroed, (h, w)) gets 1 on the coloured pixels
 * of the rows marked in coloured_row and on their 8 neighbours (the
 * anti-aliased rims of annotations are barely coloured but still not
 * tissue), masked their indices; returns how many. */
static size_t grow_annotations(const float *rgb, float threshold, int w, int h,
                               const uint8_t *coloured_row, uint8_t *mask, uint32_t *masked)
{
	size_t n = 0;
	for (int y = 0; y < h; y++) {
		if (!coloured_row[y])
			continue;
		uint32_t row = (uint32_t)y * (uint32_t)w;
		int x = 0;
		for (; x + 4 <= w; x += 4) {
			f32x4 r, g, b;
			rgb4(rgb + 3 * (size_t)(row + x), &r, &g, &b);
			i32x4 coloured = coloured4(r, g, b, threshold);
			for (int lane = 0; lane < 4; lane++)
				if (coloured[lane])
					n = mark_around(row + x + lane, w, h, mask, masked, n);
		}
		for (; x < w; x++)
			if (coloured1(rgb + 3 * (size_t)(row + x), threshold))
				n = mark_around(row + x, w, h, mask, masked, n);
	}
	return n;
}

void usj_grey_from_rgb(const usj_image *img, const usj_prep_opts *o, float *grey,
                       usj_prep_stats *st)
{
	int w = img->width, h = img->height;
	size_t n = (size_t)w * h, coloured = 0;
	float threshold = (float)o->chroma_threshold;
	uint8_t *coloured_row = xmalloc((size_t)h);
	for (int y = 0; y < h; y++) { /* by rows, so that finding them again skips the rest */
		size_t row = (size_t)y * w;
		size_t in_row = luma_and_colour(img->pix + 3 * row, (size_t)w, threshold, grey + row);
		coloured_row[y] = in_row > 0;
		coloured += in_row;
	}
	if (coloured) {
		uint8_t *mask = xcalloc(n, 1);
		size_t most = 9 * coloured < n ? 9 * coloured : n;
		uint32_t *masked = xmalloc(most * sizeof *masked);
		size_t annotated = grow_annotations(img->pix, threshold, w, h, coloured_row, mask, masked);
		st->annotation_fraction = (double)annotated / (double)n;
		if (o->inpaint && st->annotation_fraction <= o->inpaint_max_area) {
			usj_inpaint(grey, mask, w, h, masked, annotated);
			st->inpainted = 1;
		}
		free(mask);
		free(masked);
	}
	free(coloured_row);
}
