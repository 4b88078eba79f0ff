/* adamw.h: AdamW over a usj_params table (decoupled weight decay on the
 * tensors marked decay only, as PyTorch's AdamW with two parameter groups),
 * gradient-norm clipping, and I-JEPA's schedules: linear warm-up then cosine
 * for the learning rate, cosine for the weight decay. */
#ifndef USJ_ADAMW_H
#define USJ_ADAMW_H
#include <stdint.h>

#include "params.h"

typedef struct usj_adamw {
	float beta1, beta2, eps;
	int64_t step;            /* steps taken; the next is step + 1 */
} usj_adamw;

/* usj_adamw_step: one update of ps->w from ps->g (moments allocated on
 * first use), PyTorch's formula: w *= 1 - lr wd (decay tensors only);
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
void usj_adamw_step(usj_adamw *opt, usj_params *ps, float lr, float wd);

/* usj_grad_norm: the global L2 norm of all gradients (summed per tensor in
 * double, tensors in order: the same bits for any thread count). */
double usj_grad_norm(const usj_params *ps);
/* usj_clip_grad_norm: scale the gradients down to max_norm if their norm is
 * above it, as torch.nn.utils.clip_grad_norm_ (max_norm / (norm + 1e-6));
 * returns the norm before clipping. */
double usj_clip_grad_norm(usj_params *ps, double max_norm);

/* usj_lr_at: linear from start to ref over warmup steps, then cosine from
 * ref to final by step total. */
double usj_lr_at(int64_t step, int64_t warmup, int64_t total, double start, double ref, double final);
/* usj_wd_at: cosine from ref to final over total steps. */
double usj_wd_at(int64_t step, int64_t total, double ref, double final);

#endif
