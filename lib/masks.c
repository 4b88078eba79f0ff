/* masks.c: multi-block masks as I-JEPA's collator draws them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "masks.h"
#include "mem.h"

usj_mask_config usj_mask_defaults(void)
{
	return (usj_mask_config){.npred = 4, .pred_scale = {0.075, 0.125}, .pred_aspect = {0.75, 1.5},
	                         .enc_scale = {0.85, 1.0}, .enc_aspect = {1.0, 1.0}, .min_keep = 10};
}

/* block_size: one draw u sets both the scale and the aspect ratio, as in
 * I-JEPA; Python's round (half to even) is nearbyint's default */
static void block_size(usj_rng *r, int G, const double scale[2], const double aspect[2], int *h, int *w)
{
	double u = usj_rng_uniform(r);
	double s = scale[0] + u * (scale[1] - scale[0]), a = aspect[0] + u * (aspect[1] - aspect[0]);
	int keep = (int)(G * G * s);
	*h = (int)nearbyint(sqrt(keep * a));
	*w = (int)nearbyint(sqrt(keep / a));
	while (*h >= G)
		(*h)--;
	while (*w >= G)
		(*w)--;
	*h = *h < 1 ? 1 : *h;
	*w = *w < 1 ? 1 : *w;
}

/* place: a block of h x w at a random corner into mask (G*G), cut to valid
 * and to the first nkeep of the complements keep (nkeep, G*G); returns how
 * many patches it holds and the corner in *top, *left */
static int place(uint8_t *mask, int G, int h, int w, const uint8_t *valid, const uint8_t *keep, int nkeep,
                 usj_rng *r, int *top, int *left)
{
	*top = (int)usj_rng_below(r, (uint64_t)(G - h + 1));
	*left = (int)usj_rng_below(r, (uint64_t)(G - w + 1));
	memset(mask, 0, (size_t)G * G);
	int n = 0;
	for (int y = *top; y < *top + h; y++)
		for (int x = *left; x < *left + w; x++) {
			int i = y * G + x, in = !valid || valid[i];
			for (int k = 0; k < nkeep && in; k++)
				in = keep[(size_t)k * G * G + i];
			mask[i] = (uint8_t)in;
			n += in;
		}
	return n;
}

/* sample: a block holding at least min_keep patches; after 20 failures the
 * last of the keep constraints is dropped, then the next, ... Returns the
 * count, or -1 if even without constraints no place works. */
static int sample(uint8_t *mask, int G, int h, int w, const uint8_t *valid, const uint8_t *keep, int nkeep,
                  int min_keep, usj_rng *r, int *top, int *left)
{
	for (int drop = 0; drop <= nkeep; drop++)
		for (int attempt = 0; attempt < 20; attempt++) {
			int n = place(mask, G, h, w, valid, keep, nkeep - drop, r, top, left);
			if (n >= min_keep)
				return n;
		}
	/* USrc on a small region: a fair number of further tries before giving up */
	for (int attempt = 0; attempt < 1000; attempt++) {
		int n = place(mask, G, h, w, valid, NULL, 0, r, top, left);
		if (n >= min_keep)
			return n;
	}
	return -1;
}

static void list_of(const uint8_t *mask, int G, int32_t *out, int limit)
{
	for (int i = 0, n = 0; i < G * G && n < limit; i++)
		if (mask[i])
			out[n++] = i;
}

int usj_masks_draw(usj_masks *m, const usj_mask_config *c, int B, int G, const uint8_t *valid, usj_rng *rng)
{
	memset(m, 0, sizeof *m);
	int P = c->npred, NN = G * G, rc = 0;
	block_size(rng, G, c->pred_scale, c->pred_aspect, &m->ph, &m->pw);
	block_size(rng, G, c->enc_scale, c->enc_aspect, &m->eh, &m->ew);
	uint8_t *tgt = xmalloc((size_t)B * P * NN), *ctx = xmalloc((size_t)B * NN);
	uint8_t *comp = xmalloc((size_t)P * NN); /* (P, NN) 0 on each target block's rectangle */
	int min_t = NN, min_c = NN;
	for (int b = 0; b < B && !rc; b++) {
		const uint8_t *v = valid ? valid + (size_t)b * NN : NULL;
		for (int k = 0; k < P; k++) {
			int top, left, n = sample(tgt + ((size_t)b * P + k) * NN, G, m->ph, m->pw, v, NULL, 0, c->min_keep, rng,
			                          &top, &left);
			if (n < 0) {
				rc = -1;
				break;
			}
			min_t = n < min_t ? n : min_t;
			uint8_t *cm = comp + (size_t)k * NN;
			memset(cm, 1, (size_t)NN);
			for (int y = top; y < top + m->ph; y++)
				memset(cm + y * G + left, 0, (size_t)m->pw);
		}
		if (rc)
			break;
		int top, left, n = sample(ctx + (size_t)b * NN, G, m->eh, m->ew, v, comp, P, c->min_keep, rng, &top, &left);
		if (n < 0)
			rc = -1;
		min_c = n < min_c ? n : min_c;
	}
	if (!rc) {
		m->B = B;
		m->npred = P;
		m->Tc = min_c;
		m->Tt = min_t;
		m->ctx = xmalloc((size_t)B * min_c * sizeof(int32_t));
		m->tgt = xmalloc((size_t)B * P * min_t * sizeof(int32_t));
		for (int b = 0; b < B; b++) {
			list_of(ctx + (size_t)b * NN, G, m->ctx + (size_t)b * min_c, min_c);
			for (int k = 0; k < P; k++)
				list_of(tgt + ((size_t)b * P + k) * NN, G, m->tgt + ((size_t)b * P + k) * min_t, min_t);
		}
	}
	free(tgt);
	free(ctx);
	free(comp);
	return rc;
}

void usj_masks_free(usj_masks *m)
{
	free(m->ctx);
	free(m->tgt);
	memset(m, 0, sizeof *m);
}
