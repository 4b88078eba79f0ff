/* us-corrupt: the robustness protocol's degradations (PAPER.md section 5)
 * applied to the images of chosen splits of an images stream. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "corrupt.h"
#include "err.h"
#include "mem.h"
#include "percentile.h"
#include "pool.h"
#include "progress.h"
#include "rng.h"
#include "stream.h"

static const char *synopsis =
	"us-corrupt --kind blur|contrast|speckle --severity 1|2|3 [--splits LIST] [--seed K]\n"
	"                  [-j N] [-o FILE] [IMAGES]";

static void help(void)
{
	printf("usage: %s\n\n"
	       "Degrade the images of an images stream (us-ingest, us-phantom) as the robustness\n"
	       "protocol does, at severity e: Gaussian blur (sigma e, 2 floor(2e)+1 taps), contrast\n"
	       "loss around the median inside the scan region (alpha 0.7, 0.5, 0.3), or speckle\n"
	       "I (1 + n), n Gaussian of std 0.35 e correlated by a Gaussian of sigma e/2\n"
	       "(2 floor(e)+1 taps), clipped. Only records of the chosen splits change; every\n"
	       "other record and every other field passes through.\n\n"
	       "  --kind K        blur, contrast or speckle\n"
	       "  --severity E    1, 2 or 3\n"
	       "  --splits LIST   splits to corrupt: train, val, test, comma-separated (default test)\n"
	       "  --seed K        speckle's seed (default 0); each image's noise depends on the\n"
	       "                  seed and its id only, so any -j gives the same bytes\n"
	       "  -j N            threads (default: all cores)\n"
	       "  -o FILE         output (default standard output)\n"
	       "  -h, --help      this help\n"
	       "      --version   the version\n\n"
	       "Exit status: 0 success, 1 runtime failure, 2 usage, 3 bad input data.\n", synopsis);
}

enum { BLUR, CONTRAST, SPECKLE };
static const char *kind_names[] = {"blur", "contrast", "speckle"};
static const double contrast_alpha[] = {0.7, 0.5, 0.3};

enum { BATCH = 64 };

typedef struct corrupt {
	int kind, severity;
	uint64_t seed;
	const char *splits; /* the splits to corrupt, comma-separated (usj_cli_splits) */
	usj_record recs[BATCH];
	uint8_t *image[BATCH];        /* the image to corrupt, or NULL to pass the record as it is */
	const uint8_t *region[BATCH]; /* its scan region, or NULL */
	const char *id[BATCH];
	int W[BATCH], H[BATCH];
} corrupt;

/* degrade: one image (H, W) in place, by the protocol at c's severity */
static void degrade(const corrupt *c, uint8_t *px, const uint8_t *region, int W, int H, const char *id)
{
	size_t n = (size_t)W * H;
	float *img = xmalloc(n * sizeof *img), *tmp = xmalloc(n * sizeof *tmp);
	for (size_t i = 0; i < n; i++)
		img[i] = px[i] / 255.0f;
	double e = c->severity;
	if (c->kind == BLUR) {
		usj_blur(img, tmp, W, H, e);
	} else if (c->kind == CONTRAST) {
		usj_contrast(img, region, W, H, contrast_alpha[c->severity - 1]);
	} else {
		float *noise = xmalloc(n * sizeof *noise);
		usj_rng r;
		usj_rng_seed_key(&r, c->seed, id);
		usj_speckle(img, noise, tmp, W, H, 0.35 * e, e / 2, &r);
		free(noise);
	}
	usj_rescale_bytes(img, n, 0, 1, px);
	free(img);
	free(tmp);
}

static void degrade_range(void *ctx, int64_t begin, int64_t end)
{
	corrupt *c = ctx;
	for (int64_t b = begin; b < end; b++)
		if (c->image[b])
			degrade(c, c->image[b], c->region[b], c->W[b], c->H[b], c->id[b]);
}

/* select_image: whether record b is to be corrupted, checking what that needs */
static void select_image(corrupt *c, usj_reader *in, int b, int64_t k)
{
	usj_record *r = &c->recs[b];
	c->image[b] = NULL;
	const char *split = usj_record_str(r, "split");
	if (!split || !usj_in_list(c->splits, split))
		return;
	const char *name = usj_reader_name(in), *id = usj_record_str(r, "id");
	if (!id)
		usj_die(USJ_EDATA, "%s: record %lld has no id, which seeds its corruption", name, (long long)k);
	usj_field *img = usj_record_find(r, "image");
	if (!img || !img->is_tensor || img->t.dtype != USJ_U1 || img->t.rank != 2)
		usj_die(USJ_EDATA, "%s: record %s has no image (uint8, S x S): is this an images stream?", name, id);
	const usj_tensor *reg = usj_record_tensor(r, "region");
	if (reg && (reg->dtype != USJ_U1 || reg->rank != 2 || reg->shape[0] != img->t.shape[0] ||
	            reg->shape[1] != img->t.shape[1]))
		usj_die(USJ_EDATA, "%s: record %s has a region unlike its image", name, id);
	c->image[b] = img->t.data;
	c->region[b] = reg ? reg->data : NULL;
	c->id[b] = id;
	c->H[b] = (int)img->t.shape[0];
	c->W[b] = (int)img->t.shape[1];
}

static void pack_meta(msgpack_sbuffer *sb, const corrupt *c, const usj_reader *in)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	double e = c->severity;
	msgpack_pack_map(&pk, 2);
	usj_pack_cstr(&pk, "corruption");
	msgpack_pack_map(&pk, 6);
	usj_pack_kv_str(&pk, "kind", kind_names[c->kind]);
	usj_pack_kv_int(&pk, "severity", c->severity);
	char *name = xasprintf("%s-%d", kind_names[c->kind], c->severity);
	usj_pack_kv_str(&pk, "name", name);
	free(name);
	usj_pack_cstr(&pk, "splits");
	size_t nsplits = 1;
	for (const char *p = c->splits; *p; p++)
		nsplits += *p == ',';
	msgpack_pack_array(&pk, nsplits);
	size_t len;
	for (const char *p = c->splits;; p += len + 1) {
		len = strcspn(p, ",");
		msgpack_pack_str(&pk, len);
		msgpack_pack_str_body(&pk, p, len);
		if (!p[len])
			break;
	}
	usj_pack_kv_int(&pk, "seed", (int64_t)c->seed);
	usj_pack_cstr(&pk, "parameters");
	if (c->kind == BLUR) {
		msgpack_pack_map(&pk, 2);
		usj_pack_kv_double(&pk, "sigma", e);
		usj_pack_kv_int(&pk, "taps", 2 * (int)(2 * e) + 1);
	} else if (c->kind == CONTRAST) {
		msgpack_pack_map(&pk, 1);
		usj_pack_kv_double(&pk, "alpha", contrast_alpha[c->severity - 1]);
	} else {
		msgpack_pack_map(&pk, 3);
		usj_pack_kv_double(&pk, "std", 0.35 * e);
		usj_pack_kv_double(&pk, "correlation_sigma", e / 2);
		usj_pack_kv_int(&pk, "taps", 2 * (int)e + 1);
	}
	usj_pack_cstr(&pk, "input");
	msgpack_pack_object(&pk, *usj_reader_meta(in));
}

static void pack_summary(msgpack_sbuffer *sb, int64_t corrupted, int64_t total)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	usj_pack_kv_int(&pk, "corrupted", corrupted);
	usj_pack_kv_int(&pk, "unchanged", total - corrupted);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	static const struct option longopts[] = {
		{"kind", required_argument, NULL, 'k'}, {"severity", required_argument, NULL, 'e'},
		{"splits", required_argument, NULL, 's'}, {"seed", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {0},
	};
	corrupt c = {.kind = -1};
	const char *out = "-", *splits = "test";
	int threads = usj_cores(), opt;
	while ((opt = getopt_long(argc, argv, "j:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			for (c.kind = 2; c.kind >= 0 && strcmp(optarg, kind_names[c.kind]); c.kind--)
				;
			if (c.kind < 0)
				usj_usage_error(synopsis, "--kind wants blur, contrast or speckle, not '%s'", optarg);
			break;
		case 'e': c.severity = (int)usj_cli_int(synopsis, "--severity", optarg, 1, 3); break;
		case 's': splits = optarg; break;
		case 'S': c.seed = (uint64_t)usj_cli_int(synopsis, "--seed", optarg, 0, INT64_MAX); break;
		case 'j': threads = usj_cli_threads(synopsis, optarg); break;
		case 'o': out = optarg; break;
		case 'h': help(); usj_close_stdout(); return 0;
		case 'V': printf("us-corrupt %s\n", USJ_VERSION); usj_close_stdout(); return 0;
		default: usj_usage_error(synopsis, "unknown option");
		}
	}
	if (c.kind < 0)
		usj_usage_error(synopsis, "no --kind given: blur, contrast or speckle");
	if (!c.severity)
		usj_usage_error(synopsis, "no --severity given: 1, 2 or 3");
	if (optind < argc - 1)
		usj_usage_error(synopsis, "one IMAGES stream at a time");
	c.splits = usj_cli_splits(synopsis, "--splits", splits);
	usj_pool_init(threads);
	usj_reader *in = usj_open_input(optind < argc ? argv[optind] : "-", "images", "us-ingest or us-phantom");
	msgpack_sbuffer meta, summary;
	msgpack_sbuffer_init(&meta);
	msgpack_sbuffer_init(&summary);
	pack_meta(&meta, &c, in);
	usj_writer *w = usj_writer_open(out, "images", &meta);
	for (int b = 0; b < BATCH; b++)
		usj_record_init(&c.recs[b]);
	usj_progress progress;
	usj_progress_start(&progress, "images", 0);
	int64_t total = 0, corrupted = 0;
	for (int more = 1; more;) {
		int n = 0;
		while (n < BATCH && (more = usj_read(in, &c.recs[n]))) {
			select_image(&c, in, n, total + n + 1);
			corrupted += c.image[n++] != NULL;
		}
		usj_pool_for(n, 1, degrade_range, &c);
		for (int b = 0; b < n; b++)
			usj_writer_write(w, &c.recs[b]);
		total += n;
		usj_progress_update(&progress, total);
	}
	usj_progress_end(&progress, total);
	if (!corrupted)
		usj_warn("no record of %s is in the splits to corrupt: the output equals the input",
		         usj_reader_name(in));
	pack_summary(&summary, corrupted, total);
	usj_writer_close(w, &summary);
	usj_reader_close(in);
	for (int b = 0; b < BATCH; b++)
		usj_record_free(&c.recs[b]);
	msgpack_sbuffer_destroy(&meta);
	msgpack_sbuffer_destroy(&summary);
	usj_close_stdout();
	return 0;
}
