/* corrupt.h: the image degradations of the robustness protocol (PAPER.md
 * section 5), also used, at random strengths, as training augmentation.
 * Images are float planes (H, W) of values in [0, 1]. */
#ifndef USJ_CORRUPT_H
#define USJ_CORRUPT_H
#include <stdint.h>

#include "rng.h"

/* usj_blur: Gaussian blur with sigma over 2 floor(2 sigma) + 1 taps a
 * direction (the protocol's kernel size), edges replicated; tmp (H, W). */
void usj_blur(float *img, float *tmp, int W, int H, double sigma);
/* usj_contrast: I' = m + alpha (I - m), m the median of img where region is
 * nonzero (everywhere if region is NULL or empty). */
void usj_contrast(float *img, const uint8_t *region, int W, int H, double alpha);
/* usj_speckle: I' = I (1 + n) clipped to [0, 1], n Gaussian noise of
 * standard deviation sd made spatially correlated by a Gaussian blur of
 * sigma corr (usj_blur), then scaled back to standard deviation sd;
 * noise and tmp (H, W) scratch. */
void usj_speckle(float *img, float *noise, float *tmp, int W, int H, double sd, double corr, usj_rng *rng);

#endif
