/* us-probe: linear probes on frozen features (PAPER.md section 5): for each
 * seed and training fraction, one linear layer trained on the training
 * split, stopped early on the validation split, judged on the test split and
 * on further features streams; one results record each. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "mem.h"
#include "metrics.h"
#include "ordered.h"
#include "pool.h"
#include "probe.h"
#include "stream.h"

#define MAX_FRACTIONS 64
#define MAX_EVALS 64

static const char *synopsis =
	"us-probe [--seeds N] [--fractions LIST] [--eval NAME=FILE ...] [--epochs E] [--patience P]\n"
	"                [--lr LR] [--wd WD] [--batch B] [--raw] [--model NAME] [--task NAME] [-j N]\n"
	"                [-o RESULTS] [FEATURES]";

static void help(void)
{
	printf("usage: %s\n\n"
	       "Train linear probes on a features stream (us-teacher-encode --pool mean): for\n"
	       "each seed and fraction of the training split, one linear layer with AdamW and a\n"
	       "cosine schedule, stopped early on validation loss, then judged on the test split\n"
	       "and on each --eval stream. Writes a results stream: one record per seed,\n"
	       "fraction and evaluation set (formats/results.md).\n\n"
	       "  --seeds N          seeds 0..N-1: initialisation, batch order, subsets (default 5)\n"
	       "  --fractions LIST   percentages of the training split, stratified by class\n"
	       "                     (default 100; the paper's few-shot: 1,5,10,50,100)\n"
	       "  --eval NAME=FILE   also judge every probe on FILE's test split (all its\n"
	       "                     records if it has none), as NAME; repeatable\n"
	       "  --epochs E         at most E epochs (default 150)\n"
	       "  --patience P       stop after P epochs without a lower validation loss (default 15)\n"
	       "  --lr LR            peak learning rate (default 1e-3)\n"
	       "  --wd WD            AdamW weight decay on the weight matrix (default 1e-4)\n"
	       "  --batch B          batch size (default 32)\n"
	       "  --raw              features as they are, not standardised by the training split\n"
	       "  --model NAME       the model's name in results (default: from the features' meta)\n"
	       "  --task NAME        the task's name in results (default: the dataset in the meta)\n"
	       "  -j N               probes trained at once (default: all cores)\n"
	       "  -o RESULTS         output (default standard output)\n"
	       "  -h, --help         this help\n"
	       "      --version      the version\n\n"
	       "Exit status: 0 success, 1 runtime failure, 2 usage, 3 bad input data.\n", synopsis);
}

typedef struct eval_set {
	const char *name, *path;
	usj_features f;
	int64_t *idx, n; /* the records judged */
} eval_set;

typedef struct study {
	usj_probe_config cfg;
	int seeds, nfractions, nevals, raw;
	double fractions[MAX_FRACTIONS];
	eval_set evals[MAX_EVALS + 1]; /* [0]: the input's test split, as "test" */
	usj_features train;            /* the input */
	int64_t *val, nval;
	const char *model, *checkpoint, *task;
	usj_writer *out;
} study;

typedef struct job {
	usj_metrics m[MAX_EVALS + 1]; /* one an evaluation set */
	int epochs, best_epoch;
	int64_t train_n;
} job;

static void parse_fractions(study *s, const char *text)
{
	char *copy = xstrdup(text), *save = NULL;
	s->nfractions = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (s->nfractions == MAX_FRACTIONS)
			usj_usage_error(synopsis, "--fractions takes at most %d values", MAX_FRACTIONS);
		s->fractions[s->nfractions++] = usj_cli_double(synopsis, "--fractions", t, 1e-9, 100);
	}
	if (!s->nfractions)
		usj_usage_error(synopsis, "--fractions wants percentages such as 1,5,10,50,100");
	free(copy);
}

static void add_eval(study *s, char *arg)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		usj_usage_error(synopsis, "--eval wants NAME=FILE, not '%s'", arg);
	*eq = 0;
	if (!strcmp(arg, "test"))
		usj_usage_error(synopsis, "--eval: the name 'test' is the input's own test split");
	for (int e = 1; e <= s->nevals; e++)
		if (!strcmp(s->evals[e].name, arg))
			usj_usage_error(synopsis, "--eval: two sets named '%s'", arg);
	if (s->nevals == MAX_EVALS)
		usj_usage_error(synopsis, "at most %d --eval sets", MAX_EVALS);
	s->evals[++s->nevals] = (eval_set){.name = arg, .path = eq + 1};
}

/* load: the input and every evaluation set, checked, standardised */
static void load(study *s, usj_reader *in)
{
	usj_features *f = &s->train;
	usj_features_read(f, in, NULL);
	int64_t count[USJ_SPLIT_TEST + 1] = {0};
	for (int64_t i = 0; i < f->n; i++)
		count[f->split[i]]++;
	const char *names[] = {"", "train", "val", "test"};
	for (int split = USJ_SPLIT_TRAIN; split <= USJ_SPLIT_TEST; split++)
		if (!count[split])
			usj_die(USJ_EDATA, "%s: no record of the %s split: a probe needs train, val and test", f->name,
			        names[split]);
	s->val = xmalloc((size_t)f->n * sizeof *s->val);
	s->nval = usj_features_select(s->val, f, USJ_SPLIT_VAL);
	s->evals[0] = (eval_set){.name = "test", .path = f->name};
	for (int e = 1; e <= s->nevals; e++) {
		usj_reader *r = usj_open_input(s->evals[e].path, "features", "us-teacher-encode --pool mean");
		usj_features_read(&s->evals[e].f, r, f);
		usj_reader_close(r);
	}
	float *mean = xmalloc((size_t)f->D * sizeof *mean), *inv_std = xmalloc((size_t)f->D * sizeof *inv_std);
	usj_features_train_stats(mean, inv_std, f);
	for (int e = 0; e <= s->nevals; e++) {
		eval_set *v = &s->evals[e];
		const usj_features *g = e ? &v->f : f;
		v->idx = xmalloc((size_t)(g->n ? g->n : 1) * sizeof *v->idx);
		v->n = usj_features_select(v->idx, g, USJ_SPLIT_TEST);
		if (!v->n)
			for (; v->n < g->n; v->n++)
				v->idx[v->n] = v->n;
		if (!v->n)
			usj_die(USJ_EDATA, "%s: no records to judge", g->name);
		if (e && !s->raw)
			usj_features_standardize(&v->f, mean, inv_std);
	}
	if (!s->raw)
		usj_features_standardize(f, mean, inv_std);
	free(mean), free(inv_std);
}

/* work: train the probe of job i (fraction i / seeds, seed i % seeds) and
 * judge it on every evaluation set */
static void work(void *ctx, int64_t i, void *slot)
{
	study *s = ctx;
	job *j = slot;
	const usj_features *f = &s->train;
	uint64_t seed = (uint64_t)(i % s->seeds);
	int64_t *sub = xmalloc((size_t)f->n * sizeof *sub);
	j->train_n = usj_probe_subset(sub, f, s->fractions[i / s->seeds], seed);
	usj_probe p;
	usj_probe_train(&p, &s->cfg, f, sub, j->train_n, s->val, s->nval, seed);
	free(sub);
	j->epochs = p.epochs;
	j->best_epoch = p.best_epoch;
	for (int e = 0; e <= s->nevals; e++) {
		const eval_set *v = &s->evals[e];
		double *prob = xmalloc((size_t)v->n * f->C * sizeof *prob);
		int32_t *pred = xmalloc((size_t)v->n * sizeof *pred), *y = xmalloc((size_t)v->n * sizeof *y);
		const usj_features *g = e ? &v->f : f;
		usj_probe_predict(&p, prob, pred, g, v->idx, v->n);
		for (int64_t k = 0; k < v->n; k++)
			y[k] = g->y[v->idx[k]];
		usj_metrics_compute(&j->m[e], y, pred, prob, v->n, f->C);
		free(prob), free(pred), free(y);
	}
	usj_probe_free(&p);
}

static void set_f8(usj_record *r, const char *key, const double *v, int C)
{
	int64_t shape[1] = {C};
	memcpy(usj_record_set_tensor(r, key, USJ_F8, 1, shape)->data, v, (size_t)C * sizeof *v);
}

/* emit: one results record per evaluation set, in the order of formats/results.md */
static void emit(void *ctx, int64_t i, void *slot)
{
	study *s = ctx;
	job *j = slot;
	int C = s->train.C;
	msgpack_object names[C];
	for (int k = 0; k < C; k++)
		names[k] = (msgpack_object){.type = MSGPACK_OBJECT_STR,
		                            .via.str = {(uint32_t)strlen(s->train.classes[k]), s->train.classes[k]}};
	msgpack_object classes = {.type = MSGPACK_OBJECT_ARRAY, .via.array = {(uint32_t)C, names}};
	usj_record r;
	usj_record_init(&r);
	for (int e = 0; e <= s->nevals; e++) {
		const usj_metrics *m = &j->m[e];
		usj_record_clear(&r);
		usj_record_set_str(&r, "model", s->model);
		usj_record_set_str(&r, "checkpoint", s->checkpoint);
		usj_record_set_str(&r, "task", s->task);
		usj_record_set_int(&r, "seed", i % s->seeds);
		usj_record_set_double(&r, "fraction", s->fractions[i / s->seeds]);
		usj_record_set_str(&r, "eval", s->evals[e].name);
		usj_record_set_int(&r, "n", m->n);
		usj_record_set_object(&r, "classes", &classes);
		usj_record_set_double(&r, "macro_f1", m->macro_f1);
		usj_record_set_double(&r, "accuracy", m->accuracy);
		usj_record_set_double(&r, "balanced_accuracy", m->balanced_accuracy);
		usj_record_set_double(&r, "macro_auroc", m->macro_auroc);
		set_f8(&r, "per_class_f1", m->per_class_f1, C);
		set_f8(&r, "auroc", m->auroc, C);
		int64_t shape[2] = {C, C};
		memcpy(usj_record_set_tensor(&r, "confusion", USJ_I8, 2, shape)->data, m->confusion,
		       (size_t)C * C * sizeof(int64_t));
		usj_record_set_int(&r, "epochs", j->epochs);
		usj_record_set_int(&r, "best_epoch", j->best_epoch);
		usj_record_set_int(&r, "train_n", j->train_n);
		usj_writer_write(s->out, &r);
		usj_metrics_free(&j->m[e]);
	}
	usj_record_free(&r);
}

/* meta_str: meta.KEY.SUB as a new string, or NULL */
static char *meta_str(usj_reader *in, const char *key, const char *sub)
{
	const msgpack_object *o = usj_object_get(usj_reader_meta(in), key);
	o = o && o->type == MSGPACK_OBJECT_MAP ? usj_object_get(o, sub) : NULL;
	return o && o->type == MSGPACK_OBJECT_STR ? xasprintf("%.*s", (int)o->via.str.size, o->via.str.ptr) : NULL;
}

/* model_name: the basename of path without its extension */
static char *model_name(char *path)
{
	char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path, *dot = strrchr(base, '.');
	if (dot && dot != base)
		*dot = 0;
	return base;
}

static void pack_meta(msgpack_sbuffer *sb, const study *s, usj_reader *in)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	usj_pack_cstr(&pk, "probe");
	msgpack_pack_map(&pk, 10);
	usj_pack_kv_int(&pk, "seeds", s->seeds);
	usj_pack_cstr(&pk, "fractions");
	msgpack_pack_array(&pk, (size_t)s->nfractions);
	for (int k = 0; k < s->nfractions; k++)
		msgpack_pack_double(&pk, s->fractions[k]);
	usj_pack_kv_int(&pk, "epochs", s->cfg.epochs);
	usj_pack_kv_int(&pk, "patience", s->cfg.patience);
	usj_pack_kv_double(&pk, "lr", s->cfg.lr);
	usj_pack_kv_double(&pk, "weight_decay", s->cfg.wd);
	usj_pack_kv_int(&pk, "batch", s->cfg.batch);
	usj_pack_kv_str(&pk, "standardize", s->raw ? "none" : "training split mean and std");
	usj_pack_kv_str(&pk, "optimizer", "AdamW (0.9, 0.999, eps 1e-8), decay on the weight matrix only, cosine per step");
	usj_pack_kv_str(&pk, "stop", "lowest validation loss, patience epochs");
	usj_pack_cstr(&pk, "eval");
	msgpack_pack_map(&pk, (size_t)s->nevals);
	for (int e = 1; e <= s->nevals; e++)
		usj_pack_kv_str(&pk, s->evals[e].name, s->evals[e].path);
	usj_pack_cstr(&pk, "features");
	msgpack_pack_object(&pk, *usj_reader_meta(in));
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	static const struct option longopts[] = {
		{"seeds", required_argument, NULL, 'S'}, {"fractions", required_argument, NULL, 'F'},
		{"eval", required_argument, NULL, 'E'}, {"epochs", required_argument, NULL, 'e'},
		{"patience", required_argument, NULL, 'P'}, {"lr", required_argument, NULL, 'l'},
		{"wd", required_argument, NULL, 'w'}, {"batch", required_argument, NULL, 'b'},
		{"raw", no_argument, NULL, 'R'}, {"model", required_argument, NULL, 'M'},
		{"task", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {0},
	};
	static study s = {.cfg = {.epochs = 150, .patience = 15, .batch = 32, .lr = 1e-3, .wd = 1e-4},
	                  .seeds = 5, .nfractions = 1, .fractions = {100}};
	const char *out = "-";
	int threads = usj_cores(), c;
	while ((c = getopt_long(argc, argv, "j:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': s.seeds = (int)usj_cli_int(synopsis, "--seeds", optarg, 1, 100000); break;
		case 'F': parse_fractions(&s, optarg); break;
		case 'E': add_eval(&s, optarg); break;
		case 'e': s.cfg.epochs = (int)usj_cli_int(synopsis, "--epochs", optarg, 1, 1000000); break;
		case 'P': s.cfg.patience = (int)usj_cli_int(synopsis, "--patience", optarg, 1, 1000000); break;
		case 'l': s.cfg.lr = usj_cli_double(synopsis, "--lr", optarg, 0, 10); break;
		case 'w': s.cfg.wd = usj_cli_double(synopsis, "--wd", optarg, 0, 10); break;
		case 'b': s.cfg.batch = (int)usj_cli_int(synopsis, "--batch", optarg, 1, 1 << 20); break;
		case 'R': s.raw = 1; break;
		case 'M': s.model = optarg; break;
		case 'T': s.task = optarg; break;
		case 'j': threads = usj_cli_threads(synopsis, optarg); break;
		case 'o': out = optarg; break;
		case 'h': help(); usj_close_stdout(); return 0;
		case 'V': printf("us-probe %s\n", USJ_VERSION); usj_close_stdout(); return 0;
		default: usj_usage_error(synopsis, "unknown option");
		}
	}
	if (optind < argc - 1)
		usj_usage_error(synopsis, "one FEATURES stream at a time");
	usj_pool_init(1); /* probes run one a thread: AdamW's loops stay on the caller */
	usj_reader *in = usj_open_input(optind < argc ? argv[optind] : "-", "features", "us-teacher-encode --pool mean");
	char *path = meta_str(in, "model", "path"), *checksum = meta_str(in, "model", "checksum"),
	     *dataset = meta_str(in, "input", "dataset");
	s.model = s.model ? s.model : path ? model_name(path) : "";
	s.checkpoint = checksum ? checksum : "";
	s.task = s.task ? s.task : dataset ? dataset : "";
	load(&s, in);
	msgpack_sbuffer meta;
	msgpack_sbuffer_init(&meta);
	pack_meta(&meta, &s, in);
	s.out = usj_writer_open(out, "results", &meta);
	usj_ordered_run((int64_t)s.seeds * s.nfractions, threads, 2 * threads, sizeof(job), work, emit, &s);
	usj_writer_close(s.out, NULL);
	usj_reader_close(in);
	for (int e = 0; e <= s.nevals; e++) {
		free(s.evals[e].idx);
		usj_features_free(&s.evals[e].f);
	}
	usj_features_free(&s.train);
	free(s.val), free(path), free(checksum), free(dataset);
	msgpack_sbuffer_destroy(&meta);
	usj_close_stdout();
	return 0;
}
