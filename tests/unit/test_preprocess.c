/* test_preprocess.c: resampling, fitting, region detection, inpainting and
 * the percentile rescale of the preprocessing pipeline. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "image.h"
#include "mem.h"
#include "percentile.h"
#include "preprocess.h"
#include "region.h"
#include "resize.h"
#include "test.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* uniform: xorshift64*, in [0, 1) */
static double uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 0x2545f4914f6cdd1du) >> 11) / 9007199254740992.0;
}

static usj_image new_image(int w, int h, int channels)
{
	usj_image img = {w, h, channels, xmalloc_aligned((size_t)w * h * channels * sizeof(float))};
	memset(img.pix, 0, (size_t)w * h * channels * sizeof(float));
	return img;
}

static void set_pixel(usj_image *img, int x, int y, float r, float g, float b)
{
	float *p = img->pix + ((size_t)y * img->width + x) * img->channels;
	p[0] = r;
	if (img->channels == 3) {
		p[1] = g;
		p[2] = b;
	}
}

/* plain_opts: no detection, inpainting or rescale: output = round(255 grey) */
static usj_prep_opts plain_opts(int size, enum usj_fit fit)
{
	usj_prep_opts o = usj_prep_defaults(size);
	o.fit = fit;
	o.inpaint = o.detect_region = o.rescale = 0;
	return o;
}

static void defaults(void)
{
	usj_prep_opts o = usj_prep_defaults(224);
	CHECK(o.size == 224 && o.fit == USJ_FIT_PAD && o.inpaint && o.detect_region && o.rescale);
	CHECK(o.chroma_threshold == 0.2 && o.inpaint_max_area == 0.05);
	CHECK(o.region_threshold == 8.0 / 255 && o.p_low == 2 && o.p_high == 98);
}

static void area_downscale_means(void)
{
	float src[16], dst[4];
	for (int i = 0; i < 16; i++)
		src[i] = (float)i;
	usj_resizer *r = usj_resizer_new(4, 4, 2, 2);
	usj_resize(r, src, 4, dst);
	usj_resizer_free(r);
	/* each output is the mean of a 2 x 2 block */
	CHECK_NEAR(dst[0], (0 + 1 + 4 + 5) / 4.0, 1e-6);
	CHECK_NEAR(dst[1], (2 + 3 + 6 + 7) / 4.0, 1e-6);
	CHECK_NEAR(dst[2], (8 + 9 + 12 + 13) / 4.0, 1e-6);
	CHECK_NEAR(dst[3], (10 + 11 + 14 + 15) / 4.0, 1e-6);
}

/* overlap: the length of [a0, a1) intersected with [b0, b1) */
static double overlap(double a0, double a1, double b0, double b1)
{
	double lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
	return hi > lo ? hi - lo : 0;
}

static void area_downscale_brute_force(void)
{
	/* a 37 x 23 window of a 41-wide plane -> 10 x 7: ratios 3.7 and 3.29 */
	enum { IN_W = 37, IN_H = 23, STRIDE = 41, OUT_W = 10, OUT_H = 7 };
	float *src = xmalloc(sizeof(float) * STRIDE * IN_H), dst[OUT_W * OUT_H];
	for (int i = 0; i < STRIDE * IN_H; i++)
		src[i] = (float)uniform();
	usj_resizer *r = usj_resizer_new(IN_W, IN_H, OUT_W, OUT_H);
	usj_resize(r, src, STRIDE, dst);
	usj_resizer_free(r);
	double sx = (double)IN_W / OUT_W, sy = (double)IN_H / OUT_H, worst = 0;
	for (int i = 0; i < OUT_H; i++)
		for (int j = 0; j < OUT_W; j++) {
			double sum = 0;
			for (int y = 0; y < IN_H; y++)
				for (int x = 0; x < IN_W; x++)
					sum += overlap(j * sx, (j + 1) * sx, x, x + 1)
					       * overlap(i * sy, (i + 1) * sy, y, y + 1) * src[y * STRIDE + x];
			double err = fabs(sum / (sx * sy) - dst[i * OUT_W + j]);
			worst = err > worst ? err : worst;
		}
	CHECK(worst < 1e-5);
	free(src);
}

static void bilinear_upscale(void)
{
	float src[4] = {0, 1, 2, 3}, dst[16];
	usj_resizer *r = usj_resizer_new(2, 2, 4, 4);
	usj_resize(r, src, 2, dst);
	usj_resizer_free(r);
	/* output centres at input coordinates -0.25, 0.25, 0.75, 1.25: edges replicate */
	const float along[4] = {0, 0.25f, 0.75f, 1};
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			CHECK_NEAR(dst[i * 4 + j], 2 * along[i] + along[j], 1e-6);
	/* one axis grows while the other shrinks: 4 x 1 -> 2 x 3 */
	float row[4] = {0, 2, 4, 8}, out[6];
	r = usj_resizer_new(4, 1, 2, 3);
	usj_resize(r, row, 4, out);
	usj_resizer_free(r);
	for (int i = 0; i < 3; i++) {
		CHECK_NEAR(out[i * 2], 1, 1e-6);
		CHECK_NEAR(out[i * 2 + 1], 6, 1e-6);
	}
}

static void fit_pad(void)
{
	enum { S = 16 };
	uint8_t image[S * S], region[S * S];
	usj_prep_stats st;
	/* landscape 40 x 20 -> 16 x 8 at rows 4..11 */
	usj_image img = new_image(40, 20, 1);
	for (int i = 0; i < 40 * 20; i++)
		img.pix[i] = 0.4f;
	usj_prep_opts o = plain_opts(S, USJ_FIT_PAD);
	for (int detect = 0; detect <= 1; detect++) {
		o.detect_region = detect;
		usj_preprocess(&img, NULL, &o, image, region, &st);
		for (int y = 0; y < S; y++)
			for (int x = 0; x < S; x++) {
				int content = y >= 4 && y < 12;
				CHECK(image[y * S + x] == (content ? 102 : 0));
				CHECK(region[y * S + x] == content);
			}
		CHECK(st.region_fraction == 1);
	}
	free(img.pix);
	/* portrait 10 x 30 -> 5 x 16 (16 * 10 / 30 = 5.33) at columns 5..9 */
	img = new_image(10, 30, 1);
	for (int i = 0; i < 10 * 30; i++)
		img.pix[i] = 0.4f;
	usj_preprocess(&img, NULL, &o, image, region, &st);
	for (int y = 0; y < S; y++)
		for (int x = 0; x < S; x++) {
			int content = x >= 5 && x < 10;
			CHECK(image[y * S + x] == (content ? 102 : 0));
			CHECK(region[y * S + x] == content);
		}
	free(img.pix);
}

/* three_bands: 40 x 20, columns 0..9 at 0.2, 10..29 at 0.6, 30..39 at 1 */
static usj_image three_bands(void)
{
	usj_image img = new_image(40, 20, 1);
	for (int y = 0; y < 20; y++)
		for (int x = 0; x < 40; x++)
			img.pix[y * 40 + x] = x < 10 ? 0.2f : x < 30 ? 0.6f : 1.0f;
	return img;
}

static void fit_crop(void)
{
	enum { S = 16 };
	uint8_t image[S * S], region[S * S];
	usj_prep_stats st;
	usj_image img = three_bands();
	usj_prep_opts o = plain_opts(S, USJ_FIT_CROP);
	usj_preprocess(&img, NULL, &o, image, region, &st);
	/* the centre 20 x 20 is the middle band only */
	for (int i = 0; i < S * S; i++)
		CHECK(image[i] == 153 && region[i] == 1);
	free(img.pix);
}

static void fit_stretch(void)
{
	enum { S = 16 };
	uint8_t image[S * S], region[S * S];
	usj_prep_stats st;
	usj_image img = three_bands();
	usj_prep_opts o = plain_opts(S, USJ_FIT_STRETCH);
	usj_preprocess(&img, NULL, &o, image, region, &st);
	/* 2.5 input columns per output column: band edges at 4 and 12 exactly */
	for (int y = 0; y < S; y++)
		for (int x = 0; x < S; x++)
			CHECK(image[y * S + x] == (x < 4 ? 51 : x < 12 ? 153 : 255) && region[y * S + x] == 1);
	free(img.pix);
}

static void region_of_ring(void)
{
	/* a square ring (walls 5 wide) with a 1-pixel line leaving it and a
	 * small separate block: the region is the filled square */
	enum { W = 40, H = 30 };
	float grey[W * H] = {0};
	uint8_t region[W * H];
	for (int y = 5; y < 25; y++)
		for (int x = 5; x < 25; x++)
			grey[y * W + x] = (x < 10 || x >= 20 || y < 10 || y >= 20) ? 0.5f : 0;
	for (int x = 25; x < W; x++)
		grey[12 * W + x] = 1;
	for (int y = 2; y < 6; y++)
		for (int x = 30; x < 34; x++)
			grey[y * W + x] = 1;
	CHECK(usj_detect_region(grey, W, H, -1, 0, 0.1f, 1, region) == 400);
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			CHECK(region[y * W + x] == (x >= 5 && x < 25 && y >= 5 && y < 25));
	memset(grey, 0, sizeof grey);
	CHECK(usj_detect_region(grey, W, H, -1, 0, 0.1f, 1, region) == 0);
}

static void region_signal_is_reference(void)
{
	/* frames of flat dark grey levels, dark speckle and bright speckle;
	 * widths around the 4-pixel vectors and 64-pixel words */
	static const int sizes[][2] = {{1, 1}, {3, 5}, {67, 41}, {128, 90}, {131, 97}};
	float flat = 2 / 255.0f, dark = 48 / 255.0f;
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		int w = sizes[k][0], h = sizes[k][1];
		float *grey = malloc((size_t)w * h * sizeof *grey), *signal = malloc((size_t)w * h * sizeof *signal);
		uint8_t *want = malloc((size_t)w * h), *got = malloc((size_t)w * h);
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				int band = (x / 9 + y / 7) % 3, level = (int)(40 * uniform());
				/* flat: 16 or 17 of 255, at the edge of flat */
				grey[y * w + x] = (band == 0 ? 16 + (level & 1) : band == 1 ? level : 60 + 4 * level) / 255.0f;
			}
		usj_signal_only(grey, w, h, flat, dark, signal);
		for (int radius = 0; radius <= 2; radius++) {
			size_t a = usj_detect_region(signal, w, h, -1, 0, 8 / 255.0f, radius, want);
			size_t b = usj_detect_region(grey, w, h, flat, dark, 8 / 255.0f, radius, got);
			CHECK(a == b && memcmp(want, got, (size_t)w * h) == 0);
		}
		free(grey);
		free(signal);
		free(want);
		free(got);
	}
}

/* A synthetic B-mode frame, 400 x 300 RGB: a sector with its apex at
 * (200, 10), radius 280, 40 degrees either side of straight down, filled
 * with speckle and an anechoic cyst; on a black background with noise
 * below the threshold, burnt-in text, a logo, a ruler, and a thin line
 * that touches the sector. */
enum { FAN_W = 400, FAN_H = 300 };

static int in_fan(double x, double y)
{
	double dx = x - 200, dy = y - 10;
	return dy > 0 && dx * dx + dy * dy <= 280.0 * 280 && fabs(dx) <= dy * tan(40 * M_PI / 180);
}

static usj_image fan_frame(void)
{
	usj_image img = new_image(FAN_W, FAN_H, 3);
	for (int y = 0; y < FAN_H; y++)
		for (int x = 0; x < FAN_W; x++) {
			double v = 0.02 * uniform();
			if (in_fan(x + 0.5, y + 0.5)) {
				double speckle = sqrt(-2 * log(1 - uniform())) / 1.25; /* Rayleigh, mean 1 */
				double cyst = hypot(x - 190, y - 170) < 25;
				v = cyst ? 0.01 : fmin(1, (0.45 - 0.2 * y / FAN_H) * speckle);
			}
			set_pixel(&img, x, y, (float)v, (float)v, (float)v);
		}
	for (int c = 0; c < 6; c++) /* text: 6 strokes 3 x 10 */
		for (int y = 12; y < 22; y++)
			for (int x = 8 + 7 * c; x < 11 + 7 * c; x++)
				set_pixel(&img, x, y, 1, 1, 1);
	for (int y = 20; y < 60; y++) /* a logo, bigger than the opening, smaller than the fan */
		for (int x = 330; x < 370; x++)
			set_pixel(&img, x, y, 0.8f, 0.8f, 0.8f);
	for (int y = 20; y < 290; y++) { /* a depth ruler with ticks */
		set_pixel(&img, 392, y, 0.9f, 0.9f, 0.9f);
		if (y % 25 == 0)
			for (int x = 385; x < 392; x++)
				set_pixel(&img, x, y, 0.9f, 0.9f, 0.9f);
	}
	for (int x = 330; x < FAN_W; x++) /* a 2-pixel line from inside the fan to the ruler */
		for (int y = 200; y < 202; y++)
			set_pixel(&img, x, y, 1, 1, 1);
	return img;
}

static void region_detects_fan(void)
{
	usj_image img = fan_frame();
	for (int size = 128; size <= 224; size += 96) {
		usj_prep_opts o = usj_prep_defaults(size);
		uint8_t *image = xmalloc((size_t)size * size), *region = xmalloc((size_t)size * size);
		usj_prep_stats st;
		usj_preprocess(&img, NULL, &o, image, region, &st);
		/* pad: the 400 x 300 frame fills rows dst_y .. dst_y + dst_h - 1 */
		int dst_h = (2 * FAN_H * size + FAN_W) / (2 * FAN_W), dst_y = (size - dst_h) / 2;
		size_t both = 0, either = 0, in_region = 0;
		for (int y = 0; y < size; y++)
			for (int x = 0; x < size; x++) {
				double fx = (x + 0.5) * FAN_W / size, fy = (y - dst_y + 0.5) * FAN_H / dst_h;
				int truth = y >= dst_y && y < dst_y + dst_h && in_fan(fx, fy);
				int found = region[y * size + x];
				both += truth && found;
				either += truth || found;
				in_region += found;
				if (y < dst_y || y >= dst_y + dst_h)
					CHECK(!found && image[y * size + x] == 0);
			}
		double iou = (double)both / (double)either;
		if (iou < 0.95)
			fprintf(stderr, "#   size %d: IoU %.4f\n", size, iou);
		CHECK(iou >= 0.95);
		CHECK_NEAR(st.region_fraction, (double)in_region / (size * dst_h), 1e-12);
		CHECK(st.annotation_fraction == 0 && !st.inpainted);
		free(image);
		free(region);
	}
	free(img.pix);
}

/* textured: a smooth grey pattern, 200 x 160 RGB */
static usj_image textured(void)
{
	usj_image img = new_image(200, 160, 3);
	for (int y = 0; y < 160; y++)
		for (int x = 0; x < 200; x++) {
			float v = (float)(0.4 + 0.2 * sin(x / 25.0) * cos(y / 30.0));
			set_pixel(&img, x, y, v, v, v);
		}
	return img;
}

static void inpaint_small_cross(void)
{
	enum { S = 200 };
	uint8_t clean[S * S], image[S * S], region[S * S];
	usj_prep_stats st;
	usj_prep_opts o = plain_opts(S, USJ_FIT_PAD);
	o.inpaint = 1;
	usj_image img = textured();
	usj_preprocess(&img, NULL, &o, clean, region, &st);
	CHECK(st.annotation_fraction == 0 && !st.inpainted);
	/* a yellow caliper cross, 2 pixels thick, arms of 12, centred at (100, 80) */
	for (int k = -12; k <= 12; k++)
		for (int t = 0; t < 2; t++) {
			set_pixel(&img, 99 + t, 80 + k, 1, 1, 0);
			set_pixel(&img, 100 + k, 79 + t, 1, 1, 0);
		}
	usj_preprocess(&img, NULL, &o, image, region, &st);
	/* grown by a pixel: two 4 x 27 bars sharing 4 x 4 */
	CHECK_NEAR(st.annotation_fraction, 200.0 / (200 * 160), 1e-12);
	CHECK(st.inpainted == 1);
	/* the background changes by up to 2 grey levels a pixel, and the fill
	 * reaches 3 pixels deep from the nearest known value */
	int worst = 0;
	for (int i = 0; i < S * S; i++) {
		int d = abs(image[i] - clean[i]);
		worst = d > worst ? d : worst;
	}
	if (worst > 6)
		fprintf(stderr, "#   worst difference %d\n", worst);
	CHECK(worst <= 6);
	o.inpaint = 0; /* without inpainting the cross stands out */
	usj_preprocess(&img, NULL, &o, image, region, &st);
	size_t centre = (size_t)(80 + 20) * S + 100; /* padding: rows 20..179 */
	CHECK(abs(image[centre] - clean[centre]) > 60); /* 226 against 136 */
	free(img.pix);
}

static void large_colour_area_kept(void)
{
	enum { S = 200 };
	uint8_t kept[S * S], image[S * S], region[S * S];
	usj_prep_stats st;
	usj_prep_opts o = plain_opts(S, USJ_FIT_PAD);
	usj_image img = textured();
	/* a 60 x 60 colour Doppler box: 62 x 62 grown, 12 % of the frame */
	for (int y = 50; y < 110; y++)
		for (int x = 70; x < 130; x++)
			set_pixel(&img, x, y, x < 100 ? 0.8f : 0.1f, 0.1f, x < 100 ? 0.1f : 0.8f);
	usj_preprocess(&img, NULL, &o, kept, region, &st);
	o.inpaint = 1;
	usj_preprocess(&img, NULL, &o, image, region, &st);
	CHECK_NEAR(st.annotation_fraction, 62.0 * 62 / (200 * 160), 1e-12);
	CHECK(st.inpainted == 0);
	CHECK(memcmp(image, kept, sizeof image) == 0);
	/* (80, 60) is red: round(255 (0.299 0.8 + 0.587 0.1 + 0.114 0.1)); padding: rows 20..179 */
	CHECK(image[(60 + 20) * S + 80] == 79);
	free(img.pix);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* percentile: numpy's default (linear) percentile of sorted values */
static double percentile(const double *sorted, size_t n, double p)
{
	double q = p / 100 * (double)(n - 1);
	size_t k = (size_t)q;
	return k + 1 < n ? sorted[k] + (q - (double)k) * (sorted[k + 1] - sorted[k]) : sorted[k];
}

static void percentiles_of_masked_values(void)
{
	enum { N = 1003 }; /* not a multiple of 4 */
	float v[N];
	uint8_t mask[N];
	double inside[N];
	size_t n = 0;
	for (int i = 0; i < N; i++) {
		v[i] = (float)uniform();
		mask[i] = uniform() < 0.3 ? (uint8_t)(1 + i % 7) : 0; /* any nonzero byte is inside */
		if (mask[i])
			inside[n++] = v[i];
	}
	qsort(inside, n, sizeof *inside, compare_doubles);
	double low, high;
	CHECK(usj_masked_percentiles(v, mask, N, 2, 98, &low, &high) == 1);
	CHECK_NEAR(low, percentile(inside, n, 2), 1.0 / 65536);
	CHECK_NEAR(high, percentile(inside, n, 98), 1.0 / 65536);
	CHECK(usj_masked_percentiles(v, mask, N, 0, 100, &low, &high) == 1);
	CHECK_NEAR(low, inside[0], 1.0 / 65536);
	CHECK_NEAR(high, inside[n - 1], 1.0 / 65536);
	/* one percentile asked twice (a median), and close ones: the ranks overlap */
	CHECK(usj_masked_percentiles(v, mask, N, 50, 50, &low, &high) == 1);
	CHECK_NEAR(low, percentile(inside, n, 50), 1.0 / 65536);
	CHECK_NEAR(high, percentile(inside, n, 50), 1.0 / 65536);
	CHECK(usj_masked_percentiles(v, mask, N, 40, 40.01, &low, &high) == 1);
	CHECK_NEAR(low, percentile(inside, n, 40), 1.0 / 65536);
	CHECK_NEAR(high, percentile(inside, n, 40.01), 1.0 / 65536);
	memset(mask, 0, sizeof mask);
	low = high = -1;
	CHECK(usj_masked_percentiles(v, mask, N, 2, 98, &low, &high) == 0 && low == -1 && high == -1);
}

static void luma_of_random_colours(void)
{
	/* 37 x 23: rows that are no multiple of 4 pixels; S = 37 keeps the size */
	enum { W = 37, H = 23 };
	usj_image img = new_image(W, H, 3);
	uint8_t coloured[W * H] = {0}, grown[W * H] = {0};
	for (int i = 0; i < W * H; i++) {
		float *p = img.pix + 3 * i;
		if (uniform() < 0.1) { /* a few coloured pixels, the rest grey with a little chroma */
			p[0] = (float)uniform();
			p[1] = (float)uniform();
			p[2] = (float)uniform();
		} else {
			p[0] = p[1] = p[2] = (float)(0.2 + 0.6 * uniform());
			p[i % 3] += 0.15f;
		}
		float hi = fmaxf(p[0], fmaxf(p[1], p[2])), lo = fminf(p[0], fminf(p[1], p[2]));
		coloured[i] = hi - lo > 0.2f;
	}
	size_t annotated = 0;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++) {
					int ny = y + dy, nx = x + dx;
					if (ny >= 0 && ny < H && nx >= 0 && nx < W && coloured[ny * W + nx] && !grown[y * W + x]) {
						grown[y * W + x] = 1;
						annotated++;
					}
				}
	uint8_t image[W * W], region[W * W];
	usj_prep_stats st;
	usj_prep_opts o = plain_opts(W, USJ_FIT_PAD);
	usj_preprocess(&img, NULL, &o, image, region, &st);
	CHECK_NEAR(st.annotation_fraction, (double)annotated / (W * H), 1e-12);
	CHECK(annotated > 0 && !st.inpainted);
	int bad = 0;
	for (int y = 0; y < H; y++) /* padding: rows 7..29 */
		for (int x = 0; x < W; x++) {
			const float *p = img.pix + 3 * (y * W + x);
			float luma = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
			bad += abs(image[(y + 7) * W + x] - (int)(255 * luma + 0.5f)) > 1;
		}
	CHECK(bad == 0);
	free(img.pix);
}

static void rescale_bytes_is_reference(void)
{
	/* values in [0, 1] at and around the rounding edges of several scales,
	 * runs long and short of the 8 a vector */
	static const double ranges[][2] = {{0, 1}, {0.1, 0.6}, {0.3, 0.3 + 1.0 / 65536}, {0.02, 0.98}};
	enum { N = 203 };
	float v[N];
	uint8_t out[N];
	for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
		double low = ranges[r][0], high = ranges[r][1];
		for (int i = 0; i < N; i++) /* half of them on a step's midpoint */
			v[i] = i % 2 ? (float)uniform() : (float)(low + (floor(256 * uniform()) - 0.5) * (high - low) / 255);
		for (int i = 0; i < N; i++)
			v[i] = v[i] < 0 ? 0 : v[i] > 1 ? 1 : v[i];
		for (size_t n = 0; n <= N; n += n < 20 ? 1 : 61) {
			memset(out, 7, sizeof out);
			usj_rescale_bytes(v, n, low, high, out);
			float scale = (float)(255 / (high - low)), offset = (float)low;
			int bad = 0;
			for (size_t i = 0; i < n; i++) {
				float k = floorf((v[i] - offset) * scale + 0.5f);
				bad += out[i] != (k < 0 ? 0 : k > 255 ? 255 : (int)k);
			}
			bad += n < N && out[n] != 7;
			CHECK(bad == 0);
		}
	}
}

static void percentile_rescale(void)
{
	enum { S = 64, N = S * S };
	usj_image img = new_image(S, S, 1);
	/* the values k / 4095 in random order */
	for (int i = 0; i < N; i++)
		img.pix[i] = (float)i / (N - 1);
	for (int i = N - 1; i > 0; i--) {
		int j = (int)(uniform() * (i + 1));
		float t = img.pix[i];
		img.pix[i] = img.pix[j];
		img.pix[j] = t;
	}
	uint8_t image[N], region[N];
	usj_prep_stats st;
	usj_prep_opts o = plain_opts(S, USJ_FIT_STRETCH);
	o.rescale = 1;
	usj_preprocess(&img, NULL, &o, image, region, &st);
	double low = 81.9 / 4095, high = 4013.1 / 4095; /* ranks 0.02 and 0.98 of 4095 */
	CHECK_NEAR(st.low, low, 1e-5);
	CHECK_NEAR(st.high, high, 1e-5);
	int bad = 0;
	for (int i = 0; i < N; i++) {
		double v = img.pix[i], want = 255 * (v - low) / (high - low);
		want = want < 0 ? 0 : want > 255 ? 255 : floor(want + 0.5);
		bad += fabs(image[i] - want) > 1;
		if (v <= low)
			bad += image[i] != 0;
		if (v >= high)
			bad += image[i] != 255;
	}
	CHECK(bad == 0);
	/* a flat image has no range to stretch: the plain scale */
	for (int i = 0; i < N; i++)
		img.pix[i] = 0.4f;
	usj_preprocess(&img, NULL, &o, image, region, &st);
	CHECK(st.low == 0 && st.high == 1 && image[0] == 102 && image[N - 1] == 102);
	free(img.pix);
}

static void scan_mask_replaces_detection(void)
{
	enum { W = 64, H = 32, S = 64 };
	/* left half: values in [0.2, 0.4]; right half: 0.9. The mask is the
	 * left half; detection would have taken everything. */
	usj_image img = new_image(W, H, 1), mask = new_image(W, H, 1);
	double inside[W * H / 2];
	int n = 0;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			float v = x < W / 2 ? (float)(0.2 + 0.2 * uniform()) : 0.9f;
			img.pix[y * W + x] = v;
			mask.pix[y * W + x] = x < W / 2 ? 255 : 0;
			if (x < W / 2)
				inside[n++] = v;
		}
	uint8_t image[S * S], region[S * S];
	usj_prep_stats st;
	usj_prep_opts o = usj_prep_defaults(S);
	usj_preprocess(&img, &mask, &o, image, region, &st);
	/* pad without scaling: rows 16..47; the mask covers columns 0..31 */
	for (int y = 0; y < S; y++)
		for (int x = 0; x < S; x++)
			CHECK(region[y * S + x] == (y >= 16 && y < 48 && x < 32));
	CHECK(st.region_fraction == 0.5);
	/* the percentiles come from the region only */
	qsort(inside, (size_t)n, sizeof *inside, compare_doubles);
	CHECK_NEAR(st.low, percentile(inside, (size_t)n, 2), 1e-4);
	CHECK_NEAR(st.high, percentile(inside, (size_t)n, 98), 1e-4);
	CHECK(image[32 * S + 40] == 255); /* 0.9, above the high percentile */
	/* resized alongside the image: 64 x 32 -> 16 x 8 at rows 4..11, columns 0..7 */
	o = usj_prep_defaults(16);
	usj_preprocess(&img, &mask, &o, image, region, &st);
	for (int y = 0; y < 16; y++)
		for (int x = 0; x < 16; x++)
			CHECK(region[y * 16 + x] == (y >= 4 && y < 12 && x < 8));
	free(img.pix);
	free(mask.pix);
}

/* rows_of_plane: usj_row_fn over a plane whose rows are stride floats apart */
typedef struct plane_rows { const float *v; int w, stride, made; } plane_rows;

static void plane_row(void *ctx, int y, float *row)
{
	plane_rows *p = ctx;
	memcpy(row, p->v + (size_t)y * p->stride, (size_t)p->w * sizeof *row);
	p->made++;
}

static void resize_is_reference(void)
{
	/* shrinking by a lot, a little, and growing; POCUS-like; rows of a wider plane */
	static const int sizes[][4] = {{97, 83, 10, 9}, {50, 41, 37, 30}, {13, 7, 40, 29}, {64, 64, 64, 64},
	                               {370, 370, 224, 224}, {853, 480, 224, 126}, {5, 3, 1, 1}};
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		int iw = sizes[k][0], ih = sizes[k][1], ow = sizes[k][2], oh = sizes[k][3], stride = iw + 3;
		float *src = malloc((size_t)ih * stride * sizeof *src);
		float *a = malloc((size_t)ow * oh * sizeof *a), *b = malloc((size_t)ow * oh * sizeof *b);
		for (int i = 0; i < ih * stride; i++)
			src[i] = (float)uniform();
		usj_resizer *r = usj_resizer_new(iw, ih, ow, oh);
		usj_resize_reference(r, src, (size_t)stride, a);
		usj_resize(r, src, (size_t)stride, b);
		CHECK(memcmp(a, b, (size_t)ow * oh * sizeof *a) == 0);
		plane_rows p = {src, iw, stride, 0};
		usj_resize_rows(r, plane_row, &p, b);
		CHECK(memcmp(a, b, (size_t)ow * oh * sizeof *a) == 0);
		CHECK(p.made <= ih); /* every row made once */
		usj_resize_rows(r, plane_row, &p, b); /* the resizer forgets the rows between planes */
		CHECK(memcmp(a, b, (size_t)ow * oh * sizeof *a) == 0 && p.made > ih);
		usj_resizer_free(r);
		free(src);
		free(a);
		free(b);
	}
}

/* native8: a w x h frame of 8-bit samples, step a pixel (1: grey; 3, 4:
 * RGB and a spare byte), ultrasound-like: a bright noisy square on black,
 * neutral or, with chroma, nearly so (JPEG chroma noise) in the rows below
 * h / 4, coloured pixels in n_marks small crosses and a colour box of
 * box x box pixels */
static usj_native native8(int w, int h, int step, int chroma, int n_marks, int box)
{
	size_t stride = (size_t)w * step + 5; /* rows need not be packed */
	uint8_t *v = xmalloc(stride * h);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = v + y * stride + (size_t)x * step;
			int inside = x > w / 5 && x < 4 * w / 5 && y > h / 6 && y < 5 * h / 6;
			int base = inside ? 40 + (int)(180 * uniform()) : (int)(3 * uniform());
			for (int c = 0; c < step; c++)
				p[c] = (uint8_t)(chroma && y > h / 4 && c < 3 && uniform() < 0.3 ? base + (int)(5 * uniform()) : base);
		}
	for (int m = 0; step >= 3 && m < n_marks; m++) {
		int cx = 3 + (int)((w - 6) * uniform()), cy = 3 + (int)((h - 6) * uniform());
		for (int k = -2; k <= 2; k++) {
			uint8_t *a = v + (size_t)(cy + k) * stride + (size_t)cx * step;
			uint8_t *b = v + (size_t)cy * stride + (size_t)(cx + k) * step;
			a[0] = b[0] = 250;
			a[1] = b[1] = 250;
			a[2] = b[2] = (uint8_t)(k & 1 ? 30 : 199); /* 250 - 199 = 51: the edge of 0.2 */
		}
	}
	for (int y = h / 3; step >= 3 && y < h / 3 + box; y++)
		for (int x = w / 3; x < w / 3 + box; x++) {
			uint8_t *p = v + (size_t)y * stride + (size_t)x * step;
			p[0] = (uint8_t)(200 * uniform());
			p[1] = 20;
			p[2] = (uint8_t)(255 - p[0]);
		}
	usj_native n = {.width = w, .height = h, .own = {v}};
	n.s = (usj_samples){.data = v, .stride = stride, .per_pixel = step, .colour = step >= 3, .bytes = 1, .maxval = 255};
	return n;
}

static void native_is_float_path(void)
{
	/* w, h, step, chroma, marks, box: grey, RGB and RGBX; neutral, nearly
	 * and not; none, a few and many coloured pixels; shrinking and growing */
	static const int frames[][6] = {
		{301, 233, 3, 1, 0, 0}, {301, 233, 3, 0, 0, 0}, {301, 233, 3, 1, 4, 0}, {301, 233, 3, 0, 0, 70},
		{240, 320, 4, 1, 3, 0}, {240, 320, 4, 0, 0, 0}, {257, 190, 1, 0, 0, 0}, {90, 61, 3, 1, 2, 0},
		{90, 61, 1, 0, 0, 0}, {224, 224, 3, 1, 0, 0},
	};
	static const enum usj_fit fits[] = {USJ_FIT_PAD, USJ_FIT_CROP, USJ_FIT_STRETCH};
	enum { S = 128 };
	for (size_t k = 0; k < sizeof frames / sizeof frames[0]; k++)
		for (int ft = 0; ft < 3; ft++) {
			const int *d = frames[k];
			usj_native n = native8(d[0], d[1], d[2], d[3], d[4], d[5]);
			usj_image img;
			usj_native_to_image(&n, &img);
			usj_prep_opts o = usj_prep_defaults(d[0] == 224 ? 224 : S);
			o.fit = fits[ft];
			uint8_t *want = malloc(2 * 224 * 224), *got = malloc(2 * 224 * 224);
			size_t SS = (size_t)o.size * o.size;
			usj_prep_stats a, b;
			usj_preprocess(&img, NULL, &o, want, want + SS, &a);
			usj_preprocess_native(&n, NULL, &o, got, got + SS, &b);
			int same = memcmp(want, got, 2 * SS) == 0 && a.annotation_fraction == b.annotation_fraction
			           && a.inpainted == b.inpainted && a.region_fraction == b.region_fraction
			           && a.low == b.low && a.high == b.high;
			if (!same)
				fprintf(stderr, "#   frame %zu, fit %d differs\n", k, ft);
			CHECK(same);
			CHECK((d[4] || d[5]) == (a.annotation_fraction > 0));
			usj_image_free(&img);
			usj_native_free(&n);
			free(want);
			free(got);
		}
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	RUN(defaults);
	RUN(area_downscale_means);
	RUN(area_downscale_brute_force);
	RUN(bilinear_upscale);
	RUN(fit_pad);
	RUN(fit_crop);
	RUN(fit_stretch);
	RUN(region_of_ring);
	RUN(region_signal_is_reference);
	RUN(region_detects_fan);
	RUN(inpaint_small_cross);
	RUN(large_colour_area_kept);
	RUN(percentiles_of_masked_values);
	RUN(luma_of_random_colours);
	RUN(rescale_bytes_is_reference);
	RUN(percentile_rescale);
	RUN(scan_mask_replaces_detection);
	RUN(resize_is_reference);
	RUN(native_is_float_path);
	return TEST_DONE();
}
