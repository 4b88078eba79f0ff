/* test.h: a minimal TAP producer for the C unit tests. Each TEST prints
 * "ok N - name" or "not ok N - name"; main() returns non-zero on any failure. */
#ifndef USJ_TEST_H
#define USJ_TEST_H
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "record.h"
#include "stream.h"

static int test_failed_now, test_count, test_failures;

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
	test_failed_now = 1; } } while (0)
#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); if (!(fabs(a_ - b_) <= (tol))) { \
	fprintf(stderr, "#   %s:%d: %s = %.9g, %s = %.9g, tolerance %g\n", __FILE__, __LINE__, \
	        #a, a_, #b, b_, (double)(tol)); test_failed_now = 1; } } while (0)

/* worse: the larger of two errors, a NaN worse than any (fmax would drop it) */
static inline double worse(double worst, double err) { return isnan(err) ? INFINITY : fmax(worst, err); }

#define RUN(fn) do { test_failed_now = 0; fn(); test_count++; \
	if (test_failed_now) test_failures++; \
	printf("%sok %d - %s\n", test_failed_now ? "not " : "", test_count, #fn); \
	fflush(stdout); } while (0)

/* Each test program keeps its files in one scratch folder, made by
 * test_scratch_make() and removed with everything in it by TEST_DONE(). */
static char test_scratch[] = "/tmp/usj-test-XXXXXX";
static int test_scratch_made;

static inline void test_scratch_make(void)
{
	if (!mkdtemp(test_scratch)) {
		perror("mkdtemp");
		exit(1);
	}
	test_scratch_made = 1;
}

/* test_path: a malloc'ed path name inside the scratch folder. */
static inline char *test_path(const char *name)
{
	return xasprintf("%s/%s", test_scratch, name);
}

/* test_count_files: the entries of folder dir, "." and ".." aside; -1 if it
 * cannot be read. */
static inline int test_count_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static inline int test_remove_one(const char *path, const struct stat *st, int type,
                                  struct FTW *ftw)
{
	return remove(path);
}

static inline int test_finish(void)
{
	if (test_scratch_made &&
	    nftw(test_scratch, test_remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		perror(test_scratch);
		return 1;
	}
	printf("1..%d\n", test_count);
	return test_failures ? 1 : 0;
}
#define TEST_DONE() test_finish()

/* test_read_file: the bytes of path; none (and the test fails) if it cannot be read. */
static inline char *test_read_file(const char *path, size_t *n)
{
	size_t cap = 1 << 16;
	char *buf = xmalloc(cap);
	*n = 0;
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return buf;
	size_t got;
	while ((got = fread(buf + *n, 1, cap - *n, f)) > 0) {
		*n += got;
		if (*n == cap)
			buf = xrealloc(buf, cap *= 2);
	}
	fclose(f);
	return buf;
}

/* A worker thread of a test: its number, and how many of its checks failed
 * (CHECK itself is not for threads). */
struct test_worker {
	int id, failures;
};

/* test_run_workers: run fn on n workers numbered 0..n-1 at once; the total
 * of their failures. */
static inline int test_run_workers(void *(*fn)(void *), int n)
{
	struct test_worker *w = xcalloc((size_t)n, sizeof *w);
	pthread_t *t = xcalloc((size_t)n, sizeof *t);
	for (int i = 0; i < n; i++) {
		w[i].id = i;
		pthread_create(&t[i], NULL, fn, &w[i]);
	}
	int failures = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		failures += w[i].failures;
	}
	free(w);
	free(t);
	return failures;
}

/* test_read_stream: 0 if buf holds a valid stream, else the reader's error
 * code; records (if not NULL) gets how many records were read. */
static inline int test_read_stream(const void *buf, size_t n, int64_t *records)
{
	usj_reader *r = usj_reader_open_mem(buf, n, "memory");
	usj_record rec;
	usj_record_init(&rec);
	int rc = usj_reader_start(r);
	while (rc == 0) {
		int k = usj_reader_next(r, &rec);
		if (k <= 0) {
			rc = -k;
			break;
		}
	}
	if (records)
		*records = usj_reader_records(r);
	usj_record_free(&rec);
	usj_reader_close(r);
	return rc;
}

#endif
