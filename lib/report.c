/* report.c: results streams read, checked and gathered into tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "report.h"
#include "stream.h"

int usj_eval_severity(const char *eval, int *kind_len)
{
	const char *dash = strrchr(eval, '-');
	*kind_len = (int)strlen(eval);
	if (!dash || dash == eval || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1))
		return 0;
	int e = atoi(dash + 1);
	if (e > 0)
		*kind_len = (int)(dash - eval);
	return e > 0 ? e : 0;
}

/* field_index: a required str field's index in names, or die saying what the record lacks */
static int field_index(usj_tally *names, usj_record *rec, const char *key, const char *file, int64_t k)
{
	const char *s = usj_record_str(rec, key);
	if (!s)
		usj_die(USJ_EDATA, "%s: record %lld has no '%s' (str): is this a results stream from us-probe?", file,
		        (long long)k, key);
	return usj_tally_add(names, s, 1);
}

static double field_double(usj_record *rec, const char *key, const char *file, int64_t k)
{
	double v;
	if (usj_record_double(rec, key, &v) || !isfinite(v))
		usj_die(USJ_EDATA, "%s: record %lld has no '%s' (a finite number): is this a results stream from us-probe?",
		        file, (long long)k, key);
	return v;
}

static void load_file(usj_results *rs, const char *path, int file)
{
	usj_reader *in = usj_open_input(path, "results", "us-probe");
	const char *name = usj_reader_name(in);
	usj_record rec;
	usj_record_init(&rec);
	for (int64_t k = 1; usj_read(in, &rec); k++) {
		if (rs->n == rs->cap) {
			rs->cap = rs->cap ? 2 * rs->cap : 256;
			rs->r = xrealloc(rs->r, (size_t)rs->cap * sizeof *rs->r);
		}
		usj_result *r = &rs->r[rs->n++];
		r->file = file;
		r->record = k;
		r->model = field_index(&rs->models, &rec, "model", name, k);
		r->task = field_index(&rs->tasks, &rec, "task", name, k);
		r->eval = field_index(&rs->evals, &rec, "eval", name, k);
		if (usj_record_int(&rec, "seed", &r->seed))
			usj_die(USJ_EDATA, "%s: record %lld has no 'seed' (int)", name, (long long)k);
		r->fraction = field_double(&rec, "fraction", name, k);
		r->macro_f1 = field_double(&rec, "macro_f1", name, k);
		if (!(r->fraction > 0 && r->fraction <= 100))
			usj_die(USJ_EDATA, "%s: record %lld: fraction %g is not a percentage in (0, 100]", name,
			        (long long)k, r->fraction);
		if (r->macro_f1 < 0 || r->macro_f1 > 1)
			usj_die(USJ_EDATA, "%s: record %lld: macro_f1 %g is outside [0, 1]", name, (long long)k, r->macro_f1);
	}
	usj_record_free(&rec);
	usj_reader_close(in);
}

static const usj_results *sorting; /* qsort has no context argument */

/* by_probe: results ordered by (model, task, eval, fraction, seed) */
static int by_probe(const void *pa, const void *pb)
{
	const usj_result *a = pa, *b = pb;
	if (a->model != b->model)
		return a->model - b->model;
	if (a->task != b->task)
		return a->task - b->task;
	if (a->eval != b->eval)
		return a->eval - b->eval;
	if (a->fraction != b->fraction)
		return a->fraction < b->fraction ? -1 : 1;
	return a->seed < b->seed ? -1 : a->seed > b->seed;
}

/* by_eval: clean first, then corrupted sets by kind name, then severity */
static int by_eval(const void *pa, const void *pb)
{
	const char *a = sorting->evals.names[*(const int *)pa], *b = sorting->evals.names[*(const int *)pb];
	int ca = strcmp(a, USJ_CLEAN_EVAL) == 0, cb = strcmp(b, USJ_CLEAN_EVAL) == 0, la, lb;
	if (ca != cb)
		return cb - ca;
	int ea = usj_eval_severity(a, &la), eb = usj_eval_severity(b, &lb);
	int c = strncmp(a, b, (size_t)(la < lb ? la : lb));
	if (c || la != lb)
		return c ? c : la - lb;
	return ea != eb ? ea - eb : strcmp(a, b);
}

static int by_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

/* order_evals: renumber the evals in by_eval order */
static void order_evals(usj_results *rs)
{
	int n = rs->evals.n;
	int *order = xmalloc((size_t)(n ? n : 1) * sizeof *order), *rank = xmalloc((size_t)(n ? n : 1) * sizeof *rank);
	for (int i = 0; i < n; i++)
		order[i] = i;
	sorting = rs;
	qsort(order, (size_t)n, sizeof *order, by_eval);
	usj_tally sorted = {0};
	for (int i = 0; i < n; i++) {
		rank[order[i]] = i;
		usj_tally_add(&sorted, rs->evals.names[order[i]], rs->evals.counts[order[i]]);
	}
	for (int i = 0; i < rs->n; i++)
		rs->r[i].eval = rank[rs->r[i].eval];
	usj_tally_free(&rs->evals);
	rs->evals = sorted;
	free(order);
	free(rank);
}

void usj_results_load(usj_results *rs, char **paths, int npaths)
{
	memset(rs, 0, sizeof *rs);
	rs->files = paths;
	rs->nfiles = npaths;
	for (int f = 0; f < npaths; f++)
		load_file(rs, paths[f], f);
	order_evals(rs);
	if (rs->n) /* qsort wants a buffer, even for nothing */
		qsort(rs->r, (size_t)rs->n, sizeof *rs->r, by_probe);
	for (int i = 1; i < rs->n; i++) {
		const usj_result *a = &rs->r[i - 1], *b = &rs->r[i];
		if (by_probe(a, b) == 0)
			usj_die(USJ_EDATA, "%s: record %lld repeats the probe of %s record %lld (model %s, task %s, "
			        "fraction %g, eval %s, seed %lld): give each result once",
			        paths[b->file], (long long)b->record, paths[a->file], (long long)a->record,
			        rs->models.names[b->model], rs->tasks.names[b->task], b->fraction,
			        rs->evals.names[b->eval], (long long)b->seed);
	}
	rs->fractions = xmalloc((size_t)(rs->n ? rs->n : 1) * sizeof *rs->fractions);
	for (int i = 0; i < rs->n; i++)
		rs->fractions[i] = rs->r[i].fraction;
	qsort(rs->fractions, (size_t)rs->n, sizeof *rs->fractions, by_double);
	for (int i = 0; i < rs->n; i++)
		if (!rs->nfractions || rs->fractions[rs->nfractions - 1] != rs->fractions[i])
			rs->fractions[rs->nfractions++] = rs->fractions[i];
}

void usj_results_free(usj_results *rs)
{
	usj_tally_free(&rs->models);
	usj_tally_free(&rs->tasks);
	usj_tally_free(&rs->evals);
	free(rs->r);
	free(rs->fractions);
	memset(rs, 0, sizeof *rs);
}

/* cell_of: mean and sample std of v (n) */
static usj_cell cell_of(const double *v, int n)
{
	usj_cell c = {.n = n, .std = NAN};
	double s = 0, ss = 0;
	for (int i = 0; i < n; i++)
		s += v[i];
	c.mean = n ? s / n : 0;
	for (int i = 0; i < n; i++)
		ss += (v[i] - c.mean) * (v[i] - c.mean);
	if (n > 1)
		c.std = sqrt(ss / (n - 1));
	return c;
}

/* probes: the results of (model, task, fraction, eval), contiguous as sorted; count in *n */
static const usj_result *probes(const usj_results *rs, int model, int task, double fraction, int eval, int *n)
{
	usj_result key = {.model = model, .task = task, .eval = eval, .fraction = fraction, .seed = INT64_MIN};
	int lo = 0, hi = rs->n;
	while (lo < hi) { /* the first result not before key */
		int mid = (lo + hi) / 2;
		if (by_probe(&rs->r[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*n = 0;
	while (lo + *n < rs->n) {
		const usj_result *r = &rs->r[lo + *n];
		if (r->model != model || r->task != task || r->eval != eval || r->fraction != fraction)
			break;
		++*n;
	}
	return rs->r + lo;
}

usj_cell usj_results_f1(const usj_results *rs, int model, int task, double fraction, int eval)
{
	int n;
	const usj_result *r = probes(rs, model, task, fraction, eval, &n);
	double *v = xmalloc((size_t)(n ? n : 1) * sizeof *v);
	for (int i = 0; i < n; i++)
		v[i] = 100 * r[i].macro_f1;
	usj_cell c = cell_of(v, n);
	free(v);
	return c;
}

usj_cell usj_results_drop(const usj_results *rs, int model, int task, int eval)
{
	int clean = usj_tally_find(&rs->evals, USJ_CLEAN_EVAL), nc = 0, nd, n = 0;
	const usj_result *c = clean < 0 ? NULL : probes(rs, model, task, 100, clean, &nc);
	const usj_result *d = probes(rs, model, task, 100, eval, &nd);
	double *v = xmalloc((size_t)(nd ? nd : 1) * sizeof *v);
	for (int i = 0, j = 0; i < nc && j < nd;) { /* both sorted by seed */
		if (c[i].seed == d[j].seed)
			v[n++] = 100 * (c[i++].macro_f1 - d[j++].macro_f1);
		else if (c[i].seed < d[j].seed)
			i++;
		else
			j++;
	}
	usj_cell cell = cell_of(v, n);
	free(v);
	return cell;
}

/* table_init: an empty table of rows x cols with nlab label columns */
static void table_init(usj_table *t, const char *name, int nlab, int rows, int cols)
{
	memset(t, 0, sizeof *t);
	t->name = name;
	t->nlab = nlab;
	t->rows = rows;
	t->cols = cols;
	t->lab_names = xcalloc((size_t)nlab, sizeof *t->lab_names);
	t->labels = xcalloc((size_t)(rows * nlab + 1), sizeof *t->labels);
	t->col_names = xcalloc((size_t)cols + 1, sizeof *t->col_names);
	t->cells = xcalloc((size_t)(rows * cols + 1), sizeof *t->cells);
	t->bold = xcalloc((size_t)(rows * cols + 1), 1);
}

void usj_table_free(usj_table *t)
{
	for (int c = 0; c < t->cols; c++)
		free(t->col_names[c]);
	free(t->lab_names), free(t->labels), free(t->col_names), free(t->cells), free(t->bold);
	memset(t, 0, sizeof *t);
}

/* rounded: a mean as printed, so that cells that print alike are alike */
static long rounded(double v) { return lround(v * 10); }

/* bold_best: in column c, among rows [r0, r1), bold the printed maximum
 * (sign +1) or minimum (sign -1) */
static void bold_best(usj_table *t, int c, int r0, int r1, int sign)
{
	long best = 0;
	int any = 0;
	for (int r = r0; r < r1; r++) {
		const usj_cell *x = &t->cells[r * t->cols + c];
		if (x->n && (!any || sign * rounded(x->mean) > sign * best))
			best = rounded(x->mean), any = 1;
	}
	for (int r = r0; r < r1; r++) {
		const usj_cell *x = &t->cells[r * t->cols + c];
		t->bold[r * t->cols + c] = x->n && rounded(x->mean) == best;
	}
}

void usj_table_main(usj_table *t, const usj_results *rs)
{
	int M = rs->models.n, T = rs->tasks.n, clean = usj_tally_find(&rs->evals, USJ_CLEAN_EVAL);
	table_init(t, "table2", 1, M, T + 1);
	t->lab_names[0] = "model";
	for (int k = 0; k < T; k++)
		t->col_names[k] = xstrdup(rs->tasks.names[k]);
	t->col_names[T] = xstrdup("mean");
	for (int m = 0; m < M; m++) {
		t->labels[m] = rs->models.names[m];
		usj_cell *row = t->cells + m * t->cols;
		int all = clean >= 0;
		double s = 0;
		for (int k = 0; k < T && clean >= 0; k++) {
			row[k] = usj_results_f1(rs, m, k, 100, clean);
			all &= row[k].n > 0;
			s += row[k].mean;
		}
		if (all && T) /* a mean over every task, or none: partial means do not compare */
			row[T] = (usj_cell){.n = T, .mean = s / T, .std = NAN};
	}
	for (int c = 0; c < t->cols; c++)
		bold_best(t, c, 0, M, 1);
}

/* fraction_name: "5 %" */
static char *fraction_name(double f) { return xasprintf("%g %%", f); }

void usj_table_fewshot(usj_table *t, const usj_results *rs)
{
	int M = rs->models.n, T = rs->tasks.n, F = rs->nfractions, clean = usj_tally_find(&rs->evals, USJ_CLEAN_EVAL);
	table_init(t, "fewshot", 2, T * M, F);
	t->lab_names[0] = "task";
	t->lab_names[1] = "model";
	for (int f = 0; f < F; f++)
		t->col_names[f] = fraction_name(rs->fractions[f]);
	for (int k = 0; k < T; k++)
		for (int m = 0; m < M; m++) {
			int r = k * M + m;
			t->labels[2 * r] = rs->tasks.names[k];
			t->labels[2 * r + 1] = rs->models.names[m];
			for (int f = 0; f < F && clean >= 0; f++)
				t->cells[r * F + f] = usj_results_f1(rs, m, k, rs->fractions[f], clean);
		}
	for (int k = 0; k < T; k++)
		for (int f = 0; f < F; f++)
			bold_best(t, f, k * M, (k + 1) * M, 1);
}

void usj_table_robustness(usj_table *t, const usj_results *rs)
{
	int M = rs->models.n, T = rs->tasks.n, clean = usj_tally_find(&rs->evals, USJ_CLEAN_EVAL);
	int first = clean >= 0, E = rs->evals.n - first; /* the clean set sorts first */
	table_init(t, "robustness", 2, T * M, E);
	t->lab_names[0] = "task";
	t->lab_names[1] = "model";
	for (int e = 0; e < E; e++)
		t->col_names[e] = xstrdup(rs->evals.names[first + e]);
	for (int k = 0; k < T; k++)
		for (int m = 0; m < M; m++) {
			int r = k * M + m;
			t->labels[2 * r] = rs->tasks.names[k];
			t->labels[2 * r + 1] = rs->models.names[m];
			for (int e = 0; e < E; e++)
				t->cells[r * E + e] = usj_results_drop(rs, m, k, first + e);
		}
	for (int k = 0; k < T; k++)
		for (int e = 0; e < E; e++)
			bold_best(t, e, k * M, (k + 1) * M, -1);
}
