/* phantom_render.c: B-mode image formation by the convolution model.
 * Dimensions: NZ depth samples (2 per output pixel of depth), NX beams,
 * S output side. The analytic (complex baseband) signal of each beam is the
 * scatterer field convolved with a Gaussian pulse axially and a Gaussian
 * beam laterally; its magnitude is the envelope. Fully developed speckle
 * comes out Rayleigh distributed (mean/std = 1.91), as in real tissue.
 * Each kernel has a naive reference beside it (phantom_kernel.h): the fast
 * one hoists geometry out of the sample loops and works in float. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "phantom_kernel.h"
#include "simd.h"

/* Where tissue of echo 1 sits on the display scale (0..1) at 0 dB gain. */
#define TISSUE_LEVEL 0.65

/* half_angle: a convex probe's half field of view, radians */
static double half_angle(const usj_probe *p) { return p->angle_deg * M_PI / 360.0; }

/* beam_angle: the steering angle of beam ix of a convex probe */
static double beam_angle(const usj_probe *p, const usj_beams *b, int ix)
{
	double half = half_angle(p);
	return -half + (ix + 0.5) / b->NX * 2 * half;
}

/* beam_point: physical position (cm) of sample iz of beam ix */
static void beam_point(const usj_probe *p, const usj_beams *b, int iz, int ix, double *x, double *z)
{
	double depth = (iz + 0.5) * b->dr;
	if (!p->convex) {
		*x = ((ix + 0.5) / b->NX - 0.5) * p->width_cm;
		*z = depth;
		return;
	}
	double r = p->radius_cm + depth, t = beam_angle(p, b, ix);
	*x = r * sin(t);
	*z = r * cos(t) - p->radius_cm;
}

/* scene_cell: the scene cell holding (x, z) cm, clamped to the grid */
static size_t scene_cell(const usj_scene *s, double x, double z)
{
	int i = (int)floor((x / s->side_cm + 0.5) * s->G), j = (int)floor(z / s->side_cm * s->G);
	i = i < 0 ? 0 : i >= s->G ? s->G - 1 : i;
	j = j < 0 ? 0 : j >= s->G ? s->G - 1 : j;
	return (size_t)j * s->G + i;
}

/* cell_of: floor(f) clamped to [0, G-1]; truncation equals floor once
 * negatives are clamped, and clamping first keeps the cast in range */
static int cell_of(double f, int G)
{
	f = f < 0 ? 0 : f > G - 1 ? G - 1 : f;
	return (int)f;
}

void usj_beam_cells(int32_t *cell, const usj_scene *s, const usj_probe *p, const usj_beams *b)
{
	int G = s->G, NZ = b->NZ, NX = b->NX;
	double side = s->side_cm;
	if (!p->convex) {
		/* x depends on the beam only and z on the depth only */
		for (int iz = 0; iz < NZ; iz++) {
			int j = cell_of((iz + 0.5) * b->dr / side * G, G);
			for (int ix = 0; ix < NX; ix++) {
				double x = ((ix + 0.5) / NX - 0.5) * p->width_cm;
				cell[(size_t)iz * NX + ix] = j * G + cell_of((x / side + 0.5) * G, G);
			}
		}
		return;
	}
	for (int ix = 0; ix < NX; ix++) {
		double t = beam_angle(p, b, ix), sin_t = sin(t), cos_t = cos(t);
		for (int iz = 0; iz < NZ; iz++) {
			double r = p->radius_cm + (iz + 0.5) * b->dr;
			double x = r * sin_t, z = r * cos_t - p->radius_cm;
			cell[(size_t)iz * NX + ix] = cell_of(z / side * G, G) * G + cell_of((x / side + 0.5) * G, G);
		}
	}
}

/* One rng word per sample: the top 24 bits give u in (0, 1], the bottom 24
 * the phase; amplitude sqrt(-echo ln u) is Rayleigh with power echo. */
#define PHASE_STEP (2 * M_PI / 16777216.0)

void usj_scatter_naive(float *re, float *im, const usj_scene *s, const usj_probe *p, const usj_beams *b,
                       usj_rng *rng)
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
			double gain = pow(10.0, -loss[ix] / 20.0);
			uint64_t w = usj_rng_u64(rng);
			double u = (double)((w >> 40) + 1) / 16777216.0, phase = (double)(w & 0xffffff) * PHASE_STEP;
			double a = sqrt(-s->echo[c] * log(u)) * gain;
			size_t at = (size_t)iz * b->NX + ix;
			re[at] = (float)(a * cos(phase) + s->spec[c] * gain);
			im[at] = (float)(a * sin(phase));
		}
	free(loss);
}

void usj_scatter(float *re, float *im, const int32_t *cell, const usj_scene *s, const usj_probe *p,
                 const usj_beams *b, usj_rng *rng)
{
	double *loss = xcalloc((size_t)b->NX, sizeof *loss);
	double tgc_per_sample = 2.0 * p->tgc * USJ_TISSUE_ATTEN * p->f0_mhz * b->dr;
	double db_per_atten = 2.0 * p->f0_mhz * b->dr;
	/* 10^(-loss/20) = exp(-loss ln10 / 20), in float */
	const float minus_nepers_per_db = (float)(-M_LN10 / 20.0);
	for (int iz = 0; iz < b->NZ; iz++)
		for (int ix = 0; ix < b->NX; ix++) {
			size_t at = (size_t)iz * b->NX + ix;
			int32_t c = cell[at];
			loss[ix] += s->atten[c] * db_per_atten - tgc_per_sample;
			float gain = expf(minus_nepers_per_db * (float)loss[ix]);
			uint64_t w = usj_rng_u64(rng);
			float u = (float)((w >> 40) + 1) * 0x1p-24f, phase = (float)(w & 0xffffff) * (float)PHASE_STEP;
			float a = sqrtf(-s->echo[c] * logf(u)) * gain, sin_p, cos_p;
			sincosf(phase, &sin_p, &cos_p);
			re[at] = a * cos_p + s->spec[c] * gain;
			im[at] = a * sin_p;
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

void usj_conv_axial_naive(float *out, const float *in, const float *k, int R, int NZ, int NX)
{
	for (int iz = 0; iz < NZ; iz++)
		for (int ix = 0; ix < NX; ix++) {
			float acc = 0;
			for (int t = -R; t <= R; t++)
				if (iz + t >= 0 && iz + t < NZ)
					acc += k[t + R] * in[(size_t)(iz + t) * NX + ix];
			out[(size_t)iz * NX + ix] = acc;
		}
}

void usj_conv_axial(float *out, const float *in, const float *k, int R, int NZ, int NX)
{
	/* whole rows at a time: contiguous, and the same summation order as the naive loop */
	memset(out, 0, (size_t)NZ * NX * sizeof *out);
	for (int iz = 0; iz < NZ; iz++) {
		int t0 = iz - R < 0 ? R - iz : 0, t1 = iz + R >= NZ ? R + NZ - 1 - iz : 2 * R;
		for (int t = t0; t <= t1; t++)
			add_scaled(out + (size_t)iz * NX, in + (size_t)(iz - R + t) * NX, k[t], NX);
	}
}

void usj_conv_lateral_naive(float *out, const float *in, const float *k, int R, int NX)
{
	for (int ix = 0; ix < NX; ix++) {
		float acc = 0;
		for (int t = -R; t <= R; t++)
			if (ix + t >= 0 && ix + t < NX)
				acc += k[t + R] * in[ix + t];
		out[ix] = acc;
	}
}

void usj_conv_lateral(float *out, const float *in, const float *k, int R, int NX)
{
	/* one shifted add_scaled per tap over the outputs whose input lies inside */
	memset(out, 0, (size_t)NX * sizeof *out);
	for (int t = -R; t <= R; t++) {
		int lo = t < 0 ? -t : 0, hi = t > 0 ? NX - t : NX;
		if (hi > lo)
			add_scaled(out + lo, in + lo + t, k[t + R], hi - lo);
	}
}

/* level: the display level 0..1 of a power, log-compressed with the
 * probe's gain and dynamic range */
static double level(const usj_probe *p, double power)
{
	double v = (10.0 * log10(power + 1e-12) + p->gain_db) / p->dr_db + TISSUE_LEVEL;
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* interp_power: |re + i im|^2 of the bilinear interpolation of re, im
 * (NZ, NX) at the fractional sample (fz, fx), clamped to the grid.
 * Interpolating the analytic signal before detection keeps speckle
 * Rayleigh; interpolating log levels would average it down. */
static float interp_power(const float *re, const float *im, int NZ, int NX, float fz, float fx)
{
	fx = fx < 0 ? 0 : fx > NX - 1 ? NX - 1 : fx;
	fz = fz < 0 ? 0 : fz > NZ - 1 ? NZ - 1 : fz;
	int x0 = (int)fx, z0 = (int)fz;
	int x1 = x0 + 1 < NX ? x0 + 1 : x0, z1 = z0 + 1 < NZ ? z0 + 1 : z0;
	float ax = fx - x0, az = fz - z0;
	size_t a = (size_t)z0 * NX, b = (size_t)z1 * NX;
	float w00 = (1 - az) * (1 - ax), w01 = (1 - az) * ax, w10 = az * (1 - ax), w11 = az * ax;
	float r = w00 * re[a + x0] + w01 * re[a + x1] + w10 * re[b + x0] + w11 * re[b + x1];
	float i = w00 * im[a + x0] + w01 * im[a + x1] + w10 * im[b + x0] + w11 * im[b + x1];
	return r * r + i * i;
}

void usj_scan_convert_naive(uint8_t *image, uint8_t *region, const float *re, const float *im,
                            const usj_probe *p, const usj_beams *b, double side, int S)
{
	double half = half_angle(p);
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
			float power = interp_power(re, im, b->NZ, b->NX, (float)fz, (float)fx);
			image[at] = (uint8_t)lrint(255.0 * level(p, power));
		}
}

void usj_scan_convert(uint8_t *image, uint8_t *region, const float *re, const float *im, const usj_probe *p,
                      const usj_beams *b, double side, int S)
{
	double half = half_angle(p);
	/* grey = 255 level = scale ln(power) + offset, in float */
	float scale = (float)(255 * 10.0 / M_LN10 / p->dr_db);
	float offset = (float)(255 * (p->gain_db / p->dr_db + TISSUE_LEVEL));
	for (int v = 0; v < S; v++) {
		double z = (v + 0.5) / S * side;
		for (int u = 0; u < S; u++) {
			double x = ((u + 0.5) / S - 0.5) * side;
			float fz, fx;
			int inside;
			if (!p->convex) {
				inside = fabs(x) <= 0.5 * p->width_cm && z <= p->depth_cm;
				fx = (float)((x / p->width_cm + 0.5) * b->NX - 0.5);
				fz = (float)(z / b->dr - 0.5);
			} else {
				/* radius and angle in float: atan2f is several times cheaper than atan2 */
				float zc = (float)(z + p->radius_cm), r = sqrtf((float)x * (float)x + zc * zc);
				float t = atan2f((float)x, zc);
				inside = r >= p->radius_cm && r <= p->radius_cm + p->depth_cm && fabsf(t) <= half;
				fx = (float)((t + half) / (2 * half) * b->NX - 0.5);
				fz = (float)((r - p->radius_cm) / b->dr - 0.5);
			}
			size_t at = (size_t)v * S + u;
			region[at] = (uint8_t)inside;
			if (!inside) {
				image[at] = 0;
				continue;
			}
			float grey = scale * logf(interp_power(re, im, b->NZ, b->NX, fz, fx) + 1e-12f) + offset;
			image[at] = (uint8_t)lrintf(grey < 0 ? 0 : grey > 255 ? 255 : grey);
		}
	}
}

void usj_phantom_render(const usj_scene *s, const usj_probe *p, usj_rng *rng, int S, uint8_t *image,
                        uint8_t *region, float *envelope, int *nz, int *nx)
{
	usj_beams b = {.NZ = 2 * S, .NX = S};
	b.dr = p->depth_cm / b.NZ;
	double pix = s->side_cm / S; /* cm per output pixel */
	size_t n = (size_t)b.NZ * b.NX;
	float *re = xmalloc_aligned(n * sizeof *re), *im = xmalloc_aligned(n * sizeof *im);
	float *tmp = xmalloc_aligned(n * sizeof *tmp);
	int32_t *cell = xmalloc_aligned(n * sizeof *cell);
	int rmax = S / 8 > 2 ? S / 8 : 2, K = 2 * rmax + 1;
	float *pulse = xmalloc((size_t)K * sizeof *pulse), *beam = xmalloc((size_t)b.NZ * K * sizeof *beam);
	int *beam_R = xmalloc((size_t)b.NZ * sizeof *beam_R);
	usj_beam_cells(cell, s, p, &b);
	usj_scatter(re, im, cell, s, p, &b, rng);

	/* the pulse: speckle about half an output pixel deep at 5 MHz, as in
	 * downsampled clinical frames; higher frequencies make it finer, but by
	 * the square root only, as a fine-grained frame downsampled is smoothed */
	int R = gaussian(pulse, 0.5 * pix * sqrt(5.0 / p->f0_mhz) / b.dr, rmax);
	/* the beam (one kernel a depth, beam (NZ, K)): narrowest at the focus,
	 * widening with the distance from it */
	double rayleigh = 0.5 * p->depth_cm, half = half_angle(p);
	for (int iz = 0; iz < b.NZ; iz++) {
		double depth = (iz + 0.5) * b.dr, off = (depth - p->focus_cm) / rayleigh;
		double width = 0.7 * pix * sqrt(5.0 / p->f0_mhz) * sqrt(1.0 + off * off);
		double spacing = p->convex ? (p->radius_cm + depth) * 2 * half / b.NX : p->width_cm / b.NX;
		beam_R[iz] = gaussian(beam + (size_t)iz * K, width / spacing, rmax);
	}
	float *channel[2] = {re, im};
	for (int c = 0; c < 2; c++) {
		usj_conv_axial(tmp, channel[c], pulse, R, b.NZ, b.NX);
		for (int iz = 0; iz < b.NZ; iz++)
			usj_conv_lateral(channel[c] + (size_t)iz * b.NX, tmp + (size_t)iz * b.NX, beam + (size_t)iz * K,
			                 beam_R[iz], b.NX);
	}

	if (envelope)
		for (size_t j = 0; j < n; j++)
			envelope[j] = sqrtf(re[j] * re[j] + im[j] * im[j]);
	usj_scan_convert(image, region, re, im, p, &b, s->side_cm, S);
	if (nz)
		*nz = b.NZ;
	if (nx)
		*nx = b.NX;
	free(pulse);
	free(beam);
	free(beam_R);
	free(cell);
	free(re);
	free(im);
	free(tmp);
}
