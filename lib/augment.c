/* augment.c: crops, flips and photometric degradations, drawn per image. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "corrupt.h"
#include "mem.h"
#include "resize.h"

usj_augment_config usj_augment_defaults(void)
{
	return (usj_augment_config){.crop_min = 0.6, .flips = 1, .p_blur = 0.5, .p_contrast = 0.5, .p_speckle = 0.5};
}

void usj_geom_draw(usj_geom *g, const usj_augment_config *c, int S, usj_rng *r)
{
	*g = (usj_geom){.w = S, .h = S};
	if (c->crop_min < 1)
		for (int tries = 0; tries < 10; tries++) {
			double area = S * S * (c->crop_min + (1 - c->crop_min) * usj_rng_uniform(r));
			double ratio = exp(log(3.0 / 4) + (log(4.0 / 3) - log(3.0 / 4)) * usj_rng_uniform(r));
			int w = (int)lround(sqrt(area * ratio)), h = (int)lround(sqrt(area / ratio));
			if (w >= 1 && h >= 1 && w <= S && h <= S) {
				g->x0 = (int)usj_rng_below(r, (uint64_t)(S - w + 1));
				g->y0 = (int)usj_rng_below(r, (uint64_t)(S - h + 1));
				g->w = w;
				g->h = h;
				break;
			}
		}
	if (c->flips) {
		g->hflip = usj_rng_uniform(r) < 0.5;
		g->vflip = usj_rng_uniform(r) < 0.5;
	}
}

/* flip: img (S, S) mirrored in place left-right and/or top-bottom */
static void flip(float *img, int S, int h, int v)
{
	for (int y = 0; y < (v ? S / 2 : S); y++)
		for (int x = 0; x < S; x++) {
			int yy = v ? S - 1 - y : y, xx = h ? S - 1 - x : x;
			if (!v && xx <= x)
				continue;
			float t = img[(size_t)y * S + x];
			img[(size_t)y * S + x] = img[(size_t)yy * S + xx];
			img[(size_t)yy * S + xx] = t;
		}
	if (v && h && (S & 1)) { /* the middle row of an odd image still needs its left-right turn */
		float *row = img + (size_t)(S / 2) * S;
		for (int x = 0; x < S / 2; x++) {
			float t = row[x];
			row[x] = row[S - 1 - x];
			row[S - 1 - x] = t;
		}
	}
}

void usj_geom_apply(float *dst, uint8_t *region_dst, const float *src, const uint8_t *region_src, int S,
                    const usj_geom *g)
{
	size_t n = (size_t)S * S;
	float *reg = xmalloc(n * sizeof *reg), *reg_out = xmalloc(n * sizeof *reg_out);
	for (size_t i = 0; i < n; i++)
		reg[i] = region_src[i] ? 1.0f : 0.0f;
	usj_resizer *rs = usj_resizer_new(g->w, g->h, S, S);
	usj_resize(rs, src + (size_t)g->y0 * S + g->x0, (size_t)S, dst);
	usj_resize(rs, reg + (size_t)g->y0 * S + g->x0, (size_t)S, reg_out);
	usj_resizer_free(rs);
	flip(dst, S, g->hflip, g->vflip);
	flip(reg_out, S, g->hflip, g->vflip);
	for (size_t i = 0; i < n; i++)
		region_dst[i] = reg_out[i] > 0.5f;
	free(reg);
	free(reg_out);
}

int usj_geom_flip_patch(int idx, int G, const usj_geom *g)
{
	int r = idx / G, c = idx % G;
	return (g->vflip ? G - 1 - r : r) * G + (g->hflip ? G - 1 - c : c);
}

void usj_photo_apply(float *img, const uint8_t *region, int S, const usj_augment_config *c, float *tmp1,
                     float *tmp2, usj_rng *r)
{
	if (usj_rng_uniform(r) < c->p_blur)
		usj_blur(img, tmp1, S, S, 0.1 + 1.4 * usj_rng_uniform(r));
	if (usj_rng_uniform(r) < c->p_contrast)
		usj_contrast(img, region, S, S, 0.5 + 0.5 * usj_rng_uniform(r));
	if (usj_rng_uniform(r) < c->p_speckle)
		usj_speckle(img, tmp1, tmp2, S, S, 0.35 * usj_rng_uniform(r), 0.5, r);
}
