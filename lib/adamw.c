/* adamw.c: the optimiser as loops over the flat parameter buffers, cut over
 * the pool by elements, one pass for all tensors. */
#include <math.h>

#include "adamw.h"
#include "pool.h"
#include "simd8.h"

typedef struct step_args {
	usj_params *ps;
	float lr, wd, beta1, beta2, eps, step_size, bc2_sqrt;
} step_args;

/* first_tensor: the last tensor that starts at or before element i */
static int first_tensor(const usj_params *ps, int64_t i)
{
	int lo = 0, hi = ps->n - 1;
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (ps->p[mid].offset <= i)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* update: the AdamW update of elements [b, e) with one decay factor, 8 at a
 * time and the last few one by one */
CLONES static void update(float *w, const float *g, float *m, float *v, int64_t b, int64_t e, float decay,
                          const step_args *a) // w, g, m, v (total)
{
	float beta2 = a->beta2, mix1 = 1.0f - a->beta1, mix2 = 1.0f - a->beta2, step = a->step_size;
	float bc2 = a->bc2_sqrt, eps = a->eps;
	int64_t i = b;
	for (; i + 8 <= e; i += 8) {
		f32x8 gi = load8(g + i), mi = load8(m + i), vi = load8(v + i), wi = load8(w + i) * decay;
		mi += mix1 * (gi - mi);
		vi = beta2 * vi + mix2 * gi * gi;
		store8(m + i, mi);
		store8(v + i, vi);
		store8(w + i, wi - step * mi / (sqrt8(vi) / bc2 + eps));
	}
	for (; i < e; i++) {
		w[i] *= decay;
		m[i] += mix1 * (g[i] - m[i]);
		v[i] = beta2 * v[i] + mix2 * g[i] * g[i];
		w[i] -= step * m[i] / (sqrtf(v[i]) / bc2 + eps);
	}
}

/* update_range: elements [i0, i1) of the flat buffers, tensor by tensor (decay is a tensor's) */
static void update_range(void *ctx, int64_t i0, int64_t i1)
{
	step_args *a = ctx;
	const usj_params *ps = a->ps;
	for (int t = first_tensor(ps, i0); t < ps->n && ps->p[t].offset < i1; t++) {
		const usj_param *p = &ps->p[t];
		int64_t b = p->offset > i0 ? p->offset : i0, e = p->offset + p->count < i1 ? p->offset + p->count : i1;
		update(ps->w, ps->g, ps->m, ps->v, b, e, p->decay ? 1.0f - a->lr * a->wd : 1.0f, a);
	}
}

void usj_adamw_step(usj_adamw *opt, usj_params *ps, float lr, float wd)
{
	if (!ps->m)
		usj_params_alloc_moments(ps);
	opt->step++;
	double bc1 = 1.0 - pow(opt->beta1, (double)opt->step), bc2 = 1.0 - pow(opt->beta2, (double)opt->step);
	step_args a = {.ps = ps, .lr = lr, .wd = wd, .beta1 = opt->beta1, .beta2 = opt->beta2, .eps = opt->eps,
	               .step_size = (float)(lr / bc1), .bc2_sqrt = (float)sqrt(bc2)};
	if (ps->n > 0) /* one pass over all tensors at once */
		usj_pool_for(ps->total, 1024, update_range, &a);
}

typedef struct norm_args {
	const usj_params *ps;
	double *sums; /* (n) one a tensor */
} norm_args;

static void norm_tensors(void *ctx, int64_t t0, int64_t t1)
{
	norm_args *a = ctx;
	for (int64_t t = t0; t < t1; t++) {
		const usj_param *p = &a->ps->p[t];
		const float *g = a->ps->g + p->offset;
		double s = 0.0;
		for (int64_t i = 0; i < p->count; i++)
			s += (double)g[i] * g[i];
		a->sums[t] = s;
	}
}

double usj_grad_norm(const usj_params *ps)
{
	double sums[ps->n > 0 ? ps->n : 1];
	norm_args a = {.ps = ps, .sums = sums};
	usj_pool_for(ps->n, 1, norm_tensors, &a);
	double total = 0.0;
	for (int t = 0; t < ps->n; t++)
		total += sums[t];
	return sqrt(total);
}

typedef struct scale_args {
	float *g;
	float coef;
} scale_args;

static void scale_range(void *ctx, int64_t i0, int64_t i1)
{
	scale_args *a = ctx;
	for (int64_t i = i0; i < i1; i++)
		a->g[i] *= a->coef;
}

double usj_clip_grad_norm(usj_params *ps, double max_norm)
{
	double norm = usj_grad_norm(ps), coef = max_norm / (norm + 1e-6);
	scale_args a = {.g = ps->g, .coef = (float)coef};
	if (coef < 1.0)
		usj_pool_for(ps->total, 1024, scale_range, &a);
	return norm;
}

double usj_lr_at(int64_t step, int64_t warmup, int64_t total, double start, double ref, double final)
{
	if (step < warmup)
		return start + (ref - start) * (double)step / (double)warmup;
	double progress = total > warmup ? (double)(step - warmup) / (double)(total - warmup) : 1.0;
	progress = progress > 1.0 ? 1.0 : progress;
	return final + (ref - final) * 0.5 * (1.0 + cos(M_PI * progress));
}

double usj_wd_at(int64_t step, int64_t total, double ref, double final)
{
	double progress = total > 0 ? (double)step / (double)total : 1.0;
	progress = progress > 1.0 ? 1.0 : progress;
	return final + (ref - final) * 0.5 * (1.0 + cos(M_PI * progress));
}
