/* grey.h: colour frames to grey: ITU-R 601 luma, with small coloured
 * annotations (calipers, markers, coloured text) inpainted. */
#ifndef USJ_GREY_H
#define USJ_GREY_H

#include "image.h"
#include "preprocess.h"

/* usj_grey_from_rgb: img (3 channels) -> grey (h, w). Pixels with
 * max(R,G,B) - min(R,G,B) > o->chroma_threshold, grown by one pixel, are
 * annotations: st->annotation_fraction is their share of the frame; if
 * o->inpaint and that is at most o->inpaint_max_area, grey is inpainted
 * there and st->inpainted set. Frames have fewer than 2^32 pixels (the
 * decoders' max_pixels sees to that). */
void usj_grey_from_rgb(const usj_image *img, const usj_prep_opts *o, float *grey,
                       usj_prep_stats *st);

/* usj_grey8: the same for a frame of 8-bit grey or RGB samples v, read as
 * v / 255 (the floats usj_native_to_image makes), without making them: the
 * same grey and stats, to the bit, a row at a time when the frame has no
 * coloured pixels. The samples must outlive it. */
typedef struct usj_grey8 usj_grey8;
/* usj_grey8_new: s (bytes 1, maxval 255, no alpha or complement), w x h;
 * finds the coloured pixels */
usj_grey8 *usj_grey8_new(const usj_samples *s, int w, int h, const usj_prep_opts *o);
size_t usj_grey8_coloured(const usj_grey8 *g);
/* usj_grey8_row: the grey of pixels x .. x + n - 1 of row y into out
 * (before inpainting: the final grey unless there are coloured pixels) */
void usj_grey8_row(const usj_grey8 *g, int y, int x, int n, float *out);
/* usj_grey8_plane: the whole frame into grey (h, w), annotations inpainted
 * and st set as usj_grey_from_rgb does */
void usj_grey8_plane(const usj_grey8 *g, const usj_prep_opts *o, float *grey, usj_prep_stats *st);
void usj_grey8_free(usj_grey8 *g);

#endif
