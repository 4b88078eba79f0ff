/* params.h: a model's parameters, gradients and AdamW moments, each in one
 * contiguous buffer carved by a table of named tensors (llm.c's manner), so
 * that zeroing, the optimiser, clipping and saving are single loops. */
#ifndef USJ_PARAMS_H
#define USJ_PARAMS_H
#include <stdint.h>

typedef struct usj_param {
	char name[96];      /* timm's name: "blocks.3.attn.qkv.weight" */
	int rank;
	int64_t shape[4];
	int64_t offset;     /* into the buffers, in floats */
	int64_t count;
	int decay;          /* weight decay applies (matrices: not biases, norms, tokens) */
} usj_param;

typedef struct usj_params {
	usj_param *p;
	int n, cap;
	int64_t total;      /* floats in each buffer */
	float *w, *g;       /* (total) weights and gradients */
	float *m, *v;       /* (total) AdamW moments, NULL until usj_params_alloc_moments */
} usj_params;

/* usj_params_add: a tensor of the given shape; returns its index. Only
 * before usj_params_alloc. */
int usj_params_add(usj_params *ps, const char *name, int rank, const int64_t *shape, int decay);
/* usj_params_alloc: the weight and gradient buffers, zeroed. */
void usj_params_alloc(usj_params *ps);
/* usj_params_alloc_frozen: the weights only, for a model that is never
 * trained (g stays NULL): a teacher's gradients would double its memory.
 * The tensors' values are left for the caller to write, every one. */
void usj_params_alloc_frozen(usj_params *ps);
void usj_params_alloc_moments(usj_params *ps);
void usj_params_free(usj_params *ps);
int usj_params_find(const usj_params *ps, const char *name); /* -1 if absent */
static inline float *usj_param_w(const usj_params *ps, int i) { return ps->w + ps->p[i].offset; }
static inline float *usj_param_g(const usj_params *ps, int i) { return ps->g + ps->p[i].offset; }
void usj_params_zero_grad(usj_params *ps);

#endif
