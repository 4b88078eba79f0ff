/* overlay.h: burnt-in annotations such as ultrasound screens carry (text,
 * calipers, markers, depth scales), drawn into RGB images so that synthetic
 * data exercises the annotation inpainting of us-ingest. Every function
 * draws into rgb (h, w, 3) in one colour (colour[3]), clips at the border
 * and allocates nothing. Coordinates are pixels: x right, y down. */
#ifndef USJ_OVERLAY_H
#define USJ_OVERLAY_H
#include <stdint.h>

#define USJ_OVERLAY_TEXT_HEIGHT 7 /* rows of a line of text at scale 1 */

/* usj_overlay_text: text in the built-in 5x7 font with its top left corner
 * at (x, y), each font pixel a scale x scale block, a character every
 * 6 scale pixels. Bytes outside printable ASCII (32..126) show as '?'. */
void usj_overlay_text(uint8_t *rgb, int w, int h, int x, int y, const char *text, int scale,
                      const uint8_t colour[3]);
/* usj_overlay_text_width: the columns usj_overlay_text covers: 6 scale a
 * character, less the gap after the last; 0 for "". */
int usj_overlay_text_width(const char *text, int scale);
/* usj_overlay_caliper: '+' marks with arms of arm pixels at (x0, y0) and
 * (x1, y1), joined by a dotted line: a dot every 4 pixels along its longer
 * axis, from (x0, y0), and one at (x1, y1). */
void usj_overlay_caliper(uint8_t *rgb, int w, int h, int x0, int y0, int x1, int y1, int arm,
                         const uint8_t colour[3]);
/* usj_overlay_arrowhead: a filled triangle with its tip at (x, y) and its
 * base, 2 |size| + 1 rows tall, |size| columns away: to the right (it points
 * left) for size > 0, to the left for size < 0. The focal-depth marker
 * beside an image looks like this. */
void usj_overlay_arrowhead(uint8_t *rgb, int w, int h, int x, int y, int size, const uint8_t colour[3]);
/* usj_overlay_depth_scale: tick marks from column x, len pixels to its right
 * (len < 0: to its left), one at y0 + round(k step) for k = 0, 1, ... down
 * to y1 (step: pixels a centimetre, > 0); every fifth, from the first, is
 * twice as long. */
void usj_overlay_depth_scale(uint8_t *rgb, int w, int h, int x, int y0, int y1, double step, int len,
                             const uint8_t colour[3]);

#endif
