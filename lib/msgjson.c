/* msgjson.c: msgpack -> JSON. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgjson.h"
#include "record.h"

static json_t *str_json(const char *p, uint32_t n)
{
	json_t *s = json_stringn(p, n);
	/* jansson refuses invalid UTF-8: show the length instead */
	return s ? s : json_pack("{s:I}", "invalid_utf8_bytes", (json_int_t)n);
}

json_t *usj_object_json(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return json_null();
	case MSGPACK_OBJECT_BOOLEAN: return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return o->via.u64 > (uint64_t)INT64_MAX ? json_real((double)o->via.u64)
		                                               : json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer(o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		/* JSON has no inf or nan */
		return isfinite(o->via.f64) ? json_real(o->via.f64) : json_null();
	case MSGPACK_OBJECT_STR: return str_json(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_BIN: return json_pack("{s:I}", "bin", (json_int_t)o->via.bin.size);
	case MSGPACK_OBJECT_EXT: return json_pack("{s:I}", "ext", (json_int_t)o->via.ext.size);
	case MSGPACK_OBJECT_ARRAY: {
		json_t *a = json_array();
		for (uint32_t i = 0; i < o->via.array.size; i++)
			json_array_append_new(a, usj_object_json(&o->via.array.ptr[i]));
		return a;
	}
	case MSGPACK_OBJECT_MAP: {
		double v;
		int is_int;
		if (usj_object_numpy_scalar(o, &v, &is_int) == 0)
			return is_int ? json_integer((json_int_t)v) : isfinite(v) ? json_real(v) : json_null();
		if (usj_object_is_ndarray(o)) {
			const msgpack_object *type = usj_object_get(o, "type");
			const msgpack_object *shape = usj_object_get(o, "shape");
			json_t *j = json_object();
			if (type)
				json_object_set_new(j, "ndarray", usj_object_json(type));
			if (shape)
				json_object_set_new(j, "shape", usj_object_json(shape));
			return j;
		}
		json_t *m = json_object();
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			char *key;
			if (k->type == MSGPACK_OBJECT_STR || k->type == MSGPACK_OBJECT_BIN) {
				key = strndup(k->via.str.ptr, k->via.str.size);
			} else {
				json_t *kj = usj_object_json(k);
				key = json_dumps(kj, JSON_COMPACT | JSON_ENCODE_ANY);
				json_decref(kj);
			}
			if (key && json_object_set_new(m, key, usj_object_json(&o->via.map.ptr[i].val)) != 0)
				json_object_set_new(m, "invalid_key", json_true());
			free(key);
		}
		return m;
	}
	}
	return json_null();
}

void usj_json_print(FILE *f, const json_t *v)
{
	json_dumpf(v, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
	fputc('\n', f);
}
