/* vit_kernels.c: ViT kernels as flat loops and single-threaded sgemm calls,
 * each cut over the pool by rows, channels or (image, head) pairs so that no
 * output element is written by two threads. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "pool.h"
#include "progress.h"
#include "simd8.h"
#include "vit_kernels.h"

/* ---- profile ---- */

static int prof_on;
static usj_kernel_stats prof[USJ_K_COUNT] = {
	{.name = "layernorm"}, {.name = "layernorm backward"}, {.name = "matmul"}, {.name = "matmul backward"},
	{.name = "attention"}, {.name = "attention backward"}, {.name = "gelu"}, {.name = "gelu backward"},
	{.name = "residual"}, {.name = "loss"}};

void usj_kernel_profile(int on)
{
	prof_on = on;
	for (int k = 0; k < USJ_K_COUNT; k++)
		prof[k].calls = 0, prof[k].seconds = prof[k].flops = 0.0;
}

const usj_kernel_stats *usj_kernel_profile_rows(void) { return prof; }

static double tic(void) { return prof_on ? usj_now() : 0.0; }

static void toc(enum usj_kernel k, double t0, double flops)
{
	if (!prof_on)
		return;
	prof[k].calls++;
	prof[k].seconds += usj_now() - t0;
	prof[k].flops += flops;
}

/* ---- layernorm ---- */

typedef struct ln_args {
	float *out, *mean, *rstd, *dinp, *dweight, *dbias, *sums;
	const float *inp, *weight, *bias, *dout;
	int C, parts;
	int64_t N;
	float eps;
} ln_args;

CLONES static void ln_forward_rows(void *ctx, int64_t r0, int64_t r1)
{
	ln_args *a = ctx;
	int C = a->C, C8 = C / 8 * 8;
	for (int64_t r = r0; r < r1; r++) {
		const float *x = a->inp + r * C; // x (C)
		float *o = a->out + r * C;       // o (C)
		f32x8 acc = splat8(0.0f);
		for (int i = 0; i < C8; i += 8)
			acc += load8(x + i);
		float m = sum8(acc);
		for (int i = C8; i < C; i++)
			m += x[i];
		m /= C;
		acc = splat8(0.0f);
		for (int i = 0; i < C8; i += 8) {
			f32x8 d = load8(x + i) - m;
			acc += d * d;
		}
		float v = sum8(acc);
		for (int i = C8; i < C; i++)
			v += (x[i] - m) * (x[i] - m);
		v /= C;
		float s = 1.0f / sqrtf(v + a->eps);
		for (int i = 0; i < C8; i += 8) {
			f32x8 n = (load8(x + i) - m) * s;
			store8(o + i, a->weight ? n * load8(a->weight + i) + load8(a->bias + i) : n);
		}
		for (int i = C8; i < C; i++) {
			float n = (x[i] - m) * s;
			o[i] = a->weight ? n * a->weight[i] + a->bias[i] : n;
		}
		a->mean[r] = m;
		a->rstd[r] = s;
	}
}

void usj_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                           const float *bias, int64_t N, int C, float eps)
{
	double t0 = tic();
	ln_args a = {.out = out, .mean = mean, .rstd = rstd, .inp = inp, .weight = weight, .bias = bias,
	             .C = C, .N = N, .eps = eps};
	usj_pool_for(N, 1, ln_forward_rows, &a);
	toc(USJ_K_LAYERNORM, t0, 0.0);
}

/* ln_backward_rows: dinp of rows [r0, r1) added to, and, if sums (2, C) is
 * given, the rows' sums for dweight and dbias added to it */
CLONES static void ln_backward_rows(const ln_args *a, int64_t r0, int64_t r1, float *sums)
{
	int C = a->C, C8 = C / 8 * 8;
	for (int64_t r = r0; r < r1; r++) {
		const float *x = a->inp + r * C, *dy = a->dout + r * C; // x, dy (C)
		float *dx = a->dinp + r * C;                           // dx (C)
		float m = a->mean[r], s = a->rstd[r];
		/* dnorm = dy * weight; dx = s (dnorm - mean(dnorm) - norm mean(dnorm norm)) */
		f32x8 acc_dn = splat8(0.0f), acc_dnn = splat8(0.0f);
		for (int i = 0; i < C8; i += 8) {
			f32x8 n = (load8(x + i) - m) * s, dn = a->weight ? load8(dy + i) * load8(a->weight + i) : load8(dy + i);
			acc_dn += dn;
			acc_dnn += dn * n;
		}
		float dnorm_mean = sum8(acc_dn), dnorm_norm_mean = sum8(acc_dnn);
		for (int i = C8; i < C; i++) {
			float n = (x[i] - m) * s, dn = a->weight ? dy[i] * a->weight[i] : dy[i];
			dnorm_mean += dn;
			dnorm_norm_mean += dn * n;
		}
		dnorm_mean /= C;
		dnorm_norm_mean /= C;
		/* out = norm * weight + bias: dweight += norm dy, dbias += dy */
		for (int i = 0; i < C8; i += 8) {
			f32x8 n = (load8(x + i) - m) * s, dn = a->weight ? load8(dy + i) * load8(a->weight + i) : load8(dy + i);
			store8(dx + i, load8(dx + i) + s * (dn - dnorm_mean - n * dnorm_norm_mean));
			if (sums) {
				store8(sums + i, load8(sums + i) + n * load8(dy + i));
				store8(sums + C + i, load8(sums + C + i) + load8(dy + i));
			}
		}
		for (int i = C8; i < C; i++) {
			float n = (x[i] - m) * s, dn = a->weight ? dy[i] * a->weight[i] : dy[i];
			dx[i] += s * (dn - dnorm_mean - n * dnorm_norm_mean);
			if (sums) {
				sums[i] += n * dy[i];
				sums[C + i] += dy[i];
			}
		}
	}
}

/* ln_backward_parts: the rows of parts [k0, k1), each part's sums into its
 * own (2, C) of a->sums: one pass over the rows, and no channel written by
 * two threads */
static void ln_backward_parts(void *ctx, int64_t k0, int64_t k1)
{
	ln_args *a = ctx;
	for (int64_t k = k0; k < k1; k++) {
		int64_t r0, r1;
		usj_pool_part(a->N, 1, (int)k, a->parts, &r0, &r1);
		ln_backward_rows(a, r0, r1, a->sums ? a->sums + k * 2 * a->C : NULL);
	}
}

void usj_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const float *mean, const float *rstd, int64_t N, int C)
{
	double t0 = tic();
	int parts = usj_pool_threads();
	ln_args a = {.dinp = dinp, .dweight = dweight, .dbias = dbias, .dout = dout, .inp = inp, .weight = weight,
	             .mean = (float *)mean, .rstd = (float *)rstd, .C = C, .N = N, .parts = parts};
	if (dweight)
		a.sums = xcalloc((size_t)parts * 2 * C, sizeof(float));
	usj_pool_for(parts, 1, ln_backward_parts, &a);
	for (int k = 0; dweight && k < parts; k++) /* the parts' sums in their order: the same bits every run */
		for (int i = 0; i < C; i++) {
			dweight[i] += a.sums[(int64_t)k * 2 * C + i];
			dbias[i] += a.sums[(int64_t)k * 2 * C + C + i];
		}
	free(a.sums);
	toc(USJ_K_LAYERNORM_BWD, t0, 0.0);
}

/* ---- matmul ---- */

typedef struct mm_args {
	float *out, *dinp, *dweight, *dbias;
	const float *inp, *weight, *bias, *dout;
	int64_t N;
	int C, OC;
} mm_args;

static void mm_forward_rows(void *ctx, int64_t r0, int64_t r1)
{
	mm_args *a = ctx;
	float *out = a->out + r0 * a->OC; // out (r1 - r0, OC)
	for (int64_t r = r0; r < r1; r++)
		if (a->bias)
			memcpy(a->out + r * a->OC, a->bias, (size_t)a->OC * sizeof(float));
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), a->OC, a->C, 1.0f, a->inp + r0 * a->C,
	            a->C, a->weight, a->C, a->bias ? 1.0f : 0.0f, out, a->OC);
}

void usj_matmul_forward(float *out, const float *inp, const float *weight, const float *bias, int64_t N, int C,
                        int OC)
{
	double t0 = tic();
	mm_args a = {.out = out, .inp = inp, .weight = weight, .bias = bias, .N = N, .C = C, .OC = OC};
	usj_pool_for(N, 16, mm_forward_rows, &a);
	toc(USJ_K_MATMUL, t0, 2.0 * N * C * OC);
}

void usj_matmul_forward_naive(float *out, const float *inp, const float *weight, const float *bias, int64_t N,
                              int C, int OC)
{
	for (int64_t r = 0; r < N; r++)
		for (int o = 0; o < OC; o++) {
			float acc = bias ? bias[o] : 0.0f;
			for (int i = 0; i < C; i++)
				acc += inp[r * C + i] * weight[(int64_t)o * C + i];
			out[r * OC + o] = acc;
		}
}

static void mm_backward_rows(void *ctx, int64_t r0, int64_t r1)
{
	mm_args *a = ctx;
	/* dinp (rows, C) = dout (rows, OC) weight (OC, C) */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0), a->C, a->OC, 1.0f,
	            a->dout + r0 * a->OC, a->OC, a->weight, a->C, 0.0f, a->dinp + r0 * a->C, a->C);
}

/* bias_sums: dbias[o0, o1) += the columns' sums of dout (N, OC) */
CLONES static void bias_sums(float *dbias, const float *dout, int64_t N, int OC, int64_t o0, int64_t o1)
{
	for (int64_t r = 0; r < N; r++) {
		const float *dy = dout + r * OC;
		int64_t o = o0;
		for (; o + 8 <= o1; o += 8)
			store8(dbias + o, load8(dbias + o) + load8(dy + o));
		for (; o < o1; o++)
			dbias[o] += dy[o];
	}
}

static void mm_backward_outputs(void *ctx, int64_t o0, int64_t o1)
{
	mm_args *a = ctx;
	if (a->dweight) /* dweight (o1 - o0, C) += dout[:, o0:o1]^T inp (N, C) */
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(o1 - o0), a->C, (int)a->N, 1.0f, a->dout + o0,
		            a->OC, a->inp, a->C, 1.0f, a->dweight + o0 * a->C, a->C);
	if (a->dbias)
		bias_sums(a->dbias, a->dout, a->N, a->OC, o0, o1);
}

/* mm_backward_halves: thread t of the first half computes its part of dinp,
 * of the second half its part of dweight and dbias */
static void mm_backward_halves(void *ctx, int64_t t0, int64_t t1)
{
	mm_args *a = ctx;
	int threads = usj_pool_threads(), half = threads / 2;
	for (int64_t t = t0; t < t1; t++) {
		int64_t b, e;
		if (t < half) {
			usj_pool_part(a->N, 16, (int)t, half, &b, &e);
			mm_backward_rows(a, b, e);
		} else {
			usj_pool_part(a->OC, 16, (int)t - half, threads - half, &b, &e);
			mm_backward_outputs(a, b, e);
		}
	}
}

void usj_matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                         const float *weight, int64_t N, int C, int OC)
{
	double t0 = tic();
	mm_args a = {.dinp = dinp, .dweight = dweight, .dbias = dbias, .dout = dout, .inp = inp, .weight = weight,
	             .N = N, .C = C, .OC = OC};
	/* dinp and dweight are products of the same size: on two threads or
	 * more, half the threads make each, so that every matrix is packed by
	 * fewer threads and each sgemm is larger */
	if (dinp && (dweight || dbias) && usj_pool_threads() > 1)
		usj_pool_for(usj_pool_threads(), 1, mm_backward_halves, &a);
	else {
		if (dinp)
			usj_pool_for(N, 16, mm_backward_rows, &a);
		if (dweight || dbias)
			usj_pool_for(OC, 16, mm_backward_outputs, &a);
	}
	toc(USJ_K_MATMUL_BWD, t0, 2.0 * N * C * OC * ((dinp != NULL) + (dweight != NULL)));
}

/* ---- vector exp and erf ---- */

/* For GELU and the softmax: glibc's expf and erff are scalar calls and took
 * a quarter of a training step. */

/* exp8: e^x for x clamped to [-87, 88]: x = k ln 2 + r with |r| <= ln 2 / 2,
 * e^r by its Taylor series to r^7 (relative error below 1e-7), 2^k put
 * into the exponent bits */
static inline f32x8 exp8(f32x8 x)
{
	const float round = 12582912.0f; /* 1.5 2^23: adding it rounds to an integer */
	x = max8(min8(x, splat8(88.0f)), splat8(-87.0f));
	f32x8 t = x * 1.44269504f + round, k = t - round;
	f32x8 r = x - k * 0.693145752f - k * 1.42860677e-6f; /* ln 2 in two parts */
	f32x8 p = splat8(1.0f / 5040) * r + 1.0f / 720;
	p = p * r + 1.0f / 120;
	p = p * r + 1.0f / 24;
	p = p * r + 1.0f / 6;
	p = p * r + 0.5f;
	p = (p * r + 1.0f) * r + 1.0f;
	i32x8 e = ((i32x8)t - (i32x8)splat8(round) + 127) << 23;
	return p * (f32x8)e;
}

/* erf8: erf(x) = x P(x^2) / Q(x^2) for |x| <= 4 (and erf(+-4) beyond), a
 * rational fit on [0, 4] within 5e-7 of erf */
static inline f32x8 erf8(f32x8 x)
{
	x = max8(min8(x, splat8(4.0f)), splat8(-4.0f));
	f32x8 z = x * x;
	f32x8 p = splat8(1.98571092e-06f) * z + 2.85894959e-04f;
	f32x8 q = splat8(3.74807678e-05f) * z + 1.19579386e-03f;
	p = p * z + 3.92128900e-03f;
	q = q * z + 1.52805829e-02f;
	p = p * z + 5.32144569e-02f;
	q = q * z + 1.15694128e-01f;
	p = p * z + 1.94366619e-01f;
	q = q * z + 5.05584836e-01f;
	p = p * z + 1.12837911e+00f;
	q = q * z + 1.0f;
	return x * p / q;
}

/* the GELU of eight values, x Phi(x) */
static inline f32x8 gelu8(f32x8 x) { return 0.5f * x * (1.0f + erf8(x * (float)M_SQRT1_2)); }
/* dgelu8: the GELU's derivative Phi(x) + x phi(x), Phi(x) read off the
 * forward's output g = x Phi(x) as g / x, which is cheaper than erf again;
 * for |x| < 1e-3, where x may be 0 or subnormal, Phi's Taylor series 1/2 +
 * x phi(0) instead (off by under 1e-10) */
static inline f32x8 dgelu8(f32x8 x, f32x8 g)
{
	const float phi0 = (float)(0.5 * M_2_SQRTPI * M_SQRT1_2); /* 1 / sqrt(2 pi) */
	i32x8 near0 = abs8(x) < 1e-3f;
	f32x8 cdf = pick8(near0, 0.5f + x * phi0, g / pick8(near0, splat8(1.0f), x));
	return cdf + x * exp8(-0.5f * x * x) * phi0;
}

/* softmax_row: row (n) = softmax(row) */
CLONES static void softmax_row(float *row, int n)
{
	int n8 = n / 8 * 8, u;
	f32x8 m = splat8(row[0]), s = splat8(0.0f);
	for (u = 0; u < n8; u += 8)
		m = max8(m, load8(row + u));
	float mx = m[0];
	for (int i = 1; i < 8; i++)
		mx = m[i] > mx ? m[i] : mx;
	for (u = n8; u < n; u++)
		mx = row[u] > mx ? row[u] : mx;
	for (u = 0; u + 16 <= n; u += 16) { /* two vectors at a time: exp8 is a long chain */
		f32x8 e0 = exp8(load8(row + u) - mx), e1 = exp8(load8(row + u + 8) - mx);
		store8(row + u, e0);
		store8(row + u + 8, e1);
		s += e0 + e1;
	}
	for (; u < n8; u += 8) {
		f32x8 e = exp8(load8(row + u) - mx);
		store8(row + u, e);
		s += e;
	}
	if (u < n)
		store_tail(row + u, exp8(load_tail(row + u, n - u) - mx), n - u);
	float sum = sum8(s);
	for (; u < n; u++)
		sum += row[u];
	float inv = 1.0f / sum;
	for (u = 0; u < n8; u += 8)
		store8(row + u, load8(row + u) * inv);
	for (; u < n; u++)
		row[u] *= inv;
}

/* ---- attention ---- */

typedef struct att_args {
	float *out, *att, *dqkv, *scratch;
	const float *qkv, *dout, *att_in;
	int B, T, Tq, C, NH;
} att_args;

static void att_forward_heads(void *ctx, int64_t p0, int64_t p1)
{
	att_args *a = ctx;
	int T = a->T, Tq = a->Tq, C = a->C, hs = C / a->NH;
	float scale = 1.0f / sqrtf((float)hs);
	for (int64_t p = p0; p < p1; p++) {
		int b = (int)(p / a->NH), h = (int)(p % a->NH);
		const float *q0 = a->qkv + (int64_t)b * T * 3 * C + h * hs, *k = q0 + C, *v = q0 + 2 * C; // k, v (T, hs), row stride 3C
		const float *q = q0 + (int64_t)(T - Tq) * 3 * C;                                         // q (Tq, hs)
		float *att = a->att + p * Tq * T;                                // att (Tq, T)
		float *out = a->out + (int64_t)b * Tq * C + h * hs;             // out (Tq, hs), row stride C
		/* att = softmax(q k^T / sqrt(hs)) row by row */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, T, hs, scale, q, 3 * C, k, 3 * C, 0.0f, att, T);
		for (int t = 0; t < Tq; t++)
			softmax_row(att + (int64_t)t * T, T);
		/* out = att v */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, hs, T, 1.0f, att, T, v, 3 * C, 0.0f, out, C);
	}
}

void usj_attention_forward(float *out, float *att, const float *qkv, int B, int T, int Tq, int C, int NH)
{
	double t0 = tic();
	att_args a = {.out = out, .att = att, .qkv = qkv, .B = B, .T = T, .Tq = Tq, .C = C, .NH = NH};
	usj_pool_for((int64_t)B * NH, 1, att_forward_heads, &a);
	toc(USJ_K_ATTENTION, t0, 4.0 * B * Tq * T * C);
}

void usj_attention_forward_naive(float *out, float *att, const float *qkv, int B, int T, int Tq, int C, int NH)
{
	int hs = C / NH;
	float scale = 1.0f / sqrtf((float)hs);
	for (int b = 0; b < B; b++)
		for (int h = 0; h < NH; h++)
			for (int t = 0; t < Tq; t++) {
				const float *q = qkv + ((int64_t)b * T + T - Tq + t) * 3 * C + h * hs;
				float *row = att + (((int64_t)b * NH + h) * Tq + t) * T, mx = -INFINITY, sum = 0.0f;
				for (int u = 0; u < T; u++) {
					const float *k = qkv + ((int64_t)b * T + u) * 3 * C + C + h * hs;
					float s = 0.0f;
					for (int i = 0; i < hs; i++)
						s += q[i] * k[i];
					row[u] = s * scale;
					mx = row[u] > mx ? row[u] : mx;
				}
				for (int u = 0; u < T; u++) {
					row[u] = expf(row[u] - mx);
					sum += row[u];
				}
				float *o = out + ((int64_t)b * Tq + t) * C + h * hs;
				for (int i = 0; i < hs; i++)
					o[i] = 0.0f;
				for (int u = 0; u < T; u++) {
					row[u] /= sum;
					const float *v = qkv + ((int64_t)b * T + u) * 3 * C + 2 * C + h * hs;
					for (int i = 0; i < hs; i++)
						o[i] += row[u] * v[i];
				}
			}
}

/* softmax_backward_row: att (n) = softmax(s): ds = att (datt - sum_u att datt), in place of datt (n) */
CLONES static void softmax_backward_row(float *datt, const float *att, int n)
{
	int n8 = n / 8 * 8, u;
	f32x8 acc = splat8(0.0f);
	for (u = 0; u < n8; u += 8)
		acc += load8(att + u) * load8(datt + u);
	float dot = sum8(acc);
	for (; u < n; u++)
		dot += att[u] * datt[u];
	for (u = 0; u < n8; u += 8)
		store8(datt + u, load8(att + u) * (load8(datt + u) - dot));
	for (; u < n; u++)
		datt[u] = att[u] * (datt[u] - dot);
}

static void att_backward_heads(void *ctx, int64_t p0, int64_t p1)
{
	att_args *a = ctx;
	int T = a->T, Tq = a->Tq, C = a->C, hs = C / a->NH;
	float scale = 1.0f / sqrtf((float)hs);
	for (int64_t p = p0; p < p1; p++) {
		int b = (int)(p / a->NH), h = (int)(p % a->NH);
		int64_t base = (int64_t)b * T * 3 * C + h * hs, first = (int64_t)(T - Tq) * 3 * C;
		const float *q0 = a->qkv + base, *k = q0 + C, *v = q0 + 2 * C, *q = q0 + first; // k, v (T, hs), q (Tq, hs), row stride 3C
		float *dq0 = a->dqkv + base, *dk = dq0 + C, *dv = dq0 + 2 * C, *dq = dq0 + first; // likewise
		const float *att = a->att_in + p * Tq * T;                          // att (Tq, T)
		const float *dout = a->dout + (int64_t)b * Tq * C + h * hs;        // dout (Tq, hs), row stride C
		float *datt = a->scratch + p * Tq * T;                             // datt (Tq, T)
		/* out = att v: dv = att^T dout, datt = dout v^T */
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, Tq, 1.0f, att, T, dout, C, 0.0f, dv, 3 * C);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Tq, T, hs, 1.0f, dout, C, v, 3 * C, 0.0f, datt, T);
		for (int t = 0; t < Tq; t++)
			softmax_backward_row(datt + (int64_t)t * T, att + (int64_t)t * T, T);
		/* s = q k^T scale: dq = ds k scale, dk = ds^T q scale */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Tq, hs, T, scale, datt, T, k, 3 * C, 0.0f, dq, 3 * C);
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, Tq, scale, datt, T, q, 3 * C, 0.0f, dk, 3 * C);
		/* the rows that asked nothing: their queries' gradient is zero */
		for (int t = 0; t < T - Tq; t++)
			memset(dq0 + (int64_t)t * 3 * C, 0, (size_t)hs * sizeof(float));
	}
}

void usj_attention_backward_naive(float *dqkv, float *scratch, const float *dout, const float *qkv,
                                  const float *att, int B, int T, int Tq, int C, int NH)
{
	int hs = C / NH, T0 = T - Tq;
	float scale = 1.0f / sqrtf((float)hs);
	for (int b = 0; b < B; b++)
		for (int h = 0; h < NH; h++) {
			const float *q = qkv + (int64_t)b * T * 3 * C + h * hs, *k = q + C, *v = q + 2 * C; // row stride 3C
			float *dq = dqkv + (int64_t)b * T * 3 * C + h * hs, *dk = dq + C, *dv = dq + 2 * C;
			const float *a = att + ((int64_t)b * NH + h) * Tq * T;   // a (Tq, T)
			const float *dy = dout + (int64_t)b * Tq * C + h * hs;   // dy (Tq, hs), row stride C
			float *ds = scratch + ((int64_t)b * NH + h) * Tq * T;    // ds (Tq, T)
			for (int t = 0; t < Tq; t++) {
				/* datt = dout v^T, then ds = att (datt - sum_u att datt) */
				float dot = 0.0f;
				for (int u = 0; u < T; u++) {
					float s = 0.0f;
					for (int i = 0; i < hs; i++)
						s += dy[(int64_t)t * C + i] * v[(int64_t)u * 3 * C + i];
					ds[t * T + u] = s;
					dot += a[t * T + u] * s;
				}
				for (int u = 0; u < T; u++)
					ds[t * T + u] = a[t * T + u] * (ds[t * T + u] - dot);
			}
			for (int t = 0; t < T; t++)
				for (int i = 0; i < hs; i++) {
					/* dv = att^T dout, dq = ds k scale (rows that ask), dk = ds^T q scale */
					float sv = 0.0f, sq = 0.0f, sk = 0.0f;
					for (int u = 0; u < Tq; u++) {
						sv += a[u * T + t] * dy[(int64_t)u * C + i];
						sk += ds[u * T + t] * q[(int64_t)(T0 + u) * 3 * C + i];
					}
					for (int u = 0; t >= T0 && u < T; u++)
						sq += ds[(t - T0) * T + u] * k[(int64_t)u * 3 * C + i];
					dv[(int64_t)t * 3 * C + i] = sv;
					dq[(int64_t)t * 3 * C + i] = sq * scale;
					dk[(int64_t)t * 3 * C + i] = sk * scale;
				}
		}
}

void usj_attention_backward(float *dqkv, float *scratch, const float *dout, const float *qkv, const float *att,
                            int B, int T, int Tq, int C, int NH)
{
	double t0 = tic();
	att_args a = {.dqkv = dqkv, .scratch = scratch, .dout = dout, .qkv = qkv, .att_in = att, .B = B, .T = T,
	              .Tq = Tq, .C = C, .NH = NH};
	usj_pool_for((int64_t)B * NH, 1, att_backward_heads, &a);
	toc(USJ_K_ATTENTION_BWD, t0, 8.0 * B * Tq * T * C);
}

/* ---- elementwise ---- */

typedef struct ew_args {
	float *out;
	const float *a, *b, *c;
} ew_args;

CLONES static void gelu_forward_range(void *ctx, int64_t i0, int64_t i1)
{
	ew_args *e = ctx;
	int64_t i = i0;
	for (; i + 8 <= i1; i += 8)
		store8(e->out + i, gelu8(load8(e->a + i)));
	if (i < i1)
		store_tail(e->out + i, gelu8(load_tail(e->a + i, i1 - i)), i1 - i);
}

void usj_gelu_forward(float *out, const float *inp, int64_t N)
{
	double t0 = tic();
	ew_args e = {.out = out, .a = inp};
	usj_pool_for(N, 256, gelu_forward_range, &e);
	toc(USJ_K_GELU, t0, 0.0);
}

void usj_gelu_forward_naive(float *out, const float *inp, int64_t N)
{
	for (int64_t i = 0; i < N; i++)
		out[i] = 0.5f * inp[i] * (1.0f + erff(inp[i] * (float)M_SQRT1_2));
}

CLONES static void gelu_backward_range(void *ctx, int64_t i0, int64_t i1)
{
	ew_args *e = ctx;
	int64_t i = i0;
	/* out = x Phi(x): dx = dout (Phi(x) + x phi(x)) */
	for (; i + 8 <= i1; i += 8)
		store8(e->out + i, load8(e->b + i) * dgelu8(load8(e->a + i), load8(e->c + i)));
	if (i < i1) {
		int64_t n = i1 - i;
		store_tail(e->out + i, load_tail(e->b + i, n) * dgelu8(load_tail(e->a + i, n), load_tail(e->c + i, n)), n);
	}
}

void usj_gelu_backward(float *dinp, const float *inp, const float *out, const float *dout, int64_t N)
{
	double t0 = tic();
	ew_args e = {.out = dinp, .a = inp, .b = dout, .c = out};
	usj_pool_for(N, 256, gelu_backward_range, &e);
	toc(USJ_K_GELU_BWD, t0, 0.0);
}

void usj_gelu_backward_naive(float *dinp, const float *inp, const float *dout, int64_t N)
{
	for (int64_t i = 0; i < N; i++) {
		float x = inp[i], cdf = 0.5f * (1.0f + erff(x * (float)M_SQRT1_2));
		float pdf = expf(-0.5f * x * x) * (float)(0.5 * M_2_SQRTPI * M_SQRT1_2);
		dinp[i] = dout[i] * (cdf + x * pdf);
	}
}

CLONES static void add_range(void *ctx, int64_t i0, int64_t i1)
{
	ew_args *e = ctx;
	int64_t i = i0;
	for (; i + 8 <= i1; i += 8)
		store8(e->out + i, load8(e->a + i) + load8(e->b + i));
	for (; i < i1; i++)
		e->out[i] = e->a[i] + e->b[i];
}

void usj_residual_forward(float *out, const float *a, const float *b, int64_t N)
{
	double t0 = tic();
	ew_args e = {.out = out, .a = a, .b = b};
	usj_pool_for(N, 256, add_range, &e);
	toc(USJ_K_RESIDUAL, t0, 0.0);
}

/* ---- losses ---- */

typedef struct loss_args {
	enum usj_loss kind;
	const float *pred, *target;
	float *dpred;
	float beta;
	int64_t N;
	double partial[64];
	int64_t chunk;
} loss_args;

/* loss8, grad8: the loss of d = pred - target and its derivative, 8 lanes
 * at a time and without branches (the sign of d is a coin toss); both are 0
 * at d = 0, so a tail padded with zeros adds nothing */
static inline f32x8 loss8(enum usj_loss kind, f32x8 d, float beta)
{
	f32x8 m = abs8(d);
	switch (kind) {
	case USJ_LOSS_SMOOTH_L1: return pick8(m < splat8(beta), 0.5f * d * d / beta, m - 0.5f * beta);
	case USJ_LOSS_L1: return m;
	default: return d * d;
	}
}

static inline f32x8 grad8(enum usj_loss kind, f32x8 d, float beta)
{
	f32x8 zero = splat8(0.0f), one = splat8(1.0f);
	f32x8 sign = pick8(d > zero, one, zero) - pick8(d < zero, one, zero);
	switch (kind) {
	case USJ_LOSS_SMOOTH_L1: return pick8(abs8(d) < splat8(beta), d / beta, sign);
	case USJ_LOSS_L1: return sign;
	default: return 2.0f * d;
	}
}

CLONES static void loss_chunks(void *ctx, int64_t c0, int64_t c1)
{
	loss_args *a = ctx;
	for (int64_t c = c0; c < c1; c++) {
		int64_t i = c * a->chunk, i1 = (c + 1) * a->chunk < a->N ? (c + 1) * a->chunk : a->N;
		double s = 0.0;
		while (i + 8 <= i1) { /* float sums of at most 512 values, added up in double */
			f32x8 acc = splat8(0.0f);
			for (int v = 0; v < 64 && i + 8 <= i1; v++, i += 8)
				acc += loss8(a->kind, load8(a->pred + i) - load8(a->target + i), a->beta);
			s += sum8(acc);
		}
		if (i < i1)
			s += sum8(loss8(a->kind, load_tail(a->pred + i, i1 - i) - load_tail(a->target + i, i1 - i), a->beta));
		a->partial[c] = s;
	}
}

double usj_loss_forward(enum usj_loss kind, const float *pred, const float *target, int64_t N, float beta)
{
	/* fixed chunks summed in order: the same bits for any thread count */
	double t0 = tic();
	loss_args a = {.kind = kind, .pred = pred, .target = target, .beta = beta, .N = N};
	a.chunk = (N + 63) / 64 > 0 ? (N + 63) / 64 : 1;
	int64_t chunks = (N + a.chunk - 1) / a.chunk;
	usj_pool_for(chunks, 1, loss_chunks, &a);
	double sum = 0.0;
	for (int64_t c = 0; c < chunks; c++)
		sum += a.partial[c];
	toc(USJ_K_LOSS, t0, 0.0);
	return N ? sum / N : 0.0;
}

CLONES static void loss_grad_range(void *ctx, int64_t i0, int64_t i1)
{
	loss_args *a = ctx;
	float inv = 1.0f / (float)a->N;
	int64_t i = i0;
	for (; i + 8 <= i1; i += 8)
		store8(a->dpred + i, grad8(a->kind, load8(a->pred + i) - load8(a->target + i), a->beta) * inv);
	if (i < i1) {
		f32x8 d = load_tail(a->pred + i, i1 - i) - load_tail(a->target + i, i1 - i);
		store_tail(a->dpred + i, grad8(a->kind, d, a->beta) * inv, i1 - i);
	}
}

void usj_loss_backward(float *dpred, enum usj_loss kind, const float *pred, const float *target, int64_t N,
                       float beta)
{
	double t0 = tic();
	loss_args a = {.kind = kind, .pred = pred, .target = target, .dpred = dpred, .beta = beta, .N = N};
	usj_pool_for(N, 256, loss_grad_range, &a);
	toc(USJ_K_LOSS, t0, 0.0);
}
