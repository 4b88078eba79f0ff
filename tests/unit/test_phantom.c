/* test_phantom.c: the phantom simulator's physics (Rayleigh speckle,
 * posterior enhancement and shadowing, the convex fan), its determinism,
 * and each fast kernel against its naive reference (phantom_kernel.h). */
#include <stdlib.h>
#include <string.h>

#include "phantom_kernel.h"
#include "test.h"

static const usj_probe convex = {.convex = 1, .depth_cm = 16, .angle_deg = 70, .radius_cm = 5,
                                 .f0_mhz = 3.5, .focus_cm = 8, .tgc = 1, .gain_db = 0, .dr_db = 60};
static const usj_probe linear = {.convex = 0, .depth_cm = 5, .width_cm = 4, .f0_mhz = 7.5,
                                 .focus_cm = 2.5, .tgc = 1, .gain_db = 0, .dr_db = 60};

/* mean_std: of v (n) */
static void mean_std(const double *v, int n, double *mean, double *std)
{
	double sum = 0, sum2 = 0;
	for (int i = 0; i < n; i++)
		sum += v[i];
	*mean = sum / n;
	for (int i = 0; i < n; i++)
		sum2 += (v[i] - *mean) * (v[i] - *mean);
	*std = sqrt(sum2 / (n - 1));
}

/* window_mean: mean grey of image (S, S) over columns [u0, u1), rows [v0, v1) */
static double window_mean(const uint8_t *image, int S, int u0, int u1, int v0, int v1)
{
	double sum = 0;
	for (int v = v0; v < v1; v++)
		for (int u = u0; u < u1; u++)
			sum += image[(size_t)v * S + u];
	return sum / ((double)(u1 - u0) * (v1 - v0));
}

/* pixel: the image column (or row) of a lateral x (or depth z) in cm */
static int pixel_x(double side, int S, double x) { return (int)((x / side + 0.5) * S); }
static int pixel_z(double side, int S, double z) { return (int)(z / side * S); }

/* render_tissue: image, region (S, S) and envelope (2S, S) (if not NULL)
 * of plain tissue on a G x G scene through p, from seed */
static void render_tissue(uint8_t *image, uint8_t *region, float *envelope, const usj_probe *p, int G,
                          uint64_t seed, int S)
{
	usj_scene s;
	usj_scene_init(&s, G, usj_scene_side(p));
	usj_rng rng;
	usj_rng_seed(&rng, seed);
	usj_phantom_render(&s, p, &rng, S, image, region, envelope, NULL, NULL);
	usj_scene_free(&s);
}

/* Homogeneous tissue with matched TGC: the envelope is Rayleigh (mean/std
 * = sqrt(pi / (4 - pi)) = 1.913) and its log has a std of 5.57 dB. */
static void speckle_is_rayleigh(void)
{
	enum { S = 128 };
	uint8_t *image = xmalloc(S * S), *region = xmalloc(S * S);
	float *envelope = xmalloc((size_t)2 * S * S * sizeof *envelope);
	int nz = 2 * S, nx = S;
	render_tissue(image, region, envelope, &linear, 128, 3, S);
	double *v = xmalloc((size_t)nz * nx * sizeof *v), mean, std;
	int n = 0;
	for (int iz = nz / 4; iz < 3 * nz / 4; iz++)
		for (int ix = nx / 4; ix < 3 * nx / 4; ix++)
			v[n++] = envelope[(size_t)iz * nx + ix];
	mean_std(v, n, &mean, &std);
	CHECK_NEAR(mean / std, 1.913, 0.1 * 1.913);
	CHECK_NEAR(mean * mean * 4 / M_PI, 1.0, 0.1); /* Rayleigh power E|a|^2 = 4 mean^2 / pi: echo 1 */
	n = 0;
	double side = usj_scene_side(&linear);
	for (int y = pixel_z(side, S, 1.0); y < pixel_z(side, S, 4.0); y++)
		for (int x = pixel_x(side, S, -1.5); x < pixel_x(side, S, 1.5); x++)
			v[n++] = image[(size_t)y * S + x];
	mean_std(v, n, &mean, &std);
	CHECK_NEAR(std, 5.57 / linear.dr_db * 255, 0.15 * 5.57 / linear.dr_db * 255);
	free(v);
	free(envelope);
	free(image);
	free(region);
}

/* render_seed: image (S, S) of a textured scene with a vessel, rendered from seed */
static void render_seed(uint8_t *image, uint8_t *region, const usj_probe *p, uint64_t seed, int S)
{
	usj_scene s;
	usj_scene_init(&s, 96, usj_scene_side(p));
	usj_rng rng;
	usj_rng_seed(&rng, seed);
	usj_scene_texture(&s, &rng, 1.0, 0.3);
	usj_paint_ellipse(&s, 0, 0.5 * s.side_cm, 0.2 * s.side_cm, 0.1 * s.side_cm, 0.3, (usj_paint){0.01f, 0, -1});
	usj_paint_ring(&s, 0, 0.5 * s.side_cm, 0.2 * s.side_cm, 0.1 * s.side_cm, 0.3, 0.05, (usj_paint){2, 0.5f, 0.5f});
	usj_phantom_render(&s, p, &rng, S, image, region, NULL, NULL, NULL);
	usj_scene_free(&s);
}

static void same_seed_same_bytes(void)
{
	enum { S = 80 };
	const usj_probe *probes[2] = {&convex, &linear};
	for (int k = 0; k < 2; k++) {
		uint8_t a[S * S], ra[S * S], b[S * S], rb[S * S];
		render_seed(a, ra, probes[k], 11, S);
		render_seed(b, rb, probes[k], 11, S);
		CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(ra, rb, sizeof ra) == 0);
		render_seed(b, rb, probes[k], 12, S);
		CHECK(memcmp(a, b, sizeof a) != 0);
		CHECK(memcmp(ra, rb, sizeof ra) == 0); /* the field of view depends on the probe only */
	}
}

/* A fluid cyst (echo 0.01, no attenuation) brightens the tissue below it;
 * a strongly attenuating strip darkens it: by the two-way loss difference,
 * 2 x 0.5 dB/cm/MHz x 7.5 MHz x 1 cm = 7.5 dB for the 1 cm cyst. */
static void enhancement_and_shadow(void)
{
	enum { S = 128 };
	usj_scene s;
	usj_scene_init(&s, 128, usj_scene_side(&linear));
	usj_paint_ellipse(&s, -1.0, 1.5, 0.5, 0.5, 0, (usj_paint){0.01f, 0.0f, -1});
	usj_paint_segment(&s, 0.7, 1.5, 1.3, 1.5, 0.3, (usj_paint){1.0f, 5.0f, -1});
	usj_rng rng;
	usj_rng_seed(&rng, 5);
	uint8_t image[S * S], region[S * S];
	usj_phantom_render(&s, &linear, &rng, S, image, region, NULL, NULL, NULL);
	int v0 = pixel_z(s.side_cm, S, 2.5), v1 = pixel_z(s.side_cm, S, 4.5);
	double below_cyst = window_mean(image, S, pixel_x(s.side_cm, S, -1.25), pixel_x(s.side_cm, S, -0.75), v0, v1);
	double below_strip = window_mean(image, S, pixel_x(s.side_cm, S, 0.85), pixel_x(s.side_cm, S, 1.15), v0, v1);
	double beside = window_mean(image, S, pixel_x(s.side_cm, S, -0.25), pixel_x(s.side_cm, S, 0.25), v0, v1);
	double enhancement = 7.5 / linear.dr_db * 255;
	CHECK_NEAR(below_cyst - beside, enhancement, 0.35 * enhancement);
	CHECK(below_strip < beside - 2 * enhancement);
	usj_scene_free(&s);
}

/* The convex region is the annular sector: outside at the corners, inside
 * at the centre, and of area half-angle x ((R + depth)^2 - R^2). */
static void convex_region_is_a_fan(void)
{
	enum { S = 160 };
	uint8_t *image = xmalloc(S * S), *region = xmalloc(S * S);
	render_tissue(image, region, NULL, &convex, 64, 9, S);
	CHECK(region[0] == 0 && region[S - 1] == 0 && region[(size_t)(S - 1) * S] == 0 && region[(size_t)S * S - 1] == 0);
	CHECK(region[(size_t)(S / 2) * S + S / 2] == 1);
	long count = 0, dark_outside = 0;
	for (int i = 0; i < S * S; i++) {
		count += region[i];
		dark_outside += !region[i] && image[i] == 0;
	}
	CHECK(dark_outside == (long)S * S - count);
	double half = convex.angle_deg * M_PI / 360, R = convex.radius_cm, D = convex.depth_cm;
	double fan = half * ((R + D) * (R + D) - R * R), pixel = usj_scene_side(&convex) / S;
	CHECK_NEAR(count * pixel * pixel / fan, 1.0, 0.02);
	free(image);
	free(region);
}

/* fill: v (n) uniform in [lo, hi) */
static void fill(float *v, size_t n, usj_rng *rng, double lo, double hi)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float)(lo + (hi - lo) * usj_rng_uniform(rng));
}

/* max_error: max |fast - naive| (n) over max |naive| */
static double max_error(const float *fast, const float *naive, size_t n)
{
	double err = 0, top = 1e-30;
	for (size_t i = 0; i < n; i++) {
		err = worse(err, fabs((double)fast[i] - naive[i]));
		top = fmax(top, fabs((double)naive[i]));
	}
	return err / top;
}

static void convolutions_match_naive(void)
{
	usj_rng rng;
	usj_rng_seed(&rng, 21);
	enum { NZ = 37, NX = 23, RMAX = 30 };
	float in[NZ * NX], fast[NZ * NX], naive[NZ * NX], k[2 * RMAX + 1];
	int radii[] = {1, 5, 11, 30};
	for (int r = 0; r < 4; r++) {
		int R = radii[r];
		fill(in, NZ * NX, &rng, -1, 1);
		fill(k, 2 * R + 1, &rng, 0, 1);
		usj_conv_axial(fast, in, k, R, NZ, NX);
		usj_conv_axial_naive(naive, in, k, R, NZ, NX);
		CHECK(max_error(fast, naive, NZ * NX) <= 1e-6);
		usj_conv_lateral(fast, in, k, R, NX);
		usj_conv_lateral_naive(naive, in, k, R, NX);
		CHECK(max_error(fast, naive, NX) <= 1e-6);
	}
}

/* random_scene: echo, atten and spec maps (G, G) of random values */
static void random_scene(usj_scene *s, int G, double side, usj_rng *rng)
{
	usj_scene_init(s, G, side);
	fill(s->echo, (size_t)G * G, rng, 0, 2);
	fill(s->atten, (size_t)G * G, rng, 0, 1);
	fill(s->spec, (size_t)G * G, rng, 0, 0.5);
}

static void scatter_matches_naive(void)
{
	const usj_probe *probes[2] = {&convex, &linear};
	for (int k = 0; k < 2; k++) {
		usj_rng rng, fast_rng, naive_rng;
		usj_rng_seed(&rng, 31 + k);
		usj_scene s;
		random_scene(&s, 50, usj_scene_side(probes[k]), &rng);
		usj_beams b = {.NZ = 90, .NX = 45, .dr = probes[k]->depth_cm / 90};
		size_t n = (size_t)b.NZ * b.NX;
		float *re = xmalloc(4 * n * sizeof *re), *im = re + n, *re_naive = im + n, *im_naive = re_naive + n;
		int32_t *cell = xmalloc(n * sizeof *cell);
		usj_rng_seed(&fast_rng, 77);
		usj_rng_seed(&naive_rng, 77);
		usj_beam_cells(cell, &s, probes[k], &b);
		usj_scatter(re, im, cell, &s, probes[k], &b, &fast_rng);
		usj_scatter_naive(re_naive, im_naive, &s, probes[k], &b, &naive_rng);
		CHECK(max_error(re, re_naive, n) <= 1e-4 && max_error(im, im_naive, n) <= 1e-4);
		free(re);
		free(cell);
		usj_scene_free(&s);
	}
}

/* The float fan geometry may put a pixel on the other side of the edge, or
 * a rounding the other way, but no more than that. */
static void scan_convert_matches_naive(void)
{
	enum { S = 100 };
	const usj_probe *probes[2] = {&convex, &linear};
	usj_rng rng;
	usj_rng_seed(&rng, 51);
	for (int k = 0; k < 2; k++) {
		usj_beams b = {.NZ = 2 * S, .NX = S, .dr = probes[k]->depth_cm / (2 * S)};
		size_t n = (size_t)b.NZ * b.NX;
		float *re = xmalloc(2 * n * sizeof *re), *im = re + n;
		fill(re, 2 * n, &rng, -2, 2);
		re[n / 2] = im[n / 2] = 0; /* the floor of the log */
		uint8_t image[S * S], region[S * S], image_naive[S * S], region_naive[S * S];
		double side = usj_scene_side(probes[k]);
		usj_scan_convert(image, region, re, im, probes[k], &b, side, S);
		usj_scan_convert_naive(image_naive, region_naive, re, im, probes[k], &b, side, S);
		int edge = 0, off = 0;
		for (int i = 0; i < S * S; i++) {
			edge += region[i] != region_naive[i];
			off += region[i] == region_naive[i] && abs(image[i] - image_naive[i]) > 1;
		}
		CHECK(edge <= S / 10 && off == 0);
		free(re);
	}
}

static void texture_matches_naive(void)
{
	enum { G = 70, W = 6 };
	usj_rng rng;
	usj_rng_seed(&rng, 61);
	double wave[3 * W];
	for (int k = 0; k < 3 * W; k++)
		wave[k] = 20 * (usj_rng_uniform(&rng) - 0.5);
	float fast[G * G], naive[G * G];
	fill(fast, G * G, &rng, 0.5, 1.5);
	memcpy(naive, fast, sizeof naive);
	usj_texture(fast, wave, W, 0.4, G, 7.0);
	usj_texture_naive(naive, wave, W, 0.4, G, 7.0);
	CHECK(max_error(fast, naive, G * G) <= 1e-5);
}

/* Blobs painted with recurrences and with atan2 and cos cover the same
 * cells, but for a rounding on the boundary. */
static void blob_matches_naive(void)
{
	enum { G = 100, BLOBS = 40 };
	usj_rng rng;
	usj_rng_seed(&rng, 71);
	usj_scene fast, naive;
	usj_scene_init(&fast, G, 10.0);
	usj_scene_init(&naive, G, 10.0);
	for (int b = 0; b < BLOBS; b++) {
		double amp[5], phase[5];
		int nharm = b % 6;
		for (int k = 0; k < nharm; k++) {
			amp[k] = 0.15 * usj_rng_uniform(&rng);
			phase[k] = 2 * M_PI * usj_rng_uniform(&rng);
		}
		double cx = 10 * (usj_rng_uniform(&rng) - 0.5), cz = 10 * usj_rng_uniform(&rng);
		double rx = 0.2 + 2 * usj_rng_uniform(&rng), rz = 0.2 + 2 * usj_rng_uniform(&rng), rot = 3 * usj_rng_uniform(&rng);
		usj_paint v = {(float)(b + 1), 0.5f, -1};
		usj_paint_blob(&fast, cx, cz, rx, rz, rot, amp, phase, nharm, v);
		usj_paint_blob_naive(&naive, cx, cz, rx, rz, rot, amp, phase, nharm, v);
	}
	int differ = 0, painted = 0;
	for (int i = 0; i < G * G; i++) {
		differ += fast.echo[i] != naive.echo[i];
		painted += naive.echo[i] != 1.0f;
	}
	CHECK(painted > G * G / 4 && differ <= 2);
	usj_scene_free(&fast);
	usj_scene_free(&naive);
}

int main(void)
{
	RUN(speckle_is_rayleigh);
	RUN(same_seed_same_bytes);
	RUN(enhancement_and_shadow);
	RUN(convex_region_is_a_fan);
	RUN(convolutions_match_naive);
	RUN(scatter_matches_naive);
	RUN(scan_convert_matches_naive);
	RUN(texture_matches_naive);
	RUN(blob_matches_naive);
	return TEST_DONE();
}
