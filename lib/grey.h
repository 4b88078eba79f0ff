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

#endif
