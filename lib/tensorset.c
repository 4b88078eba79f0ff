/* tensorset.c: ordered named tensors. A linear search by name is enough:
 * a ViT-B has about 150 tensors, and the engine looks each up once. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "tensorset.h"

void usj_tensorset_init(usj_tensorset *s)
{
	memset(s, 0, sizeof *s);
}

void usj_tensorset_free(usj_tensorset *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->items[i].name);
		free(s->items[i].t.data);
	}
	free(s->items);
	memset(s, 0, sizeof *s);
}

static int find_index(const usj_tensorset *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->items[i].name, name) == 0)
			return i;
	return -1;
}

int usj_tensorset_add(usj_tensorset *s, const char *name, usj_tensor *t, char *err, size_t errlen)
{
	size_t len = strlen(name);
	if (len == 0)
		return usj_fail(err, errlen, USJ_EDATA, "a tensor has an empty name");
	if (len > USJ_TENSOR_NAME_MAX)
		return usj_fail(err, errlen, USJ_EDATA, "tensor name '%.40s...' is longer than %d bytes",
		                name, USJ_TENSOR_NAME_MAX);
	if (find_index(s, name) >= 0)
		return usj_fail(err, errlen, USJ_EDATA, "tensor '%s' appears twice", name);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->items = xrealloc(s->items, (size_t)s->cap * sizeof *s->items);
	}
	usj_named_tensor *e = &s->items[s->n++];
	e->name = xstrdup(name);
	e->t = *t;
	t->data = NULL;
	return 0;
}

usj_tensor *usj_tensorset_find(const usj_tensorset *s, const char *name)
{
	int i = find_index(s, name);
	return i < 0 ? NULL : &s->items[i].t;
}

int usj_tensorset_remove(usj_tensorset *s, const char *name)
{
	int i = find_index(s, name);
	if (i < 0)
		return -1;
	free(s->items[i].name);
	free(s->items[i].t.data);
	memmove(&s->items[i], &s->items[i + 1], (size_t)(s->n - i - 1) * sizeof *s->items);
	s->n--;
	return 0;
}

int64_t usj_tensorset_elements(const usj_tensorset *s)
{
	int64_t n = 0;
	for (int i = 0; i < s->n; i++)
		n += s->items[i].t.count;
	return n;
}

int usj_tensorset_check(const usj_tensorset *s, const char *name, usj_dtype dt, int rank,
                        const int64_t *shape, char *err, size_t errlen)
{
	usj_tensor want = {.dtype = dt, .rank = rank};
	if (rank) /* a scalar's shape may be NULL */
		memcpy(want.shape, shape, (size_t)rank * sizeof *shape);
	char ws[8 * 24], fs[8 * 24];
	usj_tensor_shape_str(&want, ws, sizeof ws);
	const usj_tensor *t = usj_tensorset_find(s, name);
	if (!t)
		return usj_fail(err, errlen, USJ_EDATA, "tensor '%s' is missing (expected %s %s)",
		                name, usj_dtype_name(dt), ws);
	int same = t->dtype == dt && t->rank == rank;
	for (int i = 0; same && i < rank; i++)
		same = t->shape[i] == shape[i];
	if (!same)
		return usj_fail(err, errlen, USJ_EDATA, "tensor '%s': expected %s %s, found %s %s", name,
		                usj_dtype_name(dt), ws, usj_dtype_name(t->dtype),
		                usj_tensor_shape_str(t, fs, sizeof fs));
	return 0;
}
