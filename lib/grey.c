/* grey.c: luma and coloured-annotation removal. Every colour frame costs a
 * pass over its float RGB (12 bytes a pixel, the largest data the
 * pipeline touches), so that pass goes 4 pixels at a time and only counts
 * coloured pixels, row by row; where they are is asked again only in the
 * rows that have any. Large coloured areas are colour Doppler, whose luma
 * is the best grey there is: they stay. */
#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* hits_fn: hit (w) gets 1 where pixel x of row y is coloured, else 0 */
typedef void (*hits_fn)(const void *frame, int y, int w, uint8_t *hit);

/* grow_annotations: mask (zeroed, (h, w)) gets 1 on the coloured pixels
 * of the rows marked in coloured_row and on their 8 neighbours (the
 * anti-aliased rims of annotations are barely coloured but still not
 * tissue), masked their indices; returns how many. */
static size_t grow_annotations(hits_fn hits, const void *frame, int w, int h,
                               const uint8_t *coloured_row, uint8_t *mask, uint32_t *masked)
{
	uint8_t *hit = xmalloc((size_t)w);
	size_t n = 0;
	for (int y = 0; y < h; y++) {
		if (!coloured_row[y])
			continue;
		hits(frame, y, w, hit);
		for (int x = 0; x < w; x++)
			if (hit[x])
				n = usj_mark_neighbours(mask, w, h, (uint32_t)y * (uint32_t)w + (uint32_t)x, 0, 1, masked, n);
	}
	free(hit);
	return n;
}

/* annotations: grow the coloured pixels of a frame that has some, and
 * inpaint grey (h, w) there if they are small, as usj_grey_from_rgb says */
static void annotations(hits_fn hits, const void *frame, int w, int h, size_t coloured,
                        const uint8_t *coloured_row, const usj_prep_opts *o, float *grey,
                        usj_prep_stats *st)
{
	size_t n = (size_t)w * h;
	uint8_t *mask = xcalloc(n, 1);
	size_t most = 9 * coloured < n ? 9 * coloured : n;
	uint32_t *masked = xmalloc(most * sizeof *masked);
	size_t annotated = grow_annotations(hits, frame, w, h, coloured_row, mask, masked);
	st->annotation_fraction = (double)annotated / (double)n;
	if (o->inpaint && st->annotation_fraction <= o->inpaint_max_area) {
		usj_inpaint(grey, mask, w, h, masked, annotated);
		st->inpainted = 1;
	}
	free(mask);
	free(masked);
}

typedef struct float_frame {
	const float *rgb; /* (h, w, 3) */
	float threshold;
} float_frame;

static void hits_float(const void *frame, int y, int w, uint8_t *hit)
{
	const float_frame *f = frame;
	const float *row = f->rgb + 3 * (size_t)y * w;
	int x = 0;
	for (; x + 4 <= w; x += 4) {
		f32x4 r, g, b;
		rgb4(row + 3 * x, &r, &g, &b);
		i32x4 coloured = coloured4(r, g, b, f->threshold);
		for (int lane = 0; lane < 4; lane++)
			hit[x + lane] = coloured[lane] != 0;
	}
	for (; x < w; x++)
		hit[x] = (uint8_t)coloured1(row + 3 * x, f->threshold);
}

void usj_grey_from_rgb(const usj_image *img, const usj_prep_opts *o, float *grey,
                       usj_prep_stats *st)
{
	int w = img->width, h = img->height;
	size_t coloured = 0;
	float_frame f = {img->pix, (float)o->chroma_threshold};
	uint8_t *coloured_row = xmalloc((size_t)h);
	for (int y = 0; y < h; y++) { /* by rows, so that finding them again skips the rest */
		size_t row = (size_t)y * w;
		size_t in_row = luma_and_colour(img->pix + 3 * row, (size_t)w, f.threshold, grey + row);
		coloured_row[y] = in_row > 0;
		coloured += in_row;
	}
	if (coloured)
		annotations(hits_float, &f, w, h, coloured, coloured_row, o, grey, st);
	free(coloured_row);
}

/* The same from 8-bit samples v, whose floats are v / 255 (usj_native_to_image):
 * luma and the colour test are tables of those floats' products and
 * differences, so the grey is the float path's to the bit. */
struct usj_grey8 {
	const uint8_t *v; /* pixel x of row y: grey, or R, G, B, at v[y stride + x step + 0 (, 1, 2)] */
	size_t stride;
	int step, colour, w, h;
	float r[256], g[256], b[256]; /* colour: 0.299 v / 255, 0.587 v / 255, 0.114 v / 255; grey: v / 255 */
	float rgb[256];               /* the luma of R = G = B = v: r[v] + g[v] + b[v] */
	/* over[lo]: the least hi with (float)(hi / 255 - lo / 255) > threshold
	 * (256: none), so a pixel is coloured when max(R,G,B) >= over[min(R,G,B)]; a
	 * pixel whose max - min is below least is not */
	int over[256], least;
	size_t coloured;
	uint8_t *coloured_row; /* (h): 1 where a row has coloured pixels */
	uint8_t *neutral_row;  /* (h): 1 where R = G = B in every pixel of a row */
};

static int coloured8(const uint8_t *p, const usj_grey8 *g)
{
	int hi = p[0] > p[1] ? p[0] : p[1], lo = p[0] < p[1] ? p[0] : p[1];
	hi = hi > p[2] ? hi : p[2];
	lo = lo < p[2] ? lo : p[2];
	return hi >= g->over[lo];
}

static void hits_rgb8(const void *frame, int y, int w, uint8_t *hit)
{
	const usj_grey8 *g = frame;
	const uint8_t *p = g->v + (size_t)y * g->stride;
	for (int x = 0; x < w; x++, p += g->step)
		hit[x] = (uint8_t)coloured8(p, g);
}

/* spread8: the largest max(R,G,B) - min(R,G,B) of the n pixels at p, step
 * bytes apart; with SSE2, packed RGB goes 5 pixels a vector (no portable
 * vector operation is a byte max or min) */
static int spread8(const uint8_t *p, size_t n, int step)
{
	int most = 0;
	size_t i = 0;
#ifdef __SSE2__
	if (step == 3) {
		/* lanes 0, 3, 6, 9, 12: pixels 0 to 4; loads at p + 1 and p + 2 end
		 * at byte 17, inside pixel 5 */
		const __m128i lanes = _mm_setr_epi8(-1, 0, 0, -1, 0, 0, -1, 0, 0, -1, 0, 0, -1, 0, 0, 0);
		__m128i m = _mm_setzero_si128();
		for (; i + 6 <= n; i += 5, p += 15) {
			__m128i r = _mm_loadu_si128((const __m128i *)p);
			__m128i g = _mm_loadu_si128((const __m128i *)(p + 1));
			__m128i b = _mm_loadu_si128((const __m128i *)(p + 2));
			__m128i hi = _mm_max_epu8(r, _mm_max_epu8(g, b)), lo = _mm_min_epu8(r, _mm_min_epu8(g, b));
			m = _mm_max_epu8(m, _mm_and_si128(_mm_sub_epi8(hi, lo), lanes));
		}
		uint8_t lane[16];
		_mm_storeu_si128((__m128i *)lane, m);
		for (int k = 0; k < 16; k++)
			most = lane[k] > most ? lane[k] : most;
	}
#endif
	for (; i < n; i++, p += step) {
		int hi = p[0] > p[1] ? p[0] : p[1], lo = p[0] < p[1] ? p[0] : p[1];
		hi = hi > p[2] ? hi : p[2];
		lo = lo < p[2] ? lo : p[2];
		most = hi - lo > most ? hi - lo : most;
	}
	return most;
}

usj_grey8 *usj_grey8_new(const usj_samples *s, int w, int h, const usj_prep_opts *o)
{
	usj_grey8 *g = xmalloc(sizeof *g);
	*g = (usj_grey8){.v = s->data, .stride = s->stride, .step = s->per_pixel, .colour = s->colour,
	                 .w = w, .h = h, .least = 256};
	g->coloured_row = xcalloc((size_t)h, 1);
	g->neutral_row = xcalloc((size_t)h, 1);
	float v[256], threshold = (float)o->chroma_threshold;
	for (int i = 0; i < 256; i++) {
		v[i] = (float)i / 255.0f;
		g->r[i] = s->colour ? 0.299f * v[i] : v[i];
		g->g[i] = 0.587f * v[i];
		g->b[i] = 0.114f * v[i];
		g->rgb[i] = g->r[i] + g->g[i] + g->b[i];
	}
	for (int lo = 0, hi = 0; s->colour && lo < 256; lo++) { /* over[] rises with lo */
		hi = hi > lo ? hi : lo;
		while (hi < 256 && !(v[hi] - v[lo] > threshold))
			hi++;
		g->over[lo] = hi;
		g->least = hi < 256 && hi - lo < g->least ? hi - lo : g->least;
	}
	/* only a row whose spread reaches least is tested exactly */
	for (int y = 0; s->colour && y < h; y++) {
		const uint8_t *p = g->v + (size_t)y * g->stride;
		int spread = spread8(p, (size_t)w, g->step);
		g->neutral_row[y] = spread == 0;
		if (spread < g->least)
			continue;
		size_t in_row = 0;
		for (int x = 0; x < w; x++, p += g->step)
			in_row += coloured8(p, g);
		g->coloured_row[y] = in_row > 0;
		g->coloured += in_row;
	}
	return g;
}

size_t usj_grey8_coloured(const usj_grey8 *g) { return g->coloured; }

void usj_grey8_row(const usj_grey8 *g, int y, int x, int n, float *out)
{
	size_t step = (size_t)g->step, i = 0;
	const uint8_t *p = g->v + (size_t)y * g->stride + (size_t)x * step;
	/* 4 pixels a step: the loads are the work, and a loop of one pixel is
	 * half overhead */
	if (!g->colour || g->neutral_row[y]) { /* grey, or most ultrasound frames: one table */
		const float *t = g->colour ? g->rgb : g->r;
		for (; i + 4 <= (size_t)n; i += 4, p += 4 * step) {
			out[i] = t[p[0]];
			out[i + 1] = t[p[step]];
			out[i + 2] = t[p[2 * step]];
			out[i + 3] = t[p[3 * step]];
		}
		for (; i < (size_t)n; i++, p += step)
			out[i] = t[*p];
		return;
	}
	for (; i + 4 <= (size_t)n; i += 4, p += 4 * step)
		for (size_t k = 0; k < 4; k++) {
			const uint8_t *q = p + k * step;
			out[i + k] = g->r[q[0]] + g->g[q[1]] + g->b[q[2]];
		}
	for (; i < (size_t)n; i++, p += step)
		out[i] = g->r[p[0]] + g->g[p[1]] + g->b[p[2]];
}

void usj_grey8_plane(const usj_grey8 *g, const usj_prep_opts *o, float *grey, usj_prep_stats *st)
{
	for (int y = 0; y < g->h; y++)
		usj_grey8_row(g, y, 0, g->w, grey + (size_t)y * g->w);
	if (g->coloured)
		annotations(hits_rgb8, g, g->w, g->h, g->coloured, g->coloured_row, o, grey, st);
}

void usj_grey8_free(usj_grey8 *g)
{
	if (!g)
		return;
	free(g->coloured_row);
	free(g->neutral_row);
	free(g);
}
