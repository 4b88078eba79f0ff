/* us-inspect: show and validate usjepa streams. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "mem.h"
#include "msgjson.h"
#include "stream.h"
#include "tally.h"

static const char *synopsis = "us-inspect [--json] [--records] [-n N] [FILE...]";

static void help(void)
{
	printf("usage: %s\n\n"
	       "Show a usjepa stream (header, records, fields, labels, splits, tensor\n"
	       "statistics) and check that it is whole. Reads standard input without FILE\n"
	       "or with -. Exit 0 if every stream is whole; at the first that is not, exit 3.\n\n"
	       "  --json         JSON lines for scripts instead of text\n"
	       "  --records      also show every record (at most N with -n)\n"
	       "  -n, --limit N  show at most N records (with --records)\n"
	       "  -h, --help     this help\n"
	       "      --version  the version\n", synopsis);
}

/* What one key looked like over all records. */
typedef struct keystat {
	char *key;
	int64_t count;
	usj_tally types;        /* "str", "int", "<f4 [64,64]", ... */
	int64_t elems, nonfinite;
	double min, max, sum, sumsq;
} keystat;

typedef struct summary {
	keystat *keys;
	int nkeys;
	usj_tally labels, splits, split_labels;
	int64_t records;
} summary;

static keystat *key_stat(summary *s, const char *key)
{
	for (int i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].key, key) == 0)
			return &s->keys[i];
	s->keys = xrealloc(s->keys, (size_t)(s->nkeys + 1) * sizeof *s->keys);
	keystat *k = &s->keys[s->nkeys++];
	memset(k, 0, sizeof *k);
	k->key = xstrdup(key);
	k->min = INFINITY;
	k->max = -INFINITY;
	return k;
}

static const char *object_type(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return "nil";
	case MSGPACK_OBJECT_BOOLEAN: return "bool";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "int";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return "float";
	case MSGPACK_OBJECT_STR: return "str";
	case MSGPACK_OBJECT_BIN: return "bin";
	case MSGPACK_OBJECT_ARRAY: return "list";
	case MSGPACK_OBJECT_MAP: {
		double v;
		int is_int;
		if (usj_object_numpy_scalar(o, &v, &is_int) == 0)
			return is_int ? "int" : "float";
		return "map";
	}
	default: return "ext";
	}
}

static void add_tensor(keystat *k, const usj_tensor *t)
{
	for (int64_t i = 0; i < t->count; i++) {
		double v = usj_tensor_at(t, i);
		if (!isfinite(v)) {
			k->nonfinite++;
			continue;
		}
		k->elems++;
		k->sum += v;
		k->sumsq += v * v;
		if (v < k->min)
			k->min = v;
		if (v > k->max)
			k->max = v;
	}
}

static void add_record(summary *s, usj_record *rec)
{
	s->records++;
	for (int i = 0; i < rec->nfields; i++) {
		usj_field *f = &rec->fields[i];
		keystat *k = key_stat(s, f->key);
		k->count++;
		if (f->is_tensor) {
			char shape[128], type[160];
			snprintf(type, sizeof type, "%s %s", usj_dtype_name(f->t.dtype),
			         usj_tensor_shape_str(&f->t, shape, sizeof shape));
			usj_tally_add(&k->types, type, 1);
			add_tensor(k, &f->t);
		} else {
			usj_tally_add(&k->types, object_type(&f->obj), 1);
		}
	}
	const char *cls = usj_record_str(rec, "class");
	int64_t label;
	char buf[32];
	if (!cls && usj_record_int(rec, "label", &label) == 0) {
		snprintf(buf, sizeof buf, "%lld", (long long)label);
		cls = buf;
	}
	const char *split = usj_record_str(rec, "split");
	if (cls)
		usj_tally_add(&s->labels, cls, 1);
	if (split)
		usj_tally_add(&s->splits, split, 1);
	if (cls && split) {
		char *both = xasprintf("%s\t%s", split, cls);
		usj_tally_add(&s->split_labels, both, 1);
		free(both);
	}
}

static json_t *record_json(usj_record *rec, int64_t index)
{
	json_t *j = json_object();
	json_object_set_new(j, "type", json_string("record"));
	json_object_set_new(j, "index", json_integer(index));
	json_t *fields = json_object();
	for (int i = 0; i < rec->nfields; i++) {
		usj_field *f = &rec->fields[i];
		json_t *v;
		if (f->is_tensor) {
			json_t *shape = json_array();
			for (int d = 0; d < f->t.rank; d++)
				json_array_append_new(shape, json_integer(f->t.shape[d]));
			v = json_pack("{s:s,s:o}", "ndarray", usj_dtype_name(f->t.dtype), "shape", shape);
		} else {
			v = usj_object_json(&f->obj);
		}
		json_object_set_new(fields, f->key, v);
	}
	json_object_set_new(j, "fields", fields);
	return j;
}

static json_t *tally_json(const usj_tally *t)
{
	json_t *j = json_object();
	for (int i = 0; i < t->n; i++)
		json_object_set_new(j, t->names[i], json_integer(t->counts[i]));
	return j;
}

static json_t *keystat_json(const keystat *k)
{
	json_t *j = json_pack("{s:s,s:s,s:I,s:o}", "type", "field", "key", k->key,
	                      "count", (json_int_t)k->count, "types", tally_json(&k->types));
	if (k->elems) {
		double mean = k->sum / (double)k->elems;
		double var = k->sumsq / (double)k->elems - mean * mean;
		json_object_set_new(j, "min", json_real(k->min));
		json_object_set_new(j, "max", json_real(k->max));
		json_object_set_new(j, "mean", json_real(mean));
		json_object_set_new(j, "std", json_real(sqrt(var > 0 ? var : 0)));
	}
	if (k->nonfinite)
		json_object_set_new(j, "nonfinite", json_integer(k->nonfinite));
	return j;
}

static void print_tally(const char *title, const usj_tally *t)
{
	if (!t->n)
		return;
	printf("%s:", title);
	for (int i = 0; i < t->n; i++)
		printf("%s %s %lld", i ? "," : "", t->names[i], (long long)t->counts[i]);
	printf("\n");
}

static void print_text(usj_reader *r, const summary *s)
{
	json_t *meta = usj_object_json(usj_reader_meta(r));
	const msgpack_object *producer = usj_object_get(usj_reader_header(r), "producer");
	json_t *prod = producer ? usj_object_json(producer) : json_null();
	printf("stream: %s\nkind: %s\nproducer: ", usj_reader_name(r), usj_reader_kind(r));
	usj_json_print(stdout, prod);
	printf("meta: ");
	usj_json_print(stdout, meta);
	printf("records: %lld in %d stream%s\n", (long long)s->records, usj_reader_segments(r),
	       usj_reader_segments(r) == 1 ? "" : "s (concatenated)");
	printf("fields:\n");
	for (int i = 0; i < s->nkeys; i++) {
		const keystat *k = &s->keys[i];
		printf("  %-12s %6lld  ", k->key, (long long)k->count);
		for (int t = 0; t < k->types.n && t < 4; t++)
			printf("%s%s", t ? " | " : "", k->types.names[t]);
		if (k->types.n > 4)
			printf(" | ... (%d shapes)", k->types.n);
		if (k->elems) {
			double mean = k->sum / (double)k->elems;
			double var = k->sumsq / (double)k->elems - mean * mean;
			printf("  min %.4g max %.4g mean %.4g std %.4g", k->min, k->max, mean, sqrt(var > 0 ? var : 0));
		}
		if (k->nonfinite)
			printf("  NON-FINITE %lld", (long long)k->nonfinite);
		printf("\n");
	}
	print_tally("labels", &s->labels);
	print_tally("splits", &s->splits);
	for (int sp = 0; sp < s->splits.n && s->labels.n; sp++) {
		printf("  %-6s", s->splits.names[sp]);
		for (int l = 0; l < s->labels.n; l++) {
			char *both = xasprintf("%s\t%s", s->splits.names[sp], s->labels.names[l]);
			int i = usj_tally_find(&s->split_labels, both);
			printf(" %s %lld", s->labels.names[l], i < 0 ? 0LL : (long long)s->split_labels.counts[i]);
			free(both);
		}
		printf("\n");
	}
	const msgpack_object *sum = usj_reader_summary(r);
	if (sum) {
		json_t *j = usj_object_json(sum);
		printf("trailer summary: ");
		usj_json_print(stdout, j);
		json_decref(j);
	}
	printf("ok: the stream is whole\n");
	json_decref(meta);
	json_decref(prod);
}

static void print_json(usj_reader *r, const summary *s)
{
	for (int i = 0; i < s->nkeys; i++) {
		json_t *j = keystat_json(&s->keys[i]);
		usj_json_print(stdout, j);
		json_decref(j);
	}
	const msgpack_object *sum = usj_reader_summary(r);
	json_t *j = json_pack("{s:s,s:s,s:I,s:i,s:o,s:o,s:o,s:b}", "type", "summary",
	                      "stream", usj_reader_name(r), "records", (json_int_t)s->records,
	                      "streams", usj_reader_segments(r), "labels", tally_json(&s->labels),
	                      "splits", tally_json(&s->splits),
	                      "trailer", sum ? usj_object_json(sum) : json_null(), "ok", 1);
	usj_json_print(stdout, j);
	json_decref(j);
}

static void inspect(const char *path, int as_json, int show_records, int64_t limit)
{
	usj_reader *r = usj_open_input(path, NULL, NULL);
	if (as_json) {
		const msgpack_object *producer = usj_object_get(usj_reader_header(r), "producer");
		json_t *h = json_pack("{s:s,s:s,s:s,s:o,s:o}", "type", "header", "stream", usj_reader_name(r),
		                      "kind", usj_reader_kind(r),
		                      "producer", producer ? usj_object_json(producer) : json_null(),
		                      "meta", usj_object_json(usj_reader_meta(r)));
		usj_json_print(stdout, h);
		json_decref(h);
	}
	summary s = {0};
	usj_record rec;
	usj_record_init(&rec);
	while (usj_read(r, &rec)) {
		add_record(&s, &rec);
		if (show_records && (limit < 0 || s.records <= limit)) {
			json_t *j = record_json(&rec, s.records - 1);
			if (!as_json)
				json_object_del(j, "type");
			usj_json_print(stdout, j);
			json_decref(j);
		}
	}
	if (as_json)
		print_json(r, &s);
	else
		print_text(r, &s);
	for (int i = 0; i < s.nkeys; i++) {
		free(s.keys[i].key);
		usj_tally_free(&s.keys[i].types);
	}
	free(s.keys);
	usj_tally_free(&s.labels);
	usj_tally_free(&s.splits);
	usj_tally_free(&s.split_labels);
	usj_record_free(&rec);
	usj_reader_close(r);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'J'}, {"records", no_argument, NULL, 'R'},
		{"limit", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'}, {0},
	};
	int as_json = 0, show_records = 0, c;
	int64_t limit = -1;
	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': as_json = 1; break;
		case 'R': show_records = 1; break;
		case 'n':
			limit = usj_cli_int(synopsis, "-n", optarg, 0, INT64_MAX);
			break;
		case 'h': help(); usj_close_stdout(); return 0;
		case 'V': printf("us-inspect %s\n", USJ_VERSION); usj_close_stdout(); return 0;
		default: usj_usage_error(synopsis, "unknown option");
		}
	}
	if (optind == argc)
		inspect("-", as_json, show_records, limit);
	for (int i = optind; i < argc; i++) {
		inspect(argv[i], as_json, show_records, limit);
		fflush(stdout);
	}
	usj_close_stdout();
	return 0;
}
