/* preprocess.c: the preprocessing pipeline of PAPER.md section 4, in the
 * order of preprocess.h. Only grey conversion, annotation masking (and
 * inpainting, when there is something to inpaint) and the first resampling
 * pass see the native frame; everything after works on the fitted
 * rectangle inside the S x S square. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grey.h"
#include "mem.h"
#include "percentile.h"
#include "preprocess.h"
#include "region.h"
#include "resize.h"

/* Background (usj_detect_region): a 3 x 3 range of at most FLAT_LEVELS grey
 * levels in a pixel no brighter than DARK_LEVELS (of 255). */
#define FLAT_LEVELS 2
#define DARK_LEVELS 48

usj_prep_opts usj_prep_defaults(int size)
{
	return (usj_prep_opts){
		.size = size,
		.fit = USJ_FIT_PAD,
		.inpaint = 1,
		.chroma_threshold = 0.2,
		.inpaint_max_area = 0.05,
		.detect_region = 1,
		.region_threshold = 8.0 / 255,
		.rescale = 1,
		.p_low = 2,
		.p_high = 98,
	};
}

/* fit: the window of the frame that is kept and the rectangle of the
 * S x S square it fills; the rest of the square is padding. */
typedef struct fit {
	int src_x, src_y, src_w, src_h;
	int dst_x, dst_y, dst_w, dst_h;
} fit;

/* rounded_ratio: round(a b / c) for positive a, b, c, at least 1 */
static int rounded_ratio(int a, int b, int c)
{
	int64_t r = ((int64_t)2 * a * b + c) / ((int64_t)2 * c);
	return r < 1 ? 1 : (int)r;
}

static fit fit_frame(int w, int h, int size, enum usj_fit how)
{
	fit f = {0, 0, w, h, 0, 0, size, size};
	if (how == USJ_FIT_PAD && w >= h)
		f.dst_h = rounded_ratio(h, size, w);
	else if (how == USJ_FIT_PAD)
		f.dst_w = rounded_ratio(w, size, h);
	else if (how == USJ_FIT_CROP && w >= h)
		f.src_w = h;
	else if (how == USJ_FIT_CROP)
		f.src_h = w;
	f.src_x = (w - f.src_w) / 2;
	f.src_y = (h - f.src_h) / 2;
	f.dst_x = (size - f.dst_w) / 2;
	f.dst_y = (size - f.dst_h) / 2;
	return f;
}

/* mask_window: the scan mask inside the fit's window as 0/1 floats
 * (src_h, src_w), nonzero in any channel meaning inside */
static float *mask_window(const usj_image *m, const fit *f)
{
	float *out = xmalloc_aligned((size_t)f->src_w * f->src_h * sizeof *out);
	int c = m->channels;
	for (int y = 0; y < f->src_h; y++) {
		const float *row = m->pix + ((size_t)(f->src_y + y) * m->width + f->src_x) * c;
		float *o = out + (size_t)y * f->src_w;
		for (int x = 0; x < f->src_w; x++) {
			int inside = 0;
			for (int k = 0; k < c; k++)
				inside |= row[(size_t)x * c + k] != 0;
			o[x] = (float)inside;
		}
	}
	return out;
}

/* grey_rows: the window of a frame's grey, a row at a time (usj_row_fn) */
typedef struct grey_rows {
	const usj_grey8 *g;
	const fit *f;
} grey_rows;

static void window_row(void *ctx, int y, float *row)
{
	const grey_rows *r = ctx;
	usj_grey8_row(r->g, r->f->src_y + y, r->f->src_x, r->f->src_w, row);
}

/* from_grey: steps 3 to 6 from the frame's grey after steps 1 and 2, fitted
 * as f: grey (h, w) if not NULL, else made a row at a time from rows */
static void from_grey(const fit *fp, const float *grey, int w, grey_rows *rows,
                      const usj_image *scan_mask, const usj_prep_opts *o, uint8_t *image,
                      uint8_t *region, usj_prep_stats *st)
{
	int size = o->size;
	fit f = *fp;
	size_t fitted_n = (size_t)f.dst_w * f.dst_h;

	/* 3: the window -> the fitted rectangle (dst_h, dst_w) */
	usj_resizer *rs = usj_resizer_new(f.src_w, f.src_h, f.dst_w, f.dst_h);
	float *fitted = xmalloc_aligned(fitted_n * sizeof *fitted);
	if (grey)
		usj_resize(rs, grey + (size_t)f.src_y * w + f.src_x, (size_t)w, fitted);
	else
		usj_resize_rows(rs, window_row, rows, fitted);

	/* 4: the region inside the fitted rectangle (the padding never is) */
	uint8_t *inside = xmalloc(fitted_n);
	size_t region_n = 0;
	if (scan_mask) {
		float *window = mask_window(scan_mask, &f);
		float *resized = xmalloc_aligned(fitted_n * sizeof *resized);
		usj_resize(rs, window, (size_t)f.src_w, resized);
		for (size_t i = 0; i < fitted_n; i++) {
			inside[i] = resized[i] >= 0.5f; /* at least half covered */
			region_n += inside[i];
		}
		free(window);
		free(resized);
	} else if (o->detect_region) {
		int radius = (int)lround(size / 64.0);
		region_n = usj_detect_region(fitted, f.dst_w, f.dst_h, FLAT_LEVELS / 255.0f, DARK_LEVELS / 255.0f,
		                             (float)o->region_threshold, radius > 1 ? radius : 1, inside);
	}
	if (!scan_mask && !region_n) {
		memset(inside, 1, fitted_n);
		region_n = fitted_n;
	}
	usj_resizer_free(rs);
	st->region_fraction = (double)region_n / (double)fitted_n;

	/* 5: percentile rescale; a flat or empty region keeps the plain scale */
	double low, high;
	if (o->rescale
	    && usj_masked_percentiles(fitted, inside, fitted_n, o->p_low, o->p_high, &low, &high)
	    && high > low) {
		st->low = low;
		st->high = high;
	}

	/* 6: into the S x S outputs, padding black and outside the region */
	memset(image, 0, (size_t)size * size);
	memset(region, 0, (size_t)size * size);
	for (int y = 0; y < f.dst_h; y++) {
		size_t at = (size_t)(f.dst_y + y) * size + f.dst_x;
		usj_rescale_bytes(fitted + (size_t)y * f.dst_w, (size_t)f.dst_w, st->low, st->high, image + at);
		memcpy(region + at, inside + (size_t)y * f.dst_w, (size_t)f.dst_w);
	}
	free(fitted);
	free(inside);
}

void usj_preprocess(const usj_image *img, const usj_image *scan_mask, const usj_prep_opts *o,
                    uint8_t *image, uint8_t *region, usj_prep_stats *st)
{
	int w = img->width, h = img->height;
	fit f = fit_frame(w, h, o->size, o->fit);
	*st = (usj_prep_stats){.low = 0, .high = 1};
	/* 1, 2: grey at native resolution, coloured annotations inpainted */
	if (img->channels == 1) {
		from_grey(&f, img->pix, w, NULL, scan_mask, o, image, region, st);
		return;
	}
	float *grey = xmalloc_aligned((size_t)w * h * sizeof *grey);
	usj_grey_from_rgb(img, o, grey, st);
	from_grey(&f, grey, w, NULL, scan_mask, o, image, region, st);
	free(grey);
}

void usj_preprocess_native(const usj_native *n, const usj_image *scan_mask, const usj_prep_opts *o,
                           uint8_t *image, uint8_t *region, usj_prep_stats *st)
{
	const usj_samples *s = &n->s;
	if (s->bytes != 1 || s->maxval != 255 || s->alpha || s->complement) {
		usj_image img;
		usj_native_to_image(n, &img);
		usj_preprocess(&img, scan_mask, o, image, region, st);
		usj_image_free(&img);
		return;
	}
	int w = n->width, h = n->height;
	fit f = fit_frame(w, h, o->size, o->fit);
	*st = (usj_prep_stats){.low = 0, .high = 1};
	usj_grey8 *g = usj_grey8_new(s, w, h, o);
	if (usj_grey8_coloured(g)) { /* inpainting wants the whole frame */
		float *grey = xmalloc_aligned((size_t)w * h * sizeof *grey);
		usj_grey8_plane(g, o, grey, st);
		from_grey(&f, grey, w, NULL, scan_mask, o, image, region, st);
		free(grey);
	} else {
		grey_rows rows = {g, &f};
		from_grey(&f, NULL, w, &rows, scan_mask, o, image, region, st);
	}
	usj_grey8_free(g);
}
