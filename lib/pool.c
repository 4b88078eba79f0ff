/* pool.c: a fixed set of worker threads woken by a generation counter; the
 * caller runs range 0 itself. */
#include <cblas.h>
#include <pthread.h>

#include "err.h"
#include "mem.h"
#include "pool.h"

static struct {
	int threads;
	pthread_t *tid;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	uint64_t generation; /* bumped for each loop */
	int pending;         /* workers still running the current loop */
	int64_t n, align;
	usj_range_fn fn;
	void *ctx;
} P = {.threads = 0, .mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER,
       .done = PTHREAD_COND_INITIALIZER};

/* range: thread k's part of [0, n) */
static void range(int k, int64_t *begin, int64_t *end)
{
	int64_t blocks = (P.n + P.align - 1) / P.align, per = blocks / P.threads, extra = blocks % P.threads;
	int64_t b0 = k * per + (k < extra ? k : extra), b1 = b0 + per + (k < extra);
	*begin = b0 * P.align < P.n ? b0 * P.align : P.n;
	*end = b1 * P.align < P.n ? b1 * P.align : P.n;
}

static void *worker(void *arg)
{
	int k = (int)(intptr_t)arg;
	uint64_t seen = 0;
	pthread_mutex_lock(&P.mu);
	for (;;) {
		while (P.generation == seen)
			pthread_cond_wait(&P.go, &P.mu);
		seen = P.generation;
		pthread_mutex_unlock(&P.mu);
		int64_t begin, end;
		range(k, &begin, &end);
		if (begin < end)
			P.fn(P.ctx, begin, end);
		pthread_mutex_lock(&P.mu);
		if (--P.pending == 0)
			pthread_cond_signal(&P.done);
	}
	return NULL;
}

void usj_pool_init(int threads)
{
	if (P.threads)
		return;
	P.threads = threads < 1 ? 1 : threads;
	openblas_set_num_threads(1);
	P.tid = xcalloc((size_t)P.threads, sizeof *P.tid);
	for (int k = 1; k < P.threads; k++)
		if (pthread_create(&P.tid[k], NULL, worker, (void *)(intptr_t)k) != 0)
			usj_die(USJ_EFAIL, "cannot start a thread:");
}

int usj_pool_threads(void) { return P.threads ? P.threads : 1; }

void usj_pool_for(int64_t n, int64_t align, usj_range_fn fn, void *ctx)
{
	if (!P.threads)
		usj_pool_init(1);
	if (P.threads == 1 || n <= align) {
		if (n > 0)
			fn(ctx, 0, n);
		return;
	}
	pthread_mutex_lock(&P.mu);
	P.n = n;
	P.align = align < 1 ? 1 : align;
	P.fn = fn;
	P.ctx = ctx;
	P.pending = P.threads - 1;
	P.generation++;
	pthread_cond_broadcast(&P.go);
	pthread_mutex_unlock(&P.mu);
	int64_t begin, end;
	range(0, &begin, &end);
	if (begin < end)
		fn(ctx, begin, end);
	pthread_mutex_lock(&P.mu);
	while (P.pending > 0)
		pthread_cond_wait(&P.done, &P.mu);
	pthread_mutex_unlock(&P.mu);
}
