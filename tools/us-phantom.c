/* us-phantom: synthetic B-mode ultrasound datasets for the benchmark's
 * tasks and the pretraining corpus (man/us-phantom.1). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "err.h"
#include "image_write.h"
#include "mem.h"
#include "ordered.h"
#include "output.h"
#include "phantom_task.h"
#include "preprocess.h"
#include "progress.h"
#include "rng.h"
#include "stream.h"
#include "tally.h"

static const char *synopsis =
	"us-phantom --task NAME|list [-n N] [--per-group K] [--size S] [--seed K]\n"
	"                  [--mix F=W,...] [--overlays P] [--format png|tiff] [-j N] -o DIR\n"
	"       us-phantom --task NAME [options] --stream [--split A,B,C] [-o FILE]";

static void help(void)
{
	printf("usage: %s\n\n"
	       "Simulate B-mode ultrasound images (speckle from random scatterers, a depth-dependent\n"
	       "point-spread function, attenuation and time-gain compensation, log compression,\n"
	       "linear or convex probes) for one task of the synthetic benchmark, as a dataset\n"
	       "folder shaped like real data (DIR/images/, DIR/masks/scan/, DIR/labels.csv with\n"
	       "path,label,group,scan_mask) that us-ingest reads, or directly as an images stream.\n\n"
	       "  --task NAME     a task (see --task list), or pretrain for the unlabelled corpus\n"
	       "  -n N            number of images (default 1000)\n"
	       "  --per-group K   images per group (\"patient\": same anatomy, lesion, settings) (4)\n"
	       "  --size S        image side in pixels (default 128)\n"
	       "  --seed K        seed (default 0): same seed and options, same bytes, any -j\n"
	       "  --mix F=W,...   pretrain: weights of the scene families cardiac, abdomen, lung,\n"
	       "                  breast, thyroid, pelvis (default cardiac=75,abdomen=9, 4 each other)\n"
	       "  --overlays P    fraction of groups with burnt-in annotations (default 0)\n"
	       "  --format F      png (default) or tiff: the folder's image files\n"
	       "  --stream        write an images stream instead of a dataset folder, the\n"
	       "                  images preprocessed as us-ingest would\n"
	       "  --split A,B,C   --stream: train,val,test percentages by group (default 70,10,20)\n"
	       "  -j N            threads (default: all cores)\n"
	       "  -o DIR|FILE     the dataset folder (must not exist; it appears only when\n"
	       "                  complete), or with --stream the\n"
	       "                  stream (default standard output)\n"
	       "  -h, --help      this help\n"
	       "      --version   the version\n\n"
	       "Exit status: 0 success, 1 runtime failure, 2 usage, 3 bad input data.\n", synopsis);
}

static void list_tasks(void)
{
	for (int t = 0; t <= usj_phantom_ntasks; t++) {
		const usj_phantom_task *k = t < usj_phantom_ntasks ? &usj_phantom_tasks[t] : &usj_phantom_pretrain;
		printf("%-12s %d classes: ", k->name, k->nclasses);
		for (int c = 0; c < k->nclasses; c++)
			printf("%s%s", c ? ", " : "", k->classes[c]);
		printf("\n             %s\n", k->summary);
	}
}

typedef struct phantom {
	const usj_phantom_task *task;
	usj_phantom_opts o;
	int per_group;
	double split[3];
	int64_t rounds;      /* groups / classes, rounded up: the unit of stratified splitting */
	uint8_t *round_split; /* (rounds) 0 train, 1 val, 2 test */
	const char *dir;      /* folder mode: the temporary folder being filled */
	int tiff;
	usj_output *labels;   /* folder mode: labels.csv */
	usj_prep_opts prep;   /* stream mode: us-ingest's preprocessing */
	usj_writer *w;
	usj_record rec;
	usj_tally written;
	usj_progress progress;
} phantom;

typedef struct shot {
	int label;
	uint8_t *image;  /* stream mode: (S, S) preprocessed */
	uint8_t *region; /* stream mode: (S, S) 0/1 */
	int code;        /* folder mode: a failed write, and why */
	char err[300];
} shot;

/* file_name: image i's name in the folder, under images/ or masks/scan/ */
static char *file_name(const phantom *ph, const char *under, int64_t i, int tiff)
{
	return xasprintf("%s/%06lld.%s", under, (long long)i, tiff ? "tif" : "png");
}

/* save: write image i and its scan mask into the folder */
static void save(phantom *ph, int64_t i, shot *s, const uint8_t *rgb, uint8_t *region)
{
	int S = ph->o.size, grey = 1;
	for (size_t p = 0; p < (size_t)S * S && grey; p++)
		grey = rgb[3 * p] == rgb[3 * p + 1] && rgb[3 * p] == rgb[3 * p + 2];
	uint8_t *pix = grey ? xmalloc((size_t)S * S) : (uint8_t *)rgb;
	if (grey)
		for (size_t p = 0; p < (size_t)S * S; p++)
			pix[p] = rgb[3 * p];
	for (size_t p = 0; p < (size_t)S * S; p++)
		region[p] = region[p] ? 255 : 0;
	char *name = file_name(ph, "images", i, ph->tiff), *mask = file_name(ph, "masks/scan", i, 0);
	char *path = xasprintf("%s/%s", ph->dir, name), *mpath = xasprintf("%s/%s", ph->dir, mask);
	char err[200];
	int rc = ph->tiff ? usj_write_tiff(path, pix, S, S, grey ? 1 : 3, err, sizeof err)
	                  : usj_write_png(path, pix, S, S, grey ? 1 : 3, err, sizeof err);
	if (rc)
		snprintf(s->err, sizeof s->err, "%s: %s", path, err);
	else if ((rc = usj_write_png(mpath, region, S, S, 1, err, sizeof err)))
		snprintf(s->err, sizeof s->err, "%s: %s", mpath, err);
	s->code = rc;
	if (grey)
		free(pix);
	free(name);
	free(mask);
	free(path);
	free(mpath);
}

static const char *split_names[3] = {"train", "val", "test"};

/* assign_rounds: every round of groups (one group per class, by the
 * balanced labelling) goes to one split, so splits are grouped and
 * stratified; rounds are shuffled by the seed, then cut by the fractions. */
static void assign_rounds(phantom *ph)
{
	int64_t R = ph->rounds;
	int64_t *order = xmalloc((size_t)R * sizeof *order);
	for (int64_t i = 0; i < R; i++)
		order[i] = i;
	usj_rng r;
	usj_rng_seed(&r, ph->o.seed ^ 0x5851F42D4C957F2Dull);
	for (int64_t i = R - 1; i > 0; i--) {
		int64_t j = (int64_t)usj_rng_below(&r, (uint64_t)i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	ph->round_split = xmalloc((size_t)R);
	int64_t train = llround(ph->split[0] * R), val = llround((ph->split[0] + ph->split[1]) * R) - train;
	for (int64_t i = 0; i < R; i++)
		ph->round_split[order[i]] = i < train ? 0 : i < train + val ? 1 : 2;
	free(order);
}

static void work(void *ctx, int64_t i, void *slot)
{
	phantom *ph = ctx;
	shot *s = slot;
	int S = ph->o.size;
	uint8_t *rgb = xmalloc((size_t)S * S * 3), *region = xmalloc((size_t)S * S);
	s->label = usj_phantom_make(ph->task, &ph->o, i / ph->per_group, (int)(i % ph->per_group), rgb, region);
	if (ph->dir) {
		save(ph, i, s, rgb, region);
	} else {
		/* exactly what us-ingest makes of the folder's files */
		float *pix = xmalloc((size_t)S * S * 3 * sizeof *pix), *inside = xmalloc((size_t)S * S * sizeof *inside);
		for (size_t p = 0; p < (size_t)S * S * 3; p++)
			pix[p] = rgb[p] / 255.0f;
		for (size_t p = 0; p < (size_t)S * S; p++)
			inside[p] = region[p] ? 1.0f : 0.0f;
		usj_image img = {.width = S, .height = S, .channels = 3, .pix = pix};
		usj_image mask = {.width = S, .height = S, .channels = 1, .pix = inside};
		s->image = xmalloc((size_t)S * S);
		s->region = xmalloc((size_t)S * S);
		usj_prep_stats st;
		usj_preprocess(&img, &mask, &ph->prep, s->image, s->region, &st);
		free(pix);
		free(inside);
	}
	free(rgb);
	free(region);
}

static void emit_label(void *ctx, int64_t i, void *slot)
{
	phantom *ph = ctx;
	shot *s = slot;
	if (s->code)
		usj_die(s->code, "%s", s->err);
	char *name = file_name(ph, "images", i, ph->tiff), *mask = file_name(ph, "masks/scan", i, 0);
	if (fprintf(usj_output_file(ph->labels), "%s,%s,p%06lld,%s\n", name, ph->task->classes[s->label],
	            (long long)(i / ph->per_group), mask) < 0)
		usj_die(USJ_EFAIL, "%s/labels.csv: write error:", ph->dir);
	free(name);
	free(mask);
	usj_progress_update(&ph->progress, i + 1);
}

static void emit_record(void *ctx, int64_t i, void *slot)
{
	phantom *ph = ctx;
	shot *s = slot;
	int64_t S = ph->o.size, group = i / ph->per_group, shape[2] = {S, S};
	const char *split = split_names[ph->round_split[group / ph->task->nclasses]];
	const char *cls = ph->task->classes[s->label];
	usj_record *rec = &ph->rec;
	usj_record_clear(rec);
	char *id = file_name(ph, "images", i, ph->tiff), *grp = xasprintf("p%06lld", (long long)group);
	usj_record_set_str(rec, "id", id);
	usj_record_set_int(rec, "label", s->label);
	usj_record_set_str(rec, "class", cls);
	usj_record_set_str(rec, "split", split);
	usj_record_set_str(rec, "group", grp);
	memcpy(usj_record_set_tensor(rec, "image", USJ_U1, 2, shape)->data, s->image, (size_t)(S * S));
	memcpy(usj_record_set_tensor(rec, "region", USJ_U1, 2, shape)->data, s->region, (size_t)(S * S));
	usj_writer_write(ph->w, rec);
	char *key = xasprintf("%s\t%s", split, cls);
	usj_tally_add(&ph->written, key, 1);
	free(key);
	free(id);
	free(grp);
	free(s->image);
	free(s->region);
	usj_progress_update(&ph->progress, i + 1);
}

/* parse_mix: "cardiac=75,lung=5": named weights, the rest 0, normalised */
static void parse_mix(const char *text, double mix[USJ_FAMILIES])
{
	for (int f = 0; f < USJ_FAMILIES; f++)
		mix[f] = 0;
	char *copy = xstrdup(text), *save = NULL;
	double sum = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int f = 0;
		if (eq)
			*eq = 0;
		while (f < USJ_FAMILIES && strcmp(tok, usj_family_names[f]) != 0)
			f++;
		if (!eq || f == USJ_FAMILIES)
			usj_usage_error(synopsis, "--mix wants FAMILY=WEIGHT,... with families cardiac, abdomen, "
			                "lung, breast, thyroid, pelvis; not '%s'", text);
		mix[f] = usj_cli_double(synopsis, "--mix", eq + 1, 0, 1e9);
		sum += mix[f];
	}
	if (!(sum > 0))
		usj_usage_error(synopsis, "--mix gives every family weight 0");
	for (int f = 0; f < USJ_FAMILIES; f++)
		mix[f] /= sum;
	free(copy);
}

static void pack_meta(msgpack_sbuffer *sb, const phantom *ph, int64_t n)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 9);
	usj_pack_kv_str(&pk, "source", "phantom");
	usj_pack_kv_str(&pk, "dataset", ph->task->name);
	usj_pack_cstr(&pk, "classes");
	msgpack_pack_array(&pk, (size_t)ph->task->nclasses);
	for (int c = 0; c < ph->task->nclasses; c++)
		usj_pack_cstr(&pk, ph->task->classes[c]);
	usj_pack_kv_int(&pk, "size", ph->o.size);
	usj_pack_kv_int(&pk, "seed", (int64_t)ph->o.seed);
	usj_pack_kv_int(&pk, "images", n);
	usj_pack_kv_int(&pk, "per_group", ph->per_group);
	usj_pack_kv_double(&pk, "overlays", ph->o.overlays);
	usj_pack_cstr(&pk, "mix");
	msgpack_pack_map(&pk, USJ_FAMILIES);
	for (int f = 0; f < USJ_FAMILIES; f++)
		usj_pack_kv_double(&pk, usj_family_names[f], ph->o.mix[f]);
}

static void pack_summary(msgpack_sbuffer *sb, const usj_tally *t)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	usj_pack_cstr(&pk, "records");
	msgpack_pack_map(&pk, (size_t)t->n);
	for (int i = 0; i < t->n; i++)
		usj_pack_kv_int(&pk, t->names[i], t->counts[i]);
}

static void write_stream(phantom *ph, int64_t n, const char *out, int threads)
{
	int64_t groups = (n + ph->per_group - 1) / ph->per_group;
	ph->rounds = (groups + ph->task->nclasses - 1) / ph->task->nclasses;
	assign_rounds(ph);
	ph->prep = usj_prep_defaults(ph->o.size);
	msgpack_sbuffer meta, summary;
	msgpack_sbuffer_init(&meta);
	msgpack_sbuffer_init(&summary);
	pack_meta(&meta, ph, n);
	ph->w = usj_writer_open(out ? out : "-", "images", &meta);
	usj_record_init(&ph->rec);
	usj_progress_start(&ph->progress, "images", n);
	usj_ordered_run(n, threads, 4 * threads, sizeof(shot), work, emit_record, ph);
	usj_progress_end(&ph->progress, n);
	pack_summary(&summary, &ph->written);
	usj_writer_close(ph->w, &summary);
	usj_record_free(&ph->rec);
	usj_tally_free(&ph->written);
	free(ph->round_split);
	msgpack_sbuffer_destroy(&meta);
	msgpack_sbuffer_destroy(&summary);
}

static void write_folder(phantom *ph, int64_t n, const char *out, int threads)
{
	char *tmp = usj_outdir_open(out);
	ph->dir = tmp;
	const char *sub[] = {"images", "masks", "masks/scan"};
	for (int k = 0; k < 3; k++) {
		char *d = xasprintf("%s/%s", tmp, sub[k]);
		if (mkdir(d, 0777) != 0)
			usj_die(USJ_EFAIL, "cannot create %s:", d);
		free(d);
	}
	char *csv = xasprintf("%s/labels.csv", tmp);
	ph->labels = usj_output_open(csv);
	fputs("path,label,group,scan_mask\n", usj_output_file(ph->labels));
	usj_progress_start(&ph->progress, "images", n);
	usj_ordered_run(n, threads, 4 * threads, sizeof(shot), work, emit_label, ph);
	usj_progress_end(&ph->progress, n);
	usj_output_commit(ph->labels);
	usj_outdir_commit(tmp, out);
	free(csv);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	static const struct option longopts[] = {
		{"task", required_argument, NULL, 't'}, {"per-group", required_argument, NULL, 'g'},
		{"size", required_argument, NULL, 's'}, {"seed", required_argument, NULL, 'e'},
		{"mix", required_argument, NULL, 'm'}, {"overlays", required_argument, NULL, 'O'},
		{"stream", no_argument, NULL, 'S'}, {"split", required_argument, NULL, 'p'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {0},
	};
	phantom ph = {.per_group = 4, .split = {0.7, 0.1, 0.2}, .o = {.size = 128}};
	usj_phantom_default_mix(ph.o.mix);
	const char *task = NULL, *out = NULL;
	int64_t n = 1000;
	int threads = usj_cores(), stream = 0, split_given = 0, mix_given = 0, c;
	while ((c = getopt_long(argc, argv, "n:j:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': task = optarg; break;
		case 'n': n = usj_cli_int(synopsis, "-n", optarg, 1, INT32_MAX); break;
		case 'g': ph.per_group = (int)usj_cli_int(synopsis, "--per-group", optarg, 1, 1000000); break;
		case 's': ph.o.size = (int)usj_cli_int(synopsis, "--size", optarg, 16, 4096); break;
		case 'e': ph.o.seed = (uint64_t)usj_cli_int(synopsis, "--seed", optarg, 0, INT64_MAX); break;
		case 'm': parse_mix(optarg, ph.o.mix); mix_given = 1; break;
		case 'O': ph.o.overlays = usj_cli_double(synopsis, "--overlays", optarg, 0, 1); break;
		case 'S': stream = 1; break;
		case 'f':
			if (strcmp(optarg, "png") && strcmp(optarg, "tiff"))
				usj_usage_error(synopsis, "--format wants png or tiff, not '%s'", optarg);
			ph.tiff = !strcmp(optarg, "tiff");
			break;
		case 'p': usj_cli_split(synopsis, "--split", optarg, ph.split); split_given = 1; break;
		case 'j': threads = usj_cli_threads(synopsis, optarg); break;
		case 'o': out = optarg; break;
		case 'h': help(); usj_close_stdout(); return 0;
		case 'V': printf("us-phantom %s\n", USJ_VERSION); usj_close_stdout(); return 0;
		default: usj_usage_error(synopsis, "unknown option");
		}
	}
	if (optind != argc)
		usj_usage_error(synopsis, "unexpected argument '%s'", argv[optind]);
	if (!task)
		usj_usage_error(synopsis, "no --task given (--task list shows them)");
	if (!strcmp(task, "list")) {
		list_tasks();
		usj_close_stdout();
		return 0;
	}
	if (!(ph.task = usj_phantom_task_find(task)))
		usj_usage_error(synopsis, "unknown task '%s' (--task list shows them)", task);
	if (split_given && !stream)
		usj_usage_error(synopsis, "--split is for --stream: us-ingest splits a dataset folder");
	if (mix_given && ph.task != &usj_phantom_pretrain)
		usj_usage_error(synopsis, "--mix is for --task pretrain");
	if (!stream && !out)
		usj_usage_error(synopsis, "a dataset folder needs -o DIR (or use --stream)");
	if (stream)
		write_stream(&ph, n, out, threads);
	else
		write_folder(&ph, n, out, threads);
	usj_close_stdout();
	return 0;
}
