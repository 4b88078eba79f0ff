/* phantom_scene.c: painting echogenicity, attenuation and specular maps in
 * physical coordinates (cm). Each shape visits only the cells of its
 * bounding box. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "phantom_kernel.h"

void usj_scene_init(usj_scene *s, int G, double side_cm)
{
	s->G = G;
	s->side_cm = side_cm;
	size_t n = (size_t)G * G;
	s->echo = xmalloc_aligned(n * sizeof *s->echo);
	s->atten = xmalloc_aligned(n * sizeof *s->atten);
	s->spec = xmalloc_aligned(n * sizeof *s->spec);
	for (size_t i = 0; i < n; i++) {
		s->echo[i] = 1.0f;
		s->atten[i] = USJ_TISSUE_ATTEN;
		s->spec[i] = 0.0f;
	}
}

void usj_scene_free(usj_scene *s)
{
	free(s->echo);
	free(s->atten);
	free(s->spec);
	memset(s, 0, sizeof *s);
}

double usj_scene_side(const usj_probe *p)
{
	if (!p->convex)
		return p->width_cm > p->depth_cm ? p->width_cm : p->depth_cm;
	double half = p->angle_deg * M_PI / 360.0;
	double width = 2.0 * (p->radius_cm + p->depth_cm) * sin(half);
	double height = p->depth_cm + p->radius_cm * (1.0 - cos(half));
	return width > height ? width : height;
}

/* cell_x, cell_z: the cell index holding a coordinate (may be outside). */
static int cell_x(const usj_scene *s, double x) { return (int)floor((x / s->side_cm + 0.5) * s->G); }
static int cell_z(const usj_scene *s, double z) { return (int)floor(z / s->side_cm * s->G); }
static double centre_x(const usj_scene *s, int i) { return ((i + 0.5) / s->G - 0.5) * s->side_cm; }
static double centre_z(const usj_scene *s, int j) { return (j + 0.5) / s->G * s->side_cm; }

static void put(usj_scene *s, size_t at, usj_paint v)
{
	s->echo[at] = v.echo;
	s->atten[at] = v.atten;
	if (v.spec >= 0)
		s->spec[at] += v.spec;
}

/* box: the cell range [i0, i1] x [j0, j1] of a bounding box, clipped. */
static void box(const usj_scene *s, double x0, double z0, double x1, double z1, int *i0, int *i1, int *j0, int *j1)
{
	*i0 = cell_x(s, x0);
	*i1 = cell_x(s, x1);
	*j0 = cell_z(s, z0);
	*j1 = cell_z(s, z1);
	*i0 = *i0 < 0 ? 0 : *i0;
	*j0 = *j0 < 0 ? 0 : *j0;
	*i1 = *i1 >= s->G ? s->G - 1 : *i1;
	*j1 = *j1 >= s->G ? s->G - 1 : *j1;
}

/* blob_reach: the half-side of a blob's bounding box */
static double blob_reach(double rx, double rz, const double *amp, int nharm)
{
	double grow = 1.0;
	for (int k = 0; k < nharm; k++)
		grow += fabs(amp[k]);
	return (rx > rz ? rx : rz) * grow;
}

void usj_paint_blob_naive(usj_scene *s, double cx, double cz, double rx, double rz, double rot,
                          const double *amp, const double *phase, int nharm, usj_paint v)
{
	double reach = blob_reach(rx, rz, amp, nharm);
	int i0, i1, j0, j1;
	box(s, cx - reach, cz - reach, cx + reach, cz + reach, &i0, &i1, &j0, &j1);
	double c = cos(rot), sn = sin(rot);
	for (int j = j0; j <= j1; j++)
		for (int i = i0; i <= i1; i++) {
			double dx = centre_x(s, i) - cx, dz = centre_z(s, j) - cz;
			double u = (c * dx + sn * dz) / rx, w = (-sn * dx + c * dz) / rz;
			double r = sqrt(u * u + w * w), t = atan2(w, u), edge = 1.0;
			for (int k = 0; k < nharm; k++)
				edge += amp[k] * cos((k + 2) * t + phase[k]);
			if (r <= edge)
				put(s, (size_t)j * s->G + i, v);
		}
}

void usj_paint_blob(usj_scene *s, double cx, double cz, double rx, double rz, double rot,
                    const double *amp, const double *phase, int nharm, usj_paint v)
{
	double reach = blob_reach(rx, rz, amp, nharm);
	int i0, i1, j0, j1;
	box(s, cx - reach, cz - reach, cx + reach, cz + reach, &i0, &i1, &j0, &j1);
	double c = cos(rot), sn = sin(rot);
	/* cos(m t + phase) = Re(e^{i m t} e^{i phase}), with e^{i t} = (u + i w) / r
	 * and its powers by complex multiplication: no atan2 or cos per cell */
	double *cos_ph = xmalloc((size_t)(2 * nharm + 1) * sizeof *cos_ph), *sin_ph = cos_ph + nharm; /* (nharm) each */
	for (int k = 0; k < nharm; k++) {
		cos_ph[k] = cos(phase[k]);
		sin_ph[k] = sin(phase[k]);
	}
	for (int j = j0; j <= j1; j++)
		for (int i = i0; i <= i1; i++) {
			double dx = centre_x(s, i) - cx, dz = centre_z(s, j) - cz;
			double u = (c * dx + sn * dz) / rx, w = (-sn * dx + c * dz) / rz;
			double r = sqrt(u * u + w * w), edge = 1.0;
			/* atan2(0, 0) = 0: the centre takes angle 0 */
			double cos_t = r > 0 ? u / r : 1, sin_t = r > 0 ? w / r : 0;
			double cos_m = cos_t * cos_t - sin_t * sin_t, sin_m = 2 * cos_t * sin_t; /* m = 2 */
			for (int k = 0; k < nharm; k++) {
				edge += amp[k] * (cos_m * cos_ph[k] - sin_m * sin_ph[k]);
				double next = cos_m * cos_t - sin_m * sin_t;
				sin_m = sin_m * cos_t + cos_m * sin_t;
				cos_m = next;
			}
			if (r <= edge)
				put(s, (size_t)j * s->G + i, v);
		}
	free(cos_ph);
}

void usj_paint_ellipse(usj_scene *s, double cx, double cz, double rx, double rz, double rot, usj_paint v)
{
	usj_paint_blob(s, cx, cz, rx, rz, rot, NULL, NULL, 0, v);
}

void usj_paint_layer(usj_scene *s, double z0, double z1, double wave, double period, double phase,
                     usj_paint v)
{
	for (int i = 0; i < s->G; i++) {
		double dz = wave * sin(2 * M_PI * centre_x(s, i) / period + phase);
		int j0 = cell_z(s, z0 + dz), j1 = cell_z(s, z1 + dz);
		for (int j = j0 < 0 ? 0 : j0; j <= j1 && j < s->G; j++)
			put(s, (size_t)j * s->G + i, v);
	}
}

void usj_paint_segment(usj_scene *s, double x0, double z0, double x1, double z1, double thick, usj_paint v)
{
	int i0, i1, j0, j1;
	box(s, fmin(x0, x1) - thick, fmin(z0, z1) - thick, fmax(x0, x1) + thick, fmax(z0, z1) + thick,
	    &i0, &i1, &j0, &j1);
	double dx = x1 - x0, dz = z1 - z0, len2 = dx * dx + dz * dz;
	for (int j = j0; j <= j1; j++)
		for (int i = i0; i <= i1; i++) {
			double px = centre_x(s, i) - x0, pz = centre_z(s, j) - z0;
			double t = len2 > 0 ? (px * dx + pz * dz) / len2 : 0;
			t = t < 0 ? 0 : t > 1 ? 1 : t;
			double ex = px - t * dx, ez = pz - t * dz;
			if (ex * ex + ez * ez <= 0.25 * thick * thick)
				put(s, (size_t)j * s->G + i, v);
		}
}

void usj_paint_ring(usj_scene *s, double cx, double cz, double rx, double rz, double rot, double thick,
                    usj_paint v)
{
	int i0, i1, j0, j1;
	double reach = (rx > rz ? rx : rz) + thick;
	box(s, cx - reach, cz - reach, cx + reach, cz + reach, &i0, &i1, &j0, &j1);
	double c = cos(rot), sn = sin(rot);
	for (int j = j0; j <= j1; j++)
		for (int i = i0; i <= i1; i++) {
			double dx = centre_x(s, i) - cx, dz = centre_z(s, j) - cz;
			double u = c * dx + sn * dz, w = -sn * dx + c * dz;
			/* distance to the ellipse, to first order: (r - 1) times the local radius */
			double r = sqrt(u * u / (rx * rx) + w * w / (rz * rz));
			double local = sqrt(u * u + w * w) / (r > 1e-9 ? r : 1e-9);
			if (fabs(r - 1.0) * local <= 0.5 * thick)
				put(s, (size_t)j * s->G + i, v);
		}
}

void usj_scale_ellipse(usj_scene *s, double cx, double cz, double rx, double rz, double rot, float factor)
{
	int i0, i1, j0, j1;
	double reach = rx > rz ? rx : rz;
	box(s, cx - reach, cz - reach, cx + reach, cz + reach, &i0, &i1, &j0, &j1);
	double c = cos(rot), sn = sin(rot);
	for (int j = j0; j <= j1; j++)
		for (int i = i0; i <= i1; i++) {
			double dx = centre_x(s, i) - cx, dz = centre_z(s, j) - cz;
			double u = (c * dx + sn * dz) / rx, w = (-sn * dx + c * dz) / rz;
			if (u * u + w * w <= 1.0)
				s->echo[(size_t)j * s->G + i] *= factor;
		}
}

void usj_texture_naive(float *echo, const double *wave, int W, double amount, int G, double side)
{
	for (int j = 0; j < G; j++)
		for (int i = 0; i < G; i++) {
			double x = ((i + 0.5) / G - 0.5) * side, z = (j + 0.5) / G * side, n = 0;
			for (int k = 0; k < W; k++)
				n += sin(wave[3 * k] * x + wave[3 * k + 1] * z + wave[3 * k + 2]);
			echo[(size_t)j * G + i] *= (float)exp(amount * n / sqrt(W / 2.0));
		}
}

void usj_texture(float *echo, const double *wave, int W, double amount, int G, double side)
{
	/* sin(a + b) = sin a cos b + cos a sin b with a = kx x + phase along a
	 * row and b = kz z down a column: 4 G sines a wave instead of G G */
	float *col_sin = xmalloc((size_t)4 * W * G * sizeof *col_sin); /* (W, G) each */
	float *col_cos = col_sin + (size_t)W * G, *row_sin = col_cos + (size_t)W * G, *row_cos = row_sin + (size_t)W * G;
	float *noise = xmalloc((size_t)G * sizeof *noise); /* (G) */
	for (int k = 0; k < W; k++)
		for (int i = 0; i < G; i++) {
			double a = wave[3 * k] * ((i + 0.5) / G - 0.5) * side + wave[3 * k + 2];
			double b = wave[3 * k + 1] * (i + 0.5) / G * side;
			col_sin[(size_t)k * G + i] = (float)sin(a);
			col_cos[(size_t)k * G + i] = (float)cos(a);
			row_sin[(size_t)k * G + i] = (float)sin(b);
			row_cos[(size_t)k * G + i] = (float)cos(b);
		}
	float scale = (float)(amount / sqrt(W / 2.0));
	for (int j = 0; j < G; j++) {
		memset(noise, 0, (size_t)G * sizeof *noise);
		for (int k = 0; k < W; k++) {
			const float *sa = col_sin + (size_t)k * G, *ca = col_cos + (size_t)k * G;
			float cb = row_cos[(size_t)k * G + j], sb = row_sin[(size_t)k * G + j];
			for (int i = 0; i < G; i++)
				noise[i] += sa[i] * cb + ca[i] * sb;
		}
		float *row = echo + (size_t)j * G;
		for (int i = 0; i < G; i++)
			row[i] *= expf(scale * noise[i]);
	}
	free(noise);
	free(col_sin);
}

void usj_scene_texture(usj_scene *s, usj_rng *rng, double scale_cm, double amount)
{
	/* a sum of a few random plane waves: smooth, cheap, seed-determined */
	enum { WAVES = 6 };
	double wave[WAVES * 3]; /* (WAVES, 3): kx, kz, phase */
	for (int k = 0; k < WAVES; k++) {
		double a = 2 * M_PI * usj_rng_uniform(rng), f = 2 * M_PI / (scale_cm * (0.5 + usj_rng_uniform(rng)));
		wave[3 * k] = f * cos(a);
		wave[3 * k + 1] = f * sin(a);
		wave[3 * k + 2] = 2 * M_PI * usj_rng_uniform(rng);
	}
	usj_texture(s->echo, wave, WAVES, amount, s->G, s->side_cm);
}

void usj_paint_shell(usj_scene *s, double radius, double d0, double d1, double wave, double period,
                     double phase, usj_paint v)
{
	if (radius <= 0) {
		usj_paint_layer(s, d0, d1, wave, period, phase, v);
		return;
	}
	/* depth below the face only grows faster than z, so rows below d1 + wave are out */
	int jmax = cell_z(s, d1 + fabs(wave));
	jmax = jmax >= s->G ? s->G - 1 : jmax;
	for (int j = 0; j <= jmax; j++)
		for (int i = 0; i < s->G; i++) {
			double x = centre_x(s, i), zr = centre_z(s, j) + radius;
			double d = sqrt(x * x + zr * zr) - radius;
			if (d < d0 - fabs(wave) || d > d1 + fabs(wave))
				continue;
			double dz = wave ? wave * sin(2 * M_PI * radius * atan2(x, zr) / period + phase) : 0;
			if (d >= d0 + dz && d <= d1 + dz)
				put(s, (size_t)j * s->G + i, v);
		}
}
