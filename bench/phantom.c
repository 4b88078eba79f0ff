/* phantom: per-image cost of the phantom simulator on one core, with a
 * convex and a linear probe taking turns: scene painting, the scene
 * texture and the B-mode render, each timed on its own.
 * usage: phantom [S [IMAGES]]; the scene grid is G = S. */
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "mem.h"
#include "phantom.h"
#include "progress.h"

static const usj_probe convex = {.convex = 1, .depth_cm = 16, .angle_deg = 70, .radius_cm = 5,
                                 .f0_mhz = 3.5, .focus_cm = 8, .tgc = 1, .gain_db = 0, .dr_db = 60};
static const usj_probe linear = {.convex = 0, .depth_cm = 5, .width_cm = 4, .f0_mhz = 7.5,
                                 .focus_cm = 2.5, .tgc = 1, .gain_db = 0, .dr_db = 60};

/* paint: a representative task scene of about 20 shapes: layers, organs,
 * vessels with walls, specular segments, heterogeneous patches */
static void paint(usj_scene *s, usj_rng *rng)
{
	double side = s->side_cm;
	usj_paint fat = {0.6f, 0.6f, -1}, fluid = {0.01f, 0.0f, -1}, wall = {1.8f, 0.5f, 0.4f};
	usj_paint bright = {2.5f, 1.5f, 0.8f}, organ = {1.3f, 0.5f, -1};
	usj_paint_layer(s, 0, 0.08 * side, 0.02 * side, 0.7 * side, 0.3, fat);
	usj_paint_segment(s, -0.5 * side, 0.1 * side, 0.5 * side, 0.11 * side, 0.015 * side, wall);
	double amp[3] = {0.1, 0.05, 0.03}, phase[3] = {0.2, 1.1, 2.3};
	usj_paint_blob(s, -0.1 * side, 0.45 * side, 0.25 * side, 0.18 * side, 0.3, amp, phase, 3, organ);
	for (int k = 0; k < 4; k++) {
		double cx = (usj_rng_uniform(rng) - 0.5) * 0.6 * side, cz = (0.25 + 0.6 * usj_rng_uniform(rng)) * side;
		double rx = (0.03 + 0.05 * usj_rng_uniform(rng)) * side, rz = rx * (0.6 + 0.5 * usj_rng_uniform(rng));
		usj_paint_ellipse(s, cx, cz, rx, rz, usj_rng_uniform(rng), fluid);
		usj_paint_ring(s, cx, cz, rx, rz, 0.0, 0.01 * side, wall);
	}
	for (int k = 0; k < 4; k++)
		usj_scale_ellipse(s, (usj_rng_uniform(rng) - 0.5) * side, usj_rng_uniform(rng) * side,
		                  0.1 * side, 0.07 * side, 0.5, (float)(0.7 + 0.6 * usj_rng_uniform(rng)));
	usj_paint_ellipse(s, 0.15 * side, 0.7 * side, 0.03 * side, 0.02 * side, 0, bright);
	usj_paint_segment(s, -0.3 * side, 0.2 * side, 0.1 * side, 0.5 * side, 0.006 * side, wall);
	usj_paint_layer(s, 0.85 * side, side, 0.03 * side, 0.5 * side, 1.0, fat);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	const char *synopsis = "phantom [S [IMAGES]]";
	if (argc > 3)
		usj_usage_error(synopsis, "at most S and IMAGES");
	int S = argc > 1 ? atoi(argv[1]) : 128, images = argc > 2 ? atoi(argv[2]) : 400;
	if (S < 8 || S > 4096 || images < 2)
		usj_usage_error(synopsis, "S in 8..4096, IMAGES >= 2");
	uint8_t *image = xmalloc((size_t)S * S), *region = xmalloc((size_t)S * S);
	usj_rng rng;
	usj_rng_seed(&rng, 1);
	double t_paint = 0, t_texture = 0, t_render[2] = {0, 0};
	int warm = images / 10 > 2 ? images / 10 : 2, counted[2] = {0, 0};
	for (int i = -warm; i < images; i++) {
		const usj_probe *p = i % 2 ? &linear : &convex;
		usj_scene s;
		double t0 = usj_now();
		usj_scene_init(&s, S, usj_scene_side(p));
		paint(&s, &rng);
		double t1 = usj_now();
		usj_scene_texture(&s, &rng, 0.15 * s.side_cm, 0.3);
		double t2 = usj_now();
		usj_phantom_render(&s, p, &rng, S, image, region, NULL, NULL, NULL);
		double t3 = usj_now();
		usj_scene_free(&s);
		if (i < 0)
			continue;
		t_paint += t1 - t0;
		t_texture += t2 - t1;
		t_render[p == &linear] += t3 - t2;
		counted[p == &linear]++;
	}
	double render = 1e3 * (t_render[0] + t_render[1]) / images;
	printf("phantom render S=%d convex: %.3f ms/image\n", S, 1e3 * t_render[0] / counted[0]);
	printf("phantom render S=%d linear: %.3f ms/image\n", S, 1e3 * t_render[1] / counted[1]);
	printf("phantom texture G=%d: %.3f ms/image\n", S, 1e3 * t_texture / images);
	printf("phantom paint G=%d (20 shapes): %.3f ms/image\n", S, 1e3 * t_paint / images);
	printf("phantom render S=%d: %.3f ms/image (%.0f images/s per core)\n", S, render, 1e3 / render);
	free(image);
	free(region);
	return 0;
}
