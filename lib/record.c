/* record.c: records, msgpack object copies and msgpack-numpy arrays. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "record.h"

static void *zalloc(msgpack_zone *z, size_t n)
{
	void *p = msgpack_zone_malloc(z, n ? n : 1);
	if (!p)
		usj_die(USJ_EFAIL, "out of memory allocating %zu bytes", n);
	return p;
}

/* zstrndup: also copies the empty strings, bins and exts msgpack-c unpacks
 * with a NULL pointer, so every copy has a real one (and memcpy never sees NULL). */
static char *zstrndup(msgpack_zone *z, const char *s, size_t n)
{
	char *d = zalloc(z, n + 1);
	if (n)
		memcpy(d, s, n);
	d[n] = 0;
	return d;
}

void usj_record_init(usj_record *r)
{
	memset(r, 0, sizeof *r);
	r->zone = msgpack_zone_new(8192);
	if (!r->zone)
		usj_die(USJ_EFAIL, "out of memory");
}

void usj_record_clear(usj_record *r)
{
	for (int i = 0; i < r->nfields; i++)
		if (r->fields[i].is_tensor)
			free(r->fields[i].t.data);
	r->nfields = 0;
	msgpack_zone_clear(r->zone);
}

void usj_record_free(usj_record *r)
{
	if (!r->zone)
		return;
	usj_record_clear(r);
	msgpack_zone_free(r->zone);
	free(r->fields);
	memset(r, 0, sizeof *r);
}

usj_field *usj_record_find(const usj_record *r, const char *key)
{
	for (int i = 0; i < r->nfields; i++)
		if (strcmp(r->fields[i].key, key) == 0)
			return &r->fields[i];
	return NULL;
}

const usj_tensor *usj_record_tensor(const usj_record *r, const char *key)
{
	usj_field *f = usj_record_find(r, key);
	return f && f->is_tensor ? &f->t : NULL;
}

int usj_object_is_key(const msgpack_object *o, const char *key)
{
	size_t n = strlen(key);
	if (o->type == MSGPACK_OBJECT_STR)
		return o->via.str.size == n && memcmp(o->via.str.ptr, key, n) == 0;
	if (o->type == MSGPACK_OBJECT_BIN)
		return o->via.bin.size == n && memcmp(o->via.bin.ptr, key, n) == 0;
	return 0;
}

const msgpack_object *usj_object_get(const msgpack_object *map, const char *key)
{
	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++)
		if (usj_object_is_key(&map->via.map.ptr[i].key, key))
			return &map->via.map.ptr[i].val;
	return NULL;
}

int usj_object_is_ndarray(const msgpack_object *o)
{
	const msgpack_object *nd = usj_object_get(o, "nd");
	return nd && nd->type == MSGPACK_OBJECT_BOOLEAN && nd->via.boolean;
}

/* A msgpack-numpy scalar: {nd: false, type: "<i8", data: <bytes>}. */
int usj_object_numpy_scalar(const msgpack_object *o, double *v, int *is_int)
{
	const msgpack_object *nd = usj_object_get(o, "nd");
	const msgpack_object *type = usj_object_get(o, "type");
	const msgpack_object *data = usj_object_get(o, "data");
	if (!nd || nd->type != MSGPACK_OBJECT_BOOLEAN || nd->via.boolean || !type || !data)
		return -1;
	usj_dtype dt;
	if ((type->type != MSGPACK_OBJECT_STR && type->type != MSGPACK_OBJECT_BIN) ||
	    usj_dtype_parse(type->via.str.ptr, type->via.str.size, &dt) != 0 ||
	    data->type != MSGPACK_OBJECT_BIN || data->via.bin.size != usj_dtype_size(dt))
		return -1;
	_Alignas(8) unsigned char buf[8];
	memcpy(buf, data->via.bin.ptr, data->via.bin.size);
	usj_tensor t = {.dtype = dt, .count = 1, .data = buf};
	*v = usj_tensor_at(&t, 0);
	*is_int = usj_dtype_is_int(dt);
	return 0;
}

/* scalar_field: the msgpack value at key: 0, -1 if missing, -2 if a tensor */
static int scalar_field(const usj_record *r, const char *key, const msgpack_object **o)
{
	usj_field *f = usj_record_find(r, key);
	if (!f)
		return -1;
	if (f->is_tensor)
		return -2;
	*o = &f->obj;
	return 0;
}

int usj_record_int(const usj_record *r, const char *key, int64_t *v)
{
	const msgpack_object *o;
	int rc = scalar_field(r, key, &o);
	if (rc)
		return rc;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return -2;
		*v = (int64_t)o->via.u64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return 0;
	}
	double d;
	int is_int;
	if (usj_object_numpy_scalar(o, &d, &is_int) == 0 && is_int) {
		*v = (int64_t)d;
		return 0;
	}
	return -2;
}

int usj_record_double(const usj_record *r, const char *key, double *v)
{
	const msgpack_object *o;
	int rc = scalar_field(r, key, &o);
	if (rc)
		return rc;
	return usj_object_number(o, v) == 0 ? 0 : -2;
}

int usj_object_number(const msgpack_object *o, double *v)
{
	int is_int;
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER: *v = (double)o->via.u64; return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: *v = (double)o->via.i64; return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: *v = o->via.f64; return 0;
	default: return usj_object_numpy_scalar(o, v, &is_int);
	}
}

double usj_map_number(const msgpack_object *map, const char *key, double fallback)
{
	const msgpack_object *o = map && map->type == MSGPACK_OBJECT_MAP ? usj_object_get(map, key) : NULL;
	double v;
	return o && usj_object_number(o, &v) == 0 ? v : fallback;
}

const char *usj_record_str(usj_record *r, const char *key)
{
	usj_field *f = usj_record_find(r, key);
	if (!f || f->is_tensor || f->obj.type != MSGPACK_OBJECT_STR)
		return NULL;
	return zstrndup(r->zone, f->obj.via.str.ptr, f->obj.via.str.size);
}

/* new_field: the field for key, emptied, appended if it did not exist. */
static usj_field *new_field(usj_record *r, const char *key)
{
	usj_field *f = usj_record_find(r, key);
	if (f) {
		if (f->is_tensor)
			free(f->t.data);
	} else {
		if (r->nfields == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 16;
			r->fields = xrealloc(r->fields, (size_t)r->cap * sizeof *r->fields);
		}
		f = &r->fields[r->nfields++];
		f->key = zstrndup(r->zone, key, strlen(key));
	}
	f->is_tensor = 0;
	memset(&f->obj, 0, sizeof f->obj);
	memset(&f->t, 0, sizeof f->t);
	return f;
}

void usj_record_set_int(usj_record *r, const char *key, int64_t v)
{
	usj_field *f = new_field(r, key);
	if (v >= 0) {
		f->obj.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		f->obj.via.u64 = (uint64_t)v;
	} else {
		f->obj.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		f->obj.via.i64 = v;
	}
}

void usj_record_set_double(usj_record *r, const char *key, double v)
{
	usj_field *f = new_field(r, key);
	f->obj.type = MSGPACK_OBJECT_FLOAT64;
	f->obj.via.f64 = v;
}

void usj_record_set_bool(usj_record *r, const char *key, int v)
{
	usj_field *f = new_field(r, key);
	f->obj.type = MSGPACK_OBJECT_BOOLEAN;
	f->obj.via.boolean = v != 0;
}

void usj_record_set_str(usj_record *r, const char *key, const char *v)
{
	usj_field *f = new_field(r, key);
	size_t n = strlen(v);
	f->obj.type = MSGPACK_OBJECT_STR;
	f->obj.via.str.ptr = zstrndup(r->zone, v, n);
	f->obj.via.str.size = (uint32_t)n;
}

void usj_record_set_object(usj_record *r, const char *key, const msgpack_object *v)
{
	usj_field *f = new_field(r, key);
	usj_object_copy(r->zone, &f->obj, v);
}

usj_tensor *usj_record_set_tensor(usj_record *r, const char *key, usj_dtype dt, int rank,
                                  const int64_t *shape)
{
	usj_field *f = new_field(r, key);
	usj_tensor *t = &f->t;
	t->dtype = dt;
	t->rank = rank;
	if (rank)
		memcpy(t->shape, shape, (size_t)rank * sizeof *shape);
	if (usj_shape_size(rank, shape, dt, (size_t)1 << 62, &t->count, &t->nbytes) != 0)
		usj_die(USJ_EFAIL, "tensor '%s' too large", key);
	t->data = xmalloc_aligned(t->nbytes);
	f->is_tensor = 1;
	return t;
}

void usj_record_take_tensor(usj_record *r, const char *key, usj_tensor *t)
{
	usj_field *f = new_field(r, key);
	f->t = *t;
	f->is_tensor = 1;
	t->data = NULL;
}

void usj_record_remove(usj_record *r, const char *key)
{
	usj_field *f = usj_record_find(r, key);
	if (!f)
		return;
	if (f->is_tensor)
		free(f->t.data);
	int i = (int)(f - r->fields);
	memmove(f, f + 1, (size_t)(r->nfields - i - 1) * sizeof *f);
	r->nfields--;
}

void usj_record_copy_fields(usj_record *dst, const usj_record *src)
{
	for (int i = 0; i < src->nfields; i++) {
		const usj_field *s = &src->fields[i];
		if (usj_record_find(dst, s->key))
			continue;
		if (s->is_tensor) {
			usj_tensor *t = usj_record_set_tensor(dst, s->key, s->t.dtype, s->t.rank, s->t.shape);
			memcpy(t->data, s->t.data, s->t.nbytes);
		} else {
			usj_record_set_object(dst, s->key, &s->obj);
		}
	}
}

void usj_object_copy(msgpack_zone *z, msgpack_object *dst, const msgpack_object *src)
{
	*dst = *src;
	switch (src->type) {
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		dst->via.bin.ptr = zstrndup(z, src->via.bin.ptr, src->via.bin.size);
		break;
	case MSGPACK_OBJECT_EXT:
		dst->via.ext.ptr = zstrndup(z, src->via.ext.ptr, src->via.ext.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		dst->via.array.ptr = zalloc(z, src->via.array.size * sizeof(msgpack_object));
		for (uint32_t i = 0; i < src->via.array.size; i++)
			usj_object_copy(z, &dst->via.array.ptr[i], &src->via.array.ptr[i]);
		break;
	case MSGPACK_OBJECT_MAP:
		dst->via.map.ptr = zalloc(z, src->via.map.size * sizeof(msgpack_object_kv));
		for (uint32_t i = 0; i < src->via.map.size; i++) {
			usj_object_copy(z, &dst->via.map.ptr[i].key, &src->via.map.ptr[i].key);
			usj_object_copy(z, &dst->via.map.ptr[i].val, &src->via.map.ptr[i].val);
		}
		break;
	default:
		break;
	}
}

int usj_tensor_decode(const msgpack_object *o, size_t max_bytes, usj_tensor *t, const char **why)
{
	memset(t, 0, sizeof *t);
	const msgpack_object *type = NULL, *kind = NULL, *shape = NULL, *data = NULL;
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
		if (usj_object_is_key(k, "nd"))
			continue;
		else if (usj_object_is_key(k, "type"))
			type = v;
		else if (usj_object_is_key(k, "kind"))
			kind = v;
		else if (usj_object_is_key(k, "shape"))
			shape = v;
		else if (usj_object_is_key(k, "data"))
			data = v;
		else
			return *why = "array has an unknown key", -1;
	}
	if (!type || !shape || !data)
		return *why = "array lacks one of type, shape, data", -1;
	if (kind && !((kind->type == MSGPACK_OBJECT_BIN || kind->type == MSGPACK_OBJECT_STR) &&
	              kind->via.bin.size == 0))
		return *why = "structured and object arrays are not supported", -1;
	if ((type->type != MSGPACK_OBJECT_STR && type->type != MSGPACK_OBJECT_BIN) ||
	    usj_dtype_parse(type->via.str.ptr, type->via.str.size, &t->dtype) != 0)
		return *why = "unsupported dtype (supported: |b1 |u1 |i1 <u2 <i2 <f2 <u4 <i4 <f4 <u8 <i8 <f8)", -1;
	if (shape->type != MSGPACK_OBJECT_ARRAY || shape->via.array.size > USJ_MAX_RANK)
		return *why = "shape is not a list of at most 8 dimensions", -1;
	t->rank = (int)shape->via.array.size;
	for (int i = 0; i < t->rank; i++) {
		const msgpack_object *d = &shape->via.array.ptr[i];
		if (d->type != MSGPACK_OBJECT_POSITIVE_INTEGER || d->via.u64 > INT64_MAX)
			return *why = "shape has a dimension that is not a non-negative integer", -1;
		t->shape[i] = (int64_t)d->via.u64;
	}
	if (usj_shape_size(t->rank, t->shape, t->dtype, max_bytes, &t->count, &t->nbytes) != 0)
		return *why = "array larger than the record size limit", -1;
	if ((data->type != MSGPACK_OBJECT_BIN && data->type != MSGPACK_OBJECT_STR) ||
	    data->via.bin.size != t->nbytes)
		return *why = "data length does not match shape and dtype", -1;
	t->data = xmalloc_aligned(t->nbytes);
	if (t->nbytes) /* an empty bin's pointer is NULL */
		memcpy(t->data, data->via.bin.ptr, t->nbytes);
	return 0;
}
