/* inpaint.h: filling masked pixels of a grey plane from their surroundings. */
#ifndef USJ_INPAINT_H
#define USJ_INPAINT_H
#include <stddef.h>
#include <stdint.h>

/* usj_inpaint: grey (h, w) gets new values where mask is 1, by onion-peel
 * diffusion from the unmasked pixels; masked lists the count indices
 * (y w + x) where mask is 1, so the work is proportional to the mask, not
 * the frame. mask is used as scratch: on return it is 0 wherever a value
 * was filled in (everywhere, unless a masked area has no unmasked pixel to
 * grow from; such pixels keep their value). */
/* usj_mark_neighbours: every pixel of the 3 x 3 block around pixel i
 * (y w + x) whose mask value is from gets to, and its index appended to
 * list (which holds n); returns the new length. */
size_t usj_mark_neighbours(uint8_t *mask, int w, int h, uint32_t i, uint8_t from, uint8_t to, uint32_t *list,
                           size_t n);
void usj_inpaint(float *grey, uint8_t *mask, int w, int h, const uint32_t *masked, size_t count);

#endif
