/* stream.h: reading and writing usjepa streams (formats/stream.md):
 * a header map, records, a trailer map; concatenations of whole streams. */
#ifndef USJ_STREAM_H
#define USJ_STREAM_H
#include <msgpack.h>
#include <stdint.h>

#include "record.h"

#define USJ_STREAM_VERSION 1
#define USJ_HEADER_KEY "usjepa"      /* header: {"usjepa": version, ...} */
#define USJ_TRAILER_KEY "usjepa_end" /* trailer: {"usjepa_end": record count, ...} */
#define USJ_MAX_RECORD_BYTES ((size_t)1 << 30)
#define USJ_MAX_RECORD_OBJECTS ((size_t)1 << 22)

typedef struct usj_reader usj_reader;

/* usj_reader_open: path or "-" for stdin; NULL with errno on failure. */
usj_reader *usj_reader_open(const char *path);
/* usj_reader_open_mem: read from memory (tests, fuzzing); name is for messages. */
usj_reader *usj_reader_open_mem(const void *buf, size_t len, const char *name);
void usj_reader_close(usj_reader *r);

/* usj_reader_start: read the header. 0, or an exit code (USJ_EDATA,
 * USJ_EFAIL) with the message in usj_reader_error(). */
int usj_reader_start(usj_reader *r);
/* usj_reader_next: 1 with a record in rec, 0 at the clean end of input, or
 * minus an exit code on error. */
int usj_reader_next(usj_reader *r, usj_record *rec);
const char *usj_reader_error(const usj_reader *r);
const char *usj_reader_name(const usj_reader *r);
const char *usj_reader_kind(const usj_reader *r);
const msgpack_object *usj_reader_header(const usj_reader *r);
const msgpack_object *usj_reader_meta(const usj_reader *r); /* a map; empty if absent */
const msgpack_object *usj_reader_summary(const usj_reader *r); /* last trailer's, or NULL */
int64_t usj_reader_records(const usj_reader *r);
int usj_reader_segments(const usj_reader *r); /* streams concatenated so far */

/* For tools: open and read the header, dying with exit 3 on bad input. If
 * kind is not NULL the stream must be of that kind; maker names the tool
 * that makes it, for the hint. */
usj_reader *usj_open_input(const char *path, const char *kind, const char *maker);
/* usj_read: usj_reader_next, dying on error. */
int usj_read(usj_reader *r, usj_record *rec);

typedef struct usj_writer usj_writer;

/* usj_writer_open: start a stream of kind at path ("-": stdout). meta is a
 * packed msgpack map (or NULL for an empty one). Dies on failure. */
usj_writer *usj_writer_open(const char *path, const char *kind, const msgpack_sbuffer *meta);
void usj_writer_write(usj_writer *w, const usj_record *rec);
/* usj_writer_close: write the trailer (with summary, a packed map, if not
 * NULL) and commit the output atomically. Frees w. */
void usj_writer_close(usj_writer *w, const msgpack_sbuffer *summary);
int64_t usj_writer_records(const usj_writer *w);

/* Helpers for building meta maps with msgpack_packer. */
void usj_pack_cstr(msgpack_packer *pk, const char *s);
void usj_pack_kv_str(msgpack_packer *pk, const char *key, const char *val);
void usj_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val);
void usj_pack_kv_double(msgpack_packer *pk, const char *key, double val);
void usj_pack_kv_bool(msgpack_packer *pk, const char *key, int val);
void usj_pack_tensor(msgpack_packer *pk, const usj_tensor *t);

#endif
