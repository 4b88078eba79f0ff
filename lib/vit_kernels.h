/* vit_kernels.h: the forward and backward kernels of the ViT (llm.c's
 * manner: outputs first, then inputs, then weights, then dimensions).
 * Dimensions: N rows (tokens of all images), C channels, OC output channels,
 * B images, T tokens an image, NH heads. Parameter gradients (dweight,
 * dbias) accumulate (+=) into buffers the caller zeroed; the gradient of an
 * input (dinp, dqkv) is overwritten (=) by matmul, attention and GELU, which
 * spares a zeroing pass over the largest buffers, and accumulated by
 * layernorm, whose input is the residual stream. Every kernel runs on the
 * thread pool (pool.h) and gives the same bits for a given thread count. */
#ifndef USJ_VIT_KERNELS_H
#define USJ_VIT_KERNELS_H
#include <stdint.h>

/* out = (inp - mean) * rstd * weight + bias, per row; weight and bias may be
 * NULL (no affine). mean, rstd (N) are kept for the backward. */
void usj_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                           const float *bias, int64_t N, int C, float eps);
void usj_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const float *mean, const float *rstd, int64_t N, int C);

/* out (N, OC) = inp (N, C) weight (OC, C)^T + bias (OC, or NULL) */
void usj_matmul_forward(float *out, const float *inp, const float *weight, const float *bias, int64_t N, int C,
                        int OC);
/* the same as three plain loops: the reference the tests hold the fast one to */
void usj_matmul_forward_naive(float *out, const float *inp, const float *weight, const float *bias, int64_t N,
                              int C, int OC);
/* dinp, dweight, dbias may each be NULL when not wanted */
void usj_matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                         const float *weight, int64_t N, int C, int OC);

/* Bidirectional multi-head attention in which the last Tq of each image's T
 * tokens ask (all T answer): a block whose other rows' outputs nobody reads
 * skips them. qkv (B, T, 3C): q, k, v of each head (head h uses channels
 * h*hs .. h*hs+hs-1 of each, hs = C / NH); att (B, NH, Tq, T) the softmax
 * probabilities, kept for the backward; out (B, Tq, C). */
void usj_attention_forward(float *out, float *att, const float *qkv, int B, int T, int Tq, int C, int NH);
void usj_attention_forward_naive(float *out, float *att, const float *qkv, int B, int T, int Tq, int C, int NH);
/* dout (B, Tq, C), scratch (B, NH, Tq, T); the q gradient of the first
 * T - Tq rows is zero */
void usj_attention_backward(float *dqkv, float *scratch, const float *dout, const float *qkv, const float *att,
                            int B, int T, int Tq, int C, int NH);
/* the backward as naive loops, the tests' reference */
void usj_attention_backward_naive(float *dqkv, float *scratch, const float *dout, const float *qkv,
                                  const float *att, int B, int T, int Tq, int C, int NH);

/* exact GELU, x Phi(x), as timm's nn.GELU(), with erf and exp as vector
 * polynomials within 5e-7 of glibc's; the naive ones call erff and expf */
void usj_gelu_forward(float *out, const float *inp, int64_t N);
void usj_gelu_forward_naive(float *out, const float *inp, int64_t N);
/* out: the forward's output for inp */
void usj_gelu_backward(float *dinp, const float *inp, const float *out, const float *dout, int64_t N);
void usj_gelu_backward_naive(float *dinp, const float *inp, const float *dout, int64_t N);

/* out (N) = a + b */
void usj_residual_forward(float *out, const float *a, const float *b, int64_t N);

/* Losses between pred and target (N values), averaged over N. */
enum usj_loss { USJ_LOSS_SMOOTH_L1, USJ_LOSS_L1, USJ_LOSS_MSE };
double usj_loss_forward(enum usj_loss kind, const float *pred, const float *target, int64_t N, float beta);
/* dpred (N) = d loss / d pred (assigned, not accumulated) */
void usj_loss_backward(float *dpred, enum usj_loss kind, const float *pred, const float *target, int64_t N,
                       float beta);

/* The kernel profile (vit-bench --profile): while on, every kernel call adds
 * its wall time and its matrix-product FLOPs to its kernel's row. */
enum usj_kernel {
	USJ_K_LAYERNORM, USJ_K_LAYERNORM_BWD, USJ_K_MATMUL, USJ_K_MATMUL_BWD, USJ_K_ATTENTION, USJ_K_ATTENTION_BWD,
	USJ_K_GELU, USJ_K_GELU_BWD, USJ_K_RESIDUAL, USJ_K_LOSS, USJ_K_COUNT
};
typedef struct usj_kernel_stats {
	const char *name;
	int64_t calls;
	double seconds, flops;
} usj_kernel_stats;
/* usj_kernel_profile: on or off, and every row back to zero */
void usj_kernel_profile(int on);
const usj_kernel_stats *usj_kernel_profile_rows(void); /* (USJ_K_COUNT) */

#endif
