/* test_weights.c: named tensor sets, safetensors files and checkpoint
 * streams: round trips, byte for byte; truncated and corrupt safetensors
 * files refused; BF16 conversion; and the safetensors format against an
 * independent Python implementation (tests/ref/safetensors_ref.py, whose
 * values the tables here mirror). Run from the repository root, as
 * tests/run.sh does. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "err.h"
#include "half.h"
#include "mem.h"
#include "safetensors.h"
#include "stream.h"
#include "tensorset.h"
#include "test.h"

/* Debian's python, which has numpy and torch */
#define PYTHON "/usr/bin/python3"
#define SCRIPT "tests/ref/safetensors_ref.py"

static char err[1024];

/* add: a tensor of dtype dt and shape, filled from values, appended to s. */
static void add(usj_tensorset *s, const char *name, usj_dtype dt, int rank, const int64_t *shape,
                const void *values)
{
	usj_tensor t = {.dtype = dt, .rank = rank};
	if (rank)
		memcpy(t.shape, shape, (size_t)rank * sizeof *shape);
	if (usj_shape_size(rank, shape, dt, (size_t)1 << 30, &t.count, &t.nbytes) != 0)
		usj_die(USJ_EFAIL, "test bug: bad shape for '%s'", name);
	t.data = xmalloc_aligned(t.nbytes);
	if (t.nbytes)
		memcpy(t.data, values, t.nbytes);
	if (usj_tensorset_add(s, name, &t, err, sizeof err) != 0)
		usj_die(USJ_EFAIL, "test bug: %s", err);
}

/* same_sets: a and b hold the same names in the same order, with the same
 * dtypes, shapes and bytes. */
static int same_sets(const usj_tensorset *a, const usj_tensorset *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++) {
		const usj_tensor *x = &a->items[i].t, *y = &b->items[i].t;
		if (strcmp(a->items[i].name, b->items[i].name) != 0 || x->dtype != y->dtype ||
		    x->rank != y->rank || x->count != y->count || x->nbytes != y->nbytes ||
		    memcmp(x->shape, y->shape, (size_t)x->rank * sizeof *x->shape) != 0 ||
		    (x->nbytes && memcmp(x->data, y->data, x->nbytes) != 0)) {
			fprintf(stderr, "#   tensor %d ('%s') differs\n", i, a->items[i].name);
			return 0;
		}
	}
	return 1;
}

/* The set the C side writes; safetensors_ref.py's EXPECTED mirrors it. */
static const int64_t w_shape[] = {2, 3, 2, 2}, b_shape[] = {2}, ids_shape[] = {3}, none_shape[] = {0};
static const uint16_t b_bits[] = {0x3800, 0x8000}; /* 0.5, -0.0 */
static const int64_t ids[] = {INT64_MIN, 42, INT64_MAX};
static const uint8_t mask[] = {0, 1, 255};
static const double pi = 3.141592653589793;

static void reference_set(usj_tensorset *s, usj_strmap *meta)
{
	float w[24];
	for (int i = 0; i < 24; i++)
		w[i] = (float)i * 0.25f - 3;
	usj_tensorset_init(s);
	add(s, "patch_embed.proj.weight", USJ_F4, 4, w_shape, w);
	add(s, "patch_embed.proj.bias", USJ_F2, 1, b_shape, b_bits);
	add(s, "ids", USJ_I8, 1, ids_shape, ids);
	add(s, "mask", USJ_U1, 1, ids_shape, mask);
	add(s, "pi", USJ_F8, 0, NULL, &pi);
	add(s, "none", USJ_F4, 1, none_shape, NULL);
	*meta = (usj_strmap){0};
	usj_strmap_set(meta, "format", "pt");
	usj_strmap_set(meta, "by", "test_weights");
}

static void tensorset_basics(void)
{
	usj_tensorset s;
	usj_tensorset_init(&s);
	const int64_t shape[] = {1, 4, 8};
	float v[32] = {0};
	add(&s, "pos_embed", USJ_F4, 3, shape, v);
	add(&s, "cls_token", USJ_F4, 2, shape, v);
	CHECK(usj_tensorset_find(&s, "pos_embed") == &s.items[0].t);
	CHECK(usj_tensorset_find(&s, "pos") == NULL);
	CHECK(usj_tensorset_elements(&s) == 32 + 4);

	usj_tensor t = {.dtype = USJ_F4, .rank = 1, .shape = {1}, .count = 1, .nbytes = 4};
	t.data = xmalloc_aligned(4);
	CHECK(usj_tensorset_add(&s, "pos_embed", &t, err, sizeof err) == USJ_EDATA);
	CHECK(t.data != NULL && strstr(err, "'pos_embed' appears twice"));
	CHECK(usj_tensorset_add(&s, "", &t, err, sizeof err) == USJ_EDATA && t.data);
	char long_name[USJ_TENSOR_NAME_MAX + 2];
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = 0;
	CHECK(usj_tensorset_add(&s, long_name, &t, err, sizeof err) == USJ_EDATA && t.data);
	long_name[USJ_TENSOR_NAME_MAX] = 0;
	CHECK(usj_tensorset_add(&s, long_name, &t, err, sizeof err) == 0 && t.data == NULL);
	CHECK(s.n == 3);

	CHECK(usj_tensorset_check(&s, "pos_embed", USJ_F4, 3, shape, err, sizeof err) == 0);
	const int64_t other[] = {1, 5, 8};
	CHECK(usj_tensorset_check(&s, "pos_embed", USJ_F4, 3, other, err, sizeof err) == USJ_EDATA);
	CHECK(strcmp(err, "tensor 'pos_embed': expected <f4 [1,5,8], found <f4 [1,4,8]") == 0);
	CHECK(usj_tensorset_check(&s, "cls_token", USJ_F2, 2, shape, err, sizeof err) == USJ_EDATA);
	CHECK(strcmp(err, "tensor 'cls_token': expected <f2 [1,4], found <f4 [1,4]") == 0);
	CHECK(usj_tensorset_check(&s, "norm.weight", USJ_F4, 1, shape + 2, err, sizeof err) == USJ_EDATA);
	CHECK(strcmp(err, "tensor 'norm.weight' is missing (expected <f4 [8])") == 0);

	CHECK(usj_tensorset_remove(&s, "pos_embed") == 0);
	CHECK(usj_tensorset_remove(&s, "pos_embed") == -1);
	CHECK(s.n == 2 && strcmp(s.items[0].name, "cls_token") == 0);
	usj_tensorset_free(&s);
	CHECK(s.n == 0 && s.items == NULL);
}

static void safetensors_round_trip(void)
{
	usj_tensorset s, back;
	usj_strmap meta, meta_back = {0};
	reference_set(&s, &meta);
	char *path = test_path("round.safetensors");
	CHECK(usj_safetensors_write(path, &s, &meta, err, sizeof err) == 0);
	usj_tensorset_init(&back);
	CHECK(usj_safetensors_read(path, &back, &meta_back, err, sizeof err) == 0);
	CHECK(same_sets(&s, &back));
	CHECK(meta_back.n == 2 && strcmp(usj_strmap_get(&meta_back, "by"), "test_weights") == 0);
	/* names already loaded are refused, and nothing is added */
	CHECK(usj_safetensors_read(path, &back, NULL, err, sizeof err) == USJ_EDATA);
	CHECK(strstr(err, "'patch_embed.proj.weight' is already loaded") && back.n == s.n);

	/* the header is padded with spaces to a multiple of 8 */
	size_t n;
	char *bytes = test_read_file(path, &n);
	uint64_t hlen;
	memcpy(&hlen, bytes, 8);
	CHECK(hlen % 8 == 0 && hlen < n && bytes[8] == '{' && bytes[8 + hlen - 1] == ' ');
	free(bytes);

	/* a tensor name that is not UTF-8 cannot go into JSON */
	usj_tensorset bad;
	usj_tensorset_init(&bad);
	add(&bad, "caf\xe9", USJ_U1, 1, ids_shape, mask);
	CHECK(usj_safetensors_write(path, &bad, NULL, err, sizeof err) == USJ_EDATA && strstr(err, "UTF-8"));
	usj_tensorset_free(&bad);
	/* the failed write left the earlier file as it was */
	CHECK(usj_safetensors_read(path, &bad, NULL, err, sizeof err) == 0 && same_sets(&s, &bad));
	usj_tensorset_free(&bad);

	usj_tensorset_free(&s);
	usj_tensorset_free(&back);
	usj_strmap_free(&meta);
	usj_strmap_free(&meta_back);
	free(path);
}

static void safetensors_prefixes_are_refused(void)
{
	usj_tensorset s;
	usj_strmap meta;
	reference_set(&s, &meta);
	char *path = test_path("prefix.safetensors");
	CHECK(usj_safetensors_write(path, &s, &meta, err, sizeof err) == 0);
	size_t n;
	char *bytes = test_read_file(path, &n);
	usj_tensorset got;
	usj_tensorset_init(&got);
	int refused = 0;
	for (size_t k = 0; k < n; k++)
		refused += usj_safetensors_parse(bytes, k, &got, NULL, err, sizeof err) == USJ_EDATA &&
		           strncmp(err, "truncated: ", 11) == 0 && got.n == 0;
	CHECK(refused == (int)n);
	CHECK(usj_safetensors_parse(bytes, n, &got, NULL, err, sizeof err) == 0 && got.n == s.n);
	usj_tensorset_free(&got);

	/* through a file: empty, cut in the header, cut in the data */
	size_t cuts[] = {0, 20, n - 1};
	for (int i = 0; i < 3; i++) {
		FILE *f = fopen(path, "wb");
		CHECK(f && fwrite(bytes, 1, cuts[i], f) == cuts[i] && fclose(f) == 0);
		CHECK(usj_safetensors_read(path, &got, NULL, err, sizeof err) == USJ_EDATA);
		CHECK(strncmp(err, "truncated: ", 11) == 0 && got.n == 0);
	}
	char *missing = test_path("missing.safetensors");
	CHECK(usj_safetensors_read(missing, &got, NULL, err, sizeof err) == USJ_EDATA && strstr(err, "cannot open"));
	CHECK(usj_safetensors_read(test_scratch, &got, NULL, err, sizeof err) == USJ_EDATA &&
	      strstr(err, "not a regular file"));
	free(missing);
	free(bytes);
	free(path);
	usj_tensorset_free(&s);
	usj_strmap_free(&meta);
}

/* file_of: a safetensors file of header text json and data_len data bytes
 * (0, 1, 2, ...); *n gets its size. */
static char *file_of(const char *json, size_t data_len, size_t *n)
{
	size_t h = strlen(json);
	*n = 8 + h + data_len;
	char *buf = xmalloc(*n);
	for (int i = 0; i < 8; i++)
		buf[i] = (char)(h >> (8 * i));
	memcpy(buf + 8, json, h);
	for (size_t i = 0; i < data_len; i++)
		buf[8 + h + i] = (char)i;
	return buf;
}

/* refused: parsing json with data_len bytes of data fails as bad input with
 * a message containing want, and loads nothing. */
static int refused(const char *json, size_t data_len, const char *want)
{
	size_t n;
	char *buf = file_of(json, data_len, &n);
	usj_tensorset s;
	usj_tensorset_init(&s);
	usj_strmap meta = {0};
	err[0] = 0;
	int rc = usj_safetensors_parse(buf, n, &s, &meta, err, sizeof err);
	int ok = rc == USJ_EDATA && strstr(err, want) && s.n == 0 && meta.n == 0;
	if (!ok)
		fprintf(stderr, "#   %s: rc %d, '%s', wanted '%s'\n", json, rc, err, want);
	usj_tensorset_free(&s);
	usj_strmap_free(&meta);
	free(buf);
	return ok;
}

#define ENTRY(name, dtype, shape, b, e) \
	"\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

static void corrupt_headers_are_refused(void)
{
	const char *good = "{" ENTRY("a", "F32", "[2]", 0, 8) "," ENTRY("b", "U8", "[4]", 8, 12) "}";
	size_t n;
	char *buf = file_of(good, 12, &n);
	usj_tensorset s;
	usj_tensorset_init(&s);
	CHECK(usj_safetensors_parse(buf, n, &s, NULL, err, sizeof err) == 0 && s.n == 2);
	usj_tensorset_free(&s);
	free(buf);

	CHECK(refused("{\"a\":{\"dtype\":\"F32\",", 0, "not valid JSON"));
	CHECK(refused("[1,2]", 0, "not a JSON object"));
	CHECK(refused("{" ENTRY("a", "F32", "[1]", 0, 4) "," ENTRY("a", "F32", "[1]", 4, 8) "}", 8, "not valid JSON"));
	CHECK(refused("{" ENTRY("a", "F32", "[2]", 0, 8) "}", 4, "truncated: tensor 'a' ends at byte 8"));
	CHECK(refused("{" ENTRY("a", "F32", "[2]", 0, 8) "," ENTRY("b", "U8", "[4]", 4, 8) "}", 8,
	              "tensors 'a' and 'b' overlap"));
	CHECK(refused("{" ENTRY("a", "F32", "[1]", 4, 8) "}", 8, "4 bytes before tensor 'a'"));
	CHECK(refused("{" ENTRY("a", "F32", "[1]", 0, 4) "}", 8, "4 bytes after the last tensor"));
	CHECK(refused("{" ENTRY("a", "F32", "[3]", 0, 8) "}", 8, "tensor 'a': shape [3] of F32 does not match"));
	CHECK(refused("{" ENTRY("a", "F16", "[3]", 0, 5) "}", 5, "tensor 'a': shape [3] of F16"));
	CHECK(refused("{" ENTRY("a", "F32", "[4294967296,4294967296,4294967296]", 0, 8) "}", 8,
	              "tensor 'a': shape [4294967296,4294967296,4294967296] of F32"));
	CHECK(refused("{" ENTRY("a", "F8_E4M3", "[8]", 0, 8) "}", 8, "tensor 'a': unsupported dtype 'F8_E4M3'"));
	CHECK(refused("{" ENTRY("w", "float32", "[2]", 0, 8) "}", 8, "tensor 'w': unsupported dtype"));
	CHECK(refused("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor 'a': dtype is missing"));
	CHECK(refused("{\"a\":[1]}", 0, "tensor 'a': its entry is not a JSON object"));
	CHECK(refused("{" ENTRY("a", "U8", "[-1]", 0, 0) "}", 0, "tensor 'a': shape has a dimension"));
	CHECK(refused("{" ENTRY("a", "U8", "[2.0]", 0, 2) "}", 2, "tensor 'a': shape has a dimension"));
	CHECK(refused("{" ENTRY("a", "U8", "[1,1,1,1,1,1,1,1,1]", 0, 1) "}", 1, "at most 8 dimensions"));
	CHECK(refused("{" ENTRY("a", "U8", "[2]", 2, 0) "}", 2, "tensor 'a': data_offsets is not"));
	CHECK(refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0]}}", 2, "data_offsets is not"));
	CHECK(refused("{" ENTRY("a", "U8", "[1]", 0, 1) ",\"__metadata__\":{\"n\":1}}", 1,
	              "__metadata__ 'n' is not a string"));
	CHECK(refused("{" ENTRY("", "U8", "[1]", 0, 1) "}", 1, "is not 1 to 200 bytes long"));

	/* header lengths beyond the limit and beyond the file */
	char *big = file_of("{}", 0, &n);
	memcpy(big, (uint64_t[]){(uint64_t)USJ_SAFETENSORS_MAX_HEADER + 1}, 8);
	CHECK(usj_safetensors_parse(big, n, &s, NULL, err, sizeof err) == USJ_EDATA && strstr(err, "over the limit"));
	memcpy(big, (uint64_t[]){UINT64_MAX}, 8);
	CHECK(usj_safetensors_parse(big, n, &s, NULL, err, sizeof err) == USJ_EDATA && strstr(err, "over the limit"));
	memcpy(big, (uint64_t[]){3}, 8);
	CHECK(usj_safetensors_parse(big, n, &s, NULL, err, sizeof err) == USJ_EDATA && strstr(err, "truncated"));
	CHECK(s.n == 0);
	free(big);
}

static void bf16_converts_exactly(void)
{
	/* every bfloat16 is a float32: these are 1, -2.5, 3.140625, 2^-133 (the
	 * smallest subnormal), the largest finite, -inf, -0 and a nan */
	static const uint16_t bits[] = {0x3f80, 0xc020, 0x4049, 0x0001, 0x7f7f, 0xff80, 0x8000, 0x7fc0};
	static const float want[] = {1.0f, -2.5f, 3.140625f, 0x1p-133f, 0x1.fep127f, -INFINITY, -0.0f, NAN};
	size_t n;
	char *buf = file_of("{" ENTRY("x", "BF16", "[2,4]", 0, 16) "}", 16, &n);
	memcpy(buf + n - 16, bits, 16);
	usj_tensorset s;
	usj_tensorset_init(&s);
	CHECK(usj_safetensors_parse(buf, n, &s, NULL, err, sizeof err) == 0);
	const usj_tensor *t = usj_tensorset_find(&s, "x");
	CHECK(t && t->dtype == USJ_F4 && t->rank == 2 && t->count == 8 && t->nbytes == 32);
	for (int i = 0; t && i < 8; i++) {
		float got = ((const float *)t->data)[i];
		CHECK(isnan(want[i]) ? isnan(got) : got == want[i] && signbit(got) == signbit(want[i]));
	}
	usj_tensorset_free(&s);
	free(buf);
}

/* pack_config: {"encoder": {"dim": 8, "depth": 2}, "step": 7, "lr": 0.5} */
static void pack_config(msgpack_sbuffer *sb)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	usj_pack_cstr(&pk, "encoder");
	msgpack_pack_map(&pk, 2);
	usj_pack_kv_int(&pk, "dim", 8);
	usj_pack_kv_int(&pk, "depth", 2);
	usj_pack_kv_int(&pk, "step", 7);
	usj_pack_kv_double(&pk, "lr", 0.5);
}

static void checkpoint_round_trip(void)
{
	usj_tensorset s, back;
	usj_tensorset_init(&s);
	float w[24];
	for (int i = 0; i < 24; i++)
		w[i] = (float)i / 3;
	add(&s, "patch_embed.proj.weight", USJ_F4, 4, w_shape, w);
	add(&s, "patch_embed.proj.bias", USJ_F2, 1, b_shape, b_bits);
	add(&s, "cls_token", USJ_F4, 0, NULL, w);
	add(&s, "opt.m.cls_token", USJ_F4, 1, none_shape, NULL);
	msgpack_sbuffer config, config_back;
	pack_config(&config);
	char *path = test_path("model.usj");
	usj_checkpoint_write(path, &s, &config);

	usj_tensorset_init(&back);
	msgpack_sbuffer_init(&config_back);
	usj_checkpoint_read(path, &back, &config_back);
	CHECK(same_sets(&s, &back));
	CHECK(config_back.size == config.size && memcmp(config_back.data, config.data, config.size) == 0);

	usj_reader *r = usj_reader_open(path);
	CHECK(r && usj_reader_start(r) == 0 && strcmp(usj_reader_kind(r), "checkpoint") == 0);
	usj_tensorset_free(&back);
	CHECK(usj_checkpoint_load(r, &back, err, sizeof err) == 0 && back.n == 4);
	const msgpack_object *sum = usj_reader_summary(r);
	const msgpack_object *tensors = sum ? usj_object_get(sum, "tensors") : NULL;
	const msgpack_object *params = sum ? usj_object_get(sum, "parameters") : NULL;
	CHECK(tensors && tensors->type == MSGPACK_OBJECT_POSITIVE_INTEGER && tensors->via.u64 == 4);
	CHECK(params && params->type == MSGPACK_OBJECT_POSITIVE_INTEGER && params->via.u64 == 24 + 2 + 1);
	usj_reader_close(r);

	usj_tensorset_free(&s);
	usj_tensorset_free(&back);
	msgpack_sbuffer_destroy(&config);
	msgpack_sbuffer_destroy(&config_back);
	free(path);
}

/* load_refused: a checkpoint stream of the given records fails to load as
 * bad input with a message containing want. */
static int load_refused(usj_record *recs, int n, const char *want)
{
	char *path = test_path("bad.usj");
	usj_writer *w = usj_writer_open(path, "checkpoint", NULL);
	for (int i = 0; i < n; i++)
		usj_writer_write(w, &recs[i]);
	usj_writer_close(w, NULL);
	usj_reader *r = usj_reader_open(path);
	usj_tensorset s;
	usj_tensorset_init(&s);
	int rc = usj_reader_start(r) == 0 ? usj_checkpoint_load(r, &s, err, sizeof err) : -1;
	int ok = rc == USJ_EDATA && strstr(err, want);
	if (!ok)
		fprintf(stderr, "#   rc %d, '%s', wanted '%s'\n", rc, err, want);
	usj_reader_close(r);
	usj_tensorset_free(&s);
	free(path);
	return ok;
}

static void checkpoint_bad_records(void)
{
	usj_record recs[2];
	const int64_t shape[] = {2};
	for (int i = 0; i < 2; i++) {
		usj_record_init(&recs[i]);
		usj_record_set_str(&recs[i], "name", "norm.weight");
		memset(usj_record_set_tensor(&recs[i], "tensor", USJ_F4, 1, shape)->data, 0, 8);
	}
	CHECK(load_refused(recs, 2, "record 2: tensor 'norm.weight' appears twice"));
	usj_record_set_int(&recs[1], "name", 3);
	CHECK(load_refused(recs, 2, "record 2 lacks a 'name' string"));
	usj_record_set_str(&recs[1], "name", "norm.bias");
	memset(usj_record_set_tensor(&recs[1], "tensor", USJ_I8, 1, shape)->data, 0, 16);
	CHECK(load_refused(recs, 2, "record 2 ('norm.bias') lacks a 'tensor' array of <f4 or <f2"));
	usj_record_remove(&recs[1], "tensor");
	CHECK(load_refused(recs, 2, "record 2 ('norm.bias') lacks a 'tensor'"));
	for (int i = 0; i < 2; i++)
		usj_record_free(&recs[i]);
}

/* python_ok: whether the reference script can run; the test fails if not. */
static int python_ok(void)
{
	int ok = access(SCRIPT, R_OK) == 0 && system(PYTHON " -c 'import numpy, torch' 2>/dev/null") == 0;
	if (!ok)
		fprintf(stderr, "#   cannot run " SCRIPT " with " PYTHON " (numpy, torch): run from the "
		        "repository root with python3-numpy and python3-torch installed\n");
	CHECK(ok);
	return ok;
}

static void python_writes_c_reads(void)
{
	if (!python_ok())
		return;
	char *path = test_path("py.safetensors");
	char *cmd = xasprintf(PYTHON " " SCRIPT " write '%s'", path);
	CHECK(system(cmd) == 0);
	usj_tensorset s;
	usj_tensorset_init(&s);
	usj_strmap meta = {0};
	CHECK(usj_safetensors_read(path, &s, &meta, err, sizeof err) == 0);
	CHECK(meta.n == 2 && strcmp(usj_strmap_get(&meta, "format"), "pt") == 0 &&
	      strcmp(usj_strmap_get(&meta, "source"), "safetensors_ref.py") == 0);

	/* safetensors_ref.py's WRITTEN, in order */
	static const char *names[] = {"blocks.0.attn.qkv.weight", "pos_embed", "cls_token", "step", "scale", "empty"};
	static const usj_dtype dts[] = {USJ_F4, USJ_F2, USJ_F4, USJ_I8, USJ_F4, USJ_F4};
	static const int ranks[] = {2, 3, 3, 1, 0, 2};
	static const int64_t shapes[][3] = {{2, 3}, {1, 2, 2}, {1, 1, 6}, {4}, {0}, {0, 3}};
	static const float f32[] = {0.0f, -1.5f, 3.25f, 1e-3f, FLT_MAX, -0.0f};
	static const uint16_t f16[] = {0x3c00, 0xc100, 0x7bff, 0x0001};
	static const float bf16[] = {1.0f, -2.5f, 3.140625f, 0x1p-130f, INFINITY, 0.10009765625f};
	static const int64_t i64[] = {INT64_MIN, -1, 0, INT64_MAX};
	static const float scale = 7.0f;
	static const void *values[] = {f32, f16, bf16, i64, &scale, NULL};
	CHECK(s.n == 6);
	for (int i = 0; i < 6 && i < s.n; i++) {
		const usj_tensor *t = &s.items[i].t;
		CHECK(strcmp(s.items[i].name, names[i]) == 0);
		CHECK(t->dtype == dts[i] && t->rank == ranks[i]);
		CHECK(memcmp(t->shape, shapes[i], (size_t)t->rank * sizeof *t->shape) == 0);
		/* bit for bit: -0.0 is not 0.0 */
		CHECK(t->nbytes == 0 || memcmp(t->data, values[i], t->nbytes) == 0);
	}
	usj_tensorset_free(&s);
	usj_strmap_free(&meta);
	free(cmd);
	free(path);
}

static void c_writes_python_reads(void)
{
	if (!python_ok())
		return;
	usj_tensorset s;
	usj_strmap meta;
	reference_set(&s, &meta);
	char *path = test_path("c.safetensors");
	CHECK(usj_safetensors_write(path, &s, &meta, err, sizeof err) == 0);
	char *cmd = xasprintf(PYTHON " " SCRIPT " check '%s'", path);
	CHECK(system(cmd) == 0);
	/* and the check can fail: a different value */
	((float *)s.items[0].t.data)[5] = 0.5f;
	CHECK(usj_safetensors_write(path, &s, &meta, err, sizeof err) == 0);
	char *quiet = xasprintf("%s 2>/dev/null", cmd);
	CHECK(system(quiet) != 0);
	usj_tensorset_free(&s);
	usj_strmap_free(&meta);
	free(quiet);
	free(cmd);
	free(path);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	test_scratch_make();
	RUN(tensorset_basics);
	RUN(safetensors_round_trip);
	RUN(safetensors_prefixes_are_refused);
	RUN(corrupt_headers_are_refused);
	RUN(bf16_converts_exactly);
	RUN(checkpoint_round_trip);
	RUN(checkpoint_bad_records);
	RUN(python_writes_c_reads);
	RUN(c_writes_python_reads);
	return TEST_DONE();
}
