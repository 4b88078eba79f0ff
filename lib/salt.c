/* salt.c: the training step. Dimensions: B images, S side, G x G = N patch
 * grid, P patch side, K target blocks an image, Tc context and Tt target
 * patches, D the student's width, Dt the target width. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "salt.h"

static float *floats(int64_t n)
{
	float *x = xmalloc_aligned((size_t)(n > 0 ? n : 1) * sizeof(float));
	memset(x, 0, (size_t)(n > 0 ? n : 0) * sizeof(float));
	return x;
}

void usj_salt_init(usj_salt *t, const usj_salt_config *c, const usj_imageset *data, usj_params *teacher_ps,
                   usj_vit *teacher, const float *cache, int cache_dim)
{
	memset(t, 0, sizeof *t);
	t->c = *c;
	t->data = data;
	usj_vit_register(&t->enc, &c->enc, &t->ps);
	t->nenc = t->ps.n;
	int D = c->enc.blocks.dim, P = c->enc.patch;
	if (c->objective == USJ_OBJ_PIXELS)
		t->Dt = P * P * c->enc.chans;
	else if (c->objective == USJ_OBJ_EMA)
		t->Dt = D;
	else
		t->Dt = cache ? cache_dim : teacher->c.blocks.dim;
	t->c.pred.in_dim = D;
	t->c.pred.out_dim = t->Dt;
	usj_pred_register(&t->pred, &t->c.pred, t->enc.G, &t->ps);
	usj_params_alloc(&t->ps);
	usj_rng r;
	usj_rng_seed(&r, c->seed ^ 0x1D1Dull);
	usj_vit_init(&t->enc, &t->ps, &r);
	usj_pred_init(&t->pred, &t->ps, &r);
	t->opt = (usj_adamw){.beta1 = c->beta1, .beta2 = c->beta2, .eps = c->adam_eps};
	if (c->objective == USJ_OBJ_EMA) { /* the teacher starts as the student's encoder */
		usj_vit_register(&t->teacher, &c->enc, &t->tps);
		usj_params_alloc_frozen(&t->tps); /* moved by the student, never by gradients */
		memcpy(t->tps.w, t->ps.w, (size_t)t->tps.total * sizeof(float));
		t->have_teacher = 1;
	} else if (teacher) {
		t->tps = *teacher_ps;
		t->teacher = *teacher;
		memset(teacher_ps, 0, sizeof *teacher_ps);
		memset(teacher, 0, sizeof *teacher);
		t->have_teacher = 1;
	}
	t->cache = cache;
	t->epoch_at = -1;
	t->steps_per_epoch = (usj_epoch_size(data, c->cap) + c->batch - 1) / c->batch;
	t->steps_per_epoch = t->steps_per_epoch > 0 ? t->steps_per_epoch : 1;
	int64_t B = c->batch, S = data->S, N = t->enc.N, K = c->masks.npred, PP = t->enc.PP;
	t->views = floats(B * S * S);
	t->inputs = floats(B * S * S);
	t->tmp1 = floats(S * S);
	t->tmp2 = floats(S * S);
	t->regions = xmalloc((size_t)(B * S * S));
	t->valid = xmalloc((size_t)(B * N));
	t->flipped = xmalloc((size_t)(B * N) * sizeof(int));
	t->patches = floats(B * N * PP);
	t->ctx_rep = floats(B * K * N * D);
	t->dctx_rep = floats(B * K * N * D);
	t->dctx = floats(B * N * D);
	t->targets = floats(B * K * N * t->Dt);
	t->dpred = floats(B * K * N * t->Dt);
	t->norm_scratch = floats(2 * B * K * N);
	t->ctx_idx_rep = xmalloc((size_t)(B * K * N) * sizeof(int32_t));
	t->grid = xmalloc((size_t)(B * N) * sizeof(int32_t));
	for (int64_t i = 0; i < B * N; i++)
		t->grid[i] = (int32_t)(i % N);
}

void usj_salt_free(usj_salt *t)
{
	usj_vit_free(&t->enc);
	usj_pred_free(&t->pred);
	usj_params_free(&t->ps);
	if (t->have_teacher) {
		usj_vit_free(&t->teacher);
		usj_params_free(&t->tps);
	}
	usj_epoch_free(&t->epoch);
	void *bufs[] = {t->views, t->inputs, t->tmp1, t->tmp2, t->regions, t->valid, t->flipped, t->patches,
	                t->ctx_rep, t->dctx_rep, t->dctx, t->targets, t->dpred, t->norm_scratch, t->ctx_idx_rep, t->grid};
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		free(bufs[i]);
	memset(t, 0, sizeof *t);
}

/* prepare: the views, regions, flips and student inputs of images idx (B) */
static void prepare(usj_salt *t, const int *idx, int B, usj_rng *r, int augment)
{
	int S = t->data->S, G = t->enc.G, P = t->enc.c.patch;
	usj_augment_config aug = t->c.aug;
	if (t->c.objective == USJ_OBJ_LATENT)
		aug.crop_min = 1; /* the teacher's tokens belong to the whole image: flips map them, crops would not */
	for (int b = 0; b < B; b++) {
		const uint8_t *px = t->data->images + (size_t)idx[b] * S * S;
		const uint8_t *rg = t->data->regions + (size_t)idx[b] * S * S;
		float *view = t->views + (size_t)b * S * S, *in = t->inputs + (size_t)b * S * S;
		uint8_t *reg = t->regions + (size_t)b * S * S;
		usj_geom g = {.w = S, .h = S};
		for (int i = 0; i < S * S; i++)
			t->tmp2[i] = px[i] / 255.0f;
		if (augment)
			usj_geom_draw(&g, &aug, S, r);
		usj_geom_apply(view, reg, t->tmp2, rg, S, &g);
		for (int p = 0; p < G * G; p++)
			t->flipped[b * G * G + p] = usj_geom_flip_patch(p, G, &g);
		memcpy(in, view, (size_t)S * S * sizeof(float));
		if (augment)
			usj_photo_apply(in, reg, S, &t->c.aug, t->tmp1, t->tmp2, r);
		for (int i = 0; i < S * S; i++)
			in[i] = (in[i] - t->c.mean) / t->c.std;
		/* a patch holds signal when most of its pixels are in the region */
		for (int p = 0; p < G * G; p++) {
			int inside = 0, y0 = p / G * P, x0 = p % G * P;
			for (int y = y0; y < y0 + P; y++)
				for (int x = x0; x < x0 + P; x++)
					inside += reg[y * S + x];
			t->valid[b * G * G + p] = 2 * inside > P * P;
		}
	}
}

/* layer_norm_rows: x (n, d) to mean 0, variance 1 a row, no affine */
static void layer_norm_rows(usj_salt *t, float *x, int64_t n, int d)
{
	usj_layernorm_forward(x, t->norm_scratch, t->norm_scratch + n, x, NULL, NULL, n, d, 1e-6f);
}

/* fill_targets: targets (B K, Tt, Dt) at the masks' target patches */
static void fill_targets(usj_salt *t, const usj_masks *m, const int *idx, int B)
{
	int S = t->data->S, G = t->enc.G, N = G * G, P = t->enc.c.patch, K = m->npred, Tt = m->Tt, Dt = t->Dt;
	const float *teacher_tokens = NULL; /* (B, N, Dt) on the views */
	if (t->c.objective == USJ_OBJ_EMA) {
		usj_patchify(t->patches, t->views, t->grid, B, N, 1, S, P);
		for (int64_t i = 0; i < (int64_t)B * N * t->enc.PP; i++)
			t->patches[i] = (t->patches[i] - t->c.mean) / t->c.std;
		teacher_tokens = usj_vit_infer(&t->teacher, &t->tps, t->patches, t->grid, B, N);
	}
	for (int b = 0; b < B; b++) {
		const float *online = NULL; /* latent online: the teacher on the whole image, alone */
		if (t->c.objective == USJ_OBJ_LATENT && !t->cache) {
			float *img = t->tmp1;
			const uint8_t *px = t->data->images + (size_t)idx[b] * S * S;
			for (int i = 0; i < S * S; i++)
				img[i] = (px[i] / 255.0f - t->c.teacher_mean) / t->c.teacher_std;
			usj_patchify(t->patches, img, t->grid, 1, N, 1, S, P);
			online = usj_vit_infer(&t->teacher, &t->tps, t->patches, t->grid, 1, N);
		}
		for (int k = 0; k < K; k++)
			for (int j = 0; j < Tt; j++) {
				int p = m->tgt[((int64_t)b * K + k) * Tt + j];
				float *o = t->targets + (((int64_t)b * K + k) * Tt + j) * Dt;
				if (t->c.objective == USJ_OBJ_PIXELS) {
					/* the view's pixels of patch p, normalised within the patch */
					const float *v = t->views + (size_t)b * S * S;
					int y0 = p / G * P, x0 = p % G * P;
					double s = 0, ss = 0;
					for (int y = 0; y < P; y++)
						for (int x = 0; x < P; x++) {
							float a = v[(y0 + y) * S + x0 + x];
							o[y * P + x] = a;
							s += a;
							ss += (double)a * a;
						}
					double mean = s / (P * P), var = ss / (P * P) - mean * mean;
					float inv = (float)(1.0 / sqrt((var > 0 ? var : 0) + 1e-6));
					for (int i = 0; i < P * P; i++)
						o[i] = (o[i] - (float)mean) * inv;
				} else if (t->c.objective == USJ_OBJ_EMA) {
					memcpy(o, teacher_tokens + ((int64_t)b * N + p) * Dt, (size_t)Dt * sizeof(float));
				} else {
					/* the teacher saw the unflipped image: its token of the patch shown here */
					int src = t->flipped[b * N + p];
					const float *row = t->cache ? t->cache + ((int64_t)idx[b] * N + src) * Dt
					                            : online + (int64_t)src * Dt;
					memcpy(o, row, (size_t)Dt * sizeof(float));
				}
			}
	}
	if (t->c.objective != USJ_OBJ_PIXELS && t->c.norm_targets)
		layer_norm_rows(t, t->targets, (int64_t)B * K * Tt, Dt);
}

/* forward: the loss of images idx under masks m; with train, the gradients too */
static double forward(usj_salt *t, const usj_masks *m, const int *idx, int B, int train)
{
	int S = t->data->S, D = t->enc.c.blocks.dim, K = m->npred, Tc = m->Tc, Tt = m->Tt;
	usj_patchify(t->patches, t->inputs, m->ctx, B, Tc, 1, S, t->enc.c.patch);
	const float *tok = usj_vit_forward(&t->enc, &t->ps, t->patches, m->ctx, B, Tc); // tok (B, Tc, D)
	/* each target block is predicted on its own from the same context (I-JEPA) */
	for (int b = 0; b < B; b++)
		for (int k = 0; k < K; k++) {
			int64_t row = (int64_t)b * K + k;
			memcpy(t->ctx_rep + row * Tc * D, tok + (int64_t)b * Tc * D, (size_t)Tc * D * sizeof(float));
			memcpy(t->ctx_idx_rep + row * Tc, m->ctx + (int64_t)b * Tc, (size_t)Tc * sizeof(int32_t));
		}
	const float *pred = usj_pred_forward(&t->pred, &t->ps, t->ctx_rep, t->ctx_idx_rep, m->tgt, B * K, Tc, Tt);
	fill_targets(t, m, idx, B);
	int64_t n = (int64_t)B * K * Tt * t->Dt;
	double loss = usj_loss_forward(t->c.loss, pred, t->targets, n, t->c.loss_beta);
	if (!train || !isfinite(loss))
		return loss;
	usj_params_zero_grad(&t->ps);
	usj_loss_backward(t->dpred, t->c.loss, pred, t->targets, n, t->c.loss_beta);
	usj_pred_backward(&t->pred, &t->ps, t->dpred, t->dctx_rep);
	memset(t->dctx, 0, (size_t)B * Tc * D * sizeof(float));
	for (int b = 0; b < B; b++)
		for (int k = 0; k < K; k++) {
			const float *d = t->dctx_rep + ((int64_t)b * K + k) * Tc * D;
			float *o = t->dctx + (int64_t)b * Tc * D;
			for (int64_t i = 0; i < (int64_t)Tc * D; i++)
				o[i] += d[i];
		}
	usj_vit_backward(&t->enc, &t->ps, t->dctx);
	return loss;
}

static void draw_masks(usj_salt *t, usj_masks *m, int B, usj_rng *r)
{
	/* an image whose region holds under a quarter of the grid (a black
	 * frame, a failed detection) is masked as if all of it were signal */
	int NN = t->enc.G * t->enc.G;
	for (int b = 0; t->c.usrc && b < B; b++) {
		int n = 0;
		for (int p = 0; p < NN; p++)
			n += t->valid[b * NN + p];
		if (4 * n < NN)
			memset(t->valid + (size_t)b * NN, 1, (size_t)NN);
	}
	if (usj_masks_draw(m, &t->c.masks, B, t->enc.G, t->c.usrc ? t->valid : NULL, r) != 0) {
		if (t->c.usrc)
			usj_die(USJ_EDATA, "an image's scan region is too small for a block of %d patches: lower --min-keep "
			        "or train without --usrc", t->c.masks.min_keep);
		usj_die(USJ_EUSAGE, "a target block on the %dx%d patch grid cannot hold %d patches: lower --min-keep, "
		        "or make the grid finer (--patch, or larger images)", t->enc.G, t->enc.G, t->c.masks.min_keep);
	}
}

double usj_salt_step(usj_salt *t, usj_step_info *info)
{
	int B = t->c.batch;
	int64_t epoch = t->step / t->steps_per_epoch, at = t->step % t->steps_per_epoch;
	if (epoch != t->epoch_at) {
		usj_epoch_free(&t->epoch);
		usj_epoch_draw(&t->epoch, t->data, t->c.cap, t->c.seed, epoch);
		t->epoch_at = (int)epoch;
	}
	if (!t->epoch.n)
		usj_die(USJ_EDATA, "no images left to train on: every image is held out");
	int idx[B];
	for (int b = 0; b < B; b++)
		idx[b] = t->epoch.order[(at * B + b) % t->epoch.n];
	usj_rng r;
	usj_rng_seed(&r, t->c.seed * 0xD6E8FEB86659FD93ull ^ (uint64_t)(t->step + 1));
	prepare(t, idx, B, &r, 1);
	usj_masks m;
	draw_masks(t, &m, B, &r);
	double loss = forward(t, &m, idx, B, 1);
	usj_masks_free(&m);
	info->lr = usj_lr_at(t->step, t->c.warmup, t->c.steps, t->c.lr_start, t->c.lr, t->c.lr_final);
	info->wd = usj_wd_at(t->step, t->c.steps, t->c.wd, t->c.wd_final);
	info->grad_norm = NAN;
	if (!isfinite(loss))
		return loss;
	info->grad_norm = t->c.clip > 0 ? usj_clip_grad_norm(&t->ps, t->c.clip) : usj_grad_norm(&t->ps);
	usj_adamw_step(&t->opt, &t->ps, (float)info->lr, (float)info->wd);
	if (t->c.objective == USJ_OBJ_EMA) {
		/* the teacher follows the student's encoder, ever more slowly */
		float mom = (float)(t->c.ema_start + (t->c.ema_end - t->c.ema_start) * (double)t->step / t->c.steps);
		for (int64_t i = 0; i < t->tps.total; i++)
			t->tps.w[i] = mom * t->tps.w[i] + (1.0f - mom) * t->ps.w[i];
	}
	t->step++;
	return loss;
}

double usj_salt_held_out(usj_salt *t)
{
	int B = t->c.batch, n = 0, idx[B];
	double sum = 0;
	int64_t count = 0;
	usj_rng r;
	usj_rng_seed(&r, t->c.seed ^ 0xE7A1ull);
	for (int i = 0; i <= t->data->n; i++) {
		if (i < t->data->n && t->data->held_out[i])
			idx[n++] = i;
		if (n == B || (i == t->data->n && n)) {
			prepare(t, idx, n, &r, 0);
			usj_masks m;
			draw_masks(t, &m, n, &r);
			sum += forward(t, &m, idx, n, 0) * n;
			count += n;
			usj_masks_free(&m);
			n = 0;
		}
	}
	return count ? sum / count : NAN;
}
