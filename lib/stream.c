/* stream.c: the stream reader and writer. The reader frames each object
 * with usj_msg_scan before msgpack-c unpacks it, so limits hold before any
 * allocation and a cut anywhere is seen as truncation. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "mem.h"
#include "msgscan.h"
#include "output.h"
#include "stream.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "streams are little-endian");

enum { BEFORE_HEADER, IN_STREAM, AFTER_TRAILER };

struct usj_reader {
	char *name;
	int fd;             /* -1 when reading from memory */
	uint8_t *buf;       /* bytes [beg, end) are read but not consumed */
	size_t cap, beg, end;
	int eof;
	msgpack_unpacked unpacked;
	msgpack_zone *zone;  /* the first header */
	msgpack_zone *summary_zone; /* the last trailer's summary */
	msgpack_object header, summary;
	int have_summary;
	char *kind;
	int state, segments;
	int64_t records, segment_records;
	char err[512];
};

static usj_reader *reader_new(const char *name)
{
	usj_reader *r = xcalloc(1, sizeof *r);
	r->name = xstrdup(name);
	r->fd = -1;
	msgpack_unpacked_init(&r->unpacked);
	r->zone = msgpack_zone_new(4096);
	r->summary_zone = msgpack_zone_new(4096);
	if (!r->zone || !r->summary_zone)
		usj_die(USJ_EFAIL, "out of memory");
	return r;
}

usj_reader *usj_reader_open(const char *path)
{
	int fd = 0;
	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY)) < 0)
		return NULL;
	usj_reader *r = reader_new(strcmp(path, "-") == 0 ? "standard input" : path);
	r->fd = fd;
	return r;
}

usj_reader *usj_reader_open_mem(const void *buf, size_t len, const char *name)
{
	usj_reader *r = reader_new(name);
	r->buf = xmalloc(len);
	memcpy(r->buf, buf, len);
	r->cap = r->end = len;
	r->eof = 1;
	return r;
}

void usj_reader_close(usj_reader *r)
{
	if (!r)
		return;
	if (r->fd > 0)
		close(r->fd);
	msgpack_unpacked_destroy(&r->unpacked);
	msgpack_zone_free(r->zone);
	msgpack_zone_free(r->summary_zone);
	free(r->buf);
	free(r->kind);
	free(r->name);
	free(r);
}

static int fail(usj_reader *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	return code;
}

const char *usj_reader_error(const usj_reader *r) { return r->err; }
const char *usj_reader_name(const usj_reader *r) { return r->name; }
const char *usj_reader_kind(const usj_reader *r) { return r->kind ? r->kind : ""; }
const msgpack_object *usj_reader_header(const usj_reader *r) { return &r->header; }
int64_t usj_reader_records(const usj_reader *r) { return r->records; }
int usj_reader_segments(const usj_reader *r) { return r->segments; }

const msgpack_object *usj_reader_meta(const usj_reader *r)
{
	static const msgpack_object empty = {.type = MSGPACK_OBJECT_MAP};
	const msgpack_object *m = usj_object_get(&r->header, "meta");
	return m && m->type == MSGPACK_OBJECT_MAP ? m : &empty;
}

const msgpack_object *usj_reader_summary(const usj_reader *r)
{
	return r->have_summary ? &r->summary : NULL;
}

/* fill: make at least need unconsumed bytes available unless input ends first.
 * 0, or USJ_EFAIL on a read error. */
static int fill(usj_reader *r, size_t need)
{
	if (r->eof || r->end - r->beg >= need)
		return 0;
	if (r->beg > 0) {
		memmove(r->buf, r->buf + r->beg, r->end - r->beg);
		r->end -= r->beg;
		r->beg = 0;
	}
	if (need > r->cap || r->cap - r->end < 65536) {
		size_t cap = r->cap ? r->cap : 65536;
		while (cap < need || cap - r->end < 65536)
			cap *= 2;
		r->buf = xrealloc(r->buf, cap);
		r->cap = cap;
	}
	while (r->end < need) {
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(r, USJ_EFAIL, "cannot read %s: %s", r->name, strerror(errno));
		if (n == 0) {
			r->eof = 1;
			break;
		}
		r->end += (size_t)n;
	}
	return 0;
}

/* next_object: unpack the next top-level object into r->unpacked.
 * 1 object, 0 clean end of input (between objects), or -code. */
static int next_object(usj_reader *r)
{
	size_t size = 0;
	const char *why = "";
	int rc = fill(r, 1);
	if (rc)
		return -rc;
	if (r->end == r->beg)
		return 0;
	for (;;) {
		int s = usj_msg_scan(r->buf + r->beg, r->end - r->beg, USJ_MAX_RECORD_BYTES,
		                     USJ_MAX_RECORD_OBJECTS, &size, &why);
		if (s == USJ_SCAN_DONE)
			break;
		if (s == USJ_SCAN_BAD)
			return -fail(r, USJ_EDATA, "corrupt stream: %s: %s after record %lld", r->name, why,
			             (long long)r->records);
		if (r->eof)
			return -fail(r, USJ_EDATA, "truncated stream: %s ends inside an object after record %lld;"
			             " the producer was interrupted or the file was cut: make it again",
			             r->name, (long long)r->records);
		if ((rc = fill(r, size)))
			return -rc;
	}
	size_t off = 0;
	msgpack_unpack_return u = msgpack_unpack_next(&r->unpacked, (const char *)r->buf + r->beg, size, &off);
	if (u == MSGPACK_UNPACK_NOMEM_ERROR)
		return -fail(r, USJ_EFAIL, "out of memory reading %s", r->name);
	if (u != MSGPACK_UNPACK_SUCCESS || off != size)
		return -fail(r, USJ_EDATA, "corrupt stream: %s: msgpack cannot decode the object after record %lld",
		             r->name, (long long)r->records);
	r->beg += size;
	return 1;
}

static int read_header(usj_reader *r, const msgpack_object *o)
{
	const msgpack_object *v = usj_object_get(o, USJ_HEADER_KEY);
	const msgpack_object *kind = usj_object_get(o, "kind");
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 == 0 || !kind || kind->type != MSGPACK_OBJECT_STR)
		return fail(r, USJ_EDATA, "corrupt stream: %s: header after record %lld lacks a version or kind",
		            r->name, (long long)r->records);
	if (v->via.u64 > USJ_STREAM_VERSION)
		return fail(r, USJ_EDATA, "%s: stream format version %llu is newer than this usjepa reads (%d): upgrade usjepa",
		            r->name, (unsigned long long)v->via.u64, USJ_STREAM_VERSION);
	/* msgpack-c unpacks an empty str with a NULL pointer, which memcmp and %s must not see */
	int kind_len = (int)kind->via.str.size;
	const char *kind_str = kind_len ? kind->via.str.ptr : "";
	if (!r->kind) {
		r->kind = xasprintf("%.*s", kind_len, kind_str);
		usj_object_copy(r->zone, &r->header, o);
	} else if (strlen(r->kind) != (size_t)kind_len || memcmp(r->kind, kind_str, (size_t)kind_len) != 0) {
		return fail(r, USJ_EDATA, "%s: concatenated streams differ in kind ('%s', then '%.*s' after record %lld)",
		            r->name, r->kind, kind_len, kind_str, (long long)r->records);
	}
	r->state = IN_STREAM;
	r->segments++;
	r->segment_records = 0;
	return 0;
}

static int read_trailer(usj_reader *r, const msgpack_object *o)
{
	const msgpack_object *n = usj_object_get(o, USJ_TRAILER_KEY);
	if (n->type != MSGPACK_OBJECT_POSITIVE_INTEGER || n->via.u64 != (uint64_t)r->segment_records)
		return fail(r, USJ_EDATA, "corrupt stream: %s: the trailer after record %lld counts %lld records, but the stream had %lld",
		            r->name, (long long)r->records,
		            n->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (long long)n->via.u64 : -1LL,
		            (long long)r->segment_records);
	const msgpack_object *s = usj_object_get(o, "summary");
	r->have_summary = s != NULL;
	msgpack_zone_clear(r->summary_zone);
	if (s)
		usj_object_copy(r->summary_zone, &r->summary, s);
	r->state = AFTER_TRAILER;
	return 0;
}

static int read_record(usj_reader *r, const msgpack_object *o, usj_record *rec)
{
	usj_record_clear(rec);
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
		if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 || k->via.str.size > 255 ||
		    memchr(k->via.str.ptr, 0, k->via.str.size))
			return fail(r, USJ_EDATA, "corrupt stream: %s: record %lld has a key that is not a short string",
			            r->name, (long long)r->records + 1);
		char key[256];
		memcpy(key, k->via.str.ptr, k->via.str.size);
		key[k->via.str.size] = 0;
		if (usj_record_find(rec, key))
			return fail(r, USJ_EDATA, "corrupt stream: %s: record %lld repeats the key '%s'",
			            r->name, (long long)r->records + 1, key);
		if (usj_object_is_ndarray(v)) {
			usj_tensor t;
			const char *why;
			if (usj_tensor_decode(v, USJ_MAX_RECORD_BYTES, &t, &why) != 0)
				return fail(r, USJ_EDATA, "bad record: %s: record %lld, field '%s': %s",
				            r->name, (long long)r->records + 1, key, why);
			usj_record_take_tensor(rec, key, &t);
		} else {
			usj_record_set_object(rec, key, v);
		}
	}
	return 0;
}

int usj_reader_start(usj_reader *r)
{
	int rc = next_object(r);
	if (rc < 0)
		return -rc;
	if (rc == 0)
		return fail(r, USJ_EDATA, "truncated stream: %s is empty (no header) after record 0", r->name);
	const msgpack_object *o = &r->unpacked.data;
	if (o->type != MSGPACK_OBJECT_MAP || !usj_object_get(o, USJ_HEADER_KEY))
		return fail(r, USJ_EDATA, "%s is not a usjepa stream (no header): make one with us-ingest or us-phantom", r->name);
	return read_header(r, o);
}

int usj_reader_next(usj_reader *r, usj_record *rec)
{
	for (;;) {
		int rc = next_object(r);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			if (r->state == IN_STREAM)
				return -fail(r, USJ_EDATA, "truncated stream: %s ends without a trailer after record %lld;"
				             " the producer was interrupted or the file was cut: make it again",
				             r->name, (long long)r->records);
			return 0;
		}
		const msgpack_object *o = &r->unpacked.data;
		if (o->type != MSGPACK_OBJECT_MAP)
			return -fail(r, USJ_EDATA, "corrupt stream: %s: object after record %lld is not a map",
			             r->name, (long long)r->records);
		if (usj_object_get(o, USJ_HEADER_KEY)) {
			if (r->state == IN_STREAM)
				return -fail(r, USJ_EDATA, "corrupt stream: %s: a new header after record %lld before a trailer;"
				             " a stream in the concatenation was cut", r->name, (long long)r->records);
			if ((rc = read_header(r, o)))
				return -rc;
		} else if (usj_object_get(o, USJ_TRAILER_KEY)) {
			if (r->state != IN_STREAM)
				return -fail(r, USJ_EDATA, "corrupt stream: %s: a second trailer after record %lld",
				             r->name, (long long)r->records);
			if ((rc = read_trailer(r, o)))
				return -rc;
		} else {
			if (r->state != IN_STREAM)
				return -fail(r, USJ_EDATA, "corrupt stream: %s: a record after the trailer (after record %lld)",
				             r->name, (long long)r->records);
			if ((rc = read_record(r, o, rec)))
				return -rc;
			r->records++;
			r->segment_records++;
			return 1;
		}
	}
}

usj_reader *usj_open_input(const char *path, const char *kind, const char *maker)
{
	usj_reader *r = usj_reader_open(path);
	if (!r)
		usj_die(errno == ENOENT || errno == ENOTDIR ? USJ_EDATA : USJ_EFAIL, "cannot open %s:", path);
	char msg[1024]; /* the reader is closed before dying, so that nothing is left allocated */
	int rc = usj_reader_start(r);
	if (rc)
		snprintf(msg, sizeof msg, "%s", usj_reader_error(r));
	else if (kind && strcmp(kind, r->kind) != 0)
		snprintf(msg, sizeof msg, "%s is a '%s' stream, but %s reads '%s' streams: make one with %s", r->name,
		         r->kind, usj_prog, kind, maker);
	else
		return r;
	usj_reader_close(r);
	usj_die(rc ? rc : USJ_EDATA, "%s", msg);
}

int usj_read(usj_reader *r, usj_record *rec)
{
	int rc = usj_reader_next(r, rec);
	if (rc < 0)
		usj_die(-rc, "%s", usj_reader_error(r));
	return rc;
}

struct usj_writer {
	usj_output *out;
	msgpack_packer pk;
	int64_t records;
};

static int write_cb(void *data, const char *buf, size_t len)
{
	usj_output *o = data;
	if (len && fwrite(buf, 1, len, usj_output_file(o)) != len)
		usj_die(USJ_EFAIL, "write error on %s:", usj_output_name(o));
	return 0;
}

void usj_pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void usj_pack_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
	usj_pack_cstr(pk, key);
	usj_pack_cstr(pk, val);
}

void usj_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val)
{
	usj_pack_cstr(pk, key);
	msgpack_pack_int64(pk, val);
}

void usj_pack_kv_double(msgpack_packer *pk, const char *key, double val)
{
	usj_pack_cstr(pk, key);
	msgpack_pack_double(pk, val);
}

void usj_pack_kv_bool(msgpack_packer *pk, const char *key, int val)
{
	usj_pack_cstr(pk, key);
	if (val)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

static void pack_bin_key(msgpack_packer *pk, const char *key)
{
	size_t n = strlen(key);
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, key, n);
}

/* usj_pack_tensor: exactly what msgpack-numpy 0.4.8 writes for an ndarray:
 * {b"nd": True, b"type": "<f4", b"kind": b"", b"shape": [..], b"data": <bin>}. */
void usj_pack_tensor(msgpack_packer *pk, const usj_tensor *t)
{
	msgpack_pack_map(pk, 5);
	pack_bin_key(pk, "nd");
	msgpack_pack_true(pk);
	pack_bin_key(pk, "type");
	usj_pack_cstr(pk, usj_dtype_name(t->dtype));
	pack_bin_key(pk, "kind");
	msgpack_pack_bin(pk, 0);
	pack_bin_key(pk, "shape");
	msgpack_pack_array(pk, (size_t)t->rank);
	for (int i = 0; i < t->rank; i++)
		msgpack_pack_int64(pk, t->shape[i]);
	pack_bin_key(pk, "data");
	msgpack_pack_bin(pk, t->nbytes);
	msgpack_pack_bin_body(pk, t->data, t->nbytes);
}

usj_writer *usj_writer_open(const char *path, const char *kind, const msgpack_sbuffer *meta)
{
	usj_writer *w = xcalloc(1, sizeof *w);
	w->out = usj_output_open(path);
	msgpack_packer_init(&w->pk, w->out, write_cb);
	msgpack_pack_map(&w->pk, 4);
	usj_pack_kv_int(&w->pk, USJ_HEADER_KEY, USJ_STREAM_VERSION);
	usj_pack_kv_str(&w->pk, "kind", kind);
	usj_pack_cstr(&w->pk, "producer");
	msgpack_pack_map(&w->pk, 2);
	usj_pack_kv_str(&w->pk, "tool", usj_prog);
	usj_pack_kv_str(&w->pk, "version", USJ_VERSION);
	usj_pack_cstr(&w->pk, "meta");
	if (meta && meta->size)
		write_cb(w->out, meta->data, meta->size);
	else
		msgpack_pack_map(&w->pk, 0);
	return w;
}

void usj_writer_write(usj_writer *w, const usj_record *rec)
{
	msgpack_pack_map(&w->pk, (size_t)rec->nfields);
	for (int i = 0; i < rec->nfields; i++) {
		const usj_field *f = &rec->fields[i];
		usj_pack_cstr(&w->pk, f->key);
		if (f->is_tensor)
			usj_pack_tensor(&w->pk, &f->t);
		else
			msgpack_pack_object(&w->pk, f->obj);
	}
	w->records++;
}

int64_t usj_writer_records(const usj_writer *w) { return w->records; }

void usj_writer_close(usj_writer *w, const msgpack_sbuffer *summary)
{
	msgpack_pack_map(&w->pk, summary ? 2 : 1);
	usj_pack_kv_int(&w->pk, USJ_TRAILER_KEY, w->records);
	if (summary) {
		usj_pack_cstr(&w->pk, "summary");
		write_cb(w->out, summary->data, summary->size);
	}
	usj_output_commit(w->out);
	free(w);
}
