/* test_vit_torch.c: the ViT against PyTorch (tests/ref/vit_ref.py, Debian's
 * python3-torch): the same weights and inputs give the same encoder tokens,
 * predictions, loss and parameter gradients, and the same losses and
 * weights over 10 AdamW steps with clipping, to 1e-4 of each reference
 * tensor's largest magnitude. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adamw.h"
#include "err.h"
#include "mem.h"
#include "pool.h"
#include "stream.h"
#include "test.h"
#include "vit.h"
#include "vit_io.h"
#include "vit_kernels.h"

#define PYTHON "/usr/bin/python3"
#define SCRIPT "tests/ref/vit_ref.py"
enum { B = 3, TC = 9, TT = 5, IMG = 32, STEPS = 10 };
static const float LR = 2e-3f, WD = 0.05f, CLIP = 0.05f;

typedef struct model {
	usj_params ps;
	usj_vit enc;
	usj_pred pred;
	float images[B * IMG * IMG], patches[B * TC * 64], target[B * TT * 24], dctx[B * TC * 32];
	int32_t ctx_idx[B * TC], tgt_idx[B * TT];
} model;

static const usj_vit_config ENC = {.img = IMG, .patch = 8, .chans = 1,
                                   .blocks = {.depth = 2, .dim = 32, .heads = 4, .hidden = 128, .eps = 1e-6f}};
static const usj_pred_config PRED = {.in_dim = 32, .out_dim = 24,
                                     .blocks = {.depth = 2, .dim = 16, .heads = 2, .hidden = 64, .eps = 1e-6f}};

static void build(model *m, usj_rng *rng)
{
	usj_vit_register(&m->enc, &ENC, &m->ps);
	usj_pred_register(&m->pred, &PRED, m->enc.G, &m->ps);
	usj_params_alloc(&m->ps);
	usj_vit_init(&m->enc, &m->ps, rng);
	usj_pred_init(&m->pred, &m->ps, rng);
	/* biases and norms off their initial 0 and 1, so every gradient is exercised */
	for (int i = 0; i < m->ps.n; i++)
		if (m->ps.p[i].rank == 1)
			for (int64_t j = 0; j < m->ps.p[i].count; j++)
				usj_param_w(&m->ps, i)[j] += (float)(0.1 * usj_rng_normal(rng));
	for (int i = 0; i < B * IMG * IMG; i++)
		m->images[i] = (float)usj_rng_normal(rng);
	for (int i = 0; i < B * TT * 24; i++)
		m->target[i] = (float)usj_rng_normal(rng);
	for (int b = 0; b < B; b++) { /* distinct positions, in no particular order */
		for (int t = 0; t < TC; t++)
			m->ctx_idx[b * TC + t] = (5 * t + 3 * b + 1) % 16;
		for (int t = 0; t < TT; t++)
			m->tgt_idx[b * TT + t] = (5 * (t + TC) + 3 * b + 1) % 16;
	}
	usj_patchify(m->patches, m->images, m->ctx_idx, B, TC, 1, IMG, 8);
}

static double forward(model *m)
{
	const float *tok = usj_vit_forward(&m->enc, &m->ps, m->patches, m->ctx_idx, B, TC);
	const float *pred = usj_pred_forward(&m->pred, &m->ps, tok, m->ctx_idx, m->tgt_idx, B, TC, TT);
	return usj_loss_forward(USJ_LOSS_SMOOTH_L1, pred, m->target, B * TT * 24, 1.0f);
}

static double step(model *m)
{
	float dpred[B * TT * 24];
	usj_params_zero_grad(&m->ps);
	double loss = forward(m);
	usj_loss_backward(dpred, USJ_LOSS_SMOOTH_L1, m->pred.out, m->target, B * TT * 24, 1.0f);
	usj_pred_backward(&m->pred, &m->ps, dpred, m->dctx);
	usj_vit_backward(&m->enc, &m->ps, m->dctx);
	return loss;
}

static void put(usj_writer *w, usj_record *rec, const char *name, usj_dtype dt, int rank, const int64_t *shape,
                const void *data)
{
	usj_record_clear(rec);
	usj_record_set_str(rec, "name", name);
	usj_tensor *t = usj_record_set_tensor(rec, "tensor", dt, rank, shape);
	memcpy(t->data, data, t->nbytes);
	usj_writer_write(w, rec);
}

static void write_inputs(const char *path, const model *m)
{
	msgpack_sbuffer meta;
	msgpack_sbuffer_init(&meta);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &meta, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	usj_pack_cstr(&pk, "encoder");
	usj_vit_config_pack(&pk, &ENC);
	usj_pack_cstr(&pk, "predictor");
	usj_pred_config_pack(&pk, &PRED);
	usj_pack_cstr(&pk, "optim");
	msgpack_pack_map(&pk, 7);
	usj_pack_kv_double(&pk, "lr", LR);
	usj_pack_kv_double(&pk, "wd", WD);
	usj_pack_kv_double(&pk, "beta1", 0.9);
	usj_pack_kv_double(&pk, "beta2", 0.95);
	usj_pack_kv_double(&pk, "eps", 1e-8);
	usj_pack_kv_double(&pk, "clip", CLIP);
	usj_pack_kv_int(&pk, "steps", STEPS);
	usj_writer *w = usj_writer_open(path, "tensors", &meta);
	usj_record rec;
	usj_record_init(&rec);
	for (int i = 0; i < m->ps.n; i++)
		put(w, &rec, m->ps.p[i].name, USJ_F4, m->ps.p[i].rank, m->ps.p[i].shape, usj_param_w(&m->ps, i));
	int64_t img[4] = {B, 1, IMG, IMG}, ci[2] = {B, TC}, ti[2] = {B, TT}, tg[3] = {B, TT, 24};
	put(w, &rec, "images", USJ_F4, 4, img, m->images);
	put(w, &rec, "ctx_idx", USJ_I4, 2, ci, m->ctx_idx);
	put(w, &rec, "tgt_idx", USJ_I4, 2, ti, m->tgt_idx);
	put(w, &rec, "target", USJ_F4, 3, tg, m->target);
	usj_writer_close(w, NULL);
	usj_record_free(&rec);
	msgpack_sbuffer_destroy(&meta);
}

/* The reference's tensors, by name. */
typedef struct ref {
	int n;
	char *names[256];
	usj_tensor t[256];
} ref;

static void read_ref(ref *r, const char *path)
{
	usj_reader *in = usj_open_input(path, "tensors", SCRIPT);
	usj_record rec;
	usj_record_init(&rec);
	while (usj_read(in, &rec) && r->n < 256) {
		r->names[r->n] = xstrdup(usj_record_str(&rec, "name"));
		const usj_tensor *t = usj_record_tensor(&rec, "tensor");
		if (!t)
			usj_die(USJ_EDATA, "%s: a record without a tensor", path);
		r->t[r->n] = *t;
		r->t[r->n].data = xmalloc_aligned(t->nbytes ? t->nbytes : 1);
		memcpy(r->t[r->n].data, t->data, t->nbytes);
		r->n++;
	}
	usj_record_free(&rec);
	usj_reader_close(in);
}

static const usj_tensor *find(const ref *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->names[i], name) == 0)
			return &r->t[i];
	fprintf(stderr, "#   the reference has no '%s'\n", name);
	return NULL;
}

/* agrees: max |ours - reference| <= 1e-4 max |reference| */
static int agrees(const char *what, const float *ours, const usj_tensor *want)
{
	if (!want)
		return 0;
	double err = 0, mag = 1e-12;
	for (int64_t i = 0; i < want->count; i++) {
		double w = usj_tensor_at(want, i);
		err = worse(err, fabs(ours[i] - w));
		mag = fmax(mag, fabs(w));
	}
	if (err > 1e-4 * mag)
		fprintf(stderr, "#   %s: max error %.3g against magnitude %.3g (relative %.3g)\n", what, err, mag, err / mag);
	return err <= 1e-4 * mag;
}

static const char *skip_reason;
static model m;
static ref want;

static void forward_and_gradients(void)
{
	if (skip_reason) {
		printf("# skip: %s\n", skip_reason);
		return;
	}
	double loss = step(&m);
	CHECK(agrees("encoder tokens", m.enc.blocks.out, find(&want, "tokens")));
	CHECK(agrees("predictions", m.pred.out, find(&want, "pred")));
	float l = (float)loss;
	CHECK(agrees("loss", &l, find(&want, "loss")));
	for (int i = 0; i < m.ps.n; i++) {
		char name[128];
		snprintf(name, sizeof name, "grad.%s", m.ps.p[i].name);
		CHECK(agrees(name, usj_param_g(&m.ps, i), find(&want, name)));
	}
}

static void adamw_trajectory(void)
{
	if (skip_reason) {
		printf("# skip: %s\n", skip_reason);
		return;
	}
	usj_adamw opt = {.beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f};
	float losses[STEPS];
	int clipped = 0;
	for (int s = 0; s < STEPS; s++) {
		losses[s] = (float)step(&m);
		clipped += usj_clip_grad_norm(&m.ps, CLIP) > CLIP;
		usj_adamw_step(&opt, &m.ps, LR, WD);
	}
	CHECK(clipped > 0); /* the clipping was exercised */
	CHECK(losses[STEPS - 1] < losses[0]);
	CHECK(agrees("loss trajectory", losses, find(&want, "losses")));
	for (int i = 0; i < m.ps.n; i++) {
		char name[128];
		snprintf(name, sizeof name, "final.%s", m.ps.p[i].name);
		CHECK(agrees(name, usj_param_w(&m.ps, i), find(&want, name)));
	}
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	usj_pool_init(2);
	test_scratch_make();
	usj_rng rng;
	usj_rng_seed(&rng, 7);
	build(&m, &rng);
	char *in = test_path("in.usj"), *out = test_path("out.usj");
	write_inputs(in, &m);
	if (access(SCRIPT, R_OK) != 0)
		skip_reason = "cannot find " SCRIPT ": run from the repository root";
	else if (system(PYTHON " -c 'import torch, msgpack_numpy' 2>/dev/null") != 0)
		skip_reason = PYTHON " cannot import torch: run 'make deps' to install python3-torch";
	if (!skip_reason) {
		char *cmd = xasprintf("%s %s %s %s", PYTHON, SCRIPT, in, out);
		int status = system(cmd);
		free(cmd);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "#   %s failed\n", SCRIPT);
			return 1;
		}
		read_ref(&want, out);
	}
	RUN(forward_and_gradients);
	RUN(adamw_trajectory);
	free(in);
	free(out);
	return TEST_DONE();
}
