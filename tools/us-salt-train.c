/* us-salt-train: SALT's two stages and the I-JEPA baseline (man/us-salt-train.1):
 * --objective pixels trains the teacher, latent a student on the teacher's
 * (cached) tokens, ema the baseline with an EMA teacher. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "err.h"
#include "half.h"
#include "mem.h"
#include "pool.h"
#include "progress.h"
#include "salt.h"
#include "stream.h"
#include "vit_io.h"

static const char *synopsis =
	"us-salt-train --objective pixels|latent|ema [--targets FILE | --teacher MODEL]\n"
	"                     [--preset smoke|mini|paper] [--steps N | --epochs E] [--batch B]\n"
	"                     [--lr LR] [--warmup W] [--wd WD] [--clip C] [--loss smooth-l1|l1|mse]\n"
	"                     [--no-norm-targets] [--usrc] [--min-keep K] [--no-augment]\n"
	"                     [--held-out F] [--cap N] [--seed K] [--dim D] [--depth L] [--heads H]\n"
	"                     [--patch P] [--pred-dim D] [--pred-depth L] [--pred-heads H]\n"
	"                     [--save-every N] [--log FILE] [--resume] [-j N] -o CHECKPOINT [IMAGES]";

static void help(void)
{
	printf("usage: %s\n\n"
	       "Train a ViT by masked prediction on an images stream (us-ingest, us-phantom).\n"
	       "CHECKPOINT receives the model of the lowest held-out loss (us-teacher-encode\n"
	       "reads it); CHECKPOINT.state the latest training state, for --resume.\n\n"
	       "  --objective O     pixels: the teacher (stage 1), per-patch-normalised pixels;\n"
	       "                    latent: a SALT student on the teacher's tokens; ema: I-JEPA\n"
	       "  --targets FILE    latent: the cached tokens (us-teacher-encode --tokens)\n"
	       "  --teacher MODEL   latent: compute them online from this encoder instead\n"
	       "  --preset P        smoke, mini (default) or paper: model, batch, schedule\n"
	       "  --steps N         optimiser steps (default: the preset's epochs); 0 writes\n"
	       "                    the freshly initialised model (a random-init baseline)\n"
	       "  --epochs E        epochs of the training images\n"
	       "  --batch B         images a step\n"
	       "  --lr LR           peak learning rate (warm-up from LR/10, cosine to LR/100)\n"
	       "  --warmup W        warm-up steps\n"
	       "  --wd WD           weight decay at the start (cosine to 10 WD)\n"
	       "  --clip C          gradient-norm clipping (0: none)\n"
	       "  --loss L          smooth-l1 (default for latent, ema), l1 or mse (pixels)\n"
	       "  --no-norm-targets do not layer-normalise teacher tokens before the loss\n"
	       "  --usrc            masks only where the image's region holds signal\n"
	       "  --min-keep K      fewest patches a mask block keeps\n"
	       "  --no-augment      no crops, flips, blur, contrast or speckle\n"
	       "  --held-out F      fraction of images held out to choose the model (0.05)\n"
	       "  --cap N           images of one dataset (\"dataset\" field) an epoch (0: all)\n"
	       "  --splits LIST     train on records of these splits, and those without one\n"
	       "                    (default train,val: never a test image)\n"
	       "  --seed K          seed (default 0)\n"
	       "  --dim, --depth, --heads, --patch, --pred-dim, --pred-depth, --pred-heads\n"
	       "                    override the preset's model\n"
	       "  --save-every N    write CHECKPOINT.state every N steps (default 100)\n"
	       "  --log FILE        JSON lines: step, loss, lr, wd, grad norm, img/s, held-out\n"
	       "  --resume          continue from CHECKPOINT.state (its options are used)\n"
	       "  -j N              threads (default: all cores)\n"
	       "  -o CHECKPOINT     the selected model\n"
	       "  -h, --help        this help\n"
	       "      --version     the version\n\n"
	       "Exit status: 0 success, 1 runtime failure (a NaN loss: the last saved state is\n"
	       "kept; a signal: the state is saved first), 2 usage, 3 bad input data.\n", synopsis);
}

/* Everything the command line says. */
typedef struct opts {
	usj_salt_config c;
	const char *targets, *teacher, *out, *log, *images, *splits;
	int64_t epochs;
	int save_every, resume, threads, steps_given;
} opts;

static void preset(opts *o, const char *name)
{
	usj_salt_config *c = &o->c;
	c->enc.patch = 8;
	c->enc.chans = 1;
	c->masks = usj_mask_defaults();
	c->masks.min_keep = 4;
	c->beta1 = 0.9f, c->beta2 = 0.95f, c->adam_eps = 1e-8f;
	c->clip = 1.0f;
	c->wd = 0.04, c->wd_final = 0.4;
	c->enc.blocks.eps = c->pred.blocks.eps = 1e-6f;
	if (!strcmp(name, "smoke")) {
		c->enc.patch = 4; /* 32-pixel images: an 8 x 8 grid */
		c->enc.blocks = (usj_blocks_config){.dim = 64, .depth = 2, .heads = 4, .eps = 1e-6f};
		c->pred.blocks = (usj_blocks_config){.dim = 32, .depth = 1, .heads = 4, .eps = 1e-6f};
		c->batch = 16, c->lr = 1e-3, o->epochs = 2;
	} else if (!strcmp(name, "mini")) {
		c->enc.blocks = (usj_blocks_config){.dim = 192, .depth = 6, .heads = 3, .eps = 1e-6f};
		c->pred.blocks = (usj_blocks_config){.dim = 96, .depth = 2, .heads = 3, .eps = 1e-6f};
		c->batch = 64, c->lr = 5e-4, o->epochs = 30;
	} else if (!strcmp(name, "paper")) { /* PAPER.md sections 2 and 4 */
		c->enc.patch = 16;
		c->masks.min_keep = 10;
		c->enc.blocks = (usj_blocks_config){.dim = 768, .depth = 12, .heads = 12, .eps = 1e-6f};
		c->pred.blocks = (usj_blocks_config){.dim = 384, .depth = 12, .heads = 12, .eps = 1e-6f};
		c->batch = 128, c->lr = 5e-5, o->epochs = 100;
	} else {
		usj_usage_error(synopsis, "--preset wants smoke, mini or paper, not '%s'", name);
	}
}

static const char *objective_names[] = {"pixels", "latent", "ema"};

static void parse(opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"objective", required_argument, NULL, 'O'}, {"targets", required_argument, NULL, 'T'},
		{"teacher", required_argument, NULL, 'E'}, {"preset", required_argument, NULL, 'P'},
		{"steps", required_argument, NULL, 's'}, {"epochs", required_argument, NULL, 'e'},
		{"batch", required_argument, NULL, 'b'}, {"lr", required_argument, NULL, 'l'},
		{"warmup", required_argument, NULL, 'w'}, {"wd", required_argument, NULL, 'W'},
		{"clip", required_argument, NULL, 'C'}, {"loss", required_argument, NULL, 'L'},
		{"no-norm-targets", no_argument, NULL, 'N'}, {"usrc", no_argument, NULL, 'U'},
		{"min-keep", required_argument, NULL, 'k'}, {"no-augment", no_argument, NULL, 'A'},
		{"held-out", required_argument, NULL, 'H'}, {"cap", required_argument, NULL, 'c'},
		{"seed", required_argument, NULL, 'S'}, {"dim", required_argument, NULL, 1},
		{"depth", required_argument, NULL, 2}, {"heads", required_argument, NULL, 3},
		{"patch", required_argument, NULL, 4}, {"pred-dim", required_argument, NULL, 5},
		{"pred-depth", required_argument, NULL, 6}, {"pred-heads", required_argument, NULL, 7},
		{"save-every", required_argument, NULL, 'v'}, {"log", required_argument, NULL, 'g'},
		{"splits", required_argument, NULL, 'Z'},
		{"resume", no_argument, NULL, 'R'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'}, {0},
	};
	/* the preset first: every other option overrides it */
	const char *p = "mini";
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--preset") && i + 1 < argc)
			p = argv[i + 1];
		else if (!strncmp(argv[i], "--preset=", 9))
			p = argv[i] + 9;
	preset(o, p);
	usj_salt_config *c = &o->c;
	c->aug = usj_augment_defaults();
	c->norm_targets = 1;
	c->loss_beta = 1.0f;
	c->held_out = 0.05;
	c->ema_start = 0.996, c->ema_end = 1.0;
	c->mean = c->std = 0.5f;
	c->objective = -1;
	c->loss = -1;
	c->warmup = -1;
	o->save_every = 100;
	o->splits = "train,val";
	int64_t steps = 0;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "j:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'O':
			for (c->objective = 0; c->objective < 3 && strcmp(optarg, objective_names[c->objective]); c->objective++)
				;
			if (c->objective == 3)
				usj_usage_error(synopsis, "--objective wants pixels, latent or ema, not '%s'", optarg);
			break;
		case 'T': o->targets = optarg; break;
		case 'E': o->teacher = optarg; break;
		case 'P': break;
		case 's': steps = usj_cli_int(synopsis, "--steps", optarg, 0, INT32_MAX); o->steps_given = 1; break;
		case 'e': o->epochs = usj_cli_int(synopsis, "--epochs", optarg, 1, 1000000); break;
		case 'b': c->batch = (int)usj_cli_int(synopsis, "--batch", optarg, 1, 65536); break;
		case 'l': c->lr = usj_cli_double(synopsis, "--lr", optarg, 0, 10); break;
		case 'w': c->warmup = usj_cli_int(synopsis, "--warmup", optarg, 0, INT32_MAX); break;
		case 'W': c->wd = usj_cli_double(synopsis, "--wd", optarg, 0, 10); c->wd_final = 10 * c->wd; break;
		case 'C': c->clip = (float)usj_cli_double(synopsis, "--clip", optarg, 0, 1e9); break;
		case 'L':
			if (!strcmp(optarg, "smooth-l1")) c->loss = USJ_LOSS_SMOOTH_L1;
			else if (!strcmp(optarg, "l1")) c->loss = USJ_LOSS_L1;
			else if (!strcmp(optarg, "mse")) c->loss = USJ_LOSS_MSE;
			else usj_usage_error(synopsis, "--loss wants smooth-l1, l1 or mse, not '%s'", optarg);
			break;
		case 'N': c->norm_targets = 0; break;
		case 'U': c->usrc = 1; break;
		case 'k': c->masks.min_keep = (int)usj_cli_int(synopsis, "--min-keep", optarg, 1, 100000); break;
		case 'A': c->aug = (usj_augment_config){.crop_min = 1}; break;
		case 'H': c->held_out = usj_cli_double(synopsis, "--held-out", optarg, 0, 0.9); break;
		case 'c': c->cap = (int)usj_cli_int(synopsis, "--cap", optarg, 0, INT32_MAX); break;
		case 'S': c->seed = (uint64_t)usj_cli_int(synopsis, "--seed", optarg, 0, INT64_MAX); break;
		case 1: c->enc.blocks.dim = (int)usj_cli_int(synopsis, "--dim", optarg, 4, 65536); break;
		case 2: c->enc.blocks.depth = (int)usj_cli_int(synopsis, "--depth", optarg, 1, 1000); break;
		case 3: c->enc.blocks.heads = (int)usj_cli_int(synopsis, "--heads", optarg, 1, 4096); break;
		case 4: c->enc.patch = (int)usj_cli_int(synopsis, "--patch", optarg, 1, 1024); break;
		case 5: c->pred.blocks.dim = (int)usj_cli_int(synopsis, "--pred-dim", optarg, 4, 65536); break;
		case 6: c->pred.blocks.depth = (int)usj_cli_int(synopsis, "--pred-depth", optarg, 1, 1000); break;
		case 7: c->pred.blocks.heads = (int)usj_cli_int(synopsis, "--pred-heads", optarg, 1, 4096); break;
		case 'v': o->save_every = (int)usj_cli_int(synopsis, "--save-every", optarg, 1, INT32_MAX); break;
		case 'g': o->log = optarg; break;
		case 'Z': o->splits = optarg; break;
		case 'R': o->resume = 1; break;
		case 'j': o->threads = usj_cli_threads(synopsis, optarg); break;
		case 'o': o->out = optarg; break;
		case 'h': help(); usj_close_stdout(); exit(0);
		case 'V': printf("us-salt-train %s\n", USJ_VERSION); usj_close_stdout(); exit(0);
		default: usj_usage_error(synopsis, "unknown option");
		}
	}
	if (o->resume) { /* the state's own command line decides the rest */
		for (int i = 1; i < argc; i++) {
			const char *a = argv[i];
			if (!strcmp(a, "-o") || !strcmp(a, "-j") || !strcmp(a, "--log"))
				i++;
			else if (strcmp(a, "--resume") && strncmp(a, "-o", 2) && strncmp(a, "-j", 2) && strncmp(a, "--log=", 6))
				usj_usage_error(synopsis, "--resume takes its settings from the state file: give only -o, -j "
				                "and --log with it, not '%s'", a);
		}
		if (!o->out)
			usj_usage_error(synopsis, "--resume needs -o CHECKPOINT: the state is CHECKPOINT.state");
		return;
	}
	if ((int)c->objective < 0)
		usj_usage_error(synopsis, "no --objective given: pixels, latent or ema");
	if (!o->out)
		usj_usage_error(synopsis, "no -o CHECKPOINT given");
	if (c->objective == USJ_OBJ_LATENT && !o->targets == !o->teacher)
		usj_usage_error(synopsis, "--objective latent needs one of --targets FILE and --teacher MODEL");
	if (c->objective != USJ_OBJ_LATENT && (o->targets || o->teacher))
		usj_usage_error(synopsis, "--targets and --teacher go with --objective latent");
	if (optind < argc - 1)
		usj_usage_error(synopsis, "one IMAGES stream at a time");
	o->images = optind < argc ? argv[optind] : "-";
	if ((int)c->loss < 0)
		c->loss = c->objective == USJ_OBJ_PIXELS ? USJ_LOSS_MSE : USJ_LOSS_SMOOTH_L1;
	c->enc.blocks.hidden = 4 * c->enc.blocks.dim;
	c->pred.blocks.hidden = 4 * c->pred.blocks.dim;
	c->steps = steps;
}

/* ---- targets and teachers ---- */

/* load_targets: the tokens stream at path as (n, N, Dt) floats in the
 * imageset's order; dies naming what is missing or mis-shaped */
static float *load_targets(const char *path, const usj_imageset *s, int N, int *Dt)
{
	usj_reader *r = usj_open_input(path, "tokens", "us-teacher-encode --tokens");
	usj_record rec;
	usj_record_init(&rec);
	float *all = NULL;
	uint8_t *seen = xcalloc((size_t)s->n, 1);
	*Dt = 0;
	while (usj_read(r, &rec)) {
		const char *id = usj_record_str(&rec, "id");
		const usj_tensor *t = usj_record_tensor(&rec, "tokens");
		if (!id || !t || t->rank != 2 || (t->dtype != USJ_F4 && t->dtype != USJ_F2))
			usj_die(USJ_EDATA, "%s: record %lld lacks an id or a tokens array (T, D) of <f4 or <f2", path,
			        (long long)usj_reader_records(r));
		int i = usj_imageset_find(s, id);
		if (i < 0)
			continue; /* targets of images not trained on */
		if (!*Dt) {
			*Dt = (int)t->shape[1];
			all = xmalloc_aligned((size_t)s->n * N * *Dt * sizeof(float));
		}
		if (t->shape[0] != N || t->shape[1] != *Dt)
			usj_die(USJ_EDATA, "%s: the targets of %s are %lldx%lld, but the student's grid has %d patches and the "
			        "first targets %d channels: make the targets at the images' size with one teacher", path, id,
			        (long long)t->shape[0], (long long)t->shape[1], N, *Dt);
		float *o = all + (size_t)i * N * *Dt;
		for (int64_t k = 0; k < t->count; k++)
			o[k] = t->dtype == USJ_F4 ? ((const float *)t->data)[k] : usj_half_to_float(((const uint16_t *)t->data)[k]);
		seen[i] = 1;
	}
	for (int i = 0; i < s->n; i++)
		if (!seen[i])
			usj_die(USJ_EDATA, "%s has no targets for image %s: make them from the same images stream", path,
			        s->ids[i]);
	usj_record_free(&rec);
	usj_reader_close(r);
	free(seen);
	return all;
}

/* ---- checkpoints ---- */

static void pack_meta(msgpack_sbuffer *sb, const usj_salt *t, int argc, char **argv, double best)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 8);
	usj_pack_cstr(&pk, "encoder");
	usj_vit_config_pack(&pk, &t->enc.c);
	usj_pack_cstr(&pk, "predictor");
	usj_pred_config_pack(&pk, &t->pred.c);
	usj_pack_cstr(&pk, "normalize");
	msgpack_pack_map(&pk, 2);
	usj_pack_kv_double(&pk, "mean", t->c.mean);
	usj_pack_kv_double(&pk, "std", t->c.std);
	usj_pack_kv_str(&pk, "objective", objective_names[t->c.objective]);
	usj_pack_kv_int(&pk, "step", t->step);
	usj_pack_kv_double(&pk, "best_held_out", best);
	/* the settings in effect, presets and defaults resolved */
	const usj_salt_config *c = &t->c;
	usj_pack_cstr(&pk, "train");
	msgpack_pack_map(&pk, 26);
	usj_pack_kv_int(&pk, "batch", c->batch);
	usj_pack_kv_int(&pk, "steps", c->steps);
	usj_pack_kv_int(&pk, "warmup", c->warmup);
	usj_pack_kv_double(&pk, "lr_start", c->lr_start);
	usj_pack_kv_double(&pk, "lr", c->lr);
	usj_pack_kv_double(&pk, "lr_final", c->lr_final);
	usj_pack_kv_double(&pk, "wd", c->wd);
	usj_pack_kv_double(&pk, "wd_final", c->wd_final);
	usj_pack_kv_double(&pk, "beta1", c->beta1);
	usj_pack_kv_double(&pk, "beta2", c->beta2);
	usj_pack_kv_double(&pk, "clip", c->clip);
	usj_pack_kv_str(&pk, "loss", c->loss == USJ_LOSS_MSE ? "mse" : c->loss == USJ_LOSS_L1 ? "l1" : "smooth-l1");
	usj_pack_kv_bool(&pk, "norm_targets", c->norm_targets);
	usj_pack_kv_double(&pk, "ema_start", c->ema_start);
	usj_pack_kv_double(&pk, "ema_end", c->ema_end);
	usj_pack_kv_double(&pk, "held_out", c->held_out);
	usj_pack_kv_int(&pk, "cap", c->cap);
	usj_pack_kv_int(&pk, "seed", (int64_t)c->seed);
	usj_pack_kv_bool(&pk, "usrc", c->usrc);
	usj_pack_kv_int(&pk, "npred", c->masks.npred);
	usj_pack_kv_double(&pk, "pred_scale_min", c->masks.pred_scale[0]);
	usj_pack_kv_double(&pk, "pred_scale_max", c->masks.pred_scale[1]);
	usj_pack_kv_double(&pk, "enc_scale_min", c->masks.enc_scale[0]);
	usj_pack_kv_int(&pk, "min_keep", c->masks.min_keep);
	usj_pack_kv_double(&pk, "crop_min", c->objective == USJ_OBJ_LATENT ? 1.0 : c->aug.crop_min);
	usj_pack_kv_bool(&pk, "flips", c->aug.flips);
	/* the command line itself, so that --resume trains exactly as before;
	 * where the output goes, the threads and the log are the resuming run's */
	usj_pack_cstr(&pk, "argv");
	int n = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			msgpack_pack_array(&pk, (size_t)n);
		for (int i = 1; i < argc; i++) {
			if (!strcmp(argv[i], "--resume"))
				continue;
			if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "-j") || !strcmp(argv[i], "--log")) {
				i++;
				continue;
			}
			if (!strncmp(argv[i], "-o", 2) || !strncmp(argv[i], "-j", 2) || !strncmp(argv[i], "--log=", 6))
				continue;
			if (pass)
				usj_pack_cstr(&pk, argv[i]);
			else
				n++;
		}
	}
}

static void save(const char *path, const usj_salt *t, int argc, char **argv, double best, int state)
{
	usj_tensorset ts;
	usj_tensorset_init(&ts);
	if (t->c.objective == USJ_OBJ_EMA && !state) {
		/* the model for use is I-JEPA's target encoder, with the predictor */
		usj_params_export(&t->tps, t->tps.w, 0, t->tps.n, "", &ts);
		usj_params_export(&t->ps, t->ps.w, t->nenc, t->ps.n, "", &ts);
	} else {
		usj_params_export(&t->ps, t->ps.w, 0, t->ps.n, "", &ts);
	}
	if (state) {
		if (t->ps.m) {
			usj_params_export(&t->ps, t->ps.m, 0, t->ps.n, "opt.m.", &ts);
			usj_params_export(&t->ps, t->ps.v, 0, t->ps.n, "opt.v.", &ts);
		}
		if (t->c.objective == USJ_OBJ_EMA)
			usj_params_export(&t->tps, t->tps.w, 0, t->tps.n, "target_encoder.", &ts);
	}
	msgpack_sbuffer meta;
	msgpack_sbuffer_init(&meta);
	pack_meta(&meta, t, argc, argv, best);
	usj_checkpoint_write(path, &ts, &meta);
	msgpack_sbuffer_destroy(&meta);
	usj_tensorset_free(&ts);
}

/* resume_args: the command line a state file was made with, and -o out */
static char **resume_args(const char *state, const char *out, int *argc_out, usj_tensorset *ts,
                          msgpack_sbuffer *meta)
{
	usj_checkpoint_read(state, ts, meta);
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	const msgpack_object *a = NULL;
	if (msgpack_unpack_next(&u, meta->data, meta->size, NULL) == MSGPACK_UNPACK_SUCCESS)
		a = usj_object_get(&u.data, "argv");
	if (!a || a->type != MSGPACK_OBJECT_ARRAY)
		usj_die(USJ_EDATA, "%s is not a training state of us-salt-train (no argv in its meta)", state);
	char **argv = xcalloc(a->via.array.size + 4, sizeof *argv);
	argv[0] = xstrdup("us-salt-train");
	for (uint32_t i = 0; i < a->via.array.size; i++) {
		const msgpack_object *s = &a->via.array.ptr[i];
		if (s->type != MSGPACK_OBJECT_STR)
			usj_die(USJ_EDATA, "%s: its argv holds a non-string", state);
		argv[i + 1] = xasprintf("%.*s", (int)s->via.str.size, s->via.str.ptr);
	}
	argv[a->via.array.size + 1] = xstrdup("-o");
	argv[a->via.array.size + 2] = xstrdup(out);
	*argc_out = (int)a->via.array.size + 3;
	msgpack_unpacked_destroy(&u);
	return argv;
}

static double meta_number(const msgpack_sbuffer *meta, const char *key)
{
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	double v = NAN;
	if (msgpack_unpack_next(&u, meta->data, meta->size, NULL) == MSGPACK_UNPACK_SUCCESS)
		v = usj_map_number(&u.data, key, NAN);
	msgpack_unpacked_destroy(&u);
	return v;
}

/* ---- the loop ---- */

static volatile sig_atomic_t stop_signal;
static void on_stop(int sig)
{
	stop_signal = sig;
	signal(sig, SIG_DFL); /* a second one ends the program at once */
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	opts o = {.threads = usj_cores()};
	parse(&o, argc, argv);
	char *state = xasprintf("%s.state", o.out);
	usj_tensorset resume_ts;
	usj_tensorset_init(&resume_ts);
	msgpack_sbuffer resume_meta;
	msgpack_sbuffer_init(&resume_meta);
	char **rargv = NULL; /* the state's command line, when resuming */
	int rargc = 0;
	if (o.resume) { /* the saved command line decides everything but outputs, threads and the log */
		opts now = o;
		rargv = resume_args(state, now.out, &rargc, &resume_ts, &resume_meta);
		o = (opts){.threads = now.threads};
		parse(&o, rargc, rargv);
		o.out = now.out;
		o.log = now.log;
		o.resume = 1;
		argc = rargc;
		argv = rargv;
	}
	int threads = o.threads;
	usj_pool_init(threads);
	usj_imageset data;
	usj_imageset_load(&data, o.images, o.splits);
	usj_imageset_hold_out(&data, o.c.held_out, o.c.seed);
	o.c.enc.img = data.S;
	if (data.S % o.c.enc.patch)
		usj_die(USJ_EDATA, "%s: the images are %dx%d, not a multiple of the patch %d: ingest with --size %d",
		        o.images, data.S, data.S, o.c.enc.patch, data.S / o.c.enc.patch * o.c.enc.patch);
	int N = (data.S / o.c.enc.patch) * (data.S / o.c.enc.patch), Dt = 0;
	float *cache = o.targets ? load_targets(o.targets, &data, N, &Dt) : NULL;
	usj_params tps = {0};
	usj_vit teacher = {0};
	if (o.teacher) {
		usj_encoder_load(o.teacher, 0, &teacher, &tps, NULL, &o.c.teacher_mean, &o.c.teacher_std);
		if (teacher.c.img != data.S || teacher.c.patch != o.c.enc.patch)
			usj_die(USJ_EDATA, "%s: the teacher takes %dx%d images in %d-pixel patches, the student %dx%d in %d: "
			        "train the student on the teacher's grid (--patch, and the image size)", o.teacher,
			        teacher.c.img, teacher.c.img, teacher.c.patch, data.S, data.S, o.c.enc.patch);
	}
	int spe = (usj_epoch_size(&data, o.c.cap) + o.c.batch - 1) / o.c.batch;
	spe = spe > 0 ? spe : 1;
	if (!o.steps_given)
		o.c.steps = o.epochs * spe;
	if (o.c.warmup < 0)
		o.c.warmup = o.c.steps / 10;
	o.c.lr_start = o.c.lr / 10, o.c.lr_final = o.c.lr / 100;
	usj_salt t;
	usj_salt_init(&t, &o.c, &data, o.teacher ? &tps : NULL, o.teacher ? &teacher : NULL, cache, Dt);
	double best = INFINITY;
	if (o.resume) {
		char err[300];
		int rc = usj_params_import(&t.ps, t.ps.w, 0, t.ps.n, "", &resume_ts, err, sizeof err);
		if (!rc && usj_tensorset_find(&resume_ts, "opt.m.patch_embed.proj.weight")) {
			usj_params_alloc_moments(&t.ps);
			rc = usj_params_import(&t.ps, t.ps.m, 0, t.ps.n, "opt.m.", &resume_ts, err, sizeof err);
			if (!rc)
				rc = usj_params_import(&t.ps, t.ps.v, 0, t.ps.n, "opt.v.", &resume_ts, err, sizeof err);
		}
		if (!rc && o.c.objective == USJ_OBJ_EMA)
			rc = usj_params_import(&t.tps, t.tps.w, 0, t.tps.n, "target_encoder.", &resume_ts, err, sizeof err);
		if (rc)
			usj_die(rc, "%s: %s", state, err);
		t.step = t.opt.step = (int64_t)meta_number(&resume_meta, "step");
		best = meta_number(&resume_meta, "best_held_out");
		best = isnan(best) ? INFINITY : best;
	}
	usj_tensorset_free(&resume_ts);
	msgpack_sbuffer_destroy(&resume_meta);
	FILE *logf = NULL;
	if (o.log && !(logf = fopen(o.log, o.resume ? "a" : "w")))
		usj_die(USJ_EFAIL, "cannot open %s:", o.log);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	usj_progress progress;
	usj_progress_start(&progress, "steps", o.c.steps);
	double t0 = usj_now();
	int64_t first = t.step;
	int saved_any = 0;
	while (t.step < o.c.steps && !stop_signal) {
		usj_step_info info;
		double loss = usj_salt_step(&t, &info);
		if (!isfinite(loss))
			usj_die(USJ_EFAIL, "the loss is %s at step %lld: stopped; %s holds the last good state (lower --lr or "
			        "--clip)", isnan(loss) ? "NaN" : "infinite", (long long)t.step + 1,
			        saved_any || o.resume ? state : "no file yet");
		double rate = (double)(t.step - first) * o.c.batch / (usj_now() - t0 + 1e-9);
		if (logf)
			fprintf(logf, "{\"step\":%lld,\"loss\":%.9g,\"lr\":%.6g,\"wd\":%.6g,\"grad_norm\":%.6g,\"img_s\":%.1f}\n",
			        (long long)t.step, loss, info.lr, info.wd, info.grad_norm, rate);
		snprintf(progress.note, sizeof progress.note, "loss %.4g, lr %.2g, %.0f img/s", loss, info.lr, rate);
		usj_progress_update(&progress, t.step);
		int epoch_end = t.step % spe == 0 || t.step == o.c.steps;
		if (epoch_end) {
			double held = usj_salt_held_out(&t);
			if (logf && !isnan(held))
				fprintf(logf, "{\"step\":%lld,\"held_out\":%.9g}\n", (long long)t.step, held);
			if (isnan(held) || held < best) { /* the selected model: the lowest held-out loss */
				best = isnan(held) ? best : held;
				save(o.out, &t, argc, argv, best, 0);
			}
		}
		if (t.step % o.save_every == 0 || t.step == o.c.steps) {
			save(state, &t, argc, argv, best, 1);
			saved_any = 1;
		}
		if (logf)
			fflush(logf);
	}
	usj_progress_end(&progress, t.step);
	if (!o.c.steps) /* --steps 0: the freshly initialised model, the random-init baseline */
		save(o.out, &t, argc, argv, best, 0);
	int code = 0;
	if (stop_signal && t.step < o.c.steps) {
		save(state, &t, argc, argv, best, 1);
		usj_warn("stopped by a signal at step %lld: %s holds the state; continue with --resume", (long long)t.step,
		         state);
		code = USJ_EFAIL;
	}
	if (logf && fclose(logf) != 0)
		usj_die(USJ_EFAIL, "write error on %s:", o.log);
	usj_salt_free(&t);
	free(cache);
	usj_imageset_free(&data);
	free(state);
	for (int i = 0; i < rargc; i++)
		free(rargv[i]);
	free(rargv);
	usj_close_stdout();
	return code;
}
