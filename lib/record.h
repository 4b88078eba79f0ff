/* record.h: one stream record, a map from string keys to msgpack values or
 * tensors. Fields keep their order; fields a tool does not touch pass
 * through unchanged. */
#ifndef USJ_RECORD_H
#define USJ_RECORD_H
#include <msgpack.h>
#include <stdint.h>

#include "tensor.h"

typedef struct usj_field {
	char *key;          /* NUL-terminated, in the record's zone */
	int is_tensor;
	msgpack_object obj; /* the value when !is_tensor, stored in the record's zone */
	usj_tensor t;       /* the value when is_tensor; t.data is owned by the record */
} usj_field;

typedef struct usj_record {
	msgpack_zone *zone;
	usj_field *fields;
	int nfields, cap;
} usj_record;

void usj_record_init(usj_record *r);
void usj_record_clear(usj_record *r); /* drop every field, keep the storage */
void usj_record_free(usj_record *r);

usj_field *usj_record_find(const usj_record *r, const char *key);
const usj_tensor *usj_record_tensor(const usj_record *r, const char *key);
/* Scalars: 0 on success, -1 if the key is missing, -2 if of another type.
 * Integers also accept msgpack-numpy scalars (np.int64(3) and the like). */
int usj_record_int(const usj_record *r, const char *key, int64_t *v);
int usj_record_double(const usj_record *r, const char *key, double *v);
/* usj_record_str: the string value NUL-terminated (copied into the zone), or
 * NULL if missing or not a string. */
const char *usj_record_str(usj_record *r, const char *key);

void usj_record_set_int(usj_record *r, const char *key, int64_t v);
void usj_record_set_double(usj_record *r, const char *key, double v);
void usj_record_set_bool(usj_record *r, const char *key, int v);
void usj_record_set_str(usj_record *r, const char *key, const char *v);
void usj_record_set_object(usj_record *r, const char *key, const msgpack_object *v);
/* usj_record_set_tensor: a new tensor field; returns it for the caller to fill
 * (data allocated, uninitialised). */
usj_tensor *usj_record_set_tensor(usj_record *r, const char *key, usj_dtype t, int rank,
                                  const int64_t *shape);
/* usj_record_take_tensor: a tensor field that takes over t's data. */
void usj_record_take_tensor(usj_record *r, const char *key, usj_tensor *t);
void usj_record_remove(usj_record *r, const char *key);
/* usj_record_copy_fields: copy every field of src that dst lacks. */
void usj_record_copy_fields(usj_record *dst, const usj_record *src);

/* usj_object_copy: deep copy of a msgpack object into zone. */
void usj_object_copy(msgpack_zone *zone, msgpack_object *dst, const msgpack_object *src);
/* usj_object_get: value of a str key in a msgpack map, or NULL. */
const msgpack_object *usj_object_get(const msgpack_object *map, const char *key);
/* usj_object_is_key: does a str or bin object equal key? */
int usj_object_is_key(const msgpack_object *o, const char *key);

/* usj_object_number: an integer, float or msgpack-numpy scalar as a double;
 * 0, or -1 if o is none of these. */
int usj_object_number(const msgpack_object *o, double *v);
/* usj_map_number: the number at key of map (a map, or NULL), or fallback. */
double usj_map_number(const msgpack_object *map, const char *key, double fallback);
/* usj_tensor_decode: validate a msgpack-numpy array map and copy its data
 * into aligned memory. 0 on success; otherwise -1 with *why set. */
int usj_tensor_decode(const msgpack_object *o, size_t max_bytes, usj_tensor *t, const char **why);
/* usj_object_is_ndarray: does o look like a msgpack-numpy map ({nd: true, ...})? */
int usj_object_is_ndarray(const msgpack_object *o);
/* usj_object_numpy_scalar: the value of a msgpack-numpy scalar
 * ({nd: false, type, data}); 0 on success, -1 if o is not one. */
int usj_object_numpy_scalar(const msgpack_object *o, double *v, int *is_int);

#endif
