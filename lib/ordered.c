/* ordered.c: workers take the next item once its slot in the ring is free;
 * the caller emits slots in order as they complete. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "ordered.h"

typedef struct pool {
	int64_t n, next, emitted;
	int window;
	size_t slot_size;
	char *slots;   /* (window, slot_size) */
	int *done;     /* (window) */
	usj_work_fn work;
	void *ctx;
	pthread_mutex_t mu;
	pthread_cond_t slot_free, slot_done;
} pool;

static void *worker(void *arg)
{
	pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->next < p->n && p->next >= p->emitted + p->window)
			pthread_cond_wait(&p->slot_free, &p->mu);
		if (p->next >= p->n)
			break;
		int64_t i = p->next++;
		char *slot = p->slots + (size_t)(i % p->window) * p->slot_size;
		pthread_mutex_unlock(&p->mu);
		memset(slot, 0, p->slot_size);
		p->work(p->ctx, i, slot);
		pthread_mutex_lock(&p->mu);
		p->done[i % p->window] = 1;
		pthread_cond_broadcast(&p->slot_done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

void usj_ordered_run(int64_t n, int threads, int window, size_t slot_size,
                     usj_work_fn work, usj_emit_fn emit, void *ctx)
{
	if (threads <= 1) {
		void *slot = xmalloc(slot_size);
		for (int64_t i = 0; i < n; i++) {
			memset(slot, 0, slot_size);
			work(ctx, i, slot);
			emit(ctx, i, slot);
		}
		free(slot);
		return;
	}
	if (window < threads)
		window = threads;
	pool p = {.n = n, .window = window, .slot_size = slot_size, .work = work, .ctx = ctx};
	p.slots = xmalloc((size_t)window * slot_size);
	p.done = xcalloc((size_t)window, sizeof *p.done);
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.slot_free, NULL);
	pthread_cond_init(&p.slot_done, NULL);
	pthread_t *tid = xmalloc((size_t)threads * sizeof *tid);
	for (int t = 0; t < threads; t++)
		if (pthread_create(&tid[t], NULL, worker, &p) != 0)
			usj_die(USJ_EFAIL, "cannot start a thread:");
	for (int64_t i = 0; i < n; i++) {
		int k = (int)(i % window);
		pthread_mutex_lock(&p.mu);
		while (!p.done[k])
			pthread_cond_wait(&p.slot_done, &p.mu);
		pthread_mutex_unlock(&p.mu);
		emit(ctx, i, p.slots + (size_t)k * slot_size);
		pthread_mutex_lock(&p.mu);
		p.done[k] = 0;
		p.emitted = i + 1;
		pthread_cond_broadcast(&p.slot_free);
		pthread_mutex_unlock(&p.mu);
	}
	for (int t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.slot_free);
	pthread_cond_destroy(&p.slot_done);
	free(tid);
	free(p.slots);
	free(p.done);
}
