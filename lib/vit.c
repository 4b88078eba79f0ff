/* vit.c: the encoder and the predictor over one stack of pre-norm blocks.
 * Dimensions as in vit.h; in a block: C width, H MLP width, NH heads, L
 * blocks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "pool.h"
#include "simd8.h"
#include "vit.h"
#include "vit_kernels.h"

enum { LN1W, LN1B, QKVW, QKVB, PROJW, PROJB, LN2W, LN2B, FC1W, FC1B, FC2W, FC2B, PER_BLOCK };

void usj_sincos_2d(float *out, int G, int D)
{
	int Q = D / 4; /* frequencies per axis */
	for (int r = 0; r < G; r++)
		for (int c = 0; c < G; c++) {
			float *o = out + ((int64_t)r * G + c) * D; // o (D)
			for (int i = 0; i < Q; i++) {
				double w = 1.0 / pow(10000.0, (double)i / Q);
				o[i] = (float)sin(c * w);
				o[Q + i] = (float)cos(c * w);
				o[2 * Q + i] = (float)sin(r * w);
				o[3 * Q + i] = (float)cos(r * w);
			}
		}
}

/* ---- the block stack ---- */

static void blocks_register(usj_blocks *k, const usj_blocks_config *c, const char *prefix, const char *norm,
                            usj_params *ps)
{
	k->c = *c;
	int64_t C = c->dim, H = c->hidden;
	static const char *names[PER_BLOCK] = {"norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias",
	                                       "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
	                                       "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"};
	const int64_t shapes[PER_BLOCK][2] = {{C}, {C}, {3 * C, C}, {3 * C}, {C, C}, {C}, {C}, {C}, {H, C}, {H}, {C, H}, {C}};
	for (int l = 0; l < c->depth; l++)
		for (int j = 0; j < PER_BLOCK; j++) {
			char name[96];
			snprintf(name, sizeof name, "%s.%d.%s", prefix, l, names[j]);
			int rank = shapes[j][1] ? 2 : 1, at = usj_params_add(ps, name, rank, shapes[j], rank == 2);
			if (l == 0 && j == 0)
				k->first = at;
		}
	char name[96];
	snprintf(name, sizeof name, "%s.weight", norm);
	int at = usj_params_add(ps, name, 1, &C, 0);
	if (c->depth == 0)
		k->first = at;
	snprintf(name, sizeof name, "%s.bias", norm);
	usj_params_add(ps, name, 1, &C, 0);
}

static const float *bw(const usj_blocks *k, const usj_params *ps, int l, int j)
{
	return usj_param_w(ps, k->first + l * PER_BLOCK + j);
}
static float *bg(const usj_blocks *k, usj_params *ps, int l, int j)
{
	return usj_param_g(ps, k->first + l * PER_BLOCK + j);
}
static int norm_index(const usj_blocks *k) { return k->first + k->c.depth * PER_BLOCK; }

/* normal02: a normal of std 0.02 cut at +-2 std (timm's trunc_normal_ cuts
 * at +-2 absolute, which at this std never cuts: 5 % of draws differ) */
static void normal02(float *w, int64_t n, usj_rng *rng)
{
	for (int64_t i = 0; i < n; i++) {
		double x;
		do
			x = usj_rng_normal(rng);
		while (fabs(x) > 2.0);
		w[i] = (float)(0.02 * x);
	}
}

static void blocks_init(usj_blocks *k, usj_params *ps, usj_rng *rng)
{
	for (int l = 0; l < k->c.depth; l++) {
		for (int j = 0; j < PER_BLOCK; j++) {
			usj_param *p = &ps->p[k->first + l * PER_BLOCK + j];
			float *w = ps->w + p->offset;
			if (p->rank == 2)
				normal02(w, p->count, rng);
			else
				for (int64_t i = 0; i < p->count; i++)
					w[i] = j == LN1W || j == LN2W ? 1.0f : 0.0f;
			if (j == PROJW || j == FC2W) /* residual branches of deeper blocks start smaller */
				for (int64_t i = 0; i < p->count; i++)
					w[i] /= sqrtf(2.0f * (l + 1));
		}
	}
	float *nw = usj_param_w(ps, norm_index(k));
	for (int i = 0; i < k->c.dim; i++)
		nw[i] = 1.0f;
}

/* blocks_reserve: activations for B images of T tokens, every block's for
 * training (and the backward's scratch), or one block's for inference */
static void blocks_reserve(usj_blocks *k, int B, int T, int train)
{
	/* any shape fits that needs no more tokens, and no bigger attention maps */
	if (k->acts && (k->train || !train) && B * (int64_t)T <= k->B * (int64_t)k->T &&
	    B * (int64_t)T * T <= k->B * (int64_t)k->T * k->T)
		return;
	free(k->acts);
	free(k->grads);
	k->grads = NULL;
	int64_t L = train ? k->c.depth : 1, R = train ? L + 1 : 1;
	int64_t C = k->c.dim, H = k->c.hidden, NH = k->c.heads, BT = (int64_t)B * T;
	int64_t sizes[] = {R * BT * C, L * BT * C, L * BT * C, L * BT, L * BT, L * BT * C, L * BT, L * BT,
	                   L * BT * 3 * C, L * B * NH * T * T, L * BT * C, L * BT * H, L * BT * H, BT * C, BT, BT,
	                   BT * C};
	float **ptrs[] = {&k->res, &k->mid, &k->ln1, &k->ln1_mean, &k->ln1_rstd, &k->ln2, &k->ln2_mean, &k->ln2_rstd,
	                  &k->qkv, &k->att, &k->atty, &k->fch, &k->fch_gelu, &k->out, &k->out_mean, &k->out_rstd,
	                  &k->tmp};
	int n = sizeof sizes / sizeof sizes[0];
	int64_t total = 0;
	for (int i = 0; i < n; i++)
		total += (sizes[i] + 15) / 16 * 16;
	k->acts = xmalloc_aligned((size_t)total * sizeof(float));
	for (int i = 0, at = 0; i < n; at += (int)((sizes[i] + 15) / 16 * 16), i++)
		*ptrs[i] = k->acts + at;
	if (train) {
		int64_t gsizes[] = {BT * C, BT * C, BT * 3 * C, B * NH * T * T, BT * H, BT * H};
		float **gptrs[] = {&k->dres, &k->dtmp, &k->dqkv, &k->datt, &k->dfch, &k->dfch_gelu};
		total = 0;
		for (int i = 0; i < 6; i++)
			total += (gsizes[i] + 15) / 16 * 16;
		k->grads = xmalloc_aligned((size_t)total * sizeof(float));
		for (int i = 0, at = 0; i < 6; at += (int)((gsizes[i] + 15) / 16 * 16), i++)
			*gptrs[i] = k->grads + at;
	}
	k->B = B;
	k->T = T;
	k->train = train;
}

/* take_rows: dst (B, Tq, C) = the last Tq rows of each image of src (B, T, C);
 * dst may be src: images move from the first, each to no later a place */
static void take_rows(float *dst, const float *src, int B, int T, int Tq, int C)
{
	for (int b = 0; b < B; b++)
		memmove(dst + (int64_t)b * Tq * C, src + ((int64_t)b * T + T - Tq) * C, (size_t)Tq * C * sizeof(float));
}

/* spread_rows: buf (B, Tq, C) in place to (B, T, C), each image's rows the
 * last Tq, the first T - Tq zero; images move from the last, so no row is
 * overwritten before it moved */
static void spread_rows(float *buf, int B, int T, int Tq, int C)
{
	for (int b = B - 1; b >= 0; b--) {
		float *dst = buf + (int64_t)b * T * C; // dst (T, C)
		memmove(dst + (int64_t)(T - Tq) * C, buf + (int64_t)b * Tq * C, (size_t)Tq * C * sizeof(float));
		memset(dst, 0, (size_t)(T - Tq) * C * sizeof(float));
	}
}

/* blocks_forward: k->res's first slice (B, T, C) through every block and the
 * final norm into k->out (B, Tq, C). Only the last Tq tokens of each image
 * leave the stack (the predictor's targets), so the last block computes only
 * their rows: all T still answer in its attention. Inference (train 0, Tq =
 * T) runs every block in the first slices, the residual stream updated in
 * place. */
static void blocks_forward(usj_blocks *k, const usj_params *ps, int B, int T, int Tq, int train)
{
	int C = k->c.dim, H = k->c.hidden, NH = k->c.heads, L = k->c.depth;
	int64_t BT = (int64_t)B * T;
	float eps = k->c.eps;
	for (int l = 0; l < L; l++) {
		int Tl = l == L - 1 ? Tq : T; /* the rows block l computes */
		int64_t s = train ? l : 0, BTl = (int64_t)B * Tl; /* block l's slice */
		float *res = k->res + s * BT * C, *mid = k->mid + s * BT * C, *next = k->res + (train ? l + 1 : 0) * BT * C;
		float *ln1 = k->ln1 + s * BT * C, *ln2 = k->ln2 + s * BT * C, *atty = k->atty + s * BT * C;
		float *qkv = k->qkv + s * BT * 3 * C, *att = k->att + s * B * NH * T * T;
		float *fch = k->fch + s * BT * H, *fg = k->fch_gelu + s * BT * H;
		if (l > 0 || !k->qkv0_outside) {
			usj_layernorm_forward(ln1, k->ln1_mean + s * BT, k->ln1_rstd + s * BT, res, bw(k, ps, l, LN1W),
			                      bw(k, ps, l, LN1B), BT, C, eps);
			usj_matmul_forward(qkv, ln1, bw(k, ps, l, QKVW), bw(k, ps, l, QKVB), BT, C, 3 * C);
		}
		usj_attention_forward(atty, att, qkv, B, T, Tl, C, NH);
		usj_matmul_forward(k->tmp, atty, bw(k, ps, l, PROJW), bw(k, ps, l, PROJB), BTl, C, C);
		if (Tl < T) { /* the residual of the rows computed */
			take_rows(mid, res, B, T, Tq, C);
			res = mid;
		}
		usj_residual_forward(mid, res, k->tmp, BTl * C);
		usj_layernorm_forward(ln2, k->ln2_mean + s * BT, k->ln2_rstd + s * BT, mid, bw(k, ps, l, LN2W),
		                      bw(k, ps, l, LN2B), BTl, C, eps);
		usj_matmul_forward(fch, ln2, bw(k, ps, l, FC1W), bw(k, ps, l, FC1B), BTl, C, H);
		usj_gelu_forward(fg, fch, BTl * H);
		usj_matmul_forward(k->tmp, fg, bw(k, ps, l, FC2W), bw(k, ps, l, FC2B), BTl, H, C);
		usj_residual_forward(next, mid, k->tmp, BTl * C);
	}
	float *last = k->res + (train ? L : 0) * BT * C;
	if (L == 0 && Tq < T) /* no block to compute the rows: compact them in place, for the backward too */
		take_rows(last, last, B, T, Tq, C);
	int nw = norm_index(k);
	usj_layernorm_forward(k->out, k->out_mean, k->out_rstd, last, usj_param_w(ps, nw), usj_param_w(ps, nw + 1),
	                      (int64_t)B * Tq, C, eps);
}

/* blocks_backward: dout (B, Tq, C) of k->out -> parameter gradients and
 * k->dres (B, T, C), the gradient of the blocks' input; with qkv0_outside,
 * only its residual part, and k->dqkv holds the first block's qkv gradient */
static void blocks_backward(usj_blocks *k, usj_params *ps, const float *dout, int B, int T, int Tq)
{
	int C = k->c.dim, H = k->c.hidden, NH = k->c.heads, L = k->c.depth, nw = norm_index(k);
	int64_t BT = (int64_t)B * T;
	/* out = layernorm(res_L), res_L the last Tq rows (compact); the other
	 * rows of dres are zeroed where they are spread out */
	memset(k->dres, 0, (size_t)B * Tq * C * sizeof(float));
	usj_layernorm_backward(k->dres, usj_param_g(ps, nw), usj_param_g(ps, nw + 1), dout, k->res + L * BT * C,
	                       usj_param_w(ps, nw), k->out_mean, k->out_rstd, (int64_t)B * Tq, C);
	if (L == 0 && Tq < T)
		spread_rows(k->dres, B, T, Tq, C);
	for (int l = L - 1; l >= 0; l--) {
		int Tl = l == L - 1 ? Tq : T; /* the rows block l computed */
		int64_t BTl = (int64_t)B * Tl;
		float *res = k->res + l * BT * C, *mid = k->mid + l * BT * C;
		float *ln1 = k->ln1 + l * BT * C, *ln2 = k->ln2 + l * BT * C, *atty = k->atty + l * BT * C;
		float *qkv = k->qkv + l * BT * 3 * C, *att = k->att + (int64_t)l * B * NH * T * T;
		float *fch = k->fch + l * BT * H, *fg = k->fch_gelu + l * BT * H;
		/* next = mid + fc2(gelu(fc1(ln2(mid)))): dres holds dnext */
		usj_matmul_backward(k->dfch_gelu, bg(k, ps, l, FC2W), bg(k, ps, l, FC2B), k->dres, fg,
		                    bw(k, ps, l, FC2W), BTl, H, C);
		usj_gelu_backward(k->dfch, fch, fg, k->dfch_gelu, BTl * H);
		usj_matmul_backward(k->dtmp, bg(k, ps, l, FC1W), bg(k, ps, l, FC1B), k->dfch, ln2, bw(k, ps, l, FC1W),
		                    BTl, C, H);
		usj_layernorm_backward(k->dres, bg(k, ps, l, LN2W), bg(k, ps, l, LN2B), k->dtmp, mid, bw(k, ps, l, LN2W),
		                       k->ln2_mean + l * BT, k->ln2_rstd + l * BT, BTl, C);
		/* mid = res + proj(attention(qkv(ln1(res)))): dres now holds dmid */
		usj_matmul_backward(k->dtmp, bg(k, ps, l, PROJW), bg(k, ps, l, PROJB), k->dres, atty,
		                    bw(k, ps, l, PROJW), BTl, C, C);
		usj_attention_backward(k->dqkv, k->datt, k->dtmp, qkv, att, B, T, Tl, C, NH);
		if (Tl < T) /* the rows not computed had no residual path */
			spread_rows(k->dres, B, T, Tq, C);
		if (l == 0 && k->qkv0_outside)
			break;
		usj_matmul_backward(k->dtmp, bg(k, ps, l, QKVW), bg(k, ps, l, QKVB), k->dqkv, ln1, bw(k, ps, l, QKVW),
		                    BT, C, 3 * C);
		usj_layernorm_backward(k->dres, bg(k, ps, l, LN1W), bg(k, ps, l, LN1B), k->dtmp, res, bw(k, ps, l, LN1W),
		                       k->ln1_mean + l * BT, k->ln1_rstd + l * BT, BT, C);
	}
}

/* ---- the encoder ---- */

enum { PE_W, PE_B };

void usj_vit_register(usj_vit *m, const usj_vit_config *c, usj_params *ps)
{
	memset(m, 0, sizeof *m);
	m->c = *c;
	if (c->img % c->patch || c->blocks.dim % c->blocks.heads || c->blocks.dim % 4)
		usj_die(USJ_EDATA, "a ViT needs the image side a multiple of the patch, and the width a multiple of "
		        "4 and of the heads (img %d, patch %d, dim %d, heads %d)", c->img, c->patch, c->blocks.dim,
		        c->blocks.heads);
	m->G = c->img / c->patch;
	m->N = m->G * m->G;
	m->PP = c->chans * c->patch * c->patch;
	int64_t D = c->blocks.dim;
	int64_t pe[4] = {D, c->chans, c->patch, c->patch};
	m->first = usj_params_add(ps, "patch_embed.proj.weight", 4, pe, 1);
	usj_params_add(ps, "patch_embed.proj.bias", 1, &D, 0);
	int64_t tok[3] = {1, 1, D}, pos[3] = {1, m->N + (c->cls_token ? 1 : 0), D};
	if (c->cls_token)
		usj_params_add(ps, "cls_token", 3, tok, 0);
	if (c->learned_pos)
		usj_params_add(ps, "pos_embed", 3, pos, 0);
	blocks_register(&m->blocks, &c->blocks, "blocks", "norm", ps);
	if (!c->learned_pos) {
		m->pos = xmalloc_aligned((size_t)m->N * D * sizeof(float));
		usj_sincos_2d(m->pos, m->G, (int)D);
	}
}

void usj_vit_init(usj_vit *m, usj_params *ps, usj_rng *rng)
{
	usj_param *pe = &ps->p[m->first];
	normal02(ps->w + pe->offset, pe->count, rng);
	memset(usj_param_w(ps, m->first + 1), 0, (size_t)m->c.blocks.dim * sizeof(float));
	int extra = m->c.cls_token + m->c.learned_pos;
	for (int i = 0; i < extra; i++) {
		usj_param *p = &ps->p[m->first + 2 + i];
		normal02(ps->w + p->offset, p->count, rng);
	}
	blocks_init(&m->blocks, ps, rng);
}

/* vit_reserve: usj_vit_reserve, or for inference only one block's
 * activations and no copy of the patches */
static void vit_reserve(usj_vit *m, int B, int T, int train)
{
	int S = T + m->c.cls_token;
	blocks_reserve(&m->blocks, B, S, train);
	m->B = B;
	m->T = T;
	if (!train || (m->patches && B * (int64_t)T <= m->cap))
		return;
	free(m->patches);
	m->patches = xmalloc_aligned((size_t)B * T * m->PP * sizeof(float));
	m->cap = B * (int64_t)T;
}

void usj_vit_reserve(usj_vit *m, int B, int T) { vit_reserve(m, B, T, 1); }

void usj_vit_free(usj_vit *m)
{
	free(m->pos);
	free(m->patches);
	free(m->tokens);
	free(m->blocks.acts);
	free(m->blocks.grads);
	memset(m, 0, sizeof *m);
}

void usj_patchify(float *patches, const float *images, const int32_t *idx, int B, int T, int chans, int img,
                  int patch)
{
	int G = img / patch, PP = chans * patch * patch;
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++) {
			int g = idx[(int64_t)b * T + t], gr = g / G, gc = g % G;
			float *o = patches + ((int64_t)b * T + t) * PP; // o (chans, patch, patch)
			for (int ch = 0; ch < chans; ch++)
				for (int y = 0; y < patch; y++)
					memcpy(o + (ch * patch + y) * patch,
					       images + (((int64_t)b * chans + ch) * img + gr * patch + y) * img + gc * patch,
					       (size_t)patch * sizeof(float));
		}
}

/* vit_forward: usj_vit_forward, or usj_vit_infer (train 0) */
static const float *vit_forward(usj_vit *m, const usj_params *ps, const float *patches, const int32_t *idx, int B,
                                int T, int train)
{
	vit_reserve(m, B, T, train);
	m->kept = train;
	int D = m->c.blocks.dim, cls = m->c.cls_token, S = T + cls;
	if (train)
		memcpy(m->patches, patches, (size_t)B * T * m->PP * sizeof(float));
	float *res = m->blocks.res; // res (B, S, D)
	/* patch embedding into the rows after the CLS token, then positions */
	float *emb = cls ? m->blocks.tmp : res;
	usj_matmul_forward(emb, patches, usj_param_w(ps, m->first), usj_param_w(ps, m->first + 1), (int64_t)B * T,
	                   m->PP, D);
	const float *learned = m->c.learned_pos ? usj_param_w(ps, m->first + 2 + cls) : NULL;
	for (int b = 0; b < B; b++) {
		if (cls) {
			const float *tok = usj_param_w(ps, m->first + 2);
			for (int i = 0; i < D; i++)
				res[(int64_t)b * S * D + i] = tok[i] + (learned ? learned[i] : 0.0f);
		}
		for (int t = 0; t < T; t++) {
			int g = idx[(int64_t)b * T + t];
			const float *pos = learned ? learned + (int64_t)(g + cls) * D : m->pos + (int64_t)g * D;
			const float *e = emb + ((int64_t)b * T + t) * D;
			float *o = res + ((int64_t)b * S + t + cls) * D;
			for (int i = 0; i < D; i++)
				o[i] = e[i] + pos[i];
		}
	}
	blocks_forward(&m->blocks, ps, B, S, S, train);
	if (!cls)
		return m->blocks.out;
	/* the patch tokens only: move them up over the CLS rows, in place */
	for (int b = 0; b < B; b++)
		memmove(m->blocks.out + (int64_t)b * T * D, m->blocks.out + ((int64_t)b * S + 1) * D,
		        (size_t)T * D * sizeof(float));
	return m->blocks.out;
}

const float *usj_vit_forward(usj_vit *m, const usj_params *ps, const float *patches, const int32_t *idx, int B,
                             int T)
{
	return vit_forward(m, ps, patches, idx, B, T, 1);
}

/* INFER_ROWS: tokens an inference takes through all blocks at a time. A
 * block's activations for that many stay in the core's caches from one
 * kernel to the next: tiny's inference runs 13 % faster than in whole
 * batches of 4096 tokens. Fewer would cost more than they save: each
 * product packs its weights once a part (vit-t loses 10 % at 392). */
#define INFER_ROWS 1024

const float *usj_vit_infer(usj_vit *m, const usj_params *ps, const float *patches, const int32_t *idx, int B,
                           int T)
{
	int S = T + m->c.cls_token, D = m->c.blocks.dim, chunk = S < INFER_ROWS ? INFER_ROWS / S : 1;
	if (B <= chunk)
		return vit_forward(m, ps, patches, idx, B, T, 0);
	int64_t n = (int64_t)B * T * D;
	if (n > m->tokens_cap) {
		free(m->tokens);
		m->tokens = xmalloc_aligned((size_t)n * sizeof(float));
		m->tokens_cap = n;
	}
	for (int b = 0; b < B; b += chunk) {
		int nb = B - b < chunk ? B - b : chunk;
		const float *tok = vit_forward(m, ps, patches + (int64_t)b * T * m->PP, idx + (int64_t)b * T, nb, T, 0);
		memcpy(m->tokens + (int64_t)b * T * D, tok, (size_t)nb * T * D * sizeof(float));
	}
	m->B = B;
	return m->tokens;
}

void usj_vit_backward(usj_vit *m, usj_params *ps, const float *dout)
{
	if (!m->kept)
		usj_die(USJ_EFAIL, "usj_vit_backward: the last forward was usj_vit_infer, which keeps no activations");
	if (m->c.cls_token || m->c.learned_pos)
		usj_die(USJ_EFAIL, "training a ViT with a CLS token or a learned positional embedding is not supported");
	int B = m->B, T = m->T, D = m->c.blocks.dim;
	blocks_backward(&m->blocks, ps, dout, B, T, T);
	/* emb = patches W^T + b, plus fixed positions */
	usj_matmul_backward(NULL, usj_param_g(ps, m->first), usj_param_g(ps, m->first + 1), m->blocks.dres,
	                    m->patches, usj_param_w(ps, m->first), (int64_t)B * T, m->PP, D);
}

/* ---- the predictor ---- */

enum { PRED_EMBED_W, PRED_EMBED_B, PRED_MASK };

void usj_pred_register(usj_pred *m, const usj_pred_config *c, int grid, usj_params *ps)
{
	memset(m, 0, sizeof *m);
	m->c = *c;
	int64_t Dp = c->blocks.dim, D = c->in_dim, Do = c->out_dim;
	if (Dp % c->blocks.heads || Dp % 4)
		usj_die(USJ_EDATA, "the predictor's width %lld must be a multiple of 4 and of its heads %d",
		        (long long)Dp, c->blocks.heads);
	m->G = grid;
	m->N = grid * grid;
	int64_t embed[2] = {Dp, D}, tok[3] = {1, 1, Dp}, proj[2] = {Do, Dp};
	m->first = usj_params_add(ps, "predictor_embed.weight", 2, embed, 1);
	usj_params_add(ps, "predictor_embed.bias", 1, &Dp, 0);
	usj_params_add(ps, "mask_token", 3, tok, 1); /* decayed, as in I-JEPA: not 1-D */
	blocks_register(&m->blocks, &c->blocks, "predictor_blocks", "predictor_norm", ps);
	usj_params_add(ps, "predictor_proj.weight", 2, proj, 1);
	usj_params_add(ps, "predictor_proj.bias", 1, &Do, 0);
	m->blocks.qkv0_outside = c->blocks.depth > 0;
	m->pos = xmalloc_aligned((size_t)m->N * Dp * sizeof(float));
	usj_sincos_2d(m->pos, grid, (int)Dp);
}

static int pred_proj(const usj_pred *m) { return norm_index(&m->blocks) + 2; }

void usj_pred_init(usj_pred *m, usj_params *ps, usj_rng *rng)
{
	for (int i = PRED_EMBED_W; i <= PRED_MASK; i += 2) {
		usj_param *p = &ps->p[m->first + i];
		normal02(ps->w + p->offset, p->count, rng);
	}
	blocks_init(&m->blocks, ps, rng);
	usj_param *p = &ps->p[pred_proj(m)];
	normal02(ps->w + p->offset, p->count, rng);
}

/* pred_free_buffers: what usj_pred_reserve allocates */
static void pred_free_buffers(usj_pred *m)
{
	void *bufs[] = {m->ctx_in, m->ctx_idx, m->tgt_idx, m->out, m->dtgt, m->in0, m->din0, m->ln0, m->dln0,
	                m->ln0_mean, m->ln0_rstd, m->qkv0};
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		free(bufs[i]);
}

void usj_pred_reserve(usj_pred *m, int B, int Tc, int Tt)
{
	blocks_reserve(&m->blocks, B, Tc + Tt, 1);
	if (m->ctx_in && B == m->B && Tc == m->Tc && Tt == m->Tt)
		return;
	pred_free_buffers(m);
	int64_t D = m->c.in_dim, Dp = m->c.blocks.dim, Do = m->c.out_dim;
	m->ctx_in = xmalloc_aligned((size_t)B * Tc * D * sizeof(float));
	m->ctx_idx = xmalloc((size_t)B * Tc * sizeof(int32_t));
	m->tgt_idx = xmalloc((size_t)B * Tt * sizeof(int32_t));
	m->out = xmalloc_aligned((size_t)B * Tt * Do * sizeof(float));
	m->dtgt = xmalloc_aligned((size_t)B * Tt * Dp * sizeof(float));
	int64_t R0 = (int64_t)B * Tc + m->N, q = m->blocks.qkv0_outside; /* no blocks: no first block */
	float **rows[] = {&m->in0, &m->din0, &m->ln0, &m->dln0, &m->ln0_mean, &m->ln0_rstd, &m->qkv0};
	int64_t widths[] = {Dp, Dp, q * Dp, q * Dp, q, q, q * 3 * Dp};
	for (int i = 0; i < 7; i++)
		*rows[i] = xmalloc_aligned((size_t)(R0 * widths[i]) * sizeof(float));
	m->B = B;
	m->Tc = Tc;
	m->Tt = Tt;
}

void usj_pred_free(usj_pred *m)
{
	free(m->pos);
	free(m->blocks.acts);
	free(m->blocks.grads);
	pred_free_buffers(m);
	memset(m, 0, sizeof *m);
}

/* The predictor's sequence (B, T, Dp) has R0 = B Tc + N distinct rows:
 * each image's context tokens, and the mask token at a grid position, the
 * same in every image that has a target there. in0 (R0, Dp) holds them, and
 * the first block's norm1 and qkv are made once a distinct row (a quarter
 * of the rows at 25 % context), then spread to the sequence's rows. */

/* seq_row: the distinct row of image b's row t */
static int64_t seq_row(const usj_pred *m, int64_t b, int t)
{
	return t < m->Tc ? b * m->Tc + t : (int64_t)m->B * m->Tc + m->tgt_idx[b * m->Tt + t - m->Tc];
}

typedef struct rows_args {
	const usj_pred *m;
	float *seq, *distinct; /* (B, T, width), (R0, width) */
	int width;
} rows_args;

/* spread_images: seq's rows of images [b0, b1) from distinct */
static void spread_images(void *ctx, int64_t b0, int64_t b1)
{
	rows_args *a = ctx;
	int T = a->m->Tc + a->m->Tt;
	size_t bytes = (size_t)a->width * sizeof(float);
	for (int64_t b = b0; b < b1; b++)
		for (int t = 0; t < T; t++)
			memcpy(a->seq + (b * T + t) * a->width, a->distinct + seq_row(a->m, b, t) * a->width, bytes);
}

/* gather_distinct: distinct rows [r0, r1) from seq's gradient: a context
 * row's own, a position's the sum of its targets' rows, in image order */
CLONES static void gather_distinct(void *ctx, int64_t r0, int64_t r1)
{
	rows_args *a = ctx;
	const usj_pred *m = a->m;
	int T = m->Tc + m->Tt, w = a->width;
	int64_t BTc = (int64_t)m->B * m->Tc;
	for (int64_t r = r0; r < r1 && r < BTc; r++)
		memcpy(a->distinct + r * w, a->seq + ((r / m->Tc) * T + r % m->Tc) * w, (size_t)w * sizeof(float));
	if (r1 <= BTc)
		return;
	int64_t k0 = r0 > BTc ? r0 : BTc; /* this range's positions' rows, [k0, r1) */
	memset(a->distinct + k0 * w, 0, (size_t)(r1 - k0) * w * sizeof(float));
	for (int64_t b = 0; b < m->B; b++)
		for (int t = m->Tc; t < T; t++) {
			int64_t r = seq_row(m, b, t);
			if (r < k0 || r >= r1)
				continue;
			float *d = a->distinct + r * w;          // d (w)
			const float *g = a->seq + (b * T + t) * w; // g (w)
			int i = 0;
			for (; i + 8 <= w; i += 8)
				store8(d + i, load8(d + i) + load8(g + i));
			for (; i < w; i++)
				d[i] += g[i];
		}
}

const float *usj_pred_forward(usj_pred *m, const usj_params *ps, const float *ctx, const int32_t *ctx_idx,
                              const int32_t *tgt_idx, int B, int Tc, int Tt)
{
	usj_pred_reserve(m, B, Tc, Tt);
	int D = m->c.in_dim, Dp = m->c.blocks.dim, Do = m->c.out_dim, T = Tc + Tt;
	memcpy(m->ctx_in, ctx, (size_t)B * Tc * D * sizeof(float));
	memcpy(m->ctx_idx, ctx_idx, (size_t)B * Tc * sizeof(int32_t));
	memcpy(m->tgt_idx, tgt_idx, (size_t)B * Tt * sizeof(int32_t));
	/* the distinct rows: embedded context tokens, then the mask token, each
	 * with its position */
	int64_t BTc = (int64_t)B * Tc, R0 = BTc + m->N;
	usj_matmul_forward(m->in0, ctx, usj_param_w(ps, m->first), usj_param_w(ps, m->first + 1), BTc, D, Dp);
	const float *mask = usj_param_w(ps, m->first + PRED_MASK);
	for (int64_t r = 0; r < BTc; r++) {
		float *o = m->in0 + r * Dp;                         // o (Dp)
		const float *pos = m->pos + (int64_t)ctx_idx[r] * Dp; // pos (Dp)
		for (int i = 0; i < Dp; i++)
			o[i] += pos[i];
	}
	for (int g = 0; g < m->N; g++) {
		float *o = m->in0 + (BTc + g) * Dp;
		const float *pos = m->pos + (int64_t)g * Dp;
		for (int i = 0; i < Dp; i++)
			o[i] = mask[i] + pos[i];
	}
	rows_args sa = {.m = m, .seq = m->blocks.res, .distinct = m->in0, .width = Dp};
	usj_pool_for(B, 1, spread_images, &sa);
	usj_blocks *k = &m->blocks;
	if (k->qkv0_outside) {
		usj_layernorm_forward(m->ln0, m->ln0_mean, m->ln0_rstd, m->in0, bw(k, ps, 0, LN1W), bw(k, ps, 0, LN1B), R0,
		                      Dp, k->c.eps);
		usj_matmul_forward(m->qkv0, m->ln0, bw(k, ps, 0, QKVW), bw(k, ps, 0, QKVB), R0, Dp, 3 * Dp);
		rows_args qa = {.m = m, .seq = k->qkv, .distinct = m->qkv0, .width = 3 * Dp};
		usj_pool_for(B, 1, spread_images, &qa);
	}
	blocks_forward(&m->blocks, ps, B, T, Tt, 1); /* out (B, Tt, Dp): the targets' rows */
	int proj = pred_proj(m);
	usj_matmul_forward(m->out, m->blocks.out, usj_param_w(ps, proj), usj_param_w(ps, proj + 1), (int64_t)B * Tt, Dp, Do);
	return m->out;
}

void usj_pred_backward(usj_pred *m, usj_params *ps, const float *dpred, float *dctx)
{
	int B = m->B, Tc = m->Tc, Tt = m->Tt, T = Tc + Tt, D = m->c.in_dim, Dp = m->c.blocks.dim, Do = m->c.out_dim;
	int64_t BTc = (int64_t)B * Tc, R0 = BTc + m->N;
	int proj = pred_proj(m);
	usj_blocks *k = &m->blocks;
	usj_matmul_backward(m->dtgt, usj_param_g(ps, proj), usj_param_g(ps, proj + 1), dpred, k->out,
	                    usj_param_w(ps, proj), (int64_t)B * Tt, Dp, Do);
	blocks_backward(k, ps, m->dtgt, B, T, Tt);
	/* the distinct rows' gradients: the residual path's, then the first
	 * block's norm1 and qkv */
	rows_args ra = {.m = m, .seq = k->dres, .distinct = m->din0, .width = Dp};
	usj_pool_for(R0, 16, gather_distinct, &ra);
	if (k->qkv0_outside) {
		rows_args qa = {.m = m, .seq = k->dqkv, .distinct = m->qkv0, .width = 3 * Dp};
		usj_pool_for(R0, 16, gather_distinct, &qa);
		usj_matmul_backward(m->dln0, bg(k, ps, 0, QKVW), bg(k, ps, 0, QKVB), m->qkv0, m->ln0, bw(k, ps, 0, QKVW),
		                    R0, Dp, 3 * Dp);
		usj_layernorm_backward(m->din0, bg(k, ps, 0, LN1W), bg(k, ps, 0, LN1B), m->dln0, m->in0,
		                       bw(k, ps, 0, LN1W), m->ln0_mean, m->ln0_rstd, R0, Dp);
	}
	/* in0 = [context embedding; mask token] + positions */
	float *dmask = usj_param_g(ps, m->first + PRED_MASK);
	for (int64_t r = BTc; r < R0; r++)
		for (int i = 0; i < Dp; i++)
			dmask[i] += m->din0[r * Dp + i];
	usj_matmul_backward(dctx, usj_param_g(ps, m->first), usj_param_g(ps, m->first + 1), m->din0, m->ctx_in,
	                    usj_param_w(ps, m->first), BTc, D, Dp);
}
