/* test_overlay.c: burnt-in annotations land on the pixels they should, and
 * clipped drawing is the crop of unclipped drawing (with SANITIZE=1, also:
 * nothing is written outside the image). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "overlay.h"
#include "test.h"

static const uint8_t colour[3] = {250, 200, 10};

/* canvas: rgb (h, w, 3), black, exactly as large as it must be. */
static uint8_t *canvas(int w, int h) { return xcalloc((size_t)w * h * 3, 1); }

static void set(uint8_t *rgb, int w, int x, int y) { memcpy(rgb + ((size_t)y * w + x) * 3, colour, 3); }

static int lit(const uint8_t *rgb, int w, int x, int y)
{
	return memcmp(rgb + ((size_t)y * w + x) * 3, colour, 3) == 0;
}

/* same_canvas: got equals want, or the first pixel that differs is named. */
static int same_canvas(const uint8_t *got, const uint8_t *want, int w, int h, const char *what)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			if (memcmp(got + ((size_t)y * w + x) * 3, want + ((size_t)y * w + x) * 3, 3) != 0) {
				fprintf(stderr, "#   %s: pixel (%d, %d) is %s\n", what, x, y,
				        lit(got, w, x, y) ? "drawn, but should not be" : "not drawn");
				return 0;
			}
	return 1;
}

/* art_canvas: the w x h canvas with glyph art (7 rows of 5, '#' drawn)
 * drawn at (x, y) in scale x scale blocks. */
static uint8_t *art_canvas(int w, int h, int x, int y, int scale, const char *const art[7])
{
	uint8_t *want = canvas(w, h);
	for (int r = 0; r < 7 * scale; r++)
		for (int c = 0; c < 5 * scale; c++)
			if (art[r / scale][c / scale] == '#')
				set(want, w, x + c, y + r);
	return want;
}

static void glyphs_I_and_bar(void)
{
	static const char *const I[7] = {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."};
	static const char *const bar[7] = {"..#..", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."};
	for (int scale = 1; scale <= 3; scale++) {
		int w = 20, h = 25;
		uint8_t *got = canvas(w, h), *want = art_canvas(w, h, 3, 2, scale, I);
		usj_overlay_text(got, w, h, 3, 2, "I", scale, colour);
		CHECK(same_canvas(got, want, w, h, "I"));
		free(got);
		free(want);
		got = canvas(w, h);
		want = art_canvas(w, h, 1, 4, scale, bar);
		usj_overlay_text(got, w, h, 1, 4, "|", scale, colour);
		CHECK(same_canvas(got, want, w, h, "|"));
		for (int y = 4; y < 4 + 7 * scale; y++) /* the bar is the glyph's middle column */
			CHECK(lit(got, w, 1 + 2 * scale, y) && !lit(got, w, 1 + 2 * scale - 1, y));
		free(got);
		free(want);
	}
}

/* extent: the bounding box of the drawn pixels as x0, y0, x1, y1 (exclusive). */
static void extent(const uint8_t *rgb, int w, int h, int box[4])
{
	box[0] = w, box[1] = h, box[2] = box[3] = 0;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			if (lit(rgb, w, x, y)) {
				box[0] = x < box[0] ? x : box[0];
				box[1] = y < box[1] ? y : box[1];
				box[2] = x + 1 > box[2] ? x + 1 : box[2];
				box[3] = y + 1 > box[3] ? y + 1 : box[3];
			}
}

/* The texts start and end with glyphs that fill their first and last
 * columns, and each has a glyph that fills the top and bottom rows. */
static void width_is_the_drawn_extent(void)
{
	static const char *const texts[] = {"H", "HIM", "Hello, WORLD", "M 12.5 cm H", "N [0-9] #M"};
	int w = 300, h = 40;
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
		for (int scale = 1; scale <= 3; scale++) {
			uint8_t *got = canvas(w, h);
			usj_overlay_text(got, w, h, 4, 6, texts[t], scale, colour);
			int box[4], width = usj_overlay_text_width(texts[t], scale);
			extent(got, w, h, box);
			CHECK(box[0] == 4 && box[2] == 4 + width);
			CHECK(box[1] == 6 && box[3] == 6 + USJ_OVERLAY_TEXT_HEIGHT * scale);
			free(got);
		}
	CHECK(usj_overlay_text_width("", 3) == 0);
	CHECK(usj_overlay_text_width("abc", 2) == 34); /* (3 x 6 - 1) x 2 */
}

/* Every printable glyph draws something inside its 5x7 cell, no two are
 * alike, space draws nothing, and other bytes draw as '?'. */
static void glyphs_distinct_and_in_their_cell(void)
{
	enum { W = 9, H = 11, N = 126 - 32 + 1 };
	uint8_t *drawn[N];
	for (int c = 32; c <= 126; c++) {
		char text[2] = {(char)c, 0};
		uint8_t *got = drawn[c - 32] = canvas(W, H);
		usj_overlay_text(got, W, H, 2, 2, text, 1, colour);
		int box[4];
		extent(got, W, H, box);
		int ok = c == ' ' ? box[2] == 0 : box[0] >= 2 && box[1] >= 2 && box[2] <= 7 && box[3] <= 9 && box[2] > 0;
		if (!ok)
			fprintf(stderr, "#   '%c' is outside its cell, or wrongly empty or not\n", c);
		CHECK(ok);
	}
	int alike = 0;
	for (int a = 0; a < N; a++)
		for (int b = a + 1; b < N; b++)
			if (memcmp(drawn[a], drawn[b], W * H * 3) == 0) {
				fprintf(stderr, "#   '%c' and '%c' look the same\n", a + 32, b + 32);
				alike++;
			}
	CHECK(alike == 0);
	const char *others[] = {"\t", "\x7f", "\x80", "\xff"};
	for (int i = 0; i < 4; i++) {
		uint8_t *got = canvas(W, H);
		usj_overlay_text(got, W, H, 2, 2, others[i], 1, colour);
		CHECK(same_canvas(got, drawn['?' - 32], W, H, "a byte outside printable ASCII"));
		free(got);
	}
	for (int i = 0; i < N; i++)
		free(drawn[i]);
}

static void caliper_dots_and_crosses(void)
{
	int w = 64, h = 40;
	uint8_t *got = canvas(w, h), *want = canvas(w, h);
	usj_overlay_caliper(got, w, h, 10, 20, 50, 20, 3, colour);
	for (int d = -3; d <= 3; d++) { /* the crosses */
		set(want, w, 10 + d, 20);
		set(want, w, 10, 20 + d);
		set(want, w, 50 + d, 20);
		set(want, w, 50, 20 + d);
	}
	for (int x = 10; x <= 50; x += 4) /* dots every 4 pixels from (10, 20) to (50, 20) */
		set(want, w, x, 20);
	CHECK(same_canvas(got, want, w, h, "horizontal caliper"));
	free(got);
	free(want);
	/* a diagonal, with crosses of no arms: only the dots, on the line */
	got = canvas(w, h);
	usj_overlay_caliper(got, w, h, 5, 5, 46, 25, 0, colour);
	int dots = 0;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			if (lit(got, w, x, y)) {
				dots++;
				CHECK(x >= 5 && x <= 46 && fabs(y - (5 + (x - 5) * 20.0 / 41)) <= 0.5);
			}
	CHECK(lit(got, w, 5, 5) && lit(got, w, 46, 25) && lit(got, w, 9, 7));
	CHECK(dots == 11 + 1); /* 0, 4, ..., 40 along x, then the end */
	free(got);
	/* both ends at one point: one cross */
	got = canvas(w, h);
	usj_overlay_caliper(got, w, h, 7, 8, 7, 8, 2, colour);
	int box[4];
	extent(got, w, h, box);
	CHECK(box[0] == 5 && box[1] == 6 && box[2] == 10 && box[3] == 11 && lit(got, w, 7, 8) && !lit(got, w, 6, 7));
	free(got);
}

static void arrowheads_filled(void)
{
	int w = 30, h = 30;
	for (int side = -1; side <= 1; side += 2) {
		uint8_t *got = canvas(w, h), *want = canvas(w, h);
		usj_overlay_arrowhead(got, w, h, 15, 10, 4 * side, colour);
		for (int d = 0; d <= 4; d++)
			for (int y = 10 - d; y <= 10 + d; y++)
				set(want, w, 15 + side * d, y);
		CHECK(same_canvas(got, want, w, h, side > 0 ? "arrowhead pointing left" : "arrowhead pointing right"));
		free(got);
		free(want);
	}
}

static void depth_scale_ticks(void)
{
	int w = 40, h = 48;
	uint8_t *got = canvas(w, h), *want = canvas(w, h);
	/* every 7.5 pixels from row 2: rows 2, 9.5, 17, 24.5, 32, 39.5 rounded away from zero */
	usj_overlay_depth_scale(got, w, h, 30, 2, 40, 7.5, -3, colour);
	usj_overlay_depth_scale(got, w, h, 0, 2, 39, 7.5, 2, colour);
	const int rows[6] = {2, 10, 17, 25, 32, 40};
	for (int k = 0; k < 6; k++)
		for (int i = 0; i < (k % 5 ? 3 : 6); i++)
			set(want, w, 30 - i, rows[k]);
	for (int k = 0; k < 5; k++) /* the second scale ends at row 39 */
		for (int i = 0; i < (k % 5 ? 2 : 4); i++)
			set(want, w, i, rows[k]);
	CHECK(same_canvas(got, want, w, h, "depth scale"));
	usj_overlay_depth_scale(got, w, h, 20, 0, 40, 0, 3, colour); /* no step: nothing, and no hang */
	CHECK(same_canvas(got, want, w, h, "depth scale of step 0"));
	free(got);
	free(want);
}

/* draw_shapes: one of each, about (x, y): from x - 9 to x + 34, y - 12 to y + 20. */
static void draw_shapes(uint8_t *rgb, int w, int h, int x, int y)
{
	usj_overlay_text(rgb, w, h, x, y, "Wq|", 2, colour);
	usj_overlay_caliper(rgb, w, h, x - 9, y + 4, x + 13, y - 6, 3, colour);
	usj_overlay_arrowhead(rgb, w, h, x + 5, y + 10, 4, colour);
	usj_overlay_arrowhead(rgb, w, h, x - 5, y - 10, -4, colour);
	usj_overlay_depth_scale(rgb, w, h, x, y - 12, y + 20, 3.5, -3, colour);
}

/* Drawn across every border of a small image, each shape gives the crop of
 * the same drawing on a canvas large enough to hold it whole. */
static void clipped_is_cropped(void)
{
	enum { W = 23, H = 17, M = 64 }; /* M: the margin around the small image */
	const int at[] = {-45, -30, -12, -5, -1, 0, 3, 11, 16, 22, 23, 30, 40};
	int n = (int)(sizeof at / sizeof at[0]), bw = W + 2 * M, bh = H + 2 * M;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			uint8_t *small = canvas(W, H), *big = canvas(bw, bh), *crop = canvas(W, H);
			draw_shapes(small, W, H, at[i], at[j]);
			draw_shapes(big, bw, bh, at[i] + M, at[j] + M);
			for (int y = 0; y < H; y++)
				memcpy(crop + (size_t)y * W * 3, big + ((size_t)(y + M) * bw + M) * 3, W * 3);
			char what[64];
			snprintf(what, sizeof what, "shapes at (%d, %d)", at[i], at[j]);
			CHECK(same_canvas(small, crop, W, H, what));
			free(small);
			free(big);
			free(crop);
		}
	uint8_t *none = canvas(W, H), *got = canvas(W, H);
	draw_shapes(got, W, H, -100000, 100000);
	draw_shapes(got, W, H, 100000, -100000);
	CHECK(same_canvas(got, none, W, H, "far outside"));
	free(none);
	free(got);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	RUN(glyphs_I_and_bar);
	RUN(width_is_the_drawn_extent);
	RUN(glyphs_distinct_and_in_their_cell);
	RUN(caliper_dots_and_crosses);
	RUN(arrowheads_filled);
	RUN(depth_scale_ticks);
	RUN(clipped_is_cropped);
	return TEST_DONE();
}
