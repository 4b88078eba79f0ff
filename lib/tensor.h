/* tensor.h: n-dimensional arrays as streams carry them (numpy dtypes,
 * row-major, little-endian). */
#ifndef USJ_TENSOR_H
#define USJ_TENSOR_H
#include <stddef.h>
#include <stdint.h>

#define USJ_MAX_RANK 8

typedef enum {
	USJ_B1, USJ_U1, USJ_I1, USJ_U2, USJ_I2, USJ_F2,
	USJ_U4, USJ_I4, USJ_F4, USJ_U8, USJ_I8, USJ_F8,
	USJ_NDTYPES
} usj_dtype;

typedef struct usj_tensor {
	usj_dtype dtype;
	int rank;
	int64_t shape[USJ_MAX_RANK]; /* outermost first */
	int64_t count;               /* product of shape */
	size_t nbytes;               /* count * itemsize */
	void *data;                  /* 64-byte aligned */
} usj_tensor;

const char *usj_dtype_name(usj_dtype t);   /* numpy's dtype.str: "<f4" */
size_t usj_dtype_size(usj_dtype t);
int usj_dtype_is_int(usj_dtype t);          /* integer or bool */
/* usj_dtype_parse: numpy dtype string (not NUL-terminated) -> dtype; -1 if
 * unsupported. */
int usj_dtype_parse(const char *s, size_t n, usj_dtype *out);

/* usj_shape_size: element count and byte size of a shape, refusing overflow
 * and anything above max_bytes. 0 on success, -1 otherwise. */
int usj_shape_size(int rank, const int64_t *shape, usj_dtype t, size_t max_bytes,
                   int64_t *count, size_t *nbytes);

/* usj_tensor_at: element i of any dtype as a double. */
double usj_tensor_at(const usj_tensor *t, int64_t i);

/* usj_tensor_shape_str: "[3,64,64]" into buf. */
char *usj_tensor_shape_str(const usj_tensor *t, char *buf, size_t n);

#endif
