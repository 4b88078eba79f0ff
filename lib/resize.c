/* resize.c: separable area-average downscale and bilinear upscale. Each
 * axis is a sparse matrix with a fixed number of taps per output (zero
 * weights included): output i = sum over t < stride of
 * weight(i, t) * input[first[i] + t]. Rows are resampled first, as
 * weighted sums of whole input rows (contiguous: 4 floats at a time), then
 * columns on the already fewer rows, 4 outputs at a time: the weights of 4
 * neighbouring outputs are stored side by side for that. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "resize.h"
#include "simd.h"

typedef struct axis {
	int in, out;
	int stride; /* taps per output */
	int *first; /* (groups * 4): the first input of each output */
	float *weight; /* (groups, stride, 4), groups = ceil(out / 4); padding outputs weigh 0 */
} axis;

struct usj_resizer {
	axis rows, cols;
	float *between; /* (out_h, in_w): rows resampled, columns not yet */
	/* input rows made on demand (usj_resize_rows): row y in slot y % rows.stride,
	 * which holds all that one output row needs */
	float *ring;    /* (rows.stride, in_w) */
	int *ring_row;  /* (rows.stride): the row in each slot, -1: none */
};

static float *weight_at(const axis *a, int i, int t)
{
	return a->weight + ((size_t)(i / 4) * a->stride + t) * 4 + i % 4;
}

/* area_weights: output i covers input [i in/out, (i+1) in/out). Scaled by
 * out, that is [i in, (i+1) in) against input pixel k at [k out, (k+1) out),
 * so every overlap is an exact integer and the weight is overlap / in. */
static void area_weights(axis *a)
{
	int64_t in = a->in, out = a->out;
	for (int i = 0; i < a->out; i++) {
		int64_t lo = i * in, hi = (i + 1) * in;
		int first = (int)(lo / out), last = (int)((hi - 1) / out);
		a->first[i] = first;
		for (int k = first; k <= last; k++) {
			int64_t from = k * out > lo ? k * out : lo;
			int64_t to = (k + 1) * out < hi ? (k + 1) * out : hi;
			*weight_at(a, i, k - first) = (float)((double)(to - from) / (double)in);
		}
	}
}

/* bilinear_weights: output centre i + 1/2 sits at input coordinate
 * (i + 1/2) in/out; outside the outermost input centres the edge pixel is
 * replicated. */
static void bilinear_weights(axis *a)
{
	for (int i = 0; i < a->out; i++) {
		double at = (i + 0.5) * a->in / a->out - 0.5;
		if (at <= 0 || at >= a->in - 1) {
			a->first[i] = at <= 0 ? 0 : a->in - 1;
			*weight_at(a, i, 0) = 1;
			continue;
		}
		int k = (int)at;
		a->first[i] = k;
		*weight_at(a, i, 0) = (float)(k + 1 - at);
		*weight_at(a, i, 1) = (float)(at - k);
	}
}

static void axis_init(axis *a, int in, int out)
{
	a->in = in;
	a->out = out;
	/* an interval of length in/out >= 1 touches at most ceil(in/out) + 1 pixels */
	a->stride = out <= in ? (in + out - 1) / out + 1 : 2;
	a->stride = a->stride < in ? a->stride : in;
	int groups = (out + 3) / 4;
	a->first = xcalloc((size_t)groups * 4, sizeof *a->first);
	a->weight = xcalloc((size_t)groups * a->stride * 4, sizeof *a->weight);
	if (out <= in)
		area_weights(a);
	else
		bilinear_weights(a);
	/* windows that would run past the input's end move back, weights with them */
	for (int i = 0; i < out; i++) {
		int shift = a->first[i] + a->stride - in;
		if (shift <= 0)
			continue;
		for (int t = a->stride - 1; t >= 0; t--)
			*weight_at(a, i, t) = t >= shift ? *weight_at(a, i, t - shift) : 0;
		a->first[i] -= shift;
	}
}

static void axis_free(axis *a)
{
	free(a->first);
	free(a->weight);
}

usj_resizer *usj_resizer_new(int in_w, int in_h, int out_w, int out_h)
{
	usj_resizer *r = xmalloc(sizeof *r);
	axis_init(&r->rows, in_h, out_h);
	axis_init(&r->cols, in_w, out_w);
	r->between = xmalloc_aligned((size_t)out_h * in_w * sizeof *r->between);
	r->ring = xmalloc_aligned((size_t)r->rows.stride * in_w * sizeof *r->ring);
	r->ring_row = xmalloc((size_t)r->rows.stride * sizeof *r->ring_row);
	return r;
}

/* set_scaled: d = w s, which is 0 + w s (-0 aside): a first tap needs no
 * cleared row to add to */
static void set_scaled(float *d, const float *s, float w, size_t n)
{
	size_t x = 0;
	for (; x + 4 <= n; x += 4)
		store4(d + x, w * load4(s + x));
	for (; x < n; x++)
		d[x] = w * s[x];
}

/* source: the input plane, or how to make its rows */
typedef struct source {
	const float *plane; /* (in_h, stride), or NULL */
	size_t stride;
	usj_row_fn make;
	void *ctx;
} source;

static const float *input_row(usj_resizer *r, const source *s, int y)
{
	if (s->plane)
		return s->plane + (size_t)y * s->stride;
	int slot = y % r->rows.stride;
	float *row = r->ring + (size_t)slot * r->cols.in;
	if (r->ring_row[slot] != y) {
		s->make(s->ctx, y, row);
		r->ring_row[slot] = y;
	}
	return row;
}

static void resize(usj_resizer *r, const source *s, float *dst)
{
	const axis *ra = &r->rows, *ca = &r->cols;
	size_t in_w = (size_t)ca->in;
	int out_w = ca->out;
	/* (in_h, in_w) -> between (out_h, in_w): weighted sums of whole input rows */
	for (int i = 0; i < ra->out; i++) {
		float *row = r->between + i * in_w;
		int taps = 0;
		for (int t = 0; t < ra->stride; t++) {
			float w = *weight_at(ra, i, t);
			if (w != 0)
				(taps++ ? add_scaled : set_scaled)(row, input_row(r, s, ra->first[i] + t), w, in_w);
		}
		if (!taps) /* not for an output of either kind; for safety */
			memset(row, 0, in_w * sizeof *row);
	}
	/* between (out_h, in_w) -> dst (out_h, out_w): 4 outputs at a time, each
	 * tap gathering one input for each */
	for (int y = 0; y < ra->out; y++) {
		const float *row = r->between + y * in_w;
		float *d = dst + (size_t)y * out_w;
		for (int j = 0; j < out_w; j += 4) {
			const float *s0 = row + ca->first[j], *s1 = row + ca->first[j + 1];
			const float *s2 = row + ca->first[j + 2], *s3 = row + ca->first[j + 3];
			const float *w = weight_at(ca, j, 0);
			f32x4 sum = {0, 0, 0, 0};
			for (int t = 0; t < ca->stride; t++)
				sum += load4(w + 4 * t) * (f32x4){s0[t], s1[t], s2[t], s3[t]};
			if (j + 4 <= out_w)
				store4(d + j, sum);
			else
				for (int k = 0; j + k < out_w; k++)
					d[j + k] = sum[k];
		}
	}
}

void usj_resize_reference(const usj_resizer *r, const float *src, size_t src_stride, float *dst)
{
	const axis *ra = &r->rows, *ca = &r->cols;
	float *between = xmalloc((size_t)ra->out * ca->in * sizeof *between); /* (out_h, in_w) */
	for (int i = 0; i < ra->out; i++)
		for (int x = 0; x < ca->in; x++) {
			float sum = 0;
			for (int t = 0; t < ra->stride; t++)
				sum += *weight_at(ra, i, t) * src[(size_t)(ra->first[i] + t) * src_stride + x];
			between[(size_t)i * ca->in + x] = sum;
		}
	for (int i = 0; i < ra->out; i++)
		for (int j = 0; j < ca->out; j++) {
			float sum = 0;
			for (int t = 0; t < ca->stride; t++)
				sum += *weight_at(ca, j, t) * between[(size_t)i * ca->in + ca->first[j] + t];
			dst[(size_t)i * ca->out + j] = sum;
		}
	free(between);
}

void usj_resize(usj_resizer *r, const float *src, size_t src_stride, float *dst)
{
	source s = {.plane = src, .stride = src_stride};
	resize(r, &s, dst);
}

void usj_resize_rows(usj_resizer *r, usj_row_fn make, void *ctx, float *dst)
{
	source s = {.make = make, .ctx = ctx};
	for (int k = 0; k < r->rows.stride; k++)
		r->ring_row[k] = -1;
	resize(r, &s, dst);
}

void usj_resizer_free(usj_resizer *r)
{
	axis_free(&r->rows);
	axis_free(&r->cols);
	free(r->between);
	free(r->ring);
	free(r->ring_row);
	free(r);
}
