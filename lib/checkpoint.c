/* checkpoint.c: checkpoints as streams, one record per named tensor. */
#include <string.h>

#include "checkpoint.h"
#include "err.h"

static int checkpoint_dtype(usj_dtype dt)
{
	return dt == USJ_F4 || dt == USJ_F2;
}

void usj_checkpoint_write(const char *path, const usj_tensorset *ts, const msgpack_sbuffer *config)
{
	for (int i = 0; i < ts->n; i++)
		if (!checkpoint_dtype(ts->items[i].t.dtype))
			usj_die(USJ_EDATA, "tensor '%s' is %s: checkpoints hold <f4 or <f2 tensors", ts->items[i].name,
			        usj_dtype_name(ts->items[i].t.dtype));
	usj_writer *w = usj_writer_open(path, USJ_CHECKPOINT_KIND, config);
	usj_record rec;
	usj_record_init(&rec);
	for (int i = 0; i < ts->n; i++) {
		const usj_tensor *t = &ts->items[i].t;
		usj_record_clear(&rec);
		usj_record_set_str(&rec, "name", ts->items[i].name);
		usj_tensor borrowed = *t;
		usj_record_take_tensor(&rec, "tensor", &borrowed);
		usj_writer_write(w, &rec);
		usj_record_find(&rec, "tensor")->t.data = NULL; /* ts keeps its data */
	}
	usj_record_free(&rec);
	msgpack_sbuffer sum;
	msgpack_sbuffer_init(&sum);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &sum, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	usj_pack_kv_int(&pk, "tensors", ts->n);
	usj_pack_kv_int(&pk, "parameters", usj_tensorset_elements(ts));
	usj_writer_close(w, &sum);
	msgpack_sbuffer_destroy(&sum);
}

int usj_checkpoint_load(usj_reader *r, usj_tensorset *ts, char *err, size_t errlen)
{
	usj_record rec;
	usj_record_init(&rec);
	int rc, more;
	char why[512];
	while ((more = usj_reader_next(r, &rec)) > 0) {
		long long k = (long long)usj_reader_records(r);
		const usj_field *name = usj_record_find(&rec, "name");
		usj_field *tensor = usj_record_find(&rec, "tensor");
		if (!name || name->is_tensor || name->obj.type != MSGPACK_OBJECT_STR ||
		    memchr(name->obj.via.str.ptr, 0, name->obj.via.str.size) ||
		    name->obj.via.str.size > USJ_TENSOR_NAME_MAX) {
			rc = usj_fail(err, errlen, USJ_EDATA, "bad checkpoint: %s: record %lld lacks a 'name' string of "
			              "at most %d bytes", usj_reader_name(r), k, USJ_TENSOR_NAME_MAX);
			goto out;
		}
		const char *s = usj_record_str(&rec, "name");
		if (!tensor || !tensor->is_tensor || !checkpoint_dtype(tensor->t.dtype)) {
			rc = usj_fail(err, errlen, USJ_EDATA, "bad checkpoint: %s: record %lld ('%s') lacks a 'tensor' "
			              "array of <f4 or <f2", usj_reader_name(r), k, s);
			goto out;
		}
		if ((rc = usj_tensorset_add(ts, s, &tensor->t, why, sizeof why))) {
			usj_fail(err, errlen, rc, "bad checkpoint: %s: record %lld: %s", usj_reader_name(r), k, why);
			goto out;
		}
	}
	rc = more < 0 ? usj_fail(err, errlen, -more, "%s", usj_reader_error(r)) : 0;
out:
	usj_record_free(&rec);
	return rc;
}

void usj_checkpoint_read(const char *path, usj_tensorset *ts, msgpack_sbuffer *config)
{
	usj_reader *r = usj_open_input(path, USJ_CHECKPOINT_KIND, USJ_CHECKPOINT_MAKER);
	char err[768];
	int rc = usj_checkpoint_load(r, ts, err, sizeof err);
	if (rc)
		usj_die(rc, "%s", err);
	msgpack_packer pk;
	msgpack_packer_init(&pk, config, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, *usj_reader_meta(r));
	usj_reader_close(r);
}
