/* test_vit_fast.c: the vectorised kernels against their naive references
 * where test_vit.c does not hold them to one: GELU's polynomial erf and exp
 * against glibc's, over the whole float range that matters and on lengths
 * that leave a partial vector. */
#include <math.h>
#include <stdlib.h>

#include "err.h"
#include "mem.h"
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
	usj_gelu_forward(fast, x, N);
	usj_gelu_forward_naive(slow, x, N);
	double worst = 0;
	for (int i = 0; i < N; i++)
		worst = fmax(worst, fabs(fast[i] - slow[i]) / fmax(1.0, fabs(x[i])));
	printf("# gelu: worst difference %.3g\n", worst);
	CHECK(worst < 1e-6);
	for (int i = 0; i < N; i++)
		fast[i] = slow[i] = 0.5f;
	usj_gelu_backward(fast, x, dout, N);
	usj_gelu_backward_naive(slow, x, dout, N);
	worst = 0;
	for (int i = 0; i < N; i++)
		worst = fmax(worst, fabs(fast[i] - slow[i]));
	printf("# gelu backward: worst difference %.3g\n", worst);
	CHECK(worst < 2e-6);
	free(x), free(fast), free(slow), free(dout);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	usj_pool_init(3);
	RUN(gelu_matches_naive);
	return TEST_DONE();
}
