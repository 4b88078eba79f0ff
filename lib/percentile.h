/* percentile.h: percentiles of the pixels inside a mask. */
#ifndef USJ_PERCENTILE_H
#define USJ_PERCENTILE_H
#include <stddef.h>
#include <stdint.h>

/* usj_masked_percentiles: the p_low and p_high percentiles (0..100, as
 * numpy's default: linear between the order statistics around rank
 * p/100 (count - 1)) of the values v[i] in [0, 1] where mask[i] is nonzero,
 * to within 2^-17. Returns 0, leaving low and high alone, if the mask is
 * empty. */
int usj_masked_percentiles(const float *v, const uint8_t *mask, size_t n, double p_low,
                           double p_high, double *low, double *high);

/* usj_rescale_bytes: out[i] = round(255 (v[i] - low) / (high - low)) (as
 * floats), clipped to 0..255, for v in [0, 1] and high - low >= 2^-16. */
void usj_rescale_bytes(const float *v, size_t n, double low, double high, uint8_t *out);

#endif
