/* pool.h: the numeric code's one thread budget. The caller and N-1 workers
 * run every parallel loop, matrix products included: each thread calls a
 * single-threaded OpenBLAS on its own block of rows, so OpenBLAS's own
 * workers (started as the library loads) get no work and sleep, and the
 * cores are never oversubscribed. Work is cut into fixed contiguous ranges
 * that do not depend on timing, and a value summed across ranges is summed
 * in their order, so results are the same on every run with the same
 * thread count. */
#ifndef USJ_POOL_H
#define USJ_POOL_H
#include <stdint.h>

/* usj_pool_init: start the pool with threads in all (>= 1); call once,
 * before any numeric work. Later calls change nothing. */
void usj_pool_init(int threads);
int usj_pool_threads(void);

/* usj_pool_for: fn(ctx, begin, end) over [0, n) cut into one contiguous
 * range per thread (ranges a multiple of align, but for the last), run at
 * once; returns when all are done. Ranges may be empty. */
typedef void (*usj_range_fn)(void *ctx, int64_t begin, int64_t end);
void usj_pool_for(int64_t n, int64_t align, usj_range_fn fn, void *ctx);
/* usj_pool_part: part k of [0, n) cut into parts as usj_pool_for cuts it
 * among threads, for loops that share the threads out themselves */
void usj_pool_part(int64_t n, int64_t align, int k, int parts, int64_t *begin, int64_t *end);

#endif
