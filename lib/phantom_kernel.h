/* phantom_kernel.h: the per-sample kernels of the phantom simulator, each
 * fast version beside its naive reference (same arguments, `_naive`), so
 * that tests can hold one against the other. Private to lib/ and tests.
 * Dimensions: NZ depth samples, NX beams, S output side, G scene side,
 * W texture waves. */
#ifndef USJ_PHANTOM_KERNEL_H
#define USJ_PHANTOM_KERNEL_H
#include <stdint.h>

#include "phantom.h"

/* the beam grid: NZ samples dr cm apart along each of NX beams */
typedef struct usj_beams {
	int NZ, NX;
	double dr;
} usj_beams;

/* usj_beam_cells: cell (NZ, NX) = the scene cell under each beam sample */
void usj_beam_cells(int32_t *cell, const usj_scene *s, const usj_probe *p, const usj_beams *b);

/* usj_scatter: re, im (NZ, NX) = complex scatterer amplitudes, attenuated
 * two-way and compensated: a random phasor of power echo plus the coherent
 * specular amplitude. One rng word per sample, in row order. The fast
 * version looks cells up in cell (NZ, NX) from usj_beam_cells. */
void usj_scatter(float *re, float *im, const int32_t *cell, const usj_scene *s, const usj_probe *p,
                 const usj_beams *b, usj_rng *rng);
void usj_scatter_naive(float *re, float *im, const usj_scene *s, const usj_probe *p, const usj_beams *b,
                       usj_rng *rng);

/* usj_conv_axial: out (NZ, NX) = in (NZ, NX) convolved along depth with k (2R+1), zero outside */
void usj_conv_axial(float *out, const float *in, const float *k, int R, int NZ, int NX);
void usj_conv_axial_naive(float *out, const float *in, const float *k, int R, int NZ, int NX);
/* usj_conv_lateral: out (NX) = in (NX) convolved with k (2R+1), zero outside */
void usj_conv_lateral(float *out, const float *in, const float *k, int R, int NX);
void usj_conv_lateral_naive(float *out, const float *in, const float *k, int R, int NX);

/* usj_scan_convert: image, region (S, S) on a scene window of side cm,
 * from the analytic signal re, im (NZ, NX): interpolated, detected and
 * log-compressed with the probe's gain and dynamic range */
void usj_scan_convert(uint8_t *image, uint8_t *region, const float *re, const float *im, const usj_probe *p,
                      const usj_beams *b, double side, int S);
void usj_scan_convert_naive(uint8_t *image, uint8_t *region, const float *re, const float *im,
                            const usj_probe *p, const usj_beams *b, double side, int S);

/* usj_texture: echo (G, G) *= exp(amount * noise / sqrt(W / 2)), noise the
 * sum of the plane waves sin(kx x + kz z + phase), wave (W, 3) = kx, kz, phase */
void usj_texture(float *echo, const double *wave, int W, double amount, int G, double side);
void usj_texture_naive(float *echo, const double *wave, int W, double amount, int G, double side);

/* usj_paint_blob_naive: usj_paint_blob (phantom.h) with atan2 and cos per cell */
void usj_paint_blob_naive(usj_scene *s, double cx, double cz, double rx, double rz, double rot,
                          const double *amp, const double *phase, int nharm, usj_paint v);

#endif
