/* augment.h: the student's training augmentation (PAPER.md section 4):
 * random resized crop and flips (geometric: the region mask follows, and a
 * flip maps patch tokens exactly), then blur, contrast and speckle
 * (photometric: the student's input only). */
#ifndef USJ_AUGMENT_H
#define USJ_AUGMENT_H
#include <stdint.h>

#include "rng.h"

typedef struct usj_augment_config {
	double crop_min;   /* area fraction of a random resized crop, in [crop_min, 1] (0.6); 1: none */
	int flips;         /* horizontal and vertical flips, each half of the time */
	double p_blur;     /* each photometric step's probability (0.5): blur sigma U(0.1, 1.5), */
	double p_contrast; /* contrast alpha U(0.5, 1) around the region's median, */
	double p_speckle;  /* speckle sd U(0, 0.35), correlation sigma 0.5 (corrupt.h) */
} usj_augment_config;

usj_augment_config usj_augment_defaults(void);

/* One image's geometric draw: the crop box (x0, y0, w, h) in an S x S
 * image, then flips. */
typedef struct usj_geom {
	int x0, y0, w, h;
	int hflip, vflip;
} usj_geom;

/* usj_geom_draw: a crop as torchvision's RandomResizedCrop draws it (area
 * U(crop_min, 1), log aspect uniform in [3/4, 4/3], 10 tries, else the
 * whole image) and the flips. */
void usj_geom_draw(usj_geom *g, const usj_augment_config *c, int S, usj_rng *r);
/* usj_geom_apply: dst (S, S) = src (S, S) cut to the box, resized back to S
 * (area-averaging or bilinear: resize.h) and flipped; region_dst (S, S) 0/1
 * likewise from region_src (S, S) 0/1, a pixel inside where over half of
 * what it covers is. */
void usj_geom_apply(float *dst, uint8_t *region_dst, const float *src, const uint8_t *region_src, int S,
                    const usj_geom *g);
/* usj_geom_flip_patch: the patch (row-major on a G x G grid) of the
 * unflipped image that patch idx of the flipped one shows */
int usj_geom_flip_patch(int idx, int G, const usj_geom *g);

/* usj_photo_apply: the photometric steps on img (S, S), each drawn with its
 * probability; tmp1, tmp2 (S, S) scratch. */
void usj_photo_apply(float *img, const uint8_t *region, int S, const usj_augment_config *c, float *tmp1,
                     float *tmp2, usj_rng *r);

#endif
