/* vit.h: the one ViT of the toolkit (DESIGN.md "Models"): an encoder that
 * runs on any subset of an image's patch tokens, and the I-JEPA predictor,
 * both built from the same pre-norm transformer blocks; forward and
 * backward by hand over the kernels of vit_kernels.h. Parameters live in a
 * usj_params table under timm's names (the predictor under I-JEPA's).
 * Dimensions: B images, T tokens an image, D encoder width, P patch side,
 * PP = channels x P x P pixels a patch, G x G the patch grid. */
#ifndef USJ_VIT_H
#define USJ_VIT_H
#include <stdint.h>

#include "params.h"
#include "rng.h"

typedef struct usj_blocks_config {
	int depth, dim, heads, hidden; /* hidden: the MLP's width (4 dim) */
	float eps;                     /* LayerNorm epsilon (1e-6) */
} usj_blocks_config;

typedef struct usj_vit_config {
	int img, patch, chans;   /* image side, patch side, input channels */
	usj_blocks_config blocks;
	int cls_token;           /* imported weights: a CLS token before the patches (inference) */
	int learned_pos;         /* imported weights: pos_embed is a parameter, not sin-cos */
} usj_vit_config;

typedef struct usj_pred_config {
	int in_dim, out_dim;     /* the encoder's width in, the teacher's width out */
	usj_blocks_config blocks;
} usj_pred_config;

/* A stack of blocks: where its parameters are and what its forward kept. */
typedef struct usj_blocks {
	usj_blocks_config c;
	int first;               /* index of its first parameter; 12 a block, then norm w, b */
	int B, T;                /* the shape the activations are allocated for */
	int train;               /* they hold every block's (else one block's: inference) and grads exists */
	int qkv0_outside;        /* the first block's norm1 and qkv are the caller's (the predictor's) */
	float *acts;             /* one buffer for all activations below; inference: L = 1, in place */
	/* The last block may compute only the last Tq of each image's T rows
	 * (the predictor's targets): its slices below then hold (B, Tq, ...)
	 * at their start, att (B, NH, Tq, T), and the next residual too. */
	float *res;              /* (L+1, B, T, C) the residual stream into each block, and out */
	float *mid;              /* (L, B, T, C) after each block's attention */
	float *ln1, *ln1_mean, *ln1_rstd, *ln2, *ln2_mean, *ln2_rstd; /* (L, B, T, C), (L, B, T) */
	float *qkv;              /* (L, B, T, 3C) */
	float *att;              /* (L, B, NH, T, T) */
	float *atty;             /* (L, B, T, C) */
	float *fch, *fch_gelu;   /* (L, B, T, H) */
	float *out, *out_mean, *out_rstd; /* (B, Tq, C), (B, Tq) the final LayerNorm */
	float *tmp;              /* (B, T, C) the forward's scratch */
	float *grads;            /* one buffer for the backward's scratch below */
	float *dres, *dtmp, *dqkv, *datt, *dfch, *dfch_gelu; /* (B,T,C) x2, (B,T,3C), (B,NH,T,T), (B,T,H) x2 */
} usj_blocks;

typedef struct usj_vit {
	usj_vit_config c;
	int G, N, PP;            /* grid side, grid tokens, pixels a patch */
	int first;               /* index of patch_embed.proj.weight */
	float *pos;              /* (N, D) fixed sin-cos (learned: NULL, a parameter) */
	usj_blocks blocks;
	int B, T;                /* the last forward's images and tokens */
	int kept;                /* the last forward kept what the backward needs (not usj_vit_infer) */
	int64_t cap;             /* B T the patches buffer holds */
	float *patches;          /* (B, T, PP) the input, kept for the backward */
	float *tokens;           /* (B, T, D) usj_vit_infer's output when it took the batch in parts */
	int64_t tokens_cap;      /* floats tokens holds */
} usj_vit;

typedef struct usj_pred {
	usj_pred_config c;
	int G, N;
	int first;               /* index of predictor_embed.weight */
	float *pos;              /* (N, Dp) fixed sin-cos */
	usj_blocks blocks;
	int B, Tc, Tt;
	float *ctx_in;           /* (B, Tc, D) the encoder's tokens, kept for the backward */
	int32_t *ctx_idx, *tgt_idx; /* (B, Tc), (B, Tt) grid positions */
	float *out;              /* (B, Tt, Dout) the predictions */
	float *dtgt;             /* (B, Tt, Dp) the gradient of the blocks' output */
	/* the sequence's distinct rows (vit.c): R0 = B Tc + N, the context tokens
	 * then the mask token at each grid position */
	float *in0, *din0;       /* (R0, Dp) the rows and their gradient */
	float *ln0, *dln0, *ln0_mean, *ln0_rstd; /* (R0, Dp) x2, (R0) x2 the first block's norm1 */
	float *qkv0;             /* (R0, 3 Dp) its qkv; in the backward, their gradient */
} usj_pred;

/* usj_sincos_2d: MAE's fixed 2-D sin-cos positional embedding, out (G*G, D):
 * for grid row r, column c, the first D/2 channels encode c and the last D/2
 * encode r, each as [sin(p w_0..w_{D/4-1}), cos(p w_0..)] with
 * w_i = 10000^(-i / (D/4)). D must be a multiple of 4. */
void usj_sincos_2d(float *out, int G, int D);

/* Building: register parameters in ps (prefix "" for the encoder), then
 * usj_params_alloc, then usj_*_bind to find them and usj_*_init for fresh
 * weights (truncated normal 0.02, residual projections of block l scaled
 * by 1/sqrt(2 (l + 1)), biases 0, norms 1). */
void usj_vit_register(usj_vit *m, const usj_vit_config *c, usj_params *ps);
void usj_pred_register(usj_pred *m, const usj_pred_config *c, int grid, usj_params *ps);
void usj_vit_init(usj_vit *m, usj_params *ps, usj_rng *rng);
void usj_pred_init(usj_pred *m, usj_params *ps, usj_rng *rng);
/* usj_vit_reserve, usj_pred_reserve: activations for B images of T (Tc
 * context, Tt target) tokens; reallocates only when the shape grows. */
void usj_vit_reserve(usj_vit *m, int B, int T);
void usj_pred_reserve(usj_pred *m, int B, int Tc, int Tt);
void usj_vit_free(usj_vit *m);
void usj_pred_free(usj_pred *m);

/* usj_patchify: images (B, chans, img, img) -> patches (B, T, PP) of the
 * grid positions idx (B, T) (row-major over the grid), each patch's pixels
 * in (channel, row, column) order, as a Conv2d of stride P reads them. */
void usj_patchify(float *patches, const float *images, const int32_t *idx, int B, int T, int chans, int img,
                  int patch);

/* usj_vit_forward: patches (B, T, PP) of grid positions idx (B, T) ->
 * tokens (B, T, D), returned (owned by m: blocks.out, or after the CLS token). */
const float *usj_vit_forward(usj_vit *m, const usj_params *ps, const float *patches, const int32_t *idx, int B,
                             int T);
/* usj_vit_infer: the same tokens as usj_vit_forward, bit for bit, keeping
 * nothing for a backward: every block runs in one block's buffers, on a
 * few images at a time (about 1024 tokens), so those stay in cache. */
const float *usj_vit_infer(usj_vit *m, const usj_params *ps, const float *patches, const int32_t *idx, int B,
                           int T);
/* usj_vit_backward: dout (B, T, D) -> parameter gradients (+=), after usj_vit_forward. */
void usj_vit_backward(usj_vit *m, usj_params *ps, const float *dout);

/* usj_pred_forward: context tokens ctx (B, Tc, D) at ctx_idx (B, Tc) ->
 * predictions (B, Tt, Dout) at tgt_idx (B, Tt), returned (owned by m). */
const float *usj_pred_forward(usj_pred *m, const usj_params *ps, const float *ctx, const int32_t *ctx_idx,
                              const int32_t *tgt_idx, int B, int Tc, int Tt);
/* usj_pred_backward: dpred (B, Tt, Dout) -> parameter gradients (+=) and
 * dctx (B, Tc, D) (assigned) for the encoder's backward. */
void usj_pred_backward(usj_pred *m, usj_params *ps, const float *dpred, float *dctx);

#endif
