/* test_vit.c: central finite-difference checks of every ViT kernel and of
 * the whole encoder + predictor on a tiny configuration; fast kernels
 * against their naive references; the same bits on every run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "pool.h"
#include "rng.h"
#include "test.h"
#include "vit.h"
#include "vit_kernels.h"

static usj_rng rng;

static float *randn(int64_t n, float scale)
{
	float *x = xmalloc_aligned((size_t)(n > 0 ? n : 1) * sizeof(float));
	for (int64_t i = 0; i < n; i++)
		x[i] = (float)(scale * usj_rng_normal(&rng));
	return x;
}

static float *zeros(int64_t n)
{
	float *x = xmalloc_aligned((size_t)(n > 0 ? n : 1) * sizeof(float));
	memset(x, 0, (size_t)n * sizeof(float));
	return x;
}

/* dot: sum of a b in double: the scalar "loss" of a kernel's output */
static double dot(const float *a, const float *b, int64_t n)
{
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

/* A scalar function of some buffers, for the finite differences. */
typedef double (*scalar_fn)(void *ctx);

/* fd_agrees: the central difference of f along x[i] against grad[i] for
 * every i (or every stride-th), within a tolerance relative to the largest
 * gradient; prints the worst. */
static int fd_agrees(const char *what, scalar_fn f, void *ctx, float *x, const float *grad, int64_t n,
                     int64_t stride, float eps, double tol)
{
	double worst = 0, scale = 1e-6;
	for (int64_t i = 0; i < n; i++)
		scale = fmax(scale, fabs(grad[i]));
	for (int64_t i = 0; i < n; i += stride) {
		float keep = x[i];
		x[i] = keep + eps;
		double up = f(ctx);
		x[i] = keep - eps;
		double down = f(ctx);
		x[i] = keep;
		double num = (up - down) / (2.0 * eps), err = fabs(num - grad[i]) / scale;
		worst = worse(worst, err);
	}
	if (worst > tol)
		fprintf(stderr, "#   %s: worst error %.3g of the largest gradient (tolerance %.3g)\n", what, worst, tol);
	return worst <= tol;
}

/* ---- kernels ---- */

typedef struct kctx {
	int64_t N;
	int C, OC, B, T, Tq, NH;
	float *inp, *w, *b, *out, *mean, *rstd, *r, *att, *target;
	enum usj_loss kind;
} kctx;

static double ln_loss(void *p)
{
	kctx *k = p;
	usj_layernorm_forward(k->out, k->mean, k->rstd, k->inp, k->w, k->b, k->N, k->C, 1e-6f);
	return dot(k->out, k->r, k->N * k->C);
}

static void layernorm_gradients(void)
{
	kctx k = {.N = 6, .C = 12};
	int64_t n = k.N * k.C;
	k.inp = randn(n, 1.5f);
	k.w = randn(k.C, 1);
	k.b = randn(k.C, 1);
	k.r = randn(n, 1);
	k.out = zeros(n);
	k.mean = zeros(k.N);
	k.rstd = zeros(k.N);
	float *dinp = zeros(n), *dw = zeros(k.C), *db = zeros(k.C);
	ln_loss(&k);
	usj_layernorm_backward(dinp, dw, db, k.r, k.inp, k.w, k.mean, k.rstd, k.N, k.C);
	CHECK(fd_agrees("layernorm dinp", ln_loss, &k, k.inp, dinp, n, 1, 1e-2f, 2e-3));
	CHECK(fd_agrees("layernorm dweight", ln_loss, &k, k.w, dw, k.C, 1, 1e-2f, 2e-3));
	CHECK(fd_agrees("layernorm dbias", ln_loss, &k, k.b, db, k.C, 1, 1e-2f, 2e-3));
	float *none[] = {k.inp, k.w, k.b, k.r, k.out, k.mean, k.rstd, dinp, dw, db};
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
		free(none[i]);
}

static double mm_loss(void *p)
{
	kctx *k = p;
	usj_matmul_forward(k->out, k->inp, k->w, k->b, k->N, k->C, k->OC);
	return dot(k->out, k->r, k->N * k->OC);
}

static void matmul_gradients(void)
{
	kctx k = {.N = 37, .C = 9, .OC = 35};
	k.inp = randn(k.N * k.C, 1);
	k.w = randn((int64_t)k.OC * k.C, 1);
	k.b = randn(k.OC, 1);
	k.r = randn(k.N * k.OC, 1);
	k.out = zeros(k.N * k.OC);
	/* dinp is overwritten, not accumulated: start it dirty */
	float *dinp = randn(k.N * k.C, 1), *dw = zeros((int64_t)k.OC * k.C), *db = zeros(k.OC);
	mm_loss(&k);
	usj_matmul_backward(dinp, dw, db, k.r, k.inp, k.w, k.N, k.C, k.OC);
	CHECK(fd_agrees("matmul dinp", mm_loss, &k, k.inp, dinp, k.N * k.C, 1, 1e-2f, 1e-3));
	CHECK(fd_agrees("matmul dweight", mm_loss, &k, k.w, dw, (int64_t)k.OC * k.C, 1, 1e-2f, 1e-3));
	CHECK(fd_agrees("matmul dbias", mm_loss, &k, k.b, db, k.OC, 1, 1e-2f, 1e-3));
	free(k.inp), free(k.w), free(k.b), free(k.r), free(k.out), free(dinp), free(dw), free(db);
}

static void matmul_matches_naive(void)
{
	int64_t N = 133;
	int C = 47, OC = 61;
	float *inp = randn(N * C, 1), *w = randn((int64_t)OC * C, 1), *b = randn(OC, 1);
	float *fast = zeros(N * OC), *slow = zeros(N * OC);
	usj_matmul_forward(fast, inp, w, b, N, C, OC);
	usj_matmul_forward_naive(slow, inp, w, b, N, C, OC);
	double worst = 0;
	for (int64_t i = 0; i < N * OC; i++)
		worst = worse(worst, fabs(fast[i] - slow[i]));
	CHECK(worst < 1e-4);
	usj_matmul_forward(fast, inp, w, NULL, N, C, OC);
	usj_matmul_forward_naive(slow, inp, w, NULL, N, C, OC);
	for (int64_t i = 0; i < N * OC; i++)
		worst = worse(worst, fabs(fast[i] - slow[i]));
	CHECK(worst < 1e-4);
	free(inp), free(w), free(b), free(fast), free(slow);
}

static double att_loss(void *p)
{
	kctx *k = p;
	usj_attention_forward(k->out, k->att, k->inp, k->B, k->T, k->Tq, k->C, k->NH);
	return dot(k->out, k->r, (int64_t)k->B * k->Tq * k->C);
}

/* attention_gradients: every query row asking, and only the last 3 of 7 */
static void attention_gradients(void)
{
	for (int Tq = 7; Tq >= 3; Tq -= 4) {
		kctx k = {.B = 3, .T = 7, .Tq = Tq, .C = 12, .NH = 3};
		int64_t BT = (int64_t)k.B * k.T, BTq = (int64_t)k.B * Tq, BTT = (int64_t)k.B * k.NH * Tq * k.T;
		k.inp = randn(BT * 3 * k.C, 1);
		k.r = randn(BTq * k.C, 1);
		k.out = zeros(BTq * k.C);
		k.att = zeros(BTT);
		float *dqkv = randn(BT * 3 * k.C, 1), *scratch = zeros(BTT);
		att_loss(&k);
		usj_attention_backward(dqkv, scratch, k.r, k.inp, k.att, k.B, k.T, Tq, k.C, k.NH);
		CHECK(fd_agrees("attention dqkv", att_loss, &k, k.inp, dqkv, BT * 3 * k.C, 1, 1e-2f, 2e-3));
		/* against the naive loops */
		float *out = zeros(BTq * k.C), *att = zeros(BTT);
		usj_attention_forward_naive(out, att, k.inp, k.B, k.T, Tq, k.C, k.NH);
		att_loss(&k);
		double worst = 0;
		for (int64_t i = 0; i < BTq * k.C; i++)
			worst = worse(worst, fabs(out[i] - k.out[i]));
		for (int64_t i = 0; i < BTT; i++)
			worst = worse(worst, fabs(att[i] - k.att[i]));
		CHECK(worst < 1e-5);
		free(k.inp), free(k.r), free(k.out), free(k.att), free(dqkv), free(scratch), free(out), free(att);
	}
}

/* worst_diff: the largest |a - b| over n, relative to the largest |b| */
static double worst_diff(const float *a, const float *b, int64_t n)
{
	double worst = 0, scale = 1e-30;
	for (int64_t i = 0; i < n; i++) {
		worst = worse(worst, fabs(a[i] - b[i]));
		scale = fmax(scale, fabs(b[i]));
	}
	return worst / scale;
}

/* the fast attention, forward and backward, against the naive loops at the
 * model's shapes (hs 64, T 16, 49 and 196; the predictor's last block: 48 and
 * 147 of 64 and 196 asking), odd T, T = 1, hs not a multiple of 8 or below 8 */
static void attention_matches_naive(void)
{
	static const int shapes[][5] = {{2, 49, 49, 192, 3}, {2, 196, 196, 192, 3}, {3, 16, 16, 192, 3},
	                                {2, 64, 48, 96, 3},  {1, 196, 147, 96, 3},  {2, 37, 37, 60, 3},
	                                {2, 23, 5, 24, 2},   {1, 9, 9, 10, 2},      {2, 1, 1, 64, 1},
	                                {1, 53, 53, 136, 1}};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		int B = shapes[s][0], T = shapes[s][1], Tq = shapes[s][2], C = shapes[s][3], NH = shapes[s][4];
		int64_t BT = (int64_t)B * T, BTq = (int64_t)B * Tq, BTT = (int64_t)B * NH * Tq * T;
		float *qkv = randn(BT * 3 * C, 1), *dout = randn(BTq * C, 1);
		float *out = randn(BTq * C, 1), *att = randn(BTT, 1), *dqkv = randn(BT * 3 * C, 1), *scratch = randn(BTT, 1);
		float *out_n = zeros(BTq * C), *att_n = zeros(BTT), *dqkv_n = zeros(BT * 3 * C), *scratch_n = zeros(BTT);
		usj_attention_forward(out, att, qkv, B, T, Tq, C, NH);
		usj_attention_forward_naive(out_n, att_n, qkv, B, T, Tq, C, NH);
		usj_attention_backward(dqkv, scratch, dout, qkv, att, B, T, Tq, C, NH);
		usj_attention_backward_naive(dqkv_n, scratch_n, dout, qkv, att, B, T, Tq, C, NH);
		double e_out = worst_diff(out, out_n, BTq * C), e_att = worst_diff(att, att_n, BTT);
		double e_d = worst_diff(dqkv, dqkv_n, BT * 3 * C);
		if (!(e_out < 1e-5 && e_att < 1e-5 && e_d < 1e-5))
			fprintf(stderr, "#   attention B=%d T=%d Tq=%d C=%d NH=%d: out %.2e att %.2e dqkv %.2e\n", B, T, Tq,
			        C, NH, e_out, e_att, e_d);
		CHECK(e_out < 1e-5 && e_att < 1e-5 && e_d < 1e-5);
		free(qkv), free(dout), free(out), free(att), free(dqkv), free(scratch);
		free(out_n), free(att_n), free(dqkv_n), free(scratch_n);
	}
}

static double gelu_loss(void *p)
{
	kctx *k = p;
	usj_gelu_forward(k->out, k->inp, k->N);
	return dot(k->out, k->r, k->N);
}

static void gelu_gradients(void)
{
	kctx k = {.N = 300};
	k.inp = randn(k.N, 2);
	k.r = randn(k.N, 1);
	k.out = zeros(k.N);
	float *dinp = randn(k.N, 1);
	gelu_loss(&k);
	usj_gelu_backward(dinp, k.inp, k.out, k.r, k.N);
	CHECK(fd_agrees("gelu", gelu_loss, &k, k.inp, dinp, k.N, 1, 1e-3f, 2e-3));
	/* exact erf GELU, not the tanh approximation: 0.5 x (1 + erf(x / sqrt 2)) at x = 1 */
	float x = 1.0f, y;
	usj_gelu_forward(&y, &x, 1);
	CHECK_NEAR(y, 0.8413447460685429, 1e-6);
	free(k.inp), free(k.r), free(k.out), free(dinp);
}

static double loss_loss(void *p)
{
	kctx *k = p;
	return usj_loss_forward(k->kind, k->inp, k->target, k->N, 1.0f);
}

static void loss_gradients(void)
{
	static const char *names[] = {"smooth-l1", "l1", "mse"};
	for (int kind = USJ_LOSS_SMOOTH_L1; kind <= USJ_LOSS_MSE; kind++) {
		kctx k = {.N = 200, .kind = kind};
		k.inp = randn(k.N, 1.5f);
		k.target = randn(k.N, 1.5f);
		/* keep away from the kinks (d = 0, |d| = beta), where the derivative jumps */
		for (int64_t i = 0; i < k.N; i++) {
			float d = k.inp[i] - k.target[i];
			if (fabsf(d) < 0.05f || fabsf(fabsf(d) - 1.0f) < 0.05f)
				k.inp[i] += 0.2f;
		}
		float *g = zeros(k.N);
		usj_loss_backward(g, kind, k.inp, k.target, k.N, 1.0f);
		CHECK(fd_agrees(names[kind], loss_loss, &k, k.inp, g, k.N, 1, 1e-2f, 2e-3));
		free(k.inp), free(k.target), free(g);
	}
	/* Smooth-L1 at beta 1: 0.5 d^2 inside, |d| - 0.5 outside */
	float p[2] = {0.5f, 3.0f}, t[2] = {0.0f, 0.0f};
	CHECK_NEAR(usj_loss_forward(USJ_LOSS_SMOOTH_L1, p, t, 2, 1.0f), (0.125 + 2.5) / 2, 1e-7);
}

/* ---- the whole model ---- */

typedef struct model {
	usj_params ps;
	usj_vit enc;
	usj_pred pred;
	float *images, *patches, *target, *dctx;
	int32_t *ctx_idx, *tgt_idx;
	int B, Tc, Tt;
} model;

static double model_loss(void *p)
{
	model *m = p;
	const float *tok = usj_vit_forward(&m->enc, &m->ps, m->patches, m->ctx_idx, m->B, m->Tc);
	const float *pred = usj_pred_forward(&m->pred, &m->ps, tok, m->ctx_idx, m->tgt_idx, m->B, m->Tc, m->Tt);
	/* a weighted sum, whose gradients are O(1): the loss kernels are checked on their own */
	return dot(pred, m->target, (int64_t)m->B * m->Tt * m->pred.c.out_dim);
}

/* model_build: the predictor pred_depth blocks deep (0: its norm and
 * projections alone, 1: the last block is also the first) */
static void model_build(model *m, int pred_depth)
{
	memset(m, 0, sizeof *m);
	usj_vit_config ec = {.img = 16, .patch = 4, .chans = 1, .blocks = {.depth = 2, .dim = 16, .heads = 2,
	                                                                   .hidden = 64, .eps = 1e-6f}};
	usj_pred_config pc = {.in_dim = 16, .out_dim = 12, .blocks = {.depth = pred_depth, .dim = 8, .heads = 2, .hidden = 32,
	                                                              .eps = 1e-6f}};
	usj_vit_register(&m->enc, &ec, &m->ps);
	usj_pred_register(&m->pred, &pc, m->enc.G, &m->ps);
	usj_params_alloc(&m->ps);
	usj_vit_init(&m->enc, &m->ps, &rng);
	usj_pred_init(&m->pred, &m->ps, &rng);
	/* larger weights, and biases and norms off their initial values: gradients
	 * that reach the encoder are then well above the finite differences' noise */
	for (int i = 0; i < m->ps.n; i++)
		for (int64_t j = 0; j < m->ps.p[i].count; j++)
			if (m->ps.p[i].rank == 1)
				usj_param_w(&m->ps, i)[j] += (float)(0.3 * usj_rng_normal(&rng));
			else
				usj_param_w(&m->ps, i)[j] *= 12.0f;
	m->B = 2, m->Tc = 7, m->Tt = 5;
	m->images = randn(2 * 16 * 16, 1);
	m->ctx_idx = xmalloc(2 * 7 * sizeof(int32_t));
	m->tgt_idx = xmalloc(2 * 5 * sizeof(int32_t));
	for (int b = 0; b < 2; b++) {
		for (int t = 0; t < 7; t++)
			m->ctx_idx[b * 7 + t] = (t * 2 + b) % 16;
		for (int t = 0; t < 5; t++)
			m->tgt_idx[b * 5 + t] = (t * 3 + 1 + b) % 16;
	}
	m->patches = zeros(2 * 7 * 16);
	usj_patchify(m->patches, m->images, m->ctx_idx, 2, 7, 1, 16, 4);
	m->target = randn(2 * 5 * 12, 1);
	m->dctx = zeros(2 * 7 * 16);
}

static void model_gradients(model *m)
{
	usj_params_zero_grad(&m->ps);
	model_loss(m);
	usj_pred_backward(&m->pred, &m->ps, m->target, m->dctx);
	usj_vit_backward(&m->enc, &m->ps, m->dctx);
}

static void model_free(model *m)
{
	usj_vit_free(&m->enc);
	usj_pred_free(&m->pred);
	usj_params_free(&m->ps);
	free(m->images), free(m->patches), free(m->target), free(m->dctx);
	free(m->ctx_idx), free(m->tgt_idx);
}

static void whole_model_gradients(void)
{
	/* the predictor's last block computes only the target rows: with it
	 * also its first, and with no block at all */
	for (int depth = 2; depth >= 0; depth--) {
		model m;
		model_build(&m, depth);
		model_gradients(&m);
		/* every tensor, a few elements each */
		for (int i = 0; i < m.ps.n; i++) {
			usj_param *p = &m.ps.p[i];
			int64_t stride = p->count > 40 ? p->count / 40 : 1;
			CHECK(fd_agrees(p->name, model_loss, &m, m.ps.w + p->offset, m.ps.g + p->offset, p->count, stride,
			                1e-2f, 1e-2));
		}
		model_free(&m);
	}
}

static void same_bits_every_run(void)
{
	model a, b;
	usj_rng keep = rng;
	model_build(&a, 2);
	rng = keep;
	model_build(&b, 2);
	model_gradients(&a);
	model_gradients(&b);
	CHECK(memcmp(a.ps.g, b.ps.g, (size_t)a.ps.total * sizeof(float)) == 0);
	CHECK(memcmp(a.pred.out, b.pred.out, (size_t)2 * 5 * 12 * sizeof(float)) == 0);
	model_free(&a);
	model_free(&b);
}

/* tokens_of: the encoder's tokens (B, Tc, 16) by usj_vit_infer (infer 1) or usj_vit_forward, copied */
static float *tokens_of(usj_vit *enc, const usj_params *ps, const model *m, int infer)
{
	int64_t n = (int64_t)m->B * m->Tc * enc->c.blocks.dim;
	const float *tok = (infer ? usj_vit_infer : usj_vit_forward)(enc, ps, m->patches, m->ctx_idx, m->B, m->Tc);
	float *copy = zeros(n);
	memcpy(copy, tok, (size_t)n * sizeof(float));
	return copy;
}

static void infer_matches_forward(void)
{
	model m;
	model_build(&m, 2);
	int64_t bytes = (int64_t)m.B * m.Tc * 16 * sizeof(float);
	/* inference first (one block's buffers), then training's, then inference in training's buffers */
	float *a = tokens_of(&m.enc, &m.ps, &m, 1), *b = tokens_of(&m.enc, &m.ps, &m, 0);
	float *c = tokens_of(&m.enc, &m.ps, &m, 1);
	CHECK(memcmp(a, b, (size_t)bytes) == 0);
	CHECK(memcmp(c, b, (size_t)bytes) == 0);
	/* a CLS token and learned positions, as imported teachers have */
	usj_params ps = {0};
	usj_vit enc;
	usj_vit_config ec = m.enc.c;
	ec.cls_token = ec.learned_pos = 1;
	usj_vit_register(&enc, &ec, &ps);
	usj_params_alloc(&ps);
	usj_vit_init(&enc, &ps, &rng);
	float *d = tokens_of(&enc, &ps, &m, 0), *e = tokens_of(&enc, &ps, &m, 1);
	CHECK(memcmp(d, e, (size_t)bytes) == 0);
	/* a batch inference takes in parts (1024 tokens at a time: 128 images
	 * of a CLS token and 7 patches), the last one short */
	int B = 300, T = m.Tc;
	float *patches = randn((int64_t)B * T * 16, 1);
	int32_t *idx = xmalloc((size_t)B * T * sizeof(int32_t));
	for (int i = 0; i < B * T; i++)
		idx[i] = (i * 5 + i / T) % 16;
	int64_t n = (int64_t)B * T * 16;
	float *whole = zeros(n);
	memcpy(whole, usj_vit_forward(&enc, &ps, patches, idx, B, T), (size_t)n * sizeof(float));
	CHECK(memcmp(usj_vit_infer(&enc, &ps, patches, idx, B, T), whole, (size_t)n * sizeof(float)) == 0);
	usj_vit_free(&enc);
	usj_params_free(&ps);
	free(a), free(b), free(c), free(d), free(e), free(patches), free(idx), free(whole);
	model_free(&m);
}

static void sincos_positions(void)
{
	float pos[4 * 4 * 8];
	usj_sincos_2d(pos, 4, 8);
	/* token (row 1, column 2), D = 8: w = [1, 1/100]; first half the column */
	const float *t = pos + (1 * 4 + 2) * 8;
	CHECK_NEAR(t[0], sin(2.0), 1e-6);
	CHECK_NEAR(t[1], sin(0.02), 1e-6);
	CHECK_NEAR(t[2], cos(2.0), 1e-6);
	CHECK_NEAR(t[4], sin(1.0), 1e-6);
	CHECK_NEAR(t[7], cos(0.01), 1e-6);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	usj_pool_init(3); /* more threads than this machine's cores: ranges of every shape */
	usj_rng_seed(&rng, 42);
	RUN(layernorm_gradients);
	RUN(matmul_gradients);
	RUN(matmul_matches_naive);
	RUN(attention_gradients);
	RUN(attention_matches_naive);
	RUN(gelu_gradients);
	RUN(loss_gradients);
	RUN(sincos_positions);
	RUN(whole_model_gradients);
	RUN(same_bits_every_run);
	RUN(infer_matches_forward);
	return TEST_DONE();
}
