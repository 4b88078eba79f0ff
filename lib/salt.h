/* salt.h: one training step of the SALT stages and the I-JEPA baseline
 * (PAPER.md sections 1, 3, 4): the student encoder sees the context patches
 * of an augmented image, the predictor predicts, at each target block's
 * patches, (pixels) the per-patch-normalised pixels, (latent) the frozen
 * teacher's tokens, cached or computed online, or (ema) the tokens of an
 * exponential moving average of the student. Every draw of a step (batch,
 * augmentation, masks) comes from (seed, step), so training resumed from a
 * checkpoint continues bit for bit. */
#ifndef USJ_SALT_H
#define USJ_SALT_H
#include <stdint.h>

#include "adamw.h"
#include "augment.h"
#include "imageset.h"
#include "masks.h"
#include "params.h"
#include "vit.h"
#include "vit_kernels.h"

enum usj_objective { USJ_OBJ_PIXELS, USJ_OBJ_LATENT, USJ_OBJ_EMA };

typedef struct usj_salt_config {
	enum usj_objective objective;
	usj_vit_config enc;
	usj_pred_config pred;     /* in_dim and out_dim are set by usj_salt_init */
	usj_mask_config masks;
	usj_augment_config aug;
	int usrc;                 /* region-conditioned masks */
	int batch;
	int64_t steps, warmup;
	double lr_start, lr, lr_final, wd, wd_final;
	float beta1, beta2, adam_eps, clip;
	enum usj_loss loss;
	float loss_beta;          /* Smooth-L1's beta */
	int norm_targets;         /* LayerNorm (no affine) of teacher tokens before the loss */
	double ema_start, ema_end;/* the EMA teacher's momentum over training */
	double held_out;          /* fraction of images held out */
	int cap;                  /* images of one dataset an epoch; 0: all */
	uint64_t seed;
	float mean, std;          /* pixels enter the encoder as (p / 255 - mean) / std */
	float teacher_mean, teacher_std; /* and the online teacher, as it was trained */
} usj_salt_config;

typedef struct usj_salt {
	usj_salt_config c;
	const usj_imageset *data;
	usj_params ps;            /* the student: encoder (0 .. nenc-1), then the predictor */
	int nenc;
	usj_vit enc;
	usj_pred pred;
	usj_adamw opt;
	usj_params tps;           /* the teacher: EMA copy, or the frozen online teacher */
	usj_vit teacher;
	int have_teacher;
	const float *cache;       /* latent, cached: (n, N, Dt) tokens in imageset order, or NULL */
	int Dt;                   /* the teacher's width */
	int64_t step;
	int epoch_at;             /* which epoch order is drawn */
	usj_epoch epoch;
	int steps_per_epoch;
	/* a step's buffers */
	float *views;             /* (B, S, S) geometric views in [0, 1] */
	float *inputs;            /* (B, S, S) the student's normalised inputs */
	uint8_t *regions, *valid; /* (B, S, S), (B, N) */
	int *flipped;             /* (B, N) the source patch of each patch of the view */
	float *patches, *ctx_rep, *dctx_rep, *dctx, *targets, *dpred, *tmp1, *tmp2, *norm_scratch;
	int32_t *ctx_idx_rep;
	int32_t *grid;            /* (B, N) every patch of each image, in order: the teachers' input */
} usj_salt;

/* usj_salt_init: a fresh model for c over data (pred.out_dim from the
 * objective: P^2 pixels, the teacher's width); teacher: the frozen encoder
 * for latent targets online, or NULL; cache: the targets, or NULL. */
void usj_salt_init(usj_salt *t, const usj_salt_config *c, const usj_imageset *data, usj_params *teacher_ps,
                   usj_vit *teacher, const float *cache, int cache_dim);
void usj_salt_free(usj_salt *t);

/* What a step used and saw, besides its loss. */
typedef struct usj_step_info {
	double grad_norm;         /* before clipping */
	double lr, wd;            /* the schedules' values at this step */
} usj_step_info;

/* usj_salt_step: one optimiser step; returns the loss (NaN or infinite is
 * the caller's to handle: the weights are then not updated). */
double usj_salt_step(usj_salt *t, usj_step_info *info);
/* usj_salt_held_out: the mean loss over the held-out images, with masks of
 * a fixed seed and no augmentation; NAN if none are held out. */
double usj_salt_held_out(usj_salt *t);

#endif
