/* preprocess.h: from a decoded frame to the S x S grey image and scan-region
 * mask a stream carries (PAPER.md section 4): grayscale, inpainting of small
 * coloured annotations, fitting to the square, scan-region detection, and a
 * percentile rescale inside the region. Pure computation, thread-safe. */
#ifndef USJ_PREPROCESS_H
#define USJ_PREPROCESS_H
#include <stdint.h>

#include "image.h"

enum usj_fit {
	USJ_FIT_PAD,     /* keep the aspect ratio, centre, pad with black (outside the region) */
	USJ_FIT_CROP,    /* keep the aspect ratio, centre-crop the longer side */
	USJ_FIT_STRETCH, /* scale each axis independently */
};

typedef struct usj_prep_opts {
	int size;                /* output side S */
	enum usj_fit fit;
	int inpaint;             /* inpaint coloured annotations */
	double chroma_threshold; /* max(R,G,B)-min(R,G,B) above this marks an annotation pixel (0.2) */
	double inpaint_max_area; /* inpaint only when annotations cover at most this fraction (0.05) */
	int detect_region;       /* detect the scan region when the source gives none */
	double region_threshold; /* grey level above which a pixel may be signal (8/255) */
	int rescale;             /* percentile rescale inside the region */
	double p_low, p_high;    /* percentiles mapped to 0 and 255 (2, 98) */
} usj_prep_opts;

/* usj_prep_defaults: the defaults above for output side size. */
usj_prep_opts usj_prep_defaults(int size);

typedef struct usj_prep_stats {
	double annotation_fraction; /* coloured pixels found, as a fraction of the frame */
	int inpainted;              /* 1 if they were inpainted */
	double region_fraction;     /* region pixels / pixels of the frame inside the output square */
	double low, high;           /* grey levels (0..1) mapped to 0 and 255 */
} usj_prep_stats;

/* usj_preprocess: img (any size, 1 or 3 channels) -> image (S,S) grey uint8
 * and region (S,S) uint8 0/1. scan_mask, if not NULL, is the source's region
 * mask for img (same width and height; nonzero = inside) and replaces
 * detection. With detection off and no mask, the region is the whole frame. */
void usj_preprocess(const usj_image *img, const usj_image *scan_mask, const usj_prep_opts *o,
                    uint8_t *image, uint8_t *region, usj_prep_stats *st);

/* usj_preprocess_native: the same from a frame's native samples, to the bit
 * what usj_preprocess gives for their floats (usj_native_to_image), without
 * making them when the samples are 8-bit grey or RGB. */
void usj_preprocess_native(const usj_native *n, const usj_image *scan_mask, const usj_prep_opts *o,
                           uint8_t *image, uint8_t *region, usj_prep_stats *st);

#endif
