/* pool.c: a fixed set of worker threads woken by a generation counter; the
 * caller runs range 0 itself.
 *
 * A step of training is a few hundred parallel loops, many of a few hundred
 * microseconds, so waking a sleeping thread (tens of microseconds through a
 * condition variable) is a real share of it. Workers and the caller therefore
 * spin for a short while (SPIN) on the counters before they sleep. The
 * sleep and wake-up pair is race-free without a lock on the fast path: the
 * sleeper announces itself (sleepers, caller_sleeps) and then checks the
 * counter, the waker changes the counter and then checks for sleepers; with
 * sequentially consistent atomics one of the two always sees the other, and
 * both sides of the slow path hold the mutex. */
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>

#include "err.h"
#include "mem.h"
#include "pool.h"
#include "progress.h"

/* SPIN: seconds a thread polls before it sleeps; long enough to bridge the
 * serial code between two loops, short enough not to matter to a process
 * sharing the core */
#define SPIN 100e-6

static struct {
	int threads;
	pthread_t *tid;
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	atomic_uint_fast64_t generation; /* bumped for each loop */
	atomic_int pending;              /* workers still running the current loop */
	atomic_int sleepers;             /* workers asleep on go, or about to be */
	atomic_int caller_sleeps;        /* the caller is asleep on done, or about to be */
	int64_t n, align;
	usj_range_fn fn;
	void *ctx;
} P = {.threads = 0, .mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER,
       .done = PTHREAD_COND_INITIALIZER};

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void usj_pool_part(int64_t n, int64_t align, int k, int parts, int64_t *begin, int64_t *end)
{
	int64_t blocks = (n + align - 1) / align, per = blocks / parts, extra = blocks % parts;
	int64_t b0 = k * per + (k < extra ? k : extra), b1 = b0 + per + (k < extra);
	*begin = b0 * align < n ? b0 * align : n;
	*end = b1 * align < n ? b1 * align : n;
}

/* range: thread k's part of the loop's [0, n) */
static void range(int k, int64_t *begin, int64_t *end) { usj_pool_part(P.n, P.align, k, P.threads, begin, end); }

/* spin_while: poll busy(arg) for up to SPIN seconds; whether it turned false */
static int spin_while(int (*busy)(const void *), const void *arg)
{
	double t0 = usj_now();
	for (int i = 1;; i++) {
		if (!busy(arg))
			return 1;
		relax();
		if (i % 256 == 0 && usj_now() - t0 > SPIN)
			return 0;
	}
}

static int same_generation(const void *seen) { return atomic_load(&P.generation) == *(const uint64_t *)seen; }
static int work_pending(const void *unused) { return atomic_load(&P.pending) > 0; }

static void *worker(void *arg)
{
	int k = (int)(intptr_t)arg;
	uint64_t seen = 0;
	for (;;) {
		if (!spin_while(same_generation, &seen)) {
			pthread_mutex_lock(&P.mu);
			atomic_fetch_add(&P.sleepers, 1);
			while (same_generation(&seen))
				pthread_cond_wait(&P.go, &P.mu);
			atomic_fetch_sub(&P.sleepers, 1);
			pthread_mutex_unlock(&P.mu);
		}
		seen = atomic_load(&P.generation);
		int64_t begin, end;
		range(k, &begin, &end);
		if (begin < end)
			P.fn(P.ctx, begin, end);
		if (atomic_fetch_sub(&P.pending, 1) == 1 && atomic_load(&P.caller_sleeps)) {
			pthread_mutex_lock(&P.mu);
			pthread_cond_signal(&P.done);
			pthread_mutex_unlock(&P.mu);
		}
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
	/* the loop's fields are read by workers only after they see the new
	 * generation, which the sequentially consistent increment publishes */
	P.n = n;
	P.align = align < 1 ? 1 : align;
	P.fn = fn;
	P.ctx = ctx;
	atomic_store(&P.pending, P.threads - 1);
	atomic_fetch_add(&P.generation, 1);
	if (atomic_load(&P.sleepers)) {
		pthread_mutex_lock(&P.mu);
		pthread_cond_broadcast(&P.go);
		pthread_mutex_unlock(&P.mu);
	}
	int64_t begin, end;
	range(0, &begin, &end);
	if (begin < end)
		fn(ctx, begin, end);
	if (!spin_while(work_pending, NULL)) {
		pthread_mutex_lock(&P.mu);
		atomic_store(&P.caller_sleeps, 1);
		while (work_pending(NULL))
			pthread_cond_wait(&P.done, &P.mu);
		atomic_store(&P.caller_sleeps, 0);
		pthread_mutex_unlock(&P.mu);
	}
}
