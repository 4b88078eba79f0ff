/* test_stream.c: the stream reader and writer, the frame scanner, fp16. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "half.h"
#include "mem.h"
#include "msgscan.h"
#include "stream.h"
#include "test.h"

/* write_sample: a small stream with two records to path; returns its bytes. */
static void write_sample(const char *path)
{
	msgpack_sbuffer meta;
	msgpack_sbuffer_init(&meta);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &meta, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	usj_pack_kv_int(&pk, "size", 4);
	usj_writer *w = usj_writer_open(path, "images", &meta);
	usj_record rec;
	usj_record_init(&rec);
	for (int i = 0; i < 2; i++) {
		usj_record_clear(&rec);
		usj_record_set_str(&rec, "id", i ? "b" : "a");
		usj_record_set_int(&rec, "label", i);
		int64_t shape[2] = {2, 2};
		usj_tensor *t = usj_record_set_tensor(&rec, "image", USJ_U1, 2, shape);
		for (int k = 0; k < 4; k++)
			((uint8_t *)t->data)[k] = (uint8_t)(10 * i + k);
		usj_writer_write(w, &rec);
	}
	usj_writer_close(w, NULL);
	usj_record_free(&rec);
	msgpack_sbuffer_destroy(&meta);
}

static void roundtrip(void)
{
	char *path = test_path("s.usj");
	write_sample(path);
	usj_reader *r = usj_reader_open(path);
	CHECK(r && usj_reader_start(r) == 0);
	CHECK(strcmp(usj_reader_kind(r), "images") == 0);
	const msgpack_object *size = usj_object_get(usj_reader_meta(r), "size");
	CHECK(size && size->via.u64 == 4);
	usj_record rec;
	usj_record_init(&rec);
	CHECK(usj_reader_next(r, &rec) == 1);
	int64_t label = -1;
	CHECK(usj_record_int(&rec, "label", &label) == 0 && label == 0);
	CHECK(usj_reader_next(r, &rec) == 1);
	const usj_tensor *t = usj_record_tensor(&rec, "image");
	CHECK(t && t->dtype == USJ_U1 && t->rank == 2 && t->shape[0] == 2 && ((uint8_t *)t->data)[3] == 13);
	CHECK(strcmp(usj_record_str(&rec, "id"), "b") == 0);
	CHECK(((uintptr_t)t->data & 63) == 0);
	CHECK(usj_reader_next(r, &rec) == 0);
	usj_record_free(&rec);
	usj_reader_close(r);
	free(path);
}

static void every_prefix_is_truncated(void)
{
	char *path = test_path("s.usj");
	write_sample(path);
	size_t n;
	char *buf = test_read_file(path, &n);
	CHECK(test_read_stream(buf, n, NULL) == 0);
	for (size_t k = 0; k < n; k++)
		if (test_read_stream(buf, k, NULL) != USJ_EDATA) {
			fprintf(stderr, "#   prefix of %zu bytes accepted\n", k);
			CHECK(0);
			break;
		}
	free(buf);
	free(path);
}

static void concatenation(void)
{
	char *path = test_path("s.usj");
	write_sample(path);
	size_t n;
	char *buf = test_read_file(path, &n);
	char *two = xmalloc(2 * n);
	memcpy(two, buf, n);
	memcpy(two + n, buf, n);
	int64_t records = 0;
	CHECK(test_read_stream(two, 2 * n, &records) == 0 && records == 4);
	CHECK(test_read_stream(two, 2 * n - 1, NULL) == USJ_EDATA);
	free(two);
	free(buf);
	free(path);
}

static void corrupt_lengths_are_refused(void)
{
	/* a map32 claiming 2^32-1 entries, and a bin32 claiming 4 GiB */
	const uint8_t map[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'a'};
	const uint8_t bin[] = {0xc6, 0xff, 0xff, 0xff, 0xff, 0x00};
	size_t size;
	const char *why;
	CHECK(usj_msg_scan(map, sizeof map, 1 << 20, 1 << 20, &size, &why) == USJ_SCAN_BAD);
	CHECK(usj_msg_scan(bin, sizeof bin, 1 << 20, 1 << 20, &size, &why) == USJ_SCAN_BAD);
	CHECK(test_read_stream(map, sizeof map, NULL) == USJ_EDATA);
	uint8_t deep[64];
	memset(deep, 0x91, sizeof deep); /* fixarray of one, nested 64 deep */
	CHECK(usj_msg_scan(deep, sizeof deep, 1 << 20, 1 << 20, &size, &why) == USJ_SCAN_BAD);
	const uint8_t ok[] = {0x92, 0x01, 0xa2, 'h', 'i', 0xc0};
	CHECK(usj_msg_scan(ok, sizeof ok, 1 << 20, 1 << 20, &size, &why) == USJ_SCAN_DONE && size == 5);
	CHECK(usj_msg_scan(ok, 3, 1 << 20, 1 << 20, &size, &why) == USJ_SCAN_MORE);
}

/* pack_stream_with_empty_values: a header, one record and a trailer where
 * every str, bin, ext and tensor that can be empty is, the kind included. */
static void pack_stream_with_empty_values(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 3);
	usj_pack_kv_int(pk, USJ_HEADER_KEY, 1);
	usj_pack_kv_str(pk, "kind", "");
	usj_pack_cstr(pk, "meta");
	msgpack_pack_map(pk, 2);
	usj_pack_kv_str(pk, "s", "");
	usj_pack_cstr(pk, "b");
	msgpack_pack_bin(pk, 0);

	msgpack_pack_map(pk, 4);
	usj_pack_kv_str(pk, "s", "");
	usj_pack_cstr(pk, "b");
	msgpack_pack_bin(pk, 0);
	usj_pack_cstr(pk, "e");
	msgpack_pack_ext(pk, 0, 7);
	usj_pack_cstr(pk, "t");
	usj_tensor empty = {.dtype = USJ_F4, .rank = 2, .shape = {0, 3}, .data = ""};
	usj_pack_tensor(pk, &empty);

	msgpack_pack_map(pk, 2);
	usj_pack_kv_int(pk, USJ_TRAILER_KEY, 1);
	usj_pack_cstr(pk, "summary");
	msgpack_pack_map(pk, 1);
	usj_pack_kv_str(pk, "s", "");
}

/* Fuzzing found this: msgpack-c unpacks an empty str, bin or ext with a NULL
 * pointer, and the reader handed it to memcpy and memcmp (undefined; clang's
 * UBSan aborts; gcc's does not check). Every empty value the reader hands out
 * must have a real pointer so tools can copy and compare it too. */
static void empty_values(void)
{
	/* the fuzzer's input, minimised: a header map holding an empty str */
	const uint8_t found[] = {0x84, 0x3b, 0xa0, 0xa6, 'u', 's', 'j', 'e', 'p', 'a', 0x01, 0xa4,
	                         'k', 'i', 'n', 'd', 0xa5, 0x00, 0xff, 'i', '6', 'i', 'i', 'i'};
	CHECK(test_read_stream(found, sizeof found, NULL) == USJ_EDATA); /* header only: truncated */

	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_stream_with_empty_values(&pk);
	pack_stream_with_empty_values(&pk); /* two: the empty kinds are compared */
	usj_reader *r = usj_reader_open_mem(sb.data, sb.size, "mem");
	CHECK(usj_reader_start(r) == 0 && strcmp(usj_reader_kind(r), "") == 0);
	const msgpack_object *s = usj_object_get(usj_reader_meta(r), "s");
	const msgpack_object *b = usj_object_get(usj_reader_meta(r), "b");
	CHECK(s && s->type == MSGPACK_OBJECT_STR && s->via.str.size == 0 && s->via.str.ptr);
	CHECK(b && b->type == MSGPACK_OBJECT_BIN && b->via.bin.size == 0 && b->via.bin.ptr);
	usj_record rec;
	usj_record_init(&rec);
	int records = 0;
	while (usj_reader_next(r, &rec) == 1) {
		records++;
		const usj_field *fs = usj_record_find(&rec, "s"), *fb = usj_record_find(&rec, "b");
		const usj_field *fe = usj_record_find(&rec, "e");
		CHECK(fs && fs->obj.type == MSGPACK_OBJECT_STR && fs->obj.via.str.ptr);
		CHECK(fb && fb->obj.type == MSGPACK_OBJECT_BIN && fb->obj.via.bin.ptr);
		CHECK(fe && fe->obj.type == MSGPACK_OBJECT_EXT && fe->obj.via.ext.type == 7 &&
		      fe->obj.via.ext.size == 0 && fe->obj.via.ext.ptr);
		const char *str = usj_record_str(&rec, "s");
		CHECK(str && str[0] == 0);
		const usj_tensor *t = usj_record_tensor(&rec, "t");
		CHECK(t && t->dtype == USJ_F4 && t->rank == 2 && t->shape[1] == 3 && t->count == 0 &&
		      t->nbytes == 0 && t->data);
	}
	CHECK(records == 2 && usj_reader_segments(r) == 2 && usj_reader_error(r)[0] == 0);
	s = usj_reader_summary(r) ? usj_object_get(usj_reader_summary(r), "s") : NULL;
	CHECK(s && s->type == MSGPACK_OBJECT_STR && s->via.str.size == 0 && s->via.str.ptr);
	usj_record_free(&rec);
	usj_reader_close(r);
	msgpack_sbuffer_destroy(&sb);
}

static void half_conversion(void)
{
	CHECK(usj_float_to_half(1.0f) == 0x3c00);
	CHECK(usj_float_to_half(-2.0f) == 0xc000);
	CHECK(usj_float_to_half(65504.0f) == 0x7bff);
	CHECK(usj_float_to_half(65520.0f) == 0x7c00);
	CHECK(usj_float_to_half(5.9604645e-8f) == 0x0001);
	CHECK(usj_float_to_half(2.9802322e-8f) == 0x0000); /* tie to even */
	CHECK(usj_float_to_half(1.0f + 1.0f / 2048) == 0x3c00); /* tie to even */
	CHECK(usj_float_to_half(1.0f + 3.0f / 2048) == 0x3c02);
	/* every half survives a round trip */
	int bad = 0;
	for (uint32_t h = 0; h < 0x10000; h++) {
		uint16_t x = (uint16_t)h;
		if ((x & 0x7c00) == 0x7c00 && (x & 0x3ff))
			continue; /* nan payloads */
		bad += usj_float_to_half(usj_half_to_float(x)) != x;
	}
	CHECK(bad == 0);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	test_scratch_make();
	RUN(roundtrip);
	RUN(every_prefix_is_truncated);
	RUN(concatenation);
	RUN(corrupt_lengths_are_refused);
	RUN(empty_values);
	RUN(half_conversion);
	return TEST_DONE();
}
