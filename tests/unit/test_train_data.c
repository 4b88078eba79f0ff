/* test_train_data.c: what training draws from: image sets held out by id
 * and sampled with a cap per dataset, flips that map patches exactly, and
 * the corruption formulas of the robustness protocol. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "corrupt.h"
#include "err.h"
#include "imageset.h"
#include "mem.h"
#include "test.h"
#include "vit.h"

enum { S = 16 };

/* write_set: a stream of na images of dataset "a" and nb of "b" */
static char *write_set(int na, int nb)
{
	char *path = test_path("set.usj");
	usj_writer *w = usj_writer_open(path, "images", NULL);
	usj_record r;
	usj_record_init(&r);
	int64_t shape[2] = {S, S};
	for (int i = 0; i < na + nb; i++) {
		usj_record_clear(&r);
		char id[32];
		snprintf(id, sizeof id, "img%03d", i);
		usj_record_set_str(&r, "id", id);
		usj_record_set_str(&r, "dataset", i < na ? "a" : "b");
		if (i % 5 < 2) /* a test image every fifth; the rest half train, half without a split */
			usj_record_set_str(&r, "split", i % 5 ? "train" : "test");
		memset(usj_record_set_tensor(&r, "image", USJ_U1, 2, shape)->data, i, S * S);
		memset(usj_record_set_tensor(&r, "region", USJ_U1, 2, shape)->data, 1, S * S);
		usj_writer_write(w, &r);
	}
	usj_writer_close(w, NULL);
	usj_record_free(&r);
	return path;
}

static void held_out_by_id_and_capped_epochs(void)
{
	char *path = write_set(200, 12);
	usj_imageset s;
	usj_imageset_load(&s, path, NULL);
	CHECK(s.n == 212 && s.S == 16 && s.ndatasets == 2);
	usj_imageset_hold_out(&s, 0.1, 5);
	int held = 0, held_b = 0;
	for (int i = 0; i < s.n; i++) {
		held += s.held_out[i];
		held_b += s.held_out[i] && s.dataset[i] == 1;
	}
	CHECK(held > 8 && held < 40);
	int train_b = 12 - held_b;
	/* cap 50: 50 of a's, all of b's, every epoch; a's differ between epochs */
	CHECK(usj_epoch_size(&s, 50) == 50 + train_b);
	CHECK(usj_epoch_size(&s, 0) == 212 - held);
	usj_epoch e1, e2, again;
	usj_epoch_draw(&e1, &s, 50, 9, 0);
	usj_epoch_draw(&e2, &s, 50, 9, 1);
	usj_epoch_draw(&again, &s, 50, 9, 0);
	CHECK(e1.n == 50 + train_b && e2.n == e1.n);
	CHECK(memcmp(e1.order, again.order, (size_t)e1.n * sizeof(int)) == 0);
	CHECK(memcmp(e1.order, e2.order, (size_t)e1.n * sizeof(int)) != 0);
	int b_seen = 0, held_seen = 0;
	for (int k = 0; k < e1.n; k++) {
		b_seen += s.dataset[e1.order[k]] == 1;
		held_seen += s.held_out[e1.order[k]];
	}
	CHECK(b_seen == train_b && held_seen == 0);
	usj_epoch_free(&e1), usj_epoch_free(&e2), usj_epoch_free(&again);
	/* the slice follows the ids, not their order: the same ids held out again */
	usj_imageset t;
	usj_imageset_load(&t, path, NULL);
	usj_imageset_hold_out(&t, 0.1, 5);
	CHECK(memcmp(s.held_out, t.held_out, (size_t)s.n) == 0);
	for (int i = 0; i < s.n; i++)
		CHECK(usj_imageset_find(&s, s.ids[i]) == i);
	CHECK(usj_imageset_find(&s, "img999") == -1);
	usj_imageset_free(&s);
	usj_imageset_free(&t);
	/* training never sees a test image; records without a split are kept */
	usj_imageset_load(&t, path, "train,val");
	CHECK(t.n == 212 - 43);
	CHECK(usj_imageset_find(&t, "img000") == -1 && usj_imageset_find(&t, "img001") >= 0 &&
	      usj_imageset_find(&t, "img002") >= 0);
	usj_imageset_free(&t);
	free(path);
}

static void flips_map_patches_exactly(void)
{
	enum { P = 4, G = S / P };
	float src[S * S], view[S * S];
	uint8_t reg[S * S], reg_out[S * S];
	for (int i = 0; i < S * S; i++) {
		src[i] = (float)((i * 37) % 101) / 100;
		reg[i] = 1;
	}
	for (int h = 0; h < 2; h++)
		for (int v = 0; v < 2; v++) {
			usj_geom g = {.w = S, .h = S, .hflip = h, .vflip = v};
			usj_geom_apply(view, reg_out, src, reg, S, &g);
			int bad = 0;
			for (int p = 0; p < G * G; p++) {
				int q = usj_geom_flip_patch(p, G, &g);
				for (int y = 0; y < P; y++)
					for (int x = 0; x < P; x++) {
						int vy = p / G * P + y, vx = p % G * P + x;
						int sy = q / G * P + (v ? P - 1 - y : y), sx = q % G * P + (h ? P - 1 - x : x);
						bad += view[vy * S + vx] != src[sy * S + sx];
					}
			}
			CHECK(bad == 0);
		}
}

static void blur_kernel_of_the_protocol(void)
{
	/* sigma 1: 2 floor(2) + 1 = 5 taps a direction; a delta spreads over 5 x 5 exactly */
	float img[S * S] = {0}, tmp[S * S];
	img[8 * S + 8] = 1;
	usj_blur(img, tmp, S, S, 1.0);
	double sum = 0, w1 = exp(-0.5), w2 = exp(-2.0), norm = 1 + 2 * w1 + 2 * w2;
	for (int y = 0; y < S; y++)
		for (int x = 0; x < S; x++) {
			sum += img[y * S + x];
			if (abs(y - 8) > 2 || abs(x - 8) > 2)
				CHECK(img[y * S + x] == 0);
		}
	CHECK_NEAR(sum, 1.0, 1e-6);
	CHECK_NEAR(img[8 * S + 8], 1 / (norm * norm), 1e-6);
	CHECK_NEAR(img[8 * S + 10], w2 / (norm * norm), 1e-6);
}

static void contrast_around_the_region_median(void)
{
	float img[S * S];
	uint8_t region[S * S];
	for (int i = 0; i < S * S; i++) {
		img[i] = (i % 16) / 16.0f;      /* columns 0 .. 15/16 */
		region[i] = i % 16 < 9;          /* inside: columns 0 .. 8, median 4/16 */
	}
	usj_contrast(img, region, S, S, 0.5);
	double m = 4 / 16.0;
	for (int x = 0; x < 16; x++)
		CHECK_NEAR(img[x], m + 0.5 * (x / 16.0 - m), 1e-4);
}

static void speckle_multiplies_and_clips(void)
{
	enum { N = 128 };
	float *img = xmalloc(N * N * sizeof *img), *noise = xmalloc(N * N * sizeof *noise),
	      *tmp = xmalloc(N * N * sizeof *tmp);
	for (int i = 0; i < N * N; i++)
		img[i] = 0.5f;
	usj_rng r;
	usj_rng_seed(&r, 3);
	usj_speckle(img, noise, tmp, N, N, 0.35, 1.0, &r);
	double s = 0, ss = 0, lo = 1, hi = 0;
	for (int i = 0; i < N * N; i++) {
		double f = img[i] / 0.5 - 1; /* the noise n of I (1 + n) */
		s += f, ss += f * f;
		lo = fmin(lo, img[i]), hi = fmax(hi, img[i]);
	}
	CHECK_NEAR(s / (N * N), 0.0, 0.03);
	CHECK_NEAR(sqrt(ss / (N * N)), 0.35, 0.02);
	CHECK(lo >= 0 && hi <= 1);
	/* correlated: neighbours agree far more than independent noise would */
	double c = 0;
	for (int i = 0; i + 1 < N * N; i++)
		c += (img[i] - 0.5) * (img[i + 1] - 0.5);
	CHECK(c / (N * N) > 0.5 * 0.25 * 0.35 * 0.35);
	free(img), free(noise), free(tmp);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	test_scratch_make();
	RUN(held_out_by_id_and_capped_epochs);
	RUN(flips_map_patches_exactly);
	RUN(blur_kernel_of_the_protocol);
	RUN(contrast_around_the_region_median);
	RUN(speckle_multiplies_and_clips);
	return TEST_DONE();
}
