/* params.c: the parameter table and its buffers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "params.h"

int usj_params_add(usj_params *ps, const char *name, int rank, const int64_t *shape, int decay)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 64;
		ps->p = xrealloc(ps->p, (size_t)ps->cap * sizeof *ps->p);
	}
	usj_param *p = &ps->p[ps->n];
	memset(p, 0, sizeof *p);
	if (snprintf(p->name, sizeof p->name, "%s", name) >= (int)sizeof p->name)
		usj_die(USJ_EFAIL, "parameter name too long: %s", name);
	p->rank = rank;
	p->count = 1;
	for (int k = 0; k < rank; k++) {
		p->shape[k] = shape[k];
		p->count *= shape[k];
	}
	/* each tensor starts on a 64-byte boundary, for vector loads */
	p->offset = (ps->total + 15) / 16 * 16;
	ps->total = p->offset + p->count;
	p->decay = decay;
	return ps->n++;
}

static float *zeroed(int64_t n)
{
	float *x = xmalloc_aligned((size_t)n * sizeof(float));
	memset(x, 0, (size_t)n * sizeof(float));
	return x;
}

void usj_params_alloc(usj_params *ps)
{
	ps->w = zeroed(ps->total);
	ps->g = zeroed(ps->total);
}

/* Only the padding between tensors is zeroed (the checksum reads it): the
 * caller writes every tensor, and a page becomes resident when it does, so
 * a model loaded tensor by tensor is not resident twice. */
void usj_params_alloc_frozen(usj_params *ps)
{
	ps->w = xmalloc_aligned((size_t)ps->total * sizeof(float));
	int64_t end = 0; /* where the tensor before ends */
	for (int i = 0; i < ps->n; end = ps->p[i].offset + ps->p[i].count, i++)
		memset(ps->w + end, 0, (size_t)(ps->p[i].offset - end) * sizeof(float));
}

void usj_params_alloc_moments(usj_params *ps)
{
	ps->m = zeroed(ps->total);
	ps->v = zeroed(ps->total);
}

void usj_params_free(usj_params *ps)
{
	free(ps->p);
	free(ps->w);
	free(ps->g);
	free(ps->m);
	free(ps->v);
	memset(ps, 0, sizeof *ps);
}

int usj_params_find(const usj_params *ps, const char *name)
{
	for (int i = 0; i < ps->n; i++)
		if (strcmp(ps->p[i].name, name) == 0)
			return i;
	return -1;
}

void usj_params_zero_grad(usj_params *ps) { memset(ps->g, 0, (size_t)ps->total * sizeof(float)); }
