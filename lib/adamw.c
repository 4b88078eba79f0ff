/* adamw.c: the optimiser as loops over the flat parameter buffers, cut over
 * the pool by elements, one pass for all tensors. */
#include <math.h>

#include "adamw.h"
#include "pool.h"

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

/* update_range: elements [i0, i1) of the flat buffers, tensor by tensor (decay is a tensor's) */
static void update_range(void *ctx, int64_t i0, int64_t i1)
{
	step_args *a = ctx;
	const usj_params *ps = a->ps;
	float *w = ps->w, *g = ps->g, *m = ps->m, *v = ps->v; // (total)
	for (int t = first_tensor(ps, i0); t < ps->n && ps->p[t].offset < i1; t++) {
		const usj_param *p = &ps->p[t];
		int64_t b = p->offset > i0 ? p->offset : i0, e = p->offset + p->count < i1 ? p->offset + p->count : i1;
		float decay = p->decay ? 1.0f - a->lr * a->wd : 1.0f;
		for (int64_t i = b; i < e; i++) {
			w[i] *= decay;
			m[i] += (1.0f - a->beta1) * (g[i] - m[i]);
			v[i] = a->beta2 * v[i] + (1.0f - a->beta2) * g[i] * g[i];
			w[i] -= a->step_size * m[i] / (sqrtf(v[i]) / a->bc2_sqrt + a->eps);
		}
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
