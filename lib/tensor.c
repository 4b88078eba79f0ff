/* tensor.c: dtype table and shape arithmetic. */
#include <stdio.h>
#include <string.h>

#include "half.h"
#include "tensor.h"

static const struct { const char *name; size_t size; int is_int; } dtypes[USJ_NDTYPES] = {
	[USJ_B1] = {"|b1", 1, 1}, [USJ_U1] = {"|u1", 1, 1}, [USJ_I1] = {"|i1", 1, 1},
	[USJ_U2] = {"<u2", 2, 1}, [USJ_I2] = {"<i2", 2, 1}, [USJ_F2] = {"<f2", 2, 0},
	[USJ_U4] = {"<u4", 4, 1}, [USJ_I4] = {"<i4", 4, 1}, [USJ_F4] = {"<f4", 4, 0},
	[USJ_U8] = {"<u8", 8, 1}, [USJ_I8] = {"<i8", 8, 1}, [USJ_F8] = {"<f8", 8, 0},
};

const char *usj_dtype_name(usj_dtype t) { return dtypes[t].name; }
size_t usj_dtype_size(usj_dtype t) { return dtypes[t].size; }
int usj_dtype_is_int(usj_dtype t) { return dtypes[t].is_int; }

int usj_dtype_parse(const char *s, size_t n, usj_dtype *out)
{
	if (n != 3)
		return -1;
	for (int i = 0; i < USJ_NDTYPES; i++) {
		const char *d = dtypes[i].name;
		/* numpy writes one-byte types with '|', but '<' and '=' mean the same there */
		int order_ok = s[0] == d[0] || (d[0] == '|' && (s[0] == '<' || s[0] == '='));
		if (order_ok && s[1] == d[1] && s[2] == d[2]) {
			*out = (usj_dtype)i;
			return 0;
		}
	}
	return -1;
}

int usj_shape_size(int rank, const int64_t *shape, usj_dtype t, size_t max_bytes,
                   int64_t *count, size_t *nbytes)
{
	if (rank < 0 || rank > USJ_MAX_RANK)
		return -1;
	size_t item = dtypes[t].size;
	uint64_t n = 1;
	for (int i = 0; i < rank; i++) {
		if (shape[i] < 0)
			return -1;
		uint64_t d = (uint64_t)shape[i];
		if (d && n > (uint64_t)(max_bytes / item) / d)
			return -1;
		n *= d;
	}
	if (n > max_bytes / item)
		return -1;
	*count = (int64_t)n;
	*nbytes = (size_t)n * item;
	return 0;
}

double usj_tensor_at(const usj_tensor *t, int64_t i)
{
	const void *p = t->data;
	switch (t->dtype) {
	case USJ_B1: case USJ_U1: return ((const uint8_t *)p)[i];
	case USJ_I1: return ((const int8_t *)p)[i];
	case USJ_U2: return ((const uint16_t *)p)[i];
	case USJ_I2: return ((const int16_t *)p)[i];
	case USJ_F2: return usj_half_to_float(((const uint16_t *)p)[i]);
	case USJ_U4: return ((const uint32_t *)p)[i];
	case USJ_I4: return ((const int32_t *)p)[i];
	case USJ_F4: return ((const float *)p)[i];
	case USJ_U8: return (double)((const uint64_t *)p)[i];
	case USJ_I8: return (double)((const int64_t *)p)[i];
	case USJ_F8: return ((const double *)p)[i];
	default: return 0;
	}
}

char *usj_tensor_shape_str(const usj_tensor *t, char *buf, size_t n)
{
	size_t k = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < t->rank && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)t->shape[i]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
	return buf;
}
