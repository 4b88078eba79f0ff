/* tensorset.h: an ordered list of named tensors, the form in which model
 * weights move between the ViT engine, checkpoints and safetensors files.
 * Names are unique, 1 to USJ_TENSOR_NAME_MAX bytes, NUL-free. */
#ifndef USJ_TENSORSET_H
#define USJ_TENSORSET_H
#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

#define USJ_TENSOR_NAME_MAX 200

typedef struct usj_named_tensor {
	char *name;  /* owned */
	usj_tensor t; /* t.data owned (64-byte aligned, released with free) */
} usj_named_tensor;

typedef struct usj_tensorset {
	usj_named_tensor *items; /* in the order added */
	int n, cap;
} usj_tensorset;

void usj_tensorset_init(usj_tensorset *s);
void usj_tensorset_free(usj_tensorset *s); /* frees every tensor; s is empty after */

/* usj_tensorset_add: append t under name, taking over its data (t->data
 * becomes NULL). 0, or USJ_EDATA with a one-line reason in err if the name
 * is empty, too long or already in s (then t keeps its data). */
int usj_tensorset_add(usj_tensorset *s, const char *name, usj_tensor *t, char *err, size_t errlen);
usj_tensor *usj_tensorset_find(const usj_tensorset *s, const char *name); /* NULL if absent */
/* usj_tensorset_remove: drop name and free its data; 0, or -1 if absent. */
int usj_tensorset_remove(usj_tensorset *s, const char *name);
/* usj_tensorset_elements: the total element count of every tensor. */
int64_t usj_tensorset_elements(const usj_tensorset *s);

/* usj_tensorset_check: 0 if s holds name with dtype dt and the given shape;
 * otherwise USJ_EDATA with a one-line reason in err, such as
 * "tensor 'pos_embed': expected <f4 [1,64,192], found <f4 [1,65,192]". */
int usj_tensorset_check(const usj_tensorset *s, const char *name, usj_dtype dt, int rank,
                        const int64_t *shape, char *err, size_t errlen);

#endif
