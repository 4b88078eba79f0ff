/* ordered.h: a parallel map whose results are consumed in input order, so
 * output is the same for any thread count, in bounded memory. */
#ifndef USJ_ORDERED_H
#define USJ_ORDERED_H
#include <stddef.h>
#include <stdint.h>

/* work computes item i into slot (slot_size bytes, zeroed first) on a worker
 * thread; emit consumes it on the calling thread, in order 0..n-1. At most
 * window items are in flight. threads <= 1 runs everything on the caller. */
typedef void (*usj_work_fn)(void *ctx, int64_t i, void *slot);
typedef void (*usj_emit_fn)(void *ctx, int64_t i, void *slot);

void usj_ordered_run(int64_t n, int threads, int window, size_t slot_size,
                     usj_work_fn work, usj_emit_fn emit, void *ctx);

#endif
