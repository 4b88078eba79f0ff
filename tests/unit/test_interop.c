/* test_interop.c: the stream format against its reference Python client
 * (msgpack with msgpack-numpy 0.4.8, driven by tests/ref/stream_interop.py):
 * each side reads what the other writes, value for value and byte for byte.
 * The expected values here mirror records() in the script. Run from the
 * repository root, as tests/run.sh does. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "mem.h"
#include "msgscan.h"
#include "stream.h"
#include "test.h"

/* Debian's python: the pyenv one on some PATHs lacks msgpack_numpy. */
#define PYTHON "/usr/bin/python3"
#define SCRIPT "tests/ref/stream_interop.py"
#define NRECORDS 3
#define NELEM(a) ((int64_t)(sizeof(a) / sizeof((a)[0])))

/* Why the reference client cannot run, or NULL when it can. */
static const char *python_problem;

static const uint8_t b1_values[] = {1, 0, 0, 1};
static const uint8_t u1_values[] = {0, 1, 127, 128, 255};
static const int8_t i1_values[] = {-128, -1, 0, 1, 127};
static const uint16_t u2_values[] = {0, 1, 32768, 65535};
static const int16_t i2_values[] = {INT16_MIN, -1, 0, INT16_MAX};
/* binary16 bits of 0, -0, 1, -2.5, 65504, 2^-24, 2^-14 - 2^-24, 2^-15, inf,
 * -inf, nan: numpy must convert the script's doubles to exactly these */
static const uint16_t f2_bits[] = {0x0000, 0x8000, 0x3c00, 0xc100, 0x7bff, 0x0001,
                                   0x03ff, 0x0200, 0x7c00, 0xfc00, 0x7e00};
static const uint32_t u4_values[] = {0, 1, 2147483648u, UINT32_MAX};
static const int32_t i4_values[] = {INT32_MIN, -1, 0, INT32_MAX};
static const float f4_values[] = {0.0f, -1.5f, FLT_MAX, FLT_MIN, 0x1p-149f, 1e10f,
                                  INFINITY, -INFINITY, NAN};
static const uint64_t u8_values[] = {0, 1, (uint64_t)1 << 63, UINT64_MAX};
static const int64_t i8_values[] = {INT64_MIN, -1, 0, INT64_MAX};
static const double f8_values[] = {0.1, -1e308, 0x1p-1074, DBL_MIN, -0.0, INFINITY, NAN, M_PI};

static const int16_t rank2_values[] = {-3, -2, -1, 0, 1, 2};
/* np.arange(6).reshape(2, 3).T sent row-major */
static const int32_t transposed_values[] = {0, 3, 1, 4, 2, 5};

static void add_tensor(usj_record *rec, const char *key, usj_dtype dt, int rank,
                       const int64_t *shape, const void *values)
{
	usj_tensor *t = usj_record_set_tensor(rec, key, dt, rank, shape);
	if (t->nbytes) /* empty tensors pass no values: memcpy from NULL is undefined */
		memcpy(t->data, values, t->nbytes);
}

static void add_vector(usj_record *rec, const char *key, usj_dtype dt, int64_t n, const void *values)
{
	add_tensor(rec, key, dt, 1, &n, values);
}

/* add_packed: the one value packed in sb becomes field key; sb is emptied. */
static void add_packed(usj_record *rec, const char *key, msgpack_sbuffer *sb)
{
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	size_t off = 0;
	if (msgpack_unpack_next(&u, sb->data, sb->size, &off) != MSGPACK_UNPACK_SUCCESS || off != sb->size)
		usj_die(USJ_EFAIL, "test bug: the value packed for '%s' does not unpack", key);
	usj_record_set_object(rec, key, &u.data);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_clear(sb);
}

static void pack_bin_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_bin(pk, strlen(s));
	msgpack_pack_bin_body(pk, s, strlen(s));
}

/* pack_numpy_scalar: what msgpack_numpy.encode makes of np.int64(7) and the like. */
static void pack_numpy_scalar(msgpack_packer *pk, const char *dtype, const void *bytes, size_t n)
{
	msgpack_pack_map(pk, 3);
	pack_bin_str(pk, "nd");
	msgpack_pack_false(pk);
	pack_bin_str(pk, "type");
	usj_pack_cstr(pk, dtype);
	pack_bin_str(pk, "data");
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, bytes, n);
}

static void build_dtypes(usj_record *rec)
{
	usj_record_set_str(rec, "id", "dtypes");
	add_vector(rec, "b1", USJ_B1, NELEM(b1_values), b1_values);
	add_vector(rec, "u1", USJ_U1, NELEM(u1_values), u1_values);
	add_vector(rec, "i1", USJ_I1, NELEM(i1_values), i1_values);
	add_vector(rec, "u2", USJ_U2, NELEM(u2_values), u2_values);
	add_vector(rec, "i2", USJ_I2, NELEM(i2_values), i2_values);
	add_vector(rec, "f2", USJ_F2, NELEM(f2_bits), f2_bits);
	add_vector(rec, "u4", USJ_U4, NELEM(u4_values), u4_values);
	add_vector(rec, "i4", USJ_I4, NELEM(i4_values), i4_values);
	add_vector(rec, "f4", USJ_F4, NELEM(f4_values), f4_values);
	add_vector(rec, "u8", USJ_U8, NELEM(u8_values), u8_values);
	add_vector(rec, "i8", USJ_I8, NELEM(i8_values), i8_values);
	add_vector(rec, "f8", USJ_F8, NELEM(f8_values), f8_values);
}

static void build_ranks(usj_record *rec)
{
	usj_record_set_str(rec, "id", "ranks");
	double rank0 = -3.5;
	int64_t no_shape[1] = {0}; /* rank 0 reads no dimension, but memcpy needs a pointer */
	add_tensor(rec, "rank0", USJ_F8, 0, no_shape, &rank0);
	add_tensor(rec, "rank2", USJ_I2, 2, (int64_t[]){2, 3}, rank2_values);
	usj_tensor *rank3 = usj_record_set_tensor(rec, "rank3", USJ_F4, 3, (int64_t[]){2, 3, 4});
	for (int k = 0; k < 24; k++)
		((float *)rank3->data)[k] = (float)(k - 12) * 0.25f;
	add_tensor(rec, "empty", USJ_I8, 3, (int64_t[]){2, 0, 3}, NULL);
	add_tensor(rec, "empty1", USJ_U1, 1, (int64_t[]){0}, NULL);
	add_tensor(rec, "transposed", USJ_I4, 2, (int64_t[]){3, 2}, transposed_values);
	usj_tensor *ramp = usj_record_set_tensor(rec, "ramp", USJ_U2, 2, (int64_t[]){10, 20});
	for (int k = 0; k < 200; k++)
		((uint16_t *)ramp->data)[k] = (uint16_t)(k * 331); /* wraps like numpy's uint16 */
}

static void build_scalars(usj_record *rec)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

	usj_record_set_str(rec, "id", "scalars");
	usj_record_set_int(rec, "int", 42);
	usj_record_set_int(rec, "negative", -123456789012);
	msgpack_pack_uint64(&pk, UINT64_MAX);
	add_packed(rec, "u64max", &sb);
	usj_record_set_int(rec, "i64min", INT64_MIN);
	usj_record_set_double(rec, "float", M_PI);
	usj_record_set_double(rec, "tiny", -2.5e-300);
	usj_record_set_bool(rec, "true", 1);
	usj_record_set_bool(rec, "false", 0);
	usj_record_set_str(rec, "str", "h\u00e9llo, w\u00f6rld \u2713");
	usj_record_set_str(rec, "empty_str", "");
	msgpack_pack_nil(&pk);
	add_packed(rec, "none", &sb);
	msgpack_pack_bin(&pk, 4);
	msgpack_pack_bin_body(&pk, "\x00\x01\xfe\xff", 4);
	add_packed(rec, "bytes", &sb);
	msgpack_pack_ext(&pk, 3, 5);
	msgpack_pack_ext_body(&pk, "xyz", 3);
	add_packed(rec, "ext", &sb);

	/* [1, -2, "three", [4.5, None, False]] */
	msgpack_pack_array(&pk, 4);
	msgpack_pack_int(&pk, 1);
	msgpack_pack_int(&pk, -2);
	usj_pack_cstr(&pk, "three");
	msgpack_pack_array(&pk, 3);
	msgpack_pack_double(&pk, 4.5);
	msgpack_pack_nil(&pk);
	msgpack_pack_false(&pk);
	add_packed(rec, "list", &sb);

	/* {"a": 1, "b": {"c": [True, "d"]}, "e": -0.25} */
	msgpack_pack_map(&pk, 3);
	usj_pack_kv_int(&pk, "a", 1);
	usj_pack_cstr(&pk, "b");
	msgpack_pack_map(&pk, 1);
	usj_pack_cstr(&pk, "c");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_true(&pk);
	usj_pack_cstr(&pk, "d");
	usj_pack_kv_double(&pk, "e", -0.25);
	add_packed(rec, "map", &sb);

	int64_t seven = 7;
	pack_numpy_scalar(&pk, "<i8", &seven, 8);
	add_packed(rec, "np_int64", &sb);
	float half = 0.5f;
	pack_numpy_scalar(&pk, "<f4", &half, 4);
	add_packed(rec, "np_float32", &sb);
	msgpack_sbuffer_destroy(&sb);
}

/* build_records: the script's records(), each rec already initialised. */
static void build_records(usj_record recs[NRECORDS])
{
	build_dtypes(&recs[0]);
	build_ranks(&recs[1]);
	build_scalars(&recs[2]);
}

static void pack_meta(msgpack_sbuffer *sb)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	usj_pack_kv_str(&pk, "source", "stream_interop");
	usj_pack_kv_int(&pk, "count", 3);
	usj_pack_kv_double(&pk, "scale", 0.5);
	usj_pack_cstr(&pk, "tags");
	msgpack_pack_array(&pk, 2);
	usj_pack_cstr(&pk, "a");
	usj_pack_cstr(&pk, "b");
}

static void pack_summary(msgpack_sbuffer *sb)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	usj_pack_kv_int(&pk, "records", 3);
	usj_pack_kv_bool(&pk, "ok", 1);
}

/* same_packed: does o equal the one value packed in sb? */
static int same_packed(const msgpack_object *o, const msgpack_sbuffer *sb)
{
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	size_t off = 0;
	int same = o && msgpack_unpack_next(&u, sb->data, sb->size, &off) == MSGPACK_UNPACK_SUCCESS &&
	           msgpack_object_equal(*o, u.data);
	msgpack_unpacked_destroy(&u);
	return same;
}

/* same_record: got equals want field for field: keys in order; tensors in
 * dtype, shape and bytes (so nan, -0.0 and fp16 bits count); other values as
 * msgpack objects, type included. Prints each difference. */
static int same_record(const usj_record *got, const usj_record *want, int64_t index)
{
	if (got->nfields != want->nfields) {
		fprintf(stderr, "#   record %lld: %d fields, want %d\n", (long long)index, got->nfields, want->nfields);
		return 0;
	}
	int same = 1;
	for (int i = 0; i < want->nfields; i++) {
		const usj_field *g = &got->fields[i], *w = &want->fields[i];
		int ok = strcmp(g->key, w->key) == 0 && g->is_tensor == w->is_tensor;
		if (ok && w->is_tensor) {
			ok = g->t.dtype == w->t.dtype && g->t.rank == w->t.rank && g->t.count == w->t.count &&
			     g->t.nbytes == w->t.nbytes &&
			     memcmp(g->t.shape, w->t.shape, (size_t)w->t.rank * sizeof w->t.shape[0]) == 0 &&
			     memcmp(g->t.data, w->t.data, w->t.nbytes) == 0;
			char gs[128], ws[128];
			if (!ok)
				fprintf(stderr, "#   record %lld, field '%s': got %s %s, want %s %s%s\n",
				        (long long)index, w->key, usj_dtype_name(g->t.dtype), usj_tensor_shape_str(&g->t, gs, sizeof gs),
				        usj_dtype_name(w->t.dtype), usj_tensor_shape_str(&w->t, ws, sizeof ws),
				        g->t.dtype == w->t.dtype && g->t.nbytes == w->t.nbytes ? " (the bytes differ)" : "");
		} else if (ok) {
			ok = msgpack_object_equal(g->obj, w->obj);
			if (!ok) {
				fprintf(stderr, "#   record %lld, field '%s': got ", (long long)index, w->key);
				msgpack_object_print(stderr, g->obj);
				fprintf(stderr, ", want ");
				msgpack_object_print(stderr, w->obj);
				fprintf(stderr, "\n");
			}
		} else {
			fprintf(stderr, "#   record %lld, field %d: '%s'%s, want '%s'%s\n", (long long)index, i,
			        g->key, g->is_tensor ? " (tensor)" : "", w->key, w->is_tensor ? " (tensor)" : "");
		}
		same &= ok;
	}
	return same;
}

/* need_python: the reference client is required, never skipped (CI has it). */
static int need_python(void)
{
	if (python_problem)
		fprintf(stderr, "#   %s\n", python_problem);
	CHECK(!python_problem);
	return !python_problem;
}

/* run_script: run "stream_interop.py mode path"; 1 if it succeeds. */
static int run_script(const char *mode, const char *path)
{
	char *cmd = xasprintf("%s %s %s '%s'", PYTHON, SCRIPT, mode, path);
	int status = system(cmd);
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fprintf(stderr, "#   '%s' failed\n", cmd);
	free(cmd);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* check_reference_stream: r holds segments copies of the reference stream,
 * header read; check everything in it. */
static void check_reference_stream(usj_reader *r, int segments)
{
	CHECK(strcmp(usj_reader_kind(r), "interop") == 0);
	const msgpack_object *producer = usj_object_get(usj_reader_header(r), "producer");
	const msgpack_object *tool = producer ? usj_object_get(producer, "tool") : NULL;
	CHECK(tool && usj_object_is_key(tool, "stream_interop.py"));
	msgpack_sbuffer meta, summary;
	msgpack_sbuffer_init(&meta);
	msgpack_sbuffer_init(&summary);
	pack_meta(&meta);
	pack_summary(&summary);
	CHECK(same_packed(usj_reader_meta(r), &meta));

	usj_record want[NRECORDS], got;
	for (int i = 0; i < NRECORDS; i++)
		usj_record_init(&want[i]);
	build_records(want);
	usj_record_init(&got);
	int64_t n = 0;
	int rc;
	while ((rc = usj_reader_next(r, &got)) == 1) {
		CHECK(n < segments * NRECORDS && same_record(&got, &want[n % NRECORDS], n + 1));
		n++;
		if (n % NRECORDS != 0)
			continue;
		/* The scalar accessors on values a Python client sends. */
		int64_t i = 0;
		double d = 0;
		CHECK(usj_record_int(&got, "np_int64", &i) == 0 && i == 7);
		CHECK(usj_record_double(&got, "np_float32", &d) == 0 && d == 0.5);
		CHECK(usj_record_int(&got, "np_float32", &i) == -2);
		CHECK(usj_record_int(&got, "i64min", &i) == 0 && i == INT64_MIN);
		CHECK(usj_record_int(&got, "u64max", &i) == -2);
		CHECK(usj_record_int(&got, "negative", &i) == 0 && i == -123456789012);
		CHECK(usj_record_double(&got, "tiny", &d) == 0 && d == -2.5e-300);
		const char *s = usj_record_str(&got, "str");
		CHECK(s && strcmp(s, "h\u00e9llo, w\u00f6rld \u2713") == 0);
	}
	CHECK(rc == 0);
	if (rc < 0)
		fprintf(stderr, "#   %s\n", usj_reader_error(r));
	CHECK(n == segments * NRECORDS && usj_reader_records(r) == n);
	CHECK(usj_reader_segments(r) == segments);
	CHECK(same_packed(usj_reader_summary(r), &summary));

	for (int i = 0; i < NRECORDS; i++)
		usj_record_free(&want[i]);
	usj_record_free(&got);
	msgpack_sbuffer_destroy(&meta);
	msgpack_sbuffer_destroy(&summary);
}

/* (a) The C reader gets every value, dtype and shape the Python client sends. */
static void reads_python_stream(void)
{
	if (!need_python())
		return;
	char *path = test_path("py.usj");
	CHECK(run_script("write", path));
	usj_reader *r = usj_reader_open(path);
	CHECK(r != NULL);
	if (r && usj_reader_start(r) == 0)
		check_reference_stream(r, 1);
	else
		CHECK(0);
	usj_reader_close(r);
	free(path);
}

static void write_reference_stream(const char *path)
{
	msgpack_sbuffer meta, summary;
	msgpack_sbuffer_init(&meta);
	msgpack_sbuffer_init(&summary);
	pack_meta(&meta);
	pack_summary(&summary);
	usj_record recs[NRECORDS];
	for (int i = 0; i < NRECORDS; i++)
		usj_record_init(&recs[i]);
	build_records(recs);
	usj_writer *w = usj_writer_open(path, "interop", &meta);
	for (int i = 0; i < NRECORDS; i++)
		usj_writer_write(w, &recs[i]);
	usj_writer_close(w, &summary);
	for (int i = 0; i < NRECORDS; i++)
		usj_record_free(&recs[i]);
	msgpack_sbuffer_destroy(&meta);
	msgpack_sbuffer_destroy(&summary);
}

/* (b) The Python client decodes what the C writer writes to the same values. */
static void python_reads_c_stream(void)
{
	if (!need_python())
		return;
	char *path = test_path("c.usj");
	write_reference_stream(path);
	CHECK(run_script("check", path));
	free(path);
}

/* header_size: bytes of the first object (the header) in buf. */
static size_t header_size(const char *buf, size_t n)
{
	size_t size = 0;
	const char *why;
	if (usj_msg_scan((const uint8_t *)buf, n, USJ_MAX_RECORD_BYTES, USJ_MAX_RECORD_OBJECTS, &size, &why) !=
	    USJ_SCAN_DONE)
		return n + 1;
	return size;
}

/* pass_through: what a C tool that uses no field does: read in_path and
 * write every record, the meta and the summary back to out_path. */
static void pass_through(const char *in_path, const char *out_path)
{
	usj_reader *r = usj_reader_open(in_path);
	CHECK(r && usj_reader_start(r) == 0);
	if (!r)
		return;
	msgpack_sbuffer meta, summary;
	msgpack_sbuffer_init(&meta);
	msgpack_sbuffer_init(&summary);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &meta, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, *usj_reader_meta(r));
	usj_writer *w = usj_writer_open(out_path, usj_reader_kind(r), &meta);
	usj_record rec;
	usj_record_init(&rec);
	int rc;
	while ((rc = usj_reader_next(r, &rec)) == 1) {
		CHECK(usj_record_str(&rec, "id") != NULL); /* reading a field changes nothing */
		usj_writer_write(w, &rec);
	}
	CHECK(rc == 0 && usj_reader_summary(r));
	msgpack_packer_init(&pk, &summary, msgpack_sbuffer_write);
	if (usj_reader_summary(r))
		msgpack_pack_object(&pk, *usj_reader_summary(r));
	usj_writer_close(w, &summary);
	usj_record_free(&rec);
	usj_reader_close(r);
	msgpack_sbuffer_destroy(&meta);
	msgpack_sbuffer_destroy(&summary);
}

/* (c) A C tool passes every field it does not know through unchanged: from
 * the Python client's stream, the records and trailer come out byte-identical
 * (only the header's producer differs) and Python reads the same values; a
 * stream the C writer made comes out byte-identical as a whole. */
static void passes_fields_through(void)
{
	if (!need_python())
		return;
	char *py = test_path("py.usj");
	char *py_through = test_path("py-through.usj");
	CHECK(run_script("write", py));
	pass_through(py, py_through);
	size_t n_in, n_out;
	char *in = test_read_file(py, &n_in), *out = test_read_file(py_through, &n_out);
	size_t h_in = header_size(in, n_in), h_out = header_size(out, n_out);
	CHECK(h_in <= n_in && h_out <= n_out);
	CHECK(n_in - h_in == n_out - h_out && memcmp(in + h_in, out + h_out, n_in - h_in) == 0);
	CHECK(run_script("check", py_through));
	free(in);
	free(out);

	char *c = test_path("c.usj");
	char *c_through = test_path("c-through.usj");
	write_reference_stream(c);
	pass_through(c, c_through);
	in = test_read_file(c, &n_in);
	out = test_read_file(c_through, &n_out);
	CHECK(n_in == n_out && memcmp(in, out, n_in) == 0);
	free(in);
	free(out);
	free(c_through);
	free(c);
	free(py_through);
	free(py);
}

/* (d) Every proper prefix of the Python client's stream is refused as bad data. */
static void python_stream_prefixes_are_refused(void)
{
	if (!need_python())
		return;
	char *path = test_path("py.usj");
	CHECK(run_script("write", path));
	size_t n;
	char *buf = test_read_file(path, &n);
	CHECK(n > 1000 && test_read_stream(buf, n, NULL) == 0);
	for (size_t k = 0; k < n; k++)
		if (test_read_stream(buf, k, NULL) != USJ_EDATA) {
			fprintf(stderr, "#   prefix of %zu bytes not refused with exit code %d\n", k, USJ_EDATA);
			CHECK(0);
			break;
		}
	free(buf);
	free(path);
}

/* Concatenated streams, both ways. */
static void concatenations(void)
{
	if (!need_python())
		return;
	char *py = test_path("py.usj");
	char *c = test_path("c.usj");
	char *two = test_path("two.usj");
	CHECK(run_script("write", py));
	write_reference_stream(c);
	char *cmd = xasprintf("cat '%s' '%s' > '%s'", py, c, two);
	CHECK(system(cmd) == 0);
	CHECK(run_script("check", two));
	usj_reader *r = usj_reader_open(two);
	CHECK(r && usj_reader_start(r) == 0);
	if (r)
		check_reference_stream(r, 2);
	usj_reader_close(r);
	free(cmd);
	free(two);
	free(c);
	free(py);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	test_scratch_make();
	if (access(SCRIPT, R_OK) != 0)
		python_problem = "cannot find " SCRIPT ": run the test from the repository root";
	else if (system(PYTHON " -c 'import msgpack_numpy' 2>/dev/null") != 0)
		python_problem = PYTHON " cannot import msgpack_numpy: run 'make deps' to install "
		                 "python3-msgpack-numpy";
	RUN(reads_python_stream);
	RUN(python_reads_c_stream);
	RUN(passes_fields_through);
	RUN(python_stream_prefixes_are_refused);
	RUN(concatenations);
	return TEST_DONE();
}
