/* resize.h: separable resampling of a float plane. An axis that shrinks is
 * area-averaged exactly (each output pixel is the area-weighted mean of the
 * input it covers); an axis that grows is interpolated bilinearly with
 * pixel centres aligned (half-pixel convention, edges replicated); an axis
 * that keeps its length is copied. */
#ifndef USJ_RESIZE_H
#define USJ_RESIZE_H
#include <stddef.h>

typedef struct usj_resizer usj_resizer;

/* usj_resizer_new: the weights for (in_h, in_w) -> (out_h, out_w), reusable
 * for any number of planes of that geometry (one thread at a time). */
usj_resizer *usj_resizer_new(int in_w, int in_h, int out_w, int out_h);
/* usj_resize: src (in_h, in_w) with rows src_stride floats apart ->
 * dst (out_h, out_w), contiguous. */
void usj_resize(usj_resizer *r, const float *src, size_t src_stride, float *dst);
/* usj_resize_rows: the same for a plane made a row at a time, on demand:
 * make(ctx, y, row) writes input row y (in_w floats). Each row is made
 * about once, in increasing order. */
typedef void (*usj_row_fn)(void *ctx, int y, float *row);
void usj_resize_rows(usj_resizer *r, usj_row_fn make, void *ctx, float *dst);
/* usj_resize_reference: usj_resize as two plain loop nests, every sum in
 * the same order: what tests compare it with, to the bit. */
void usj_resize_reference(const usj_resizer *r, const float *src, size_t src_stride, float *dst);
void usj_resizer_free(usj_resizer *r);

#endif
