/* region.h: scan-region detection on a grey image: threshold, an opening
 * against thin burnt-in text, rulers and lines, the largest 8-connected
 * component, its filled convex hull. */
#ifndef USJ_REGION_H
#define USJ_REGION_H
#include <stddef.h>
#include <stdint.h>

/* usj_detect_region: grey (h, w) -> region (h, w), 1 on the filled convex
 * hull of the largest 8-connected component of signal pixels after an
 * opening with a square window of side 2 radius + 1 (outside the frame
 * counts as background); all 0 when nothing survives. Signal is grey >
 * threshold, except in flat dark pixels: those whose 3 x 3 neighbourhood
 * (inside the frame) varies by at most flat and that are no brighter than
 * dark (flat < 0: none). Video frames put black at 16/255 and some scanners
 * draw grey surrounds: both are flat, while tissue, even anechoic, carries
 * speckle. The largest of equal components is the first in raster order.
 * Returns the region's pixel count. */
size_t usj_detect_region(const float *grey, int w, int h, float flat, float dark, float threshold,
                         int radius, uint8_t *region);

/* usj_signal_only: grey (h, w) -> signal (h, w), a copy with flat dark
 * pixels set to 0, so that usj_detect_region(signal, w, h, -1, 0, ...) is
 * usj_detect_region(grey, w, h, flat, dark, ...) (for threshold >= 0), the
 * long way: its reference. */
void usj_signal_only(const float *grey, int w, int h, float flat, float dark, float *signal);

#endif
