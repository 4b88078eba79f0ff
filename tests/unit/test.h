/* test.h: a minimal TAP producer for the C unit tests. Each TEST prints
 * "ok N - name" or "not ok N - name"; main() returns non-zero on any failure. */
#ifndef USJ_TEST_H
#define USJ_TEST_H
#include <math.h>
#include <stdio.h>

static int test_failed_now, test_count, test_failures;

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
	test_failed_now = 1; } } while (0)
#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); if (!(fabs(a_ - b_) <= (tol))) { \
	fprintf(stderr, "#   %s:%d: %s = %.9g, %s = %.9g, tolerance %g\n", __FILE__, __LINE__, \
	        #a, a_, #b, b_, (double)(tol)); test_failed_now = 1; } } while (0)

#define RUN(fn) do { test_failed_now = 0; fn(); test_count++; \
	if (test_failed_now) test_failures++; \
	printf("%sok %d - %s\n", test_failed_now ? "not " : "", test_count, #fn); \
	fflush(stdout); } while (0)

#define TEST_DONE() (printf("1..%d\n", test_count), test_failures ? 1 : 0)

#endif
