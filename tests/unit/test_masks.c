/* test_masks.c: I-JEPA multi-block masks over 10 000 draws: block sizes and
 * aspect ratios in their ranges, targets never in the context, at least
 * min_keep patches, USrc masks inside the region, the same masks for the
 * same seed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "masks.h"
#include "test.h"

enum { G = 14, B = 4, BATCHES = 2500 };

static void blocks_follow_their_ranges(void)
{
	usj_mask_config c = usj_mask_defaults();
	usj_rng r;
	usj_rng_seed(&r, 1);
	double area_sum = 0, area_min = 1, area_max = 0, ar_min = 9, ar_max = 0, ctx_min = 1;
	int overlaps = 0, short_ctx = 0, unsorted = 0;
	for (int n = 0; n < BATCHES; n++) {
		usj_masks m;
		CHECK(usj_masks_draw(&m, &c, B, G, NULL, &r) == 0);
		double area = (double)m.ph * m.pw / (G * G), ar = (double)m.ph / m.pw;
		area_sum += area;
		area_min = fmin(area_min, area), area_max = fmax(area_max, area);
		ar_min = fmin(ar_min, ar), ar_max = fmax(ar_max, ar);
		ctx_min = fmin(ctx_min, (double)m.eh * m.ew / (G * G));
		CHECK(m.Tt == m.ph * m.pw); /* nothing constrains a target block: it is whole */
		short_ctx += m.Tc < c.min_keep;
		for (int b = 0; b < B; b++) {
			uint8_t in_target[G * G] = {0};
			for (int k = 0; k < c.npred * m.Tt; k++)
				in_target[m.tgt[(size_t)b * c.npred * m.Tt + k]] = 1;
			for (int t = 0; t < m.Tc; t++) {
				int32_t i = m.ctx[(size_t)b * m.Tc + t];
				overlaps += in_target[i];
				unsorted += t > 0 && m.ctx[(size_t)b * m.Tc + t - 1] >= i;
			}
		}
		usj_masks_free(&m);
	}
	/* rounding a block's sides to whole patches moves its area and aspect a little */
	CHECK_NEAR(area_sum / BATCHES, 0.1, 0.01);
	CHECK(area_min >= 0.06 && area_max <= 0.13);
	CHECK(ar_min >= 0.66 && ar_max <= 1.5);
	CHECK(ar_min < 0.85 && ar_max > 1.3); /* the whole range is drawn */
	CHECK(ctx_min >= 0.8);
	CHECK(overlaps == 0);
	CHECK(short_ctx == 0);
	CHECK(unsorted == 0);
}

static void usrc_stays_in_the_region(void)
{
	usj_mask_config c = usj_mask_defaults();
	usj_rng r;
	usj_rng_seed(&r, 2);
	uint8_t valid[B * G * G];
	for (int b = 0; b < B; b++) /* a fan: rows widen downwards from the top centre */
		for (int y = 0; y < G; y++)
			for (int x = 0; x < G; x++)
				valid[b * G * G + y * G + x] = abs(2 * x - (G - 1)) <= y + 1 + b;
	int outside = 0;
	for (int n = 0; n < BATCHES; n++) {
		usj_masks m;
		CHECK(usj_masks_draw(&m, &c, B, G, valid, &r) == 0);
		for (int b = 0; b < B; b++) {
			for (int t = 0; t < m.Tc; t++)
				outside += !valid[b * G * G + m.ctx[(size_t)b * m.Tc + t]];
			for (int k = 0; k < c.npred * m.Tt; k++)
				outside += !valid[b * G * G + m.tgt[(size_t)b * c.npred * m.Tt + k]];
		}
		CHECK(m.Tt >= c.min_keep && m.Tc >= c.min_keep);
		usj_masks_free(&m);
	}
	CHECK(outside == 0);
	/* a region too small for any block is refused, not looped on */
	memset(valid, 0, sizeof valid);
	valid[5] = 1;
	usj_masks m;
	CHECK(usj_masks_draw(&m, &c, 1, G, valid, &r) == -1);
}

static void same_seed_same_masks(void)
{
	usj_mask_config c = usj_mask_defaults();
	usj_rng a, b;
	usj_rng_seed(&a, 9);
	usj_rng_seed(&b, 9);
	usj_masks x, y;
	usj_masks_draw(&x, &c, B, G, NULL, &a);
	usj_masks_draw(&y, &c, B, G, NULL, &b);
	CHECK(x.Tc == y.Tc && x.Tt == y.Tt);
	CHECK(memcmp(x.ctx, y.ctx, (size_t)B * x.Tc * sizeof(int32_t)) == 0);
	CHECK(memcmp(x.tgt, y.tgt, (size_t)B * c.npred * x.Tt * sizeof(int32_t)) == 0);
	usj_masks_free(&x);
	usj_masks_free(&y);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	RUN(blocks_follow_their_ranges);
	RUN(usrc_stays_in_the_region);
	RUN(same_seed_same_masks);
	return TEST_DONE();
}
