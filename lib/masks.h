/* masks.h: I-JEPA's multi-block masks (PAPER.md section 3). Per batch one
 * target-block size and one context-block size are drawn; per image, npred
 * target blocks at uniform random corners, then a context block with every
 * target patch removed, holding at least min_keep patches (after 20 failed
 * placements the constraint of one more target block is dropped, as
 * I-JEPA's collator does). Index lists are sorted (row-major over the grid)
 * and cut to the batch's shortest, so that they stack. With a region of
 * valid patches (USrc), context and target blocks keep only valid patches
 * and a target block with fewer than min_keep is drawn again. */
#ifndef USJ_MASKS_H
#define USJ_MASKS_H
#include <stdint.h>

#include "rng.h"

typedef struct usj_mask_config {
	int npred;               /* target blocks an image (4) */
	double pred_scale[2];    /* fraction of the grid a target block covers ([0.075, 0.125]) */
	double pred_aspect[2];   /* its height / width ([0.75, 1.5]) */
	double enc_scale[2];     /* the context block ([0.85, 1.0]) */
	double enc_aspect[2];    /* ([1, 1]) */
	int min_keep;            /* fewest patches a block keeps (10) */
} usj_mask_config;

/* usj_mask_defaults: US-JEPA's values, above. */
usj_mask_config usj_mask_defaults(void);

typedef struct usj_masks {
	int B, npred, Tc, Tt;    /* images; blocks an image; context and target patches kept */
	int32_t *ctx;            /* (B, Tc) grid indices, sorted */
	int32_t *tgt;            /* (B, npred, Tt) grid indices, sorted within a block */
	int ph, pw, eh, ew;      /* the batch's target and context block sizes, in patches */
} usj_masks;

/* usj_masks_draw: masks for B images on a G x G grid. valid, if not NULL,
 * is (B, G*G) 1 where a patch holds signal (USrc). Allocates the lists (free
 * with usj_masks_free). Returns 0, or -1 when an image cannot hold min_keep
 * valid patches in a block (USrc on an almost empty region). */
int usj_masks_draw(usj_masks *m, const usj_mask_config *c, int B, int G, const uint8_t *valid, usj_rng *rng);
void usj_masks_free(usj_masks *m);

#endif
