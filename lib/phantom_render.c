/* phantom_render.c: B-mode image formation by the convolution model.
 * Dimensions: NZ depth samples (2 per output pixel of depth), NX beams.
 * The analytic (complex baseband) signal of each beam is the scatterer field
 * convolved with a Gaussian pulse axially and a Gaussian beam laterally; its
 * magnitude is the envelope. Fully developed speckle comes out Rayleigh
 * distributed (mean/std = 1.91), as in real tissue. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "phantom.h"

/* Where tissue of echo 1 sits on the display scale (0..1) at 0 dB gain. */
#define TISSUE_LEVEL 0.65

typedef struct beams {
	int NZ, NX;
	double dr;     /* cm between depth samples */
	double spacing0, spacing1; /* cm between beams at the face and at full depth */
} beams;

/* beam_point: physical position (cm) of sample iz of beam ix */
static void beam_point(const usj_probe *p, const beams *b, double iz, double ix, double *x, double *z)
{
	double depth = (iz + 0.5) * b->dr;
	if (!p->convex) {
		*x = ((ix + 0.5) / b->NX - 0.5) * p->width_cm;
		*z = depth;
		return;
	}
	double half = p->angle_deg * M_PI / 360.0, t = -half + (ix + 0.5) / b->NX * 2 * half;
	double r = p->radius_cm + depth;
	*x = r * sin(t);
	*z = r * cos(t) - p->radius_cm;
}

static size_t scene_cell(const usj_scene *s, double x, double z)
{
	int i = (int)floor((x / s->side_cm + 0.5) * s->G), j = (int)floor(z / s->side_cm * s->G);
	i = i < 0 ? 0 : i >= s->G ? s->G - 1 : i;
	j = j < 0 ? 0 : j >= s->G ? s->G - 1 : j;
	return (size_t)j * s->G + i;
}

/* scatter: re, im (NZ, NX) = attenuated complex scatterer amplitudes: random
 * phase with power echo, plus the coherent specular amplitude */
static void scatter(float *re, float *im, const usj_scene *s, const usj_probe *p, const beams *b, usj_rng *rng)
{
	/* two-way loss in dB: local attenuation integrated along the beam, less
	 * the time-gain compensation of nominal tissue */
	double *loss = xcalloc((size_t)b->NX, sizeof *loss);
	double tgc_per_sample = 2.0 * p->tgc * USJ_TISSUE_ATTEN * p->f0_mhz * b->dr;
	for (int iz = 0; iz < b->NZ; iz++)
		for (int ix = 0; ix < b->NX; ix++) {
			double x, z;
			beam_point(p, b, iz, ix, &x, &z);
			size_t c = scene_cell(s, x, z);
			loss[ix] += 2.0 * s->atten[c] * p->f0_mhz * b->dr - tgc_per_sample;
			float gain = (float)pow(10.0, -loss[ix] / 20.0);
			float a = sqrtf(s->echo[c] * 0.5f) * gain;
			size_t at = (size_t)iz * b->NX + ix;
			re[at] = a * (float)usj_rng_normal(rng) + s->spec[c] * gain;
			im[at] = a * (float)usj_rng_normal(rng);
		}
	free(loss);
}

/* gaussian: kernel (2 R + 1) with unit sum of squares, so that convolving
 * white noise keeps its power; returns R */
static int gaussian(float *k, double sigma, int rmax)
{
	int R = (int)ceil(3.0 * sigma);
	R = R < 1 ? 1 : R > rmax ? rmax : R;
	double sum2 = 0;
	for (int i = -R; i <= R; i++) {
		double v = exp(-0.5 * i * i / (sigma * sigma));
		k[i + R] = (float)v;
		sum2 += v * v;
	}
	for (int i = 0; i <= 2 * R; i++)
		k[i] = (float)(k[i] / sqrt(sum2));
	return R;
}

/* conv_axial: out (NZ, NX) = in (NZ, NX) convolved along depth with k (2R+1) */
static void conv_axial(float *out, const float *in, const float *k, int R, int NZ, int NX)
{
	memset(out, 0, (size_t)NZ * NX * sizeof *out);
	for (int iz = 0; iz < NZ; iz++)
		for (int t = -R; t <= R; t++) {
			int src = iz + t;
			if (src < 0 || src >= NZ)
				continue;
			const float *row = in + (size_t)src * NX;
			float *o = out + (size_t)iz * NX, w = k[t + R];
			for (int ix = 0; ix < NX; ix++)
				o[ix] += w * row[ix];
		}
}

/* conv_row: out (NX) = in (NX) convolved with k (2R+1), zero outside */
static void conv_row(float *out, const float *in, const float *k, int R, int NX)
{
	for (int ix = 0; ix < NX; ix++) {
		int t0 = ix - R < 0 ? R - ix : 0, t1 = ix + R >= NX ? R + NX - 1 - ix : 2 * R;
		float acc = 0;
		for (int t = t0; t <= t1; t++)
			acc += k[t] * in[ix - R + t];
		out[ix] = acc;
	}
}

/* scan_convert: image, region (S, S) from the display values shown (NZ, NX) */
static void scan_convert(uint8_t *image, uint8_t *region, const float *shown, const usj_probe *p,
                         const beams *b, double side, int S)
{
	double half = p->angle_deg * M_PI / 360.0;
	for (int v = 0; v < S; v++)
		for (int u = 0; u < S; u++) {
			double x = ((u + 0.5) / S - 0.5) * side, z = (v + 0.5) / S * side;
			double fz, fx;
			int inside;
			if (!p->convex) {
				inside = fabs(x) <= 0.5 * p->width_cm && z <= p->depth_cm;
				fx = (x / p->width_cm + 0.5) * b->NX - 0.5;
				fz = z / b->dr - 0.5;
			} else {
				double r = hypot(x, z + p->radius_cm), t = atan2(x, z + p->radius_cm);
				inside = r >= p->radius_cm && r <= p->radius_cm + p->depth_cm && fabs(t) <= half;
				fx = (t + half) / (2 * half) * b->NX - 0.5;
				fz = (r - p->radius_cm) / b->dr - 0.5;
			}
			size_t at = (size_t)v * S + u;
			region[at] = (uint8_t)inside;
			if (!inside) {
				image[at] = 0;
				continue;
			}
			fx = fx < 0 ? 0 : fx > b->NX - 1 ? b->NX - 1 : fx;
			fz = fz < 0 ? 0 : fz > b->NZ - 1 ? b->NZ - 1 : fz;
			int x0 = (int)fx, z0 = (int)fz;
			int x1 = x0 + 1 < b->NX ? x0 + 1 : x0, z1 = z0 + 1 < b->NZ ? z0 + 1 : z0;
			float ax = (float)(fx - x0), az = (float)(fz - z0);
			const float *r0 = shown + (size_t)z0 * b->NX, *r1 = shown + (size_t)z1 * b->NX;
			float val = (1 - az) * ((1 - ax) * r0[x0] + ax * r0[x1]) + az * ((1 - ax) * r1[x0] + ax * r1[x1]);
			image[at] = (uint8_t)lrintf(255.0f * val);
		}
}

void usj_phantom_render(const usj_scene *s, const usj_probe *p, usj_rng *rng, int S, uint8_t *image,
                        uint8_t *region, float *envelope, int *nz, int *nx)
{
	beams b = {.NZ = 2 * S, .NX = S};
	b.dr = p->depth_cm / b.NZ;
	double pix = s->side_cm / S; /* cm per output pixel */
	size_t n = (size_t)b.NZ * b.NX;
	float *re = xmalloc_aligned(n * sizeof *re), *im = xmalloc_aligned(n * sizeof *im);
	float *tmp = xmalloc_aligned(n * sizeof *tmp);
	int rmax = S / 8 > 2 ? S / 8 : 2;
	float *k = xmalloc((size_t)(2 * rmax + 1) * sizeof *k);
	scatter(re, im, s, p, &b, rng);

	/* the pulse: speckle about half an output pixel deep at 5 MHz, as in
	 * downsampled clinical frames; higher frequencies make it finer, but by
	 * the square root only, as a fine-grained frame downsampled is smoothed */
	int R = gaussian(k, 0.5 * pix * sqrt(5.0 / p->f0_mhz) / b.dr, rmax);
	conv_axial(tmp, re, k, R, b.NZ, b.NX);
	memcpy(re, tmp, n * sizeof *re);
	conv_axial(tmp, im, k, R, b.NZ, b.NX);
	memcpy(im, tmp, n * sizeof *im);

	/* the beam: narrowest at the focus, widening with the distance from it */
	double rayleigh = 0.5 * p->depth_cm, half = p->angle_deg * M_PI / 360.0;
	float *row = xmalloc((size_t)b.NX * sizeof *row);
	for (int iz = 0; iz < b.NZ; iz++) {
		double depth = (iz + 0.5) * b.dr, off = (depth - p->focus_cm) / rayleigh;
		double width = 0.7 * pix * sqrt(5.0 / p->f0_mhz) * sqrt(1.0 + off * off);
		double spacing = p->convex ? (p->radius_cm + depth) * 2 * half / b.NX : p->width_cm / b.NX;
		R = gaussian(k, width / spacing, rmax);
		float *r = re + (size_t)iz * b.NX, *i = im + (size_t)iz * b.NX;
		conv_row(row, r, k, R, b.NX);
		memcpy(r, row, (size_t)b.NX * sizeof *row);
		conv_row(row, i, k, R, b.NX);
		memcpy(i, row, (size_t)b.NX * sizeof *row);
	}

	/* envelope and log compression onto the display scale */
	for (size_t j = 0; j < n; j++) {
		float power = re[j] * re[j] + im[j] * im[j];
		if (envelope)
			envelope[j] = sqrtf(power);
		double level = (10.0 * log10(power + 1e-12) + p->gain_db) / p->dr_db + TISSUE_LEVEL;
		tmp[j] = (float)(level < 0 ? 0 : level > 1 ? 1 : level);
	}
	scan_convert(image, region, tmp, p, &b, s->side_cm, S);
	if (nz)
		*nz = b.NZ;
	if (nx)
		*nx = b.NX;
	free(row);
	free(k);
	free(re);
	free(im);
	free(tmp);
}
