/* us-ingest: a dataset (class folders, CSV manifest, UltraBench folder) ->
 * an images stream of preprocessed S x S frames with scan-region masks. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "image.h"
#include "manifest.h"
#include "mem.h"
#include "ordered.h"
#include "preprocess.h"
#include "progress.h"
#include "split.h"
#include "stream.h"
#include "tally.h"

static const char *synopsis =
	"us-ingest [--source folder|csv|ultrabench] [--size S] [--fit pad|crop|stretch]\n"
	"                 [--split A,B,C] [--seed K] [--classes A,B,...] [--frames first|all|N]\n"
	"                 [--no-inpaint] [--no-region] [--no-rescale] [--region-threshold T]\n"
	"                 [--max-pixels N] [--keep-going] [--shard K/N] [-j N] [-o FILE] DATASET";

static void help(void)
{
	printf("usage: %s\n\n"
	       "Read an ultrasound dataset and write an images stream (one record per image or\n"
	       "cine frame: id, path, label, class, split, group, image (uint8 S x S) and region\n"
	       "(uint8 S x S, 1 inside the scan region)). DATASET is a folder with one subfolder\n"
	       "per class, a CSV manifest (path,label[,group][,split]; a folder holding\n"
	       "labels.csv is read as one), or an UltraBench folder (train.json ...).\n\n"
	       "  --source KIND        folder, csv or ultrabench (default: detected)\n"
	       "  --size S             output side in pixels (default 224)\n"
	       "  --fit MODE           pad (default: keep aspect, black bars), crop or stretch\n"
	       "  --split A,B,C        train,val,test percentages when the source has no splits\n"
	       "                       (default 70,10,20); grouped and stratified\n"
	       "  --seed K             seed of the split (default 0)\n"
	       "  --classes A,B,...    class names in label order (default: sorted)\n"
	       "  --frames first|all|N which frames of a multi-page TIFF (default first)\n"
	       "  --no-inpaint         keep coloured annotations\n"
	       "  --no-region          no scan-region detection: the region is the source's\n"
	       "                       scan mask if it has one, else the whole frame\n"
	       "  --no-rescale         no 2-98 %% percentile rescale inside the region\n"
	       "  --region-threshold T grey level (0-255) above which a pixel may be signal (8)\n"
	       "  --max-pixels N       refuse larger images (default 100000000)\n"
	       "  --keep-going         skip unreadable images, list them, count them\n"
	       "  --shard K/N          only images K, K+N, K+2N, ...\n"
	       "  -j N                 decoding threads (default: all cores)\n"
	       "  -o FILE              output (default standard output)\n"
	       "  -h, --help           this help\n"
	       "      --version        the version\n\n"
	       "Exit status: 0 success, 1 runtime failure, 2 usage, 3 bad input data.\n", synopsis);
}

enum { FRAMES_FIRST = -1, FRAMES_ALL = -2 };

typedef struct ingest {
	usj_manifest m;
	usj_prep_opts prep;
	int frames;          /* FRAMES_FIRST, FRAMES_ALL or a 0-based index */
	uint64_t max_pixels;
	int keep_going;
	int shard_k, shard_n;
	usj_writer *w;
	usj_record rec;
	usj_tally written;   /* "split\tclass" -> records */
	usj_tally skipped;   /* path -> times skipped */
	int64_t nskipped;
	usj_progress progress;
	int64_t done;
} ingest;

/* One item's result: its frames, or why it failed. */
typedef struct result {
	int nframes, first_frame, frames_in_file;
	uint8_t *images;  /* (nframes, S, S) */
	uint8_t *regions; /* (nframes, S, S) */
	int code;
	char err[400];
} result;

static usj_item *item_of(ingest *g, int64_t i) { return &g->m.items[g->shard_k + i * g->shard_n]; }

static int fail(result *r, int code, const char *fmt, const char *what, const char *why)
{
	r->code = code;
	snprintf(r->err, sizeof r->err, fmt, what, why);
	return code;
}

static int decode_mask(ingest *g, const usj_item *it, const usj_native *img, usj_image *mask, result *r)
{
	usj_decoder *d;
	char err[300];
	int rc = usj_decoder_open(it->mask, g->max_pixels, &d, err, sizeof err);
	if (!rc) {
		rc = usj_decoder_read(d, 0, mask, err, sizeof err);
		usj_decoder_close(d);
	}
	if (rc)
		return fail(r, rc, "scan mask %s: %s", it->mask, err);
	if (mask->width != img->width || mask->height != img->height) {
		snprintf(err, sizeof err, "is %dx%d but its image is %dx%d: fix the mask", mask->width,
		         mask->height, img->width, img->height);
		return fail(r, USJ_EDATA, "scan mask %s %s", it->mask, err);
	}
	return 0;
}

static void work(void *ctx, int64_t i, void *slot)
{
	ingest *g = ctx;
	result *r = slot;
	usj_item *it = item_of(g, i);
	usj_decoder *d;
	char err[300];
	int rc = usj_decoder_open(it->file, g->max_pixels, &d, err, sizeof err);
	if (rc) {
		fail(r, rc, "%s: %s", it->file, err);
		return;
	}
	r->frames_in_file = usj_decoder_frames(d);
	r->first_frame = g->frames >= 0 ? g->frames : 0;
	r->nframes = g->frames == FRAMES_ALL ? r->frames_in_file : 1;
	if (r->first_frame >= r->frames_in_file) {
		snprintf(err, sizeof err, "has %d frame%s, so --frames %d does not exist", r->frames_in_file,
		         r->frames_in_file == 1 ? "" : "s", g->frames);
		fail(r, USJ_EDATA, "%s %s", it->file, err);
		usj_decoder_close(d);
		return;
	}
	size_t S = (size_t)g->prep.size;
	r->images = xmalloc((size_t)r->nframes * S * S);
	r->regions = xmalloc((size_t)r->nframes * S * S);
	usj_image mask = {0};
	for (int f = 0; f < r->nframes && !r->code; f++) {
		usj_native img;
		if ((rc = usj_decoder_read_native(d, r->first_frame + f, &img, err, sizeof err))) {
			fail(r, rc, "%s: %s", it->file, err);
			break;
		}
		if (it->mask && f == 0 && decode_mask(g, it, &img, &mask, r)) {
			usj_native_free(&img);
			break;
		}
		usj_prep_stats st;
		usj_preprocess_native(&img, it->mask ? &mask : NULL, &g->prep, r->images + f * S * S,
		                      r->regions + f * S * S, &st);
		usj_native_free(&img);
	}
	usj_image_free(&mask);
	usj_decoder_close(d);
}

static int is_reserved(const char *key)
{
	static const char *keys[] = {"id", "path", "label", "class", "split", "group", "frame", "image", "region"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return 0;
}

static void emit(void *ctx, int64_t i, void *slot)
{
	ingest *g = ctx;
	result *r = slot;
	usj_item *it = item_of(g, i);
	if (r->code) {
		if (!g->keep_going)
			usj_die(r->code, "%s; --keep-going skips such images", r->err);
		usj_warn("skipped %s", r->err);
		usj_tally_add(&g->skipped, it->path, 1);
		g->nskipped++;
	}
	int64_t S = g->prep.size;
	int64_t shape[2] = {S, S};
	for (int f = 0; f < r->nframes && !r->code; f++) {
		usj_record *rec = &g->rec;
		usj_record_clear(rec);
		int multi = r->frames_in_file > 1 && g->frames == FRAMES_ALL;
		char *id = multi ? xasprintf("%s#%d", it->path, r->first_frame + f) : xstrdup(it->path);
		usj_record_set_str(rec, "id", id);
		free(id);
		usj_record_set_str(rec, "path", it->path);
		if (it->label) {
			usj_record_set_int(rec, "label", it->label_index);
			usj_record_set_str(rec, "class", it->label);
		}
		usj_record_set_str(rec, "split", it->split);
		if (it->group)
			usj_record_set_str(rec, "group", it->group);
		if (r->frames_in_file > 1)
			usj_record_set_int(rec, "frame", r->first_frame + f);
		for (int k = 0; k < it->nextra; k++) {
			/* a source field named like one of ours keeps its value under src_NAME */
			char *key = xstrdup(it->extra_keys[k]);
			while (is_reserved(key) || usj_record_find(rec, key)) {
				char *longer = xasprintf("src_%s", key);
				free(key);
				key = longer;
			}
			usj_record_set_str(rec, key, it->extra_vals[k]);
			free(key);
		}
		usj_tensor *t = usj_record_set_tensor(rec, "image", USJ_U1, 2, shape);
		memcpy(t->data, r->images + f * S * S, (size_t)(S * S));
		t = usj_record_set_tensor(rec, "region", USJ_U1, 2, shape);
		memcpy(t->data, r->regions + f * S * S, (size_t)(S * S));
		usj_writer_write(g->w, rec);
		char *key = xasprintf("%s\t%s", it->split, it->label ? it->label : "");
		usj_tally_add(&g->written, key, 1);
		free(key);
	}
	free(r->images);
	free(r->regions);
	usj_progress_update(&g->progress, ++g->done);
}

/* pack_counts: {split: {class: n}} from a "split\tclass" tally. */
static void pack_counts(msgpack_packer *pk, const usj_tally *t)
{
	static const char *splits[] = {"train", "val", "test"};
	msgpack_pack_map(pk, 3);
	for (int s = 0; s < 3; s++) {
		usj_pack_cstr(pk, splits[s]);
		int n = 0;
		size_t len = strlen(splits[s]);
		for (int i = 0; i < t->n; i++)
			n += strncmp(t->names[i], splits[s], len) == 0 && t->names[i][len] == '\t';
		msgpack_pack_map(pk, (size_t)n);
		for (int i = 0; i < t->n; i++)
			if (strncmp(t->names[i], splits[s], len) == 0 && t->names[i][len] == '\t') {
				const char *cls = t->names[i] + len + 1;
				usj_pack_kv_int(pk, *cls ? cls : "(unlabelled)", t->counts[i]);
			}
	}
}

static const char *fit_name(enum usj_fit f)
{
	return f == USJ_FIT_PAD ? "pad" : f == USJ_FIT_CROP ? "crop" : "stretch";
}

static void pack_meta(msgpack_sbuffer *sb, const ingest *g, const double split[3], uint64_t seed)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	const usj_manifest *m = &g->m;
	msgpack_pack_map(&pk, 10);
	usj_pack_kv_str(&pk, "source", m->source);
	usj_pack_kv_str(&pk, "dataset", m->where);
	usj_pack_cstr(&pk, "classes");
	msgpack_pack_array(&pk, (size_t)m->nclasses);
	for (int i = 0; i < m->nclasses; i++)
		usj_pack_cstr(&pk, m->classes[i]);
	usj_pack_kv_int(&pk, "size", g->prep.size);
	usj_pack_cstr(&pk, "preprocess");
	msgpack_pack_map(&pk, 10);
	usj_pack_kv_bool(&pk, "grayscale", 1);
	usj_pack_kv_str(&pk, "fit", fit_name(g->prep.fit));
	usj_pack_kv_bool(&pk, "inpaint", g->prep.inpaint);
	usj_pack_kv_double(&pk, "chroma_threshold", g->prep.chroma_threshold);
	usj_pack_kv_double(&pk, "inpaint_max_area", g->prep.inpaint_max_area);
	usj_pack_kv_str(&pk, "region", g->prep.detect_region ? "source mask, else detected" : "source mask, else whole frame");
	usj_pack_kv_double(&pk, "region_threshold", g->prep.region_threshold);
	usj_pack_kv_bool(&pk, "rescale", g->prep.rescale);
	usj_pack_kv_double(&pk, "p_low", g->prep.p_low);
	usj_pack_kv_double(&pk, "p_high", g->prep.p_high);
	usj_pack_cstr(&pk, "split");
	msgpack_pack_map(&pk, 3);
	usj_pack_kv_str(&pk, "from", !m->has_splits ? "grouped stratified" : m->has_train_val ? "source, val divided from train_val by group" : "source");
	usj_pack_cstr(&pk, "fractions");
	msgpack_pack_array(&pk, 3);
	for (int s = 0; s < 3; s++)
		msgpack_pack_double(&pk, split[s]);
	usj_pack_kv_int(&pk, "seed", (int64_t)seed);
	if (g->frames >= 0)
		usj_pack_kv_int(&pk, "frames", g->frames);
	else
		usj_pack_kv_str(&pk, "frames", g->frames == FRAMES_FIRST ? "first" : "all");
	char shard[64];
	snprintf(shard, sizeof shard, "%d/%d", g->shard_k, g->shard_n);
	usj_pack_kv_str(&pk, "shard", shard);
	usj_pack_kv_int(&pk, "max_pixels", (int64_t)g->max_pixels);
	/* files planned per split and class, before decoding (the trailer has what was written) */
	usj_tally files = {0};
	for (int i = g->shard_k; i < m->n; i += g->shard_n) {
		char *key = xasprintf("%s\t%s", m->items[i].split, m->items[i].label ? m->items[i].label : "");
		usj_tally_add(&files, key, 1);
		free(key);
	}
	usj_pack_cstr(&pk, "files");
	pack_counts(&pk, &files);
	usj_tally_free(&files);
}

static void pack_summary(msgpack_sbuffer *sb, const ingest *g)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	usj_pack_cstr(&pk, "records");
	pack_counts(&pk, &g->written);
	usj_pack_kv_int(&pk, "skipped", g->nskipped);
	usj_pack_cstr(&pk, "skipped_files");
	msgpack_pack_array(&pk, (size_t)g->skipped.n);
	for (int i = 0; i < g->skipped.n; i++)
		usj_pack_cstr(&pk, g->skipped.names[i]);
}

/* warn_empty_splits: a split that should have images but got none (too few groups). */
static void warn_empty_splits(const usj_manifest *m, const double split[3])
{
	static const char *names[3] = {"train", "val", "test"};
	for (int s = 0; s < 3; s++) {
		int n = 0;
		for (int i = 0; i < m->n; i++)
			n += strcmp(m->items[i].split, names[s]) == 0;
		if (!n && (split[s] > 0 || m->has_splits))
			usj_warn("the %s split is empty: %s", names[s], m->has_splits ? "the source assigns it nothing"
			         : "too few groups to divide; add data or change --split");
	}
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	static const struct option longopts[] = {
		{"source", required_argument, NULL, 'S'}, {"size", required_argument, NULL, 's'},
		{"fit", required_argument, NULL, 'F'}, {"split", required_argument, NULL, 'p'},
		{"seed", required_argument, NULL, 'e'}, {"classes", required_argument, NULL, 'c'},
		{"frames", required_argument, NULL, 'f'}, {"no-inpaint", no_argument, NULL, 'I'},
		{"no-region", no_argument, NULL, 'R'}, {"no-rescale", no_argument, NULL, 'N'},
		{"region-threshold", required_argument, NULL, 't'}, {"max-pixels", required_argument, NULL, 'M'},
		{"keep-going", no_argument, NULL, 'k'}, {"shard", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {0},
	};
	ingest g = {.frames = FRAMES_FIRST, .max_pixels = 100000000, .shard_n = 1};
	g.prep = usj_prep_defaults(224);
	const char *source = NULL, *classes = NULL, *out = "-";
	double split[3] = {0.7, 0.1, 0.2};
	uint64_t seed = 0;
	int threads = usj_cores(), c;
	while ((c = getopt_long(argc, argv, "j:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': source = optarg; break;
		case 's': g.prep.size = (int)usj_cli_int(synopsis, "--size", optarg, 8, 4096); break;
		case 'F':
			if (!strcmp(optarg, "pad")) g.prep.fit = USJ_FIT_PAD;
			else if (!strcmp(optarg, "crop")) g.prep.fit = USJ_FIT_CROP;
			else if (!strcmp(optarg, "stretch")) g.prep.fit = USJ_FIT_STRETCH;
			else usj_usage_error(synopsis, "--fit wants pad, crop or stretch, not '%s'", optarg);
			break;
		case 'p': usj_cli_split(synopsis, "--split", optarg, split); break;
		case 'e': seed = (uint64_t)usj_cli_int(synopsis, "--seed", optarg, 0, INT64_MAX); break;
		case 'c': classes = optarg; break;
		case 'f':
			if (!strcmp(optarg, "first")) g.frames = FRAMES_FIRST;
			else if (!strcmp(optarg, "all")) g.frames = FRAMES_ALL;
			else g.frames = (int)usj_cli_int(synopsis, "--frames", optarg, 0, 1000000);
			break;
		case 'I': g.prep.inpaint = 0; break;
		case 'R': g.prep.detect_region = 0; break;
		case 'N': g.prep.rescale = 0; break;
		case 't': g.prep.region_threshold = usj_cli_double(synopsis, "--region-threshold", optarg, 0, 255) / 255; break;
		case 'M': g.max_pixels = (uint64_t)usj_cli_int(synopsis, "--max-pixels", optarg, 1, INT64_MAX); break;
		case 'k': g.keep_going = 1; break;
		case 'D': usj_cli_shard(synopsis, optarg, &g.shard_k, &g.shard_n); break;
		case 'j': threads = usj_cli_threads(synopsis, optarg); break;
		case 'o': out = optarg; break;
		case 'h': help(); usj_close_stdout(); return 0;
		case 'V': printf("us-ingest %s\n", USJ_VERSION); usj_close_stdout(); return 0;
		default: usj_usage_error(synopsis, "unknown option");
		}
	}
	if (optind != argc - 1)
		usj_usage_error(synopsis, optind == argc ? "no DATASET given" : "one DATASET at a time");
	usj_manifest_load(&g.m, argv[optind], source, classes);
	usj_assign_splits(&g.m, split, seed);
	warn_empty_splits(&g.m, split);
	msgpack_sbuffer meta, summary;
	msgpack_sbuffer_init(&meta);
	msgpack_sbuffer_init(&summary);
	pack_meta(&meta, &g, split, seed);
	g.w = usj_writer_open(out, "images", &meta);
	usj_record_init(&g.rec);
	int64_t n = (g.m.n - g.shard_k + g.shard_n - 1) / g.shard_n;
	usj_progress_start(&g.progress, "images", n);
	usj_ordered_run(n, threads, 4 * threads, sizeof(result), work, emit, &g);
	usj_progress_end(&g.progress, g.done);
	if (g.nskipped)
		usj_warn("skipped %lld of %lld images (listed above and in the trailer)", (long long)g.nskipped, (long long)n);
	pack_summary(&summary, &g);
	usj_writer_close(g.w, &summary);
	usj_record_free(&g.rec);
	usj_tally_free(&g.written);
	usj_tally_free(&g.skipped);
	msgpack_sbuffer_destroy(&meta);
	msgpack_sbuffer_destroy(&summary);
	usj_manifest_free(&g.m);
	usj_close_stdout();
	return 0;
}
