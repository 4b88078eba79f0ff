/* test_vit_fast.c: the vectorised kernels against their naive references
 * where test_vit.c does not hold them to one: GELU's polynomial erf and exp
 * against glibc's, over the whole float range that matters and on lengths
 * that leave a partial vector; AdamW's one pass over all tensors against
 * its formula tensor by tensor. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adamw.h"
#include "err.h"
#include "mem.h"
#include "params.h"
#include "pool.h"
#include "test.h"
#include "vit_kernels.h"

enum { N = 4003 }; /* not a multiple of 4, nor of the pool's ranges */

static void gelu_matches_naive(void)
{
	float *x = xmalloc(N * sizeof(float)), *fast = xmalloc(N * sizeof(float)), *slow = xmalloc(N * sizeof(float));
	float *dout = xmalloc(N * sizeof(float));
	for (int i = 0; i < N; i++) {
		x[i] = -12.0f + 24.0f * i / (N - 1);
		dout[i] = 1.0f + (float)(i % 7) / 7;
	}
	/* around 0, where the backward leaves g / x for Phi's Taylor series */
	static const float near0[] = {0.0f, -0.0f, 1e-30f, -1e-20f, 1e-4f, -9.99e-4f, 1e-3f, -1.001e-3f, 2e-3f, -5e-3f};
	memcpy(x, near0, sizeof near0);
	usj_gelu_forward(fast, x, N);
	usj_gelu_forward_naive(slow, x, N);
	double worst = 0;
	for (int i = 0; i < N; i++)
		worst = worse(worst, fabs(fast[i] - slow[i]) / fmax(1.0, fabs(x[i])));
	printf("# gelu: worst difference %.3g\n", worst);
	CHECK(worst < 1e-6);
	float *out = xmalloc(N * sizeof(float));
	usj_gelu_forward(out, x, N);
	for (int i = 0; i < N; i++)
		fast[i] = slow[i] = 0.5f;
	usj_gelu_backward(fast, x, out, dout, N);
	usj_gelu_backward_naive(slow, x, dout, N);
	worst = 0;
	for (int i = 0; i < N; i++)
		worst = worse(worst, fabs(fast[i] - slow[i]));
	printf("# gelu backward: worst difference %.3g\n", worst);
	CHECK(worst < 2e-6);
	free(x), free(fast), free(slow), free(dout), free(out);
}

static void adamw_matches_formula(void)
{
	/* tensors of odd sizes, decayed or not, so that the pool's ranges start and end inside them */
	usj_params ps = {0};
	int64_t shapes[][2] = {{37, 5}, {3}, {1000, 3}, {1}, {64, 17}};
	for (int i = 0; i < 5; i++) {
		char name[8] = {(char)('a' + i)};
		usj_params_add(&ps, name, shapes[i][1] ? 2 : 1, shapes[i], shapes[i][1] != 0);
	}
	usj_params_alloc(&ps);
	usj_params_alloc_moments(&ps);
	float *w = xmalloc((size_t)ps.total * sizeof(float)), *m = xmalloc((size_t)ps.total * sizeof(float));
	float *v = xmalloc((size_t)ps.total * sizeof(float));
	for (int64_t i = 0; i < ps.total; i++)
		w[i] = ps.w[i] = sinf((float)i), m[i] = v[i] = 0.0f;
	usj_adamw opt = {.beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f};
	float lr = 1e-3f, wd = 0.05f;
	for (int step = 1; step <= 3; step++) {
		for (int64_t i = 0; i < ps.total; i++)
			ps.g[i] = cosf((float)(i * step));
		usj_adamw_step(&opt, &ps, lr, wd);
		double bc1 = 1.0 - pow(0.9f, step), bc2 = 1.0 - pow(0.95f, step);
		float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
		for (int t = 0; t < ps.n; t++)
			for (int64_t i = ps.p[t].offset; i < ps.p[t].offset + ps.p[t].count; i++) {
				w[i] *= ps.p[t].decay ? 1.0f - lr * wd : 1.0f;
				m[i] += (1.0f - 0.9f) * (ps.g[i] - m[i]);
				v[i] = 0.95f * v[i] + (1.0f - 0.95f) * ps.g[i] * ps.g[i];
				w[i] -= step_size * m[i] / (sqrtf(v[i]) / bc2_sqrt + 1e-8f);
			}
	}
	/* to float rounding: the vector loop may fuse a multiply and an add (FMA) */
	double worst_w = 0, worst_v = 0;
	for (int64_t i = 0; i < ps.total; i++) {
		worst_w = worse(worst_w, fabs(w[i] - ps.w[i]) / fmax(fabs(w[i]), 1e-3));
		worst_v = worse(worst_v, fabs(v[i] - ps.v[i]) / fmax(fabs(v[i]), 1e-12));
	}
	printf("# adamw: worst relative difference w %.3g, v %.3g\n", worst_w, worst_v);
	CHECK(worst_w < 1e-6);
	CHECK(worst_v < 1e-6);
	free(w), free(m), free(v);
	usj_params_free(&ps);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	usj_pool_init(3);
	RUN(gelu_matches_naive);
	RUN(adamw_matches_formula);
	return TEST_DONE();
}
