/* corrupt.c: blur, contrast and speckle as flat loops. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corrupt.h"
#include "mem.h"
#include "percentile.h"

/* blur_rows: out (H, W) = in (H, W) convolved along rows with k (2R+1), edges replicated */
static void blur_rows(float *out, const float *in, int W, int H, const float *k, int R)
{
	for (int y = 0; y < H; y++) {
		const float *row = in + (size_t)y * W;
		float *o = out + (size_t)y * W;
		for (int x = 0; x < W; x++) {
			float acc = 0.0f;
			for (int t = -R; t <= R; t++) {
				int xx = x + t < 0 ? 0 : x + t >= W ? W - 1 : x + t;
				acc += k[t + R] * row[xx];
			}
			o[x] = acc;
		}
	}
}

/* blur_cols: the same along columns */
static void blur_cols(float *out, const float *in, int W, int H, const float *k, int R)
{
	for (int y = 0; y < H; y++) {
		float *o = out + (size_t)y * W;
		memset(o, 0, (size_t)W * sizeof *o);
		for (int t = -R; t <= R; t++) {
			int yy = y + t < 0 ? 0 : y + t >= H ? H - 1 : y + t;
			const float *row = in + (size_t)yy * W;
			for (int x = 0; x < W; x++)
				o[x] += k[t + R] * row[x];
		}
	}
}

void usj_blur(float *img, float *tmp, int W, int H, double sigma)
{
	if (!(sigma > 0))
		return;
	int R = (int)floor(2.0 * sigma);
	if (R < 1)
		return; /* a 1-tap kernel: the image as it is */
	float k[2 * R + 1];
	double sum = 0;
	for (int t = -R; t <= R; t++)
		sum += k[t + R] = (float)exp(-0.5 * t * t / (sigma * sigma));
	for (int t = 0; t <= 2 * R; t++)
		k[t] = (float)(k[t] / sum);
	blur_rows(tmp, img, W, H, k, R);
	blur_cols(img, tmp, W, H, k, R);
}

void usj_contrast(float *img, const uint8_t *region, int W, int H, double alpha)
{
	size_t n = (size_t)W * H;
	for (size_t i = 0; i < n; i++) /* blurs and resampling can step past 1 by a rounding */
		img[i] = img[i] < 0 ? 0 : img[i] > 1 ? 1 : img[i];
	double m, unused;
	int inside = 0;
	for (size_t i = 0; region && i < n && !inside; i++)
		inside = region[i] != 0;
	uint8_t *all = NULL; /* no region: the median of every pixel */
	if (!inside) {
		all = xmalloc(n);
		memset(all, 1, n);
	}
	usj_masked_percentiles(img, inside ? region : all, n, 50, 50, &m, &unused);
	free(all);
	for (size_t i = 0; i < n; i++) {
		double v = m + alpha * (img[i] - m);
		img[i] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
	}
}

void usj_speckle(float *img, float *noise, float *tmp, int W, int H, double sd, double corr, usj_rng *rng)
{
	size_t n = (size_t)W * H;
	for (size_t i = 0; i < n; i++)
		noise[i] = (float)usj_rng_normal(rng);
	usj_blur(noise, tmp, W, H, corr);
	double ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (double)noise[i] * noise[i];
	float scale = ss > 0 ? (float)(sd / sqrt(ss / n)) : 0.0f;
	for (size_t i = 0; i < n; i++) {
		float v = img[i] * (1.0f + scale * noise[i]);
		img[i] = v < 0 ? 0 : v > 1 ? 1 : v;
	}
}
