/* us-teacher-encode: a frozen ViT over an images stream -> the teacher's
 * patch tokens (the cached targets of SALT's second stage) or one pooled
 * feature vector an image (for linear probes). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "half.h"
#include "mem.h"
#include "pool.h"
#include "progress.h"
#include "stream.h"
#include "vit.h"
#include "vit_io.h"
#include "vit_kernels.h"

static const char *synopsis =
	"us-teacher-encode -m MODEL (--tokens [--layer-norm] [--half] | --pool mean) [--heads H]\n"
	"                         [--mean M] [--std S] [-b BATCH] [--shard K/N] [--splits LIST] [-j N]\n"
	"                         [-o FILE] [IMAGES]\n"
	"       us-teacher-encode -m MODEL --export FILE.safetensors";

static void help(void)
{
	printf("usage: %s\n\n"
	       "Run a frozen ViT encoder over an images stream (us-ingest, us-phantom) and write\n"
	       "its final-layer patch tokens (a tokens stream: the cached targets of\n"
	       "us-salt-train --objective latent) or their mean (a features stream for us-probe).\n"
	       "Each image sees the whole grid; other record fields pass through, the image and\n"
	       "its region are left out.\n\n"
	       "  -m MODEL        a checkpoint (us-salt-train) or a timm ViT .safetensors file\n"
	       "  --tokens        write \"tokens\" (T, D): one row a patch, row-major over the grid\n"
	       "  --layer-norm    with --tokens: normalise each token (LayerNorm, no affine)\n"
	       "  --half          with --tokens: store them as float16 (<f2)\n"
	       "  --pool mean     write \"feature\" (D): the mean of the patch tokens\n"
	       "  --export FILE   write the encoder as a timm-layout .safetensors file that\n"
	       "                  PyTorch loads (positions as pos_embed), and stop\n"
	       "  --heads H       a .safetensors model's heads (default: width / 64)\n"
	       "  --mean M        pixels enter as (p / 255 - M) / S; defaults from the checkpoint\n"
	       "  --std S         or the .safetensors metadata, else 0.5 and 0.5 (timm's ViTs)\n"
	       "  -b BATCH        images a forward pass (default 32)\n"
	       "  --shard K/N     only records K, K+N, K+2N, ...\n"
	       "  --splits LIST   only records of these splits, comma-separated (e.g. test)\n"
	       "  -j N            threads (default: all cores)\n"
	       "  -o FILE         output (default standard output)\n"
	       "  -h, --help      this help\n"
	       "      --version   the version\n\n"
	       "Exit status: 0 success, 1 runtime failure, 2 usage, 3 bad input data.\n", synopsis);
}

typedef struct encode {
	usj_vit vit;
	usj_params ps;
	int tokens, layer_norm, half, batch;
	float mean, std;
	int shard_k, shard_n;
	const char *splits;      /* NULL: every record */
	usj_reader *in;
	usj_writer *out;
	usj_record *recs;    /* (batch) the records of a batch */
	float *images;       /* (batch, img, img) */
	float *patches;      /* (batch, N, PP) */
	int32_t *idx;        /* (batch, N) every grid position, in order */
	float *norm, *mean_scratch, *rstd_scratch; /* (N, D), (N) x2 */
	usj_progress progress;
	int64_t done;
} encode;

/* load_image: record r's image into img (S * S floats), or die naming it */
static void load_image(encode *e, usj_record *r, float *img)
{
	int S = e->vit.c.img;
	const usj_tensor *t = usj_record_tensor(r, "image");
	const char *id = usj_record_str(r, "id");
	if (!t || t->dtype != USJ_U1 || t->rank != 2)
		usj_die(USJ_EDATA, "%s: record %s has no image (uint8, S x S): is this an images stream?",
		        usj_reader_name(e->in), id ? id : "?");
	if (t->shape[0] != S || t->shape[1] != S)
		usj_die(USJ_EDATA, "%s: record %s: the image is %lldx%lld but the model takes %dx%d: ingest with --size %d",
		        usj_reader_name(e->in), id ? id : "?", (long long)t->shape[1], (long long)t->shape[0], S, S, S);
	const uint8_t *px = t->data;
	for (int i = 0; i < S * S; i++)
		img[i] = (px[i] / 255.0f - e->mean) / e->std;
}

static void flush(encode *e, int n)
{
	int N = e->vit.N, D = e->vit.c.blocks.dim;
	usj_patchify(e->patches, e->images, e->idx, n, N, 1, e->vit.c.img, e->vit.c.patch);
	const float *tok = usj_vit_infer(&e->vit, &e->ps, e->patches, e->idx, n, N); // tok (n, N, D)
	for (int b = 0; b < n; b++) {
		usj_record *r = &e->recs[b];
		usj_record_remove(r, "image");
		usj_record_remove(r, "region");
		const float *t = tok + (int64_t)b * N * D;
		if (!e->tokens) {
			int64_t shape[1] = {D};
			float *f = usj_record_set_tensor(r, "feature", USJ_F4, 1, shape)->data;
			for (int i = 0; i < D; i++) {
				double s = 0;
				for (int k = 0; k < N; k++)
					s += t[(int64_t)k * D + i];
				f[i] = (float)(s / N);
			}
		} else {
			if (e->layer_norm) {
				usj_layernorm_forward(e->norm, e->mean_scratch, e->rstd_scratch, t, NULL, NULL, N, D, 1e-6f);
				t = e->norm;
			}
			int64_t shape[2] = {N, D};
			usj_tensor *o = usj_record_set_tensor(r, "tokens", e->half ? USJ_F2 : USJ_F4, 2, shape);
			if (e->half)
				for (int64_t i = 0; i < (int64_t)N * D; i++)
					((uint16_t *)o->data)[i] = usj_float_to_half(t[i]);
			else
				memcpy(o->data, t, (size_t)N * D * sizeof(float));
		}
		usj_writer_write(e->out, r);
	}
	e->done += n;
	usj_progress_update(&e->progress, e->done);
}

static void pack_meta(msgpack_sbuffer *sb, const encode *e, const msgpack_sbuffer *model)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, (e->tokens ? 7 : 5) + (e->splits != NULL));
	usj_pack_cstr(&pk, "model");
	msgpack_sbuffer_write(sb, model->data, model->size);
	usj_pack_kv_str(&pk, "output", e->tokens ? "tokens" : "mean-pooled feature");
	usj_pack_kv_int(&pk, "grid", e->vit.G);
	usj_pack_cstr(&pk, "normalize");
	msgpack_pack_map(&pk, 2);
	usj_pack_kv_double(&pk, "mean", e->mean);
	usj_pack_kv_double(&pk, "std", e->std);
	if (e->tokens) {
		usj_pack_kv_bool(&pk, "layer_norm", e->layer_norm);
		usj_pack_kv_str(&pk, "dtype", e->half ? "<f2" : "<f4");
	}
	if (e->splits)
		usj_pack_kv_str(&pk, "splits", e->splits);
	usj_pack_cstr(&pk, "input");
	msgpack_pack_object(&pk, *usj_reader_meta(e->in));
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	static const struct option longopts[] = {
		{"tokens", no_argument, NULL, 'T'}, {"layer-norm", no_argument, NULL, 'L'},
		{"half", no_argument, NULL, 'H'}, {"pool", required_argument, NULL, 'P'},
		{"heads", required_argument, NULL, 'E'}, {"mean", required_argument, NULL, 'M'},
		{"std", required_argument, NULL, 'S'}, {"shard", required_argument, NULL, 'D'},
		{"export", required_argument, NULL, 'X'}, {"splits", required_argument, NULL, 'Z'},
		{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {0},
	};
	encode e = {.batch = 32, .shard_n = 1, .mean = NAN, .std = NAN};
	const char *model = NULL, *out = "-", *export = NULL;
	int threads = usj_cores(), heads = 0, pool = 0, c;
	while ((c = getopt_long(argc, argv, "m:b:j:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': model = optarg; break;
		case 'T': e.tokens = 1; break;
		case 'L': e.layer_norm = 1; break;
		case 'H': e.half = 1; break;
		case 'P':
			if (strcmp(optarg, "mean"))
				usj_usage_error(synopsis, "--pool wants mean, not '%s'", optarg);
			pool = 1;
			break;
		case 'E': heads = (int)usj_cli_int(synopsis, "--heads", optarg, 1, 4096); break;
		case 'M': e.mean = (float)usj_cli_double(synopsis, "--mean", optarg, -1e6, 1e6); break;
		case 'S': e.std = (float)usj_cli_double(synopsis, "--std", optarg, 1e-9, 1e6); break;
		case 'X': export = optarg; break;
		case 'b': e.batch = (int)usj_cli_int(synopsis, "-b", optarg, 1, 65536); break;
		case 'D': usj_cli_shard(synopsis, optarg, &e.shard_k, &e.shard_n); break;
		case 'Z': e.splits = usj_cli_splits(synopsis, "--splits", optarg); break;
		case 'j': threads = usj_cli_threads(synopsis, optarg); break;
		case 'o': out = optarg; break;
		case 'h': help(); usj_close_stdout(); return 0;
		case 'V': printf("us-teacher-encode %s\n", USJ_VERSION); usj_close_stdout(); return 0;
		default: usj_usage_error(synopsis, "unknown option");
		}
	}
	if (!model)
		usj_usage_error(synopsis, "no model: give -m MODEL");
	if (!export && e.tokens == pool)
		usj_usage_error(synopsis, "give one of --tokens and --pool mean");
	if (export && (e.tokens || pool || optind < argc))
		usj_usage_error(synopsis, "--export writes the model only: no --tokens, --pool or IMAGES");
	if ((e.layer_norm || e.half) && !e.tokens)
		usj_usage_error(synopsis, "--layer-norm and --half go with --tokens");
	if (optind < argc - 1)
		usj_usage_error(synopsis, "one IMAGES stream at a time");
	usj_pool_init(threads);
	msgpack_sbuffer model_meta, meta;
	msgpack_sbuffer_init(&model_meta);
	msgpack_sbuffer_init(&meta);
	float dmean, dstd;
	usj_encoder_load(model, heads, &e.vit, &e.ps, &model_meta, &dmean, &dstd);
	e.mean = isnan(e.mean) ? dmean : e.mean;
	e.std = isnan(e.std) ? dstd : e.std;
	if (export) {
		char err[300];
		int rc = usj_encoder_export(&e.vit, &e.ps, e.mean, e.std, export, err, sizeof err);
		if (rc)
			usj_die(rc, "%s: %s", export, err);
		usj_vit_free(&e.vit);
		usj_params_free(&e.ps);
		msgpack_sbuffer_destroy(&model_meta);
		usj_close_stdout();
		return 0;
	}
	e.in = usj_open_input(optind < argc ? argv[optind] : "-", "images", "us-ingest or us-phantom");
	pack_meta(&meta, &e, &model_meta);
	e.out = usj_writer_open(out, e.tokens ? "tokens" : "features", &meta);
	int S = e.vit.c.img, N = e.vit.N, D = e.vit.c.blocks.dim;
	e.recs = xcalloc((size_t)e.batch, sizeof *e.recs);
	for (int b = 0; b < e.batch; b++)
		usj_record_init(&e.recs[b]);
	e.images = xmalloc_aligned((size_t)e.batch * S * S * sizeof(float));
	e.patches = xmalloc_aligned((size_t)e.batch * N * e.vit.PP * sizeof(float));
	e.idx = xmalloc((size_t)e.batch * N * sizeof(int32_t));
	for (int64_t i = 0; i < (int64_t)e.batch * N; i++)
		e.idx[i] = (int32_t)(i % N);
	e.norm = xmalloc_aligned((size_t)N * D * sizeof(float));
	e.mean_scratch = xmalloc((size_t)N * sizeof(float));
	e.rstd_scratch = xmalloc((size_t)N * sizeof(float));
	usj_progress_start(&e.progress, "images", 0);
	int n = 0;
	for (int64_t i = 0;; i++) {
		usj_record *r = &e.recs[n];
		if (!usj_read(e.in, r))
			break;
		if (i % e.shard_n != e.shard_k)
			continue;
		const char *split = usj_record_str(r, "split");
		if (e.splits && !(split && usj_in_list(e.splits, split)))
			continue;
		load_image(&e, r, e.images + (int64_t)n * S * S);
		if (++n == e.batch) {
			flush(&e, n);
			n = 0;
		}
	}
	if (n)
		flush(&e, n);
	usj_progress_end(&e.progress, e.done);
	usj_writer_close(e.out, NULL);
	usj_reader_close(e.in);
	for (int b = 0; b < e.batch; b++)
		usj_record_free(&e.recs[b]);
	free(e.recs), free(e.images), free(e.patches), free(e.idx), free(e.norm), free(e.mean_scratch);
	free(e.rstd_scratch);
	usj_vit_free(&e.vit);
	usj_params_free(&e.ps);
	msgpack_sbuffer_destroy(&model_meta);
	msgpack_sbuffer_destroy(&meta);
	usj_close_stdout();
	return 0;
}
