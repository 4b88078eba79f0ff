/* vit-bench: the speed of the C ViT on random data, warm-up excluded.
 * train: one SALT step (the student encoder on the context tokens, the
 * predictor to the targets, Smooth-L1 against cached teacher tokens,
 * backward, clipping, AdamW); infer: the teacher, the encoder on every
 * token, forward only; sgemm: the pool's matrix product on square
 * matrices, the peak the other two are measured against.
 * Speed is achieved GFLOP/s of an explicit FLOP model: the matrix products
 * (attention's two a head included), and training as three forwards. The
 * model counts the products this code runs: the predictor's last block on
 * the target rows only, where PyTorch's reference (vit_torch.py) runs all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adamw.h"
#include "cli.h"
#include "err.h"
#include "mem.h"
#include "pool.h"
#include "progress.h"
#include "vit.h"
#include "vit_kernels.h"

static const char *synopsis =
	"vit-bench [--config tiny|small|vit-t] [--threads N] [--steps K] [--mode train|infer|sgemm] [--profile]";

typedef struct bench_config {
	const char *name;
	usj_vit_config enc;
	usj_pred_config pred;
	int batch;
} bench_config;

/* Context 25 % of the grid, targets the other 75 %. The predictors' heads
 * are the encoders' (they divide the predictors' widths). */
#define BLOCKS(D, L, NH) {.depth = (L), .dim = (D), .heads = (NH), .hidden = 4 * (D), .eps = 1e-6f}
static const bench_config CONFIGS[] = {
	{"tiny", {.img = 64, .patch = 8, .chans = 1, .blocks = BLOCKS(64, 4, 4)},
	 {.in_dim = 64, .out_dim = 64, .blocks = BLOCKS(64, 2, 4)}, 64},
	{"small", {.img = 128, .patch = 16, .chans = 1, .blocks = BLOCKS(192, 6, 3)},
	 {.in_dim = 192, .out_dim = 192, .blocks = BLOCKS(96, 2, 3)}, 64},
	{"vit-t", {.img = 224, .patch = 16, .chans = 1, .blocks = BLOCKS(192, 12, 3)},
	 {.in_dim = 192, .out_dim = 192, .blocks = BLOCKS(96, 4, 3)}, 32},
};

/* blocks_flops: one forward of a block stack on B images of T tokens of
 * which the last block computes Tq (lib/vit.c): qkv, proj, fc1, fc2, and
 * per head q k^T and att v (2 T T hs each, 2 Tq T hs in the last block) */
static double blocks_flops(const usj_blocks_config *c, int B, int T, int Tq)
{
	double C = c->dim, H = c->hidden;
	double block = 2.0 * B * T * C * (3 * C + C + 2 * H) + 4.0 * B * T * T * C;
	double last = 2.0 * B * T * C * 3 * C + 2.0 * B * Tq * C * (C + 2 * H) + 4.0 * B * Tq * T * C;
	return c->depth ? (c->depth - 1) * block + last : 0.0;
}

/* step_flops: the forward of the step; training counts it three times. The
 * predictor's first qkv runs on its B Tc + N distinct rows, not its B T
 * (lib/vit.c: a target's mask token is the same in every image). */
static double step_flops(const bench_config *bc, const usj_vit *enc, int train, int Tc, int Tt)
{
	int B = bc->batch, D = bc->enc.blocks.dim, Dp = bc->pred.blocks.dim, Do = bc->pred.out_dim;
	if (!train)
		return 2.0 * B * enc->N * enc->PP * D + blocks_flops(&bc->enc.blocks, B, enc->N, enc->N);
	double f = 2.0 * B * Tc * enc->PP * D + blocks_flops(&bc->enc.blocks, B, Tc, Tc) + 2.0 * B * Tc * D * Dp +
	           blocks_flops(&bc->pred.blocks, B, Tc + Tt, Tt) + 2.0 * B * Tt * Dp * Do;
	if (bc->pred.blocks.depth)
		f -= 2.0 * ((double)B * Tt - enc->N) * Dp * 3 * Dp;
	return 3 * f;
}

/* sgemm_peak: out (S, S) = a (S, S) b (S, S)^T through the pool, steps times */
static void sgemm_peak(int steps, int threads)
{
	enum { S = 1024 };
	float *a = xmalloc_aligned((size_t)S * S * sizeof(float)), *b = xmalloc_aligned((size_t)S * S * sizeof(float));
	float *out = xmalloc_aligned((size_t)S * S * sizeof(float));
	usj_rng rng;
	usj_rng_seed(&rng, 1);
	for (int64_t i = 0; i < (int64_t)S * S; i++) {
		a[i] = (float)usj_rng_normal(&rng);
		b[i] = (float)usj_rng_normal(&rng);
	}
	usj_matmul_forward(out, a, b, NULL, S, S, S); /* warm-up */
	double t0 = usj_now();
	for (int s = 0; s < steps; s++)
		usj_matmul_forward(out, a, b, NULL, S, S, S);
	double sec = usj_now() - t0, gflops = 2.0 * S * S * S * steps / sec / 1e9;
	printf("sgemm %d x %d x %d, %d threads: %.2f ms a product\n", S, S, S, threads, 1e3 * sec / steps);
	printf("GFLOP/s: %.1f\n", gflops);
	free(a);
	free(b);
	free(out);
}

/* print_profile: the kernels' share of the timed steps */
static void print_profile(double total, int steps)
{
	const usj_kernel_stats *k = usj_kernel_profile_rows();
	double in_kernels = 0.0;
	printf("%-20s %9s %9s %7s %9s\n", "kernel", "calls", "ms/step", "share", "GFLOP/s");
	for (int i = 0; i < USJ_K_COUNT; i++) {
		in_kernels += k[i].seconds;
		printf("%-20s %9lld %9.2f %6.1f%% %9.1f\n", k[i].name, (long long)(k[i].calls / steps),
		       1e3 * k[i].seconds / steps, 100 * k[i].seconds / total,
		       k[i].seconds > 0 ? k[i].flops / k[i].seconds / 1e9 : 0.0);
	}
	printf("%-20s %9s %9.2f %6.1f%%\n", "other", "", 1e3 * (total - in_kernels) / steps,
	       100 * (total - in_kernels) / total);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	const char *name = "small", *mode = "train";
	int threads = 1, steps = 10, profile = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			printf("usage: %s\n", synopsis);
			usj_close_stdout();
			return USJ_OK;
		}
		if (!strcmp(argv[i], "--profile")) {
			profile = 1;
			continue;
		}
		if (i + 1 == argc)
			usj_usage_error(synopsis, "%s wants a value", argv[i]);
		if (!strcmp(argv[i], "--config"))
			name = argv[++i];
		else if (!strcmp(argv[i], "--mode"))
			mode = argv[++i];
		else if (!strcmp(argv[i], "--threads"))
			threads = (int)usj_cli_int(synopsis, "--threads", argv[++i], 1, 256);
		else if (!strcmp(argv[i], "--steps"))
			steps = (int)usj_cli_int(synopsis, "--steps", argv[++i], 1, 1000000);
		else
			usj_usage_error(synopsis, "unknown option %s", argv[i]);
	}
	int train = !strcmp(mode, "train");
	if (!train && strcmp(mode, "infer") && strcmp(mode, "sgemm"))
		usj_usage_error(synopsis, "--mode is train, infer or sgemm, not '%s'", mode);
	const bench_config *bc = NULL;
	for (size_t i = 0; i < sizeof CONFIGS / sizeof CONFIGS[0]; i++)
		if (!strcmp(CONFIGS[i].name, name))
			bc = &CONFIGS[i];
	if (!bc)
		usj_usage_error(synopsis, "--config is tiny, small or vit-t, not '%s'", name);
	usj_pool_init(threads);
	if (!strcmp(mode, "sgemm")) {
		sgemm_peak(steps, threads);
		usj_close_stdout();
		return USJ_OK;
	}

	usj_params ps = {0};
	usj_vit enc;
	usj_pred pred;
	usj_vit_register(&enc, &bc->enc, &ps);
	if (train)
		usj_pred_register(&pred, &bc->pred, enc.G, &ps);
	usj_params_alloc(&ps);
	usj_rng rng;
	usj_rng_seed(&rng, 1);
	usj_vit_init(&enc, &ps, &rng);
	if (train)
		usj_pred_init(&pred, &ps, &rng);
	/* random images, targets and masks: each image's grid in a random order,
	 * the first quarter its context */
	int B = bc->batch, N = enc.N, D = bc->enc.blocks.dim, Do = bc->pred.out_dim;
	int Tc = train ? N / 4 : N, Tt = train ? N - Tc : 0;
	float *images = xmalloc_aligned((size_t)B * enc.PP * N * sizeof(float));
	float *patches = xmalloc_aligned((size_t)B * enc.PP * N * sizeof(float));
	float *target = xmalloc_aligned((size_t)B * (Tt + 1) * Do * sizeof(float));
	float *dpred = xmalloc_aligned((size_t)B * (Tt + 1) * Do * sizeof(float));
	float *dctx = xmalloc_aligned((size_t)B * Tc * D * sizeof(float));
	int32_t *idx = xmalloc((size_t)B * N * sizeof(int32_t)), *ctx_idx = xmalloc((size_t)B * N * sizeof(int32_t));
	int32_t *tgt_idx = xmalloc((size_t)B * N * sizeof(int32_t));
	for (int64_t i = 0; i < (int64_t)B * enc.PP * N; i++)
		images[i] = (float)usj_rng_normal(&rng);
	for (int64_t i = 0; i < (int64_t)B * Tt * Do; i++)
		target[i] = (float)usj_rng_normal(&rng);
	for (int b = 0; b < B; b++) {
		int32_t *g = idx + (int64_t)b * N;
		for (int t = 0; t < N; t++)
			g[t] = t;
		for (int t = N - 1; t > 0 && train; t--) {
			int u = (int)usj_rng_below(&rng, (uint64_t)t + 1);
			int32_t x = g[t];
			g[t] = g[u];
			g[u] = x;
		}
		memcpy(ctx_idx + (int64_t)b * Tc, g, (size_t)Tc * sizeof(int32_t));
		memcpy(tgt_idx + (int64_t)b * Tt, g + Tc, (size_t)Tt * sizeof(int32_t));
	}
	usj_patchify(patches, images, ctx_idx, B, Tc, bc->enc.chans, bc->enc.img, bc->enc.patch);

	double flops = step_flops(bc, &enc, train, Tc, Tt), total = 0.0, best = 1e30;
	printf("vit-bench: %s %s, %d threads, batch %d, %d context + %d target tokens, %.2f M parameters, "
	       "%.2f GFLOP a step\n", bc->name, mode, threads, B, Tc, Tt, ps.total / 1e6, flops / 1e9);
	usj_adamw opt = {.beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f};
	int warm = 2;
	for (int s = -warm; s < steps; s++) {
		if (s == 0 && profile)
			usj_kernel_profile(1);
		double t0 = usj_now(), loss = 0.0;
		const float *tok = (train ? usj_vit_forward : usj_vit_infer)(&enc, &ps, patches, ctx_idx, B, Tc);
		if (train) {
			usj_params_zero_grad(&ps);
			const float *p = usj_pred_forward(&pred, &ps, tok, ctx_idx, tgt_idx, B, Tc, Tt);
			loss = usj_loss_forward(USJ_LOSS_SMOOTH_L1, p, target, (int64_t)B * Tt * Do, 1.0f);
			usj_loss_backward(dpred, USJ_LOSS_SMOOTH_L1, p, target, (int64_t)B * Tt * Do, 1.0f);
			usj_pred_backward(&pred, &ps, dpred, dctx);
			usj_vit_backward(&enc, &ps, dctx);
			usj_clip_grad_norm(&ps, 1.0);
			usj_adamw_step(&opt, &ps, 1e-4f, 0.05f);
		}
		double dt = usj_now() - t0;
		if (s >= 0) {
			total += dt;
			best = dt < best ? dt : best;
		}
		printf("step %d: %.2f ms%s", s, 1e3 * dt, s < 0 ? " (warm-up)" : "");
		if (train)
			printf(", loss %.6f", loss);
		printf("\n");
	}
	printf("ms/step: %.2f (best %.2f), GFLOP/s: %.1f\n", 1e3 * total / steps, 1e3 * best,
	       flops * steps / total / 1e9);
	if (profile)
		print_profile(total, steps);
	printf("img/s: %.1f\n", B * steps / total);
	usj_vit_free(&enc);
	if (train)
		usj_pred_free(&pred);
	usj_params_free(&ps);
	void *bufs[] = {images, patches, target, dpred, dctx, idx, ctx_idx, tgt_idx};
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
		free(bufs[i]);
	usj_close_stdout();
	return USJ_OK;
}
