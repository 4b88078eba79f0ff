/* probe.c: features in memory and the linear probe. The probe is one matrix
 * (C, D) and a bias (C): its kernels are plain loops in double over a batch
 * of feature rows picked by index, and AdamW is adamw.h's over a params table.
 * D features, C classes, B batch rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adamw.h"
#include "err.h"
#include "mem.h"
#include "probe.h"
#include "rng.h"

#define MAX_CLASSES 100000

/* record_name: the record's id, else its position, for messages */
static const char *record_name(usj_record *r, int64_t i, char *buf, size_t n)
{
	const char *id = usj_record_str(r, "id");
	if (id)
		return id;
	snprintf(buf, n, "#%lld", (long long)i);
	return buf;
}

/* meta_classes: meta.input.classes as new strings into f, if it is an array of strings */
static void meta_classes(usj_features *f, usj_reader *in)
{
	const msgpack_object *input = usj_object_get(usj_reader_meta(in), "input");
	const msgpack_object *c = input && input->type == MSGPACK_OBJECT_MAP ? usj_object_get(input, "classes") : NULL;
	if (!c || c->type != MSGPACK_OBJECT_ARRAY || c->via.array.size == 0 || c->via.array.size > MAX_CLASSES)
		return;
	for (uint32_t k = 0; k < c->via.array.size; k++)
		if (c->via.array.ptr[k].type != MSGPACK_OBJECT_STR)
			return;
	f->C = (int)c->via.array.size;
	f->classes = xcalloc((size_t)f->C, sizeof *f->classes);
	for (int k = 0; k < f->C; k++) {
		const msgpack_object_str *s = &c->via.array.ptr[k].via.str;
		f->classes[k] = xasprintf("%.*s", (int)s->size, s->ptr);
	}
}

/* name_class: remember the name of label y (grows f->classes to y + 1) */
static void name_class(usj_features *f, int64_t y, const char *name)
{
	if (y >= f->C) {
		f->classes = xrealloc(f->classes, (size_t)(y + 1) * sizeof *f->classes);
		memset(f->classes + f->C, 0, (size_t)(y + 1 - f->C) * sizeof *f->classes);
		f->C = (int)y + 1;
	}
	if (!f->classes[y] && name)
		f->classes[y] = xstrdup(name);
}

static int split_code(const char *s)
{
	if (!s)
		return USJ_SPLIT_OTHER;
	return !strcmp(s, "train") ? USJ_SPLIT_TRAIN : !strcmp(s, "val") ? USJ_SPLIT_VAL
	       : !strcmp(s, "test") ? USJ_SPLIT_TEST : USJ_SPLIT_OTHER;
}

void usj_features_read(usj_features *f, usj_reader *in, const usj_features *like)
{
	memset(f, 0, sizeof *f);
	f->name = xstrdup(usj_reader_name(in));
	int fixed = like != NULL;
	if (like) {
		f->D = like->D;
		f->C = like->C;
		f->classes = xcalloc((size_t)f->C, sizeof *f->classes);
		for (int k = 0; k < f->C; k++)
			f->classes[k] = xstrdup(like->classes[k]);
	} else {
		meta_classes(f, in);
		fixed = f->C > 0;
	}
	usj_record r;
	usj_record_init(&r);
	int64_t cap = 0;
	char buf[32];
	for (int64_t i = 0; usj_read(in, &r); i++) {
		const char *id = record_name(&r, i, buf, sizeof buf);
		const usj_tensor *t = usj_record_tensor(&r, "feature");
		if (!t || t->rank != 1 || t->count < 1 || t->dtype == USJ_B1)
			usj_die(USJ_EDATA, "%s: record %s has no \"feature\" vector: is this a features stream from us-teacher-encode --pool mean?",
			        f->name, id);
		if (f->D && t->count != f->D)
			usj_die(USJ_EDATA, "%s: record %s: the feature has %lld values, not %d as %s",
			        f->name, id, (long long)t->count, f->D, like ? "the training features" : "the first record");
		f->D = (int)t->count;
		int64_t y;
		if (usj_record_int(&r, "label", &y) != 0)
			usj_die(USJ_EDATA, "%s: record %s has no integer \"label\": a probe needs labelled features", f->name, id);
		if (y < 0 || (fixed && y >= f->C) || y >= MAX_CLASSES)
			usj_die(USJ_EDATA, "%s: record %s: label %lld is outside the %d classes", f->name, id, (long long)y,
			        fixed ? f->C : MAX_CLASSES);
		if (!fixed)
			name_class(f, y, usj_record_str(&r, "class"));
		if (f->n == cap) {
			cap = cap ? 2 * cap : 256;
			f->x = xrealloc(f->x, (size_t)cap * f->D * sizeof *f->x);
			f->y = xrealloc(f->y, (size_t)cap * sizeof *f->y);
			f->split = xrealloc(f->split, (size_t)cap);
		}
		for (int d = 0; d < f->D; d++)
			f->x[f->n * f->D + d] = (float)usj_tensor_at(t, d);
		f->y[f->n] = (int32_t)y;
		f->split[f->n] = (uint8_t)split_code(usj_record_str(&r, "split"));
		f->n++;
	}
	usj_record_free(&r);
	for (int k = 0; k < f->C; k++)
		if (!f->classes[k])
			f->classes[k] = xasprintf("%d", k);
}

void usj_features_free(usj_features *f)
{
	for (int k = 0; k < f->C; k++)
		free(f->classes[k]);
	free(f->classes), free(f->x), free(f->y), free(f->split), free(f->name);
	memset(f, 0, sizeof *f);
}

int64_t usj_features_select(int64_t *idx, const usj_features *f, int split)
{
	int64_t n = 0;
	for (int64_t i = 0; i < f->n; i++)
		if (f->split[i] == split)
			idx[n++] = i;
	return n;
}

void usj_features_train_stats(float *mean, float *inv_std, const usj_features *f)
{
	int D = f->D;
	double *s = xcalloc((size_t)D, sizeof *s), *ss = xcalloc((size_t)D, sizeof *ss);
	int64_t n = 0;
	for (int64_t i = 0; i < f->n; i++) {
		if (f->split[i] != USJ_SPLIT_TRAIN)
			continue;
		const float *x = f->x + i * D;
		for (int d = 0; d < D; d++)
			s[d] += x[d];
		n++;
	}
	for (int d = 0; d < D; d++)
		s[d] = n ? s[d] / n : 0;
	for (int64_t i = 0; i < f->n; i++) {
		if (f->split[i] != USJ_SPLIT_TRAIN)
			continue;
		const float *x = f->x + i * D;
		for (int d = 0; d < D; d++)
			ss[d] += (x[d] - s[d]) * (x[d] - s[d]);
	}
	for (int d = 0; d < D; d++) {
		double sd = n ? sqrt(ss[d] / n) : 0;
		mean[d] = (float)s[d];
		inv_std[d] = sd < 1e-12 ? 1.0f : (float)(1.0 / sd);
	}
	free(s), free(ss);
}

void usj_features_standardize(usj_features *f, const float *mean, const float *inv_std)
{
	for (int64_t i = 0; i < f->n; i++)
		for (int d = 0; d < f->D; d++)
			f->x[i * f->D + d] = (f->x[i * f->D + d] - mean[d]) * inv_std[d];
}

/* shuffle: Fisher-Yates over v (n) */
static void shuffle(int64_t *v, int64_t n, usj_rng *rng)
{
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = (int64_t)usj_rng_below(rng, (uint64_t)i + 1), t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

static int ascending(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int64_t usj_probe_subset(int64_t *idx, const usj_features *f, double percent, uint64_t seed)
{
	usj_rng rng;
	usj_rng_seed(&rng, seed ^ 0x5b5e7a11ce5ee1d5ull); /* apart from the probe's own draws */
	int64_t *cls = xmalloc((size_t)(f->n ? f->n : 1) * sizeof *cls), n = 0;
	for (int k = 0; k < f->C; k++) {
		int64_t nk = 0;
		for (int64_t i = 0; i < f->n; i++)
			if (f->split[i] == USJ_SPLIT_TRAIN && f->y[i] == k)
				cls[nk++] = i;
		shuffle(cls, nk, &rng);
		int64_t take = llround(percent * (double)nk / 100.0);
		take = take < 1 ? 1 : take > nk ? nk : take;
		memcpy(idx + n, cls, (size_t)take * sizeof *idx);
		n += take;
	}
	free(cls);
	qsort(idx, (size_t)n, sizeof *idx, ascending);
	return n;
}

/* probe_forward: softmax probabilities of the rows idx (B) of x */
static void probe_forward(double *prob, const float *x, const int64_t *idx, const float *w, const float *b,
                          int64_t B, int D, int C)
{
	// prob (B, C), x (*, D), w (C, D), b (C)
	for (int64_t i = 0; i < B; i++) {
		const float *xi = x + idx[i] * D;
		double *p = prob + i * C, max = -INFINITY, sum = 0;
		for (int c = 0; c < C; c++) {
			double z = b[c];
			for (int d = 0; d < D; d++)
				z += (double)w[(int64_t)c * D + d] * xi[d];
			p[c] = z;
			max = z > max ? z : max;
		}
		for (int c = 0; c < C; c++)
			sum += p[c] = exp(p[c] - max);
		for (int c = 0; c < C; c++)
			p[c] /= sum;
	}
}

/* probe_backward: gradients of the mean cross-entropy over the batch,
 * after an explicit zero */
static void probe_backward(float *dw, float *db, double *prob, const float *x, const int64_t *idx,
                           const int32_t *y, int64_t B, int D, int C)
{
	// dw (C, D), db (C), prob (B, C) overwritten by dloss/dlogits, x (*, D), y (*)
	memset(dw, 0, (size_t)C * D * sizeof *dw);
	memset(db, 0, (size_t)C * sizeof *db);
	for (int64_t i = 0; i < B; i++) {
		double *g = prob + i * C;
		g[y[idx[i]]] -= 1.0; /* loss = -log p[y]: dlogits = p - onehot(y), over B */
		const float *xi = x + idx[i] * D;
		for (int c = 0; c < C; c++) {
			float gc = (float)(g[c] / (double)B);
			db[c] += gc;
			for (int d = 0; d < D; d++)
				dw[(int64_t)c * D + d] += gc * xi[d];
		}
	}
}

/* mean_loss: the mean cross-entropy of the records idx (n) */
static double mean_loss(const usj_probe *p, const usj_features *f, const int64_t *idx, int64_t n, double *prob)
{
	double sum = 0;
	for (int64_t i = 0; i < n; i++) {
		probe_forward(prob, f->x, idx + i, p->ps.w, p->ps.w + p->ps.p[1].offset, 1, p->D, p->C);
		sum -= log(fmax(prob[f->y[idx[i]]], 1e-300));
	}
	return n ? sum / n : 0;
}

void usj_probe_train(usj_probe *p, const usj_probe_config *cfg, const usj_features *f, const int64_t *train,
                     int64_t ntrain, const int64_t *val, int64_t nval, uint64_t seed)
{
	int D = f->D, C = f->C;
	memset(p, 0, sizeof *p);
	p->D = D, p->C = C;
	usj_params_add(&p->ps, "weight", 2, (int64_t[]){C, D}, 1);
	usj_params_add(&p->ps, "bias", 1, (int64_t[]){C}, 0);
	usj_params_alloc(&p->ps);
	usj_rng rng;
	usj_rng_seed(&rng, seed);
	float bound = 1.0f / sqrtf((float)D);
	for (int64_t i = 0; i < p->ps.total; i++)
		p->ps.w[i] = bound * (float)(2 * usj_rng_uniform(&rng) - 1);
	float *best = xmalloc((size_t)p->ps.total * sizeof *best);
	memcpy(best, p->ps.w, (size_t)p->ps.total * sizeof *best);
	int64_t *order = xmalloc((size_t)(ntrain ? ntrain : 1) * sizeof *order);
	memcpy(order, train, (size_t)ntrain * sizeof *order);
	double *prob = xmalloc((size_t)cfg->batch * C * sizeof *prob);
	usj_adamw opt = {.beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
	int64_t steps = (ntrain + cfg->batch - 1) / cfg->batch, total = steps * cfg->epochs;
	double best_loss = INFINITY;
	for (int e = 0; e < cfg->epochs; e++) {
		shuffle(order, ntrain, &rng);
		for (int64_t s = 0; s < steps; s++) {
			int64_t b0 = s * cfg->batch, B = ntrain - b0 < cfg->batch ? ntrain - b0 : cfg->batch;
			probe_forward(prob, f->x, order + b0, p->ps.w, p->ps.w + p->ps.p[1].offset, B, D, C);
			probe_backward(p->ps.g, p->ps.g + p->ps.p[1].offset, prob, f->x, order + b0, f->y, B, D, C);
			double lr = usj_lr_at(opt.step, 0, total, 0, cfg->lr, 0);
			usj_adamw_step(&opt, &p->ps, (float)lr, (float)cfg->wd);
		}
		p->epochs = e + 1;
		double loss = mean_loss(p, f, val, nval, prob);
		if (loss < best_loss) {
			best_loss = loss;
			p->best_epoch = e + 1;
			memcpy(best, p->ps.w, (size_t)p->ps.total * sizeof *best);
		} else if (e + 1 - p->best_epoch >= cfg->patience) {
			break;
		}
	}
	memcpy(p->ps.w, best, (size_t)p->ps.total * sizeof *best);
	free(best), free(order), free(prob);
}

void usj_probe_predict(const usj_probe *p, double *prob, int32_t *pred, const usj_features *f, const int64_t *idx,
                       int64_t n)
{
	int C = p->C;
	probe_forward(prob, f->x, idx, p->ps.w, p->ps.w + p->ps.p[1].offset, n, p->D, C);
	for (int64_t i = 0; i < n; i++) {
		int k = 0;
		for (int c = 1; c < C; c++)
			k = prob[i * C + c] > prob[i * C + k] ? c : k;
		pred[i] = k;
	}
}

void usj_probe_free(usj_probe *p)
{
	usj_params_free(&p->ps);
}
