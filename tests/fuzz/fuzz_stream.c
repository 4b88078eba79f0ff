/* fuzz_stream.c: libFuzzer target for the stream reader (make fuzz). It reads
 * every stream in the input to the end or the first error and touches every
 * byte the reader hands out (header, meta, summary, each field and tensor),
 * so ASan and UBSan see any bad access. The reader must report bad input as
 * an error: usj_die would exit, which libFuzzer reports as a finding.
 * Seeds: tests/fuzz/stream.corpus, made by tests/ref/stream_interop.py seeds DIR. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "stream.h"

/* volatile so the compiler keeps the reads that feed it */
static volatile uint64_t sink;

static uint64_t sum_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += b[i];
	return sum;
}

static uint64_t touch_object(const msgpack_object *o)
{
	uint64_t sum = o->type;
	switch (o->type) {
	case MSGPACK_OBJECT_BOOLEAN: return sum + o->via.boolean;
	case MSGPACK_OBJECT_POSITIVE_INTEGER: return sum + o->via.u64;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return sum + (uint64_t)o->via.i64;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return sum + (o->via.f64 > 0);
	case MSGPACK_OBJECT_STR: return sum + sum_bytes(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_BIN: return sum + sum_bytes(o->via.bin.ptr, o->via.bin.size);
	case MSGPACK_OBJECT_EXT: return sum + (uint64_t)o->via.ext.type + sum_bytes(o->via.ext.ptr, o->via.ext.size);
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++)
			sum += touch_object(&o->via.array.ptr[i]);
		return sum;
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++)
			sum += touch_object(&o->via.map.ptr[i].key) + touch_object(&o->via.map.ptr[i].val);
		return sum;
	default: return sum;
	}
}

static uint64_t touch_tensor(const usj_tensor *t)
{
	/* What the reader promises about a tensor; a breach is a finding. */
	int64_t count;
	size_t nbytes;
	if (t->dtype >= USJ_NDTYPES || t->rank < 0 || t->rank > USJ_MAX_RANK ||
	    usj_shape_size(t->rank, t->shape, t->dtype, (size_t)-1, &count, &nbytes) != 0 ||
	    count != t->count || nbytes != t->nbytes || ((uintptr_t)t->data & 63) != 0)
		abort();
	uint64_t sum = sum_bytes(t->data, t->nbytes);
	if (t->count > 0)
		sum += usj_tensor_at(t, 0) > 0 && usj_tensor_at(t, t->count - 1) > 0;
	char shape[128];
	return sum + strlen(usj_tensor_shape_str(t, shape, sizeof shape));
}

static uint64_t touch_record(usj_record *rec)
{
	uint64_t sum = 0;
	for (int i = 0; i < rec->nfields; i++) {
		const usj_field *f = &rec->fields[i];
		if (usj_record_find(rec, f->key) != f)
			abort(); /* the reader refuses repeated keys */
		sum += strlen(f->key);
		if (f->is_tensor) {
			sum += touch_tensor(&f->t);
			continue;
		}
		sum += touch_object(&f->obj);
		/* The scalar accessors, numpy scalars included. */
		int64_t iv;
		double dv;
		if (usj_record_int(rec, f->key, &iv) == 0)
			sum += (uint64_t)iv;
		if (usj_record_double(rec, f->key, &dv) == 0)
			sum += dv > 0;
		const char *s = usj_record_str(rec, f->key);
		if (s)
			sum += strlen(s);
	}
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	usj_reader *r = usj_reader_open_mem(data, size, "fuzz");
	usj_record rec;
	usj_record_init(&rec);
	uint64_t sum = 0;
	int rc = usj_reader_start(r);
	if (rc == 0) {
		sum += strlen(usj_reader_kind(r)) + touch_object(usj_reader_header(r)) +
		       touch_object(usj_reader_meta(r));
		while ((rc = usj_reader_next(r, &rec)) == 1)
			sum += touch_record(&rec);
		if (usj_reader_summary(r))
			sum += touch_object(usj_reader_summary(r));
		sum += (uint64_t)usj_reader_records(r) + (uint64_t)usj_reader_segments(r);
		rc = -rc;
	}
	/* An error always comes with a message. */
	if (rc != 0 && usj_reader_error(r)[0] == 0)
		abort();
	sink += sum + strlen(usj_reader_error(r));
	usj_record_free(&rec);
	usj_reader_close(r);
	return 0;
}
