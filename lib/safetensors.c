/* safetensors.c: the safetensors format, its JSON header through jansson.
 * Parsing validates the whole header into a table of entries before any
 * tensor is allocated, then copies each tensor out of the buffer. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "half.h"
#include "mem.h"
#include "output.h"
#include "safetensors.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");

#define METADATA_KEY "__metadata__"

/* The safetensors dtypes usjepa reads, and the usj dtype each loads as. A
 * usj dtype is written under the first name that loads as it. */
static const struct { const char *name; usj_dtype dt; size_t size; } dtypes[] = {
	{"BOOL", USJ_B1, 1}, {"U8", USJ_U1, 1},  {"I8", USJ_I1, 1},  {"U16", USJ_U2, 2},
	{"I16", USJ_I2, 2},  {"F16", USJ_F2, 2}, {"U32", USJ_U4, 4}, {"I32", USJ_I4, 4},
	{"F32", USJ_F4, 4},  {"U64", USJ_U8, 8}, {"I64", USJ_I8, 8}, {"F64", USJ_F8, 8},
	{"BF16", USJ_F4, 2}, /* converted */
};
#define NDTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))
#define BF16 (NDTYPES - 1)

void usj_strmap_set(usj_strmap *m, const char *key, const char *val)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->items[i].key, key) == 0) {
			free(m->items[i].val);
			m->items[i].val = xstrdup(val);
			return;
		}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		m->items = xrealloc(m->items, (size_t)m->cap * sizeof *m->items);
	}
	m->items[m->n].key = xstrdup(key);
	m->items[m->n++].val = xstrdup(val);
}

const char *usj_strmap_get(const usj_strmap *m, const char *key)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->items[i].key, key) == 0)
			return m->items[i].val;
	return NULL;
}

void usj_strmap_free(usj_strmap *m)
{
	for (int i = 0; i < m->n; i++) {
		free(m->items[i].key);
		free(m->items[i].val);
	}
	free(m->items);
	memset(m, 0, sizeof *m);
}

/* One validated header entry; name points into the JSON. */
struct entry {
	const char *name;
	int type; /* index in dtypes */
	int rank;
	int64_t shape[USJ_MAX_RANK], count;
	uint64_t begin, end;
};

/* json_count: a JSON integer that is >= 0, or -1. */
static int64_t json_count(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
}

/* check_entry: fill e from the JSON of tensor name; data_len is the size of
 * the data buffer. 0 or USJ_EDATA. */
static int check_entry(struct entry *e, const char *name, const json_t *v, uint64_t data_len,
                       const usj_tensorset *ts, char *err, size_t errlen)
{
	e->name = name;
	size_t len = strlen(name);
	if (len == 0 || len > USJ_TENSOR_NAME_MAX)
		return usj_fail(err, errlen, USJ_EDATA, "tensor name '%.40s%s' is not 1 to %d bytes long",
		                name, len > 40 ? "..." : "", USJ_TENSOR_NAME_MAX);
	if (usj_tensorset_find(ts, name))
		return usj_fail(err, errlen, USJ_EDATA, "tensor '%s' is already loaded", name);
	if (!json_is_object(v))
		return usj_fail(err, errlen, USJ_EDATA, "tensor '%s': its entry is not a JSON object", name);
	const json_t *dtype = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape"),
	             *offsets = json_object_get(v, "data_offsets");
	if (!json_is_string(dtype))
		return usj_fail(err, errlen, USJ_EDATA, "tensor '%s': dtype is missing or not a string", name);
	for (e->type = 0; e->type < NDTYPES && strcmp(dtypes[e->type].name, json_string_value(dtype));)
		e->type++;
	if (e->type == NDTYPES)
		return usj_fail(err, errlen, USJ_EDATA, "tensor '%s': unsupported dtype '%.20s' (supported: BOOL U8 "
		                "I8 U16 I16 F16 BF16 U32 I32 F32 U64 I64 F64)", name, json_string_value(dtype));
	if (!json_is_array(shape) || json_array_size(shape) > USJ_MAX_RANK)
		return usj_fail(err, errlen, USJ_EDATA, "tensor '%s': shape is not a list of at most %d dimensions",
		                name, USJ_MAX_RANK);
	e->rank = (int)json_array_size(shape);
	for (int i = 0; i < e->rank; i++)
		if ((e->shape[i] = json_count(json_array_get(shape, (size_t)i))) < 0)
			return usj_fail(err, errlen, USJ_EDATA, "tensor '%s': shape has a dimension that is not a "
			                "non-negative integer", name);
	int64_t b = json_array_size(offsets) == 2 ? json_count(json_array_get(offsets, 0)) : -1;
	int64_t end = json_array_size(offsets) == 2 ? json_count(json_array_get(offsets, 1)) : -1;
	if (!json_is_array(offsets) || b < 0 || end < b)
		return usj_fail(err, errlen, USJ_EDATA, "tensor '%s': data_offsets is not [begin, end] with "
		                "0 <= begin <= end", name);
	e->begin = (uint64_t)b;
	e->end = (uint64_t)end;
	if (e->end > data_len)
		return usj_fail(err, errlen, USJ_EDATA, "truncated: tensor '%s' ends at byte %llu of the data, "
		                "which has %llu", name, (unsigned long long)e->end, (unsigned long long)data_len);
	/* the count of one-byte elements the data could hold bounds the product */
	size_t item = dtypes[e->type].size, nbytes;
	char shape_str[USJ_MAX_RANK * 24];
	usj_tensor s = {.rank = e->rank};
	memcpy(s.shape, e->shape, sizeof s.shape);
	usj_tensor_shape_str(&s, shape_str, sizeof shape_str);
	uint64_t span = e->end - e->begin;
	if (usj_shape_size(e->rank, e->shape, USJ_U1, (size_t)data_len, &e->count, &nbytes) != 0 ||
	    span % item != 0 || (uint64_t)e->count != span / item)
		return usj_fail(err, errlen, USJ_EDATA, "tensor '%s': shape %s of %s does not match the %llu bytes "
		                "of its data_offsets", name, shape_str, dtypes[e->type].name,
		                (unsigned long long)span);
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

/* check_tiling: the entries, sorted by offset, cover [0, data_len) with
 * neither overlap nor gap. */
static int check_tiling(struct entry *e, int n, uint64_t data_len, char *err, size_t errlen)
{
	qsort(e, (size_t)n, sizeof *e, by_offset);
	uint64_t pos = 0;
	for (int i = 0; i < n; i++) {
		if (e[i].begin < pos)
			return usj_fail(err, errlen, USJ_EDATA, "tensors '%s' and '%s' overlap", e[i - 1].name, e[i].name);
		if (e[i].begin > pos)
			return usj_fail(err, errlen, USJ_EDATA, "%llu bytes before tensor '%s' belong to no tensor",
			                (unsigned long long)(e[i].begin - pos), e[i].name);
		pos = e[i].end;
	}
	if (pos < data_len)
		return usj_fail(err, errlen, USJ_EDATA, "%llu bytes after the last tensor belong to no tensor",
		                (unsigned long long)(data_len - pos));
	return 0;
}

static int check_metadata(const json_t *m, char *err, size_t errlen)
{
	const char *key;
	const json_t *v;
	if (!json_is_object(m))
		return usj_fail(err, errlen, USJ_EDATA, METADATA_KEY " is not a JSON object");
	json_object_foreach((json_t *)m, key, v)
		if (!json_is_string(v))
			return usj_fail(err, errlen, USJ_EDATA, METADATA_KEY " '%.40s' is not a string", key);
	return 0;
}

/* drop_pages: give back the pages of a file mapping that lie wholly inside
 * [p, p + n): they were copied, and would otherwise stay resident beside the
 * copy until the mapping goes (re-read from the page cache if touched) */
static void drop_pages(const uint8_t *p, size_t n)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = ((uintptr_t)p + page - 1) / page * page;
	uintptr_t b = ((uintptr_t)p + n) / page * page;
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/* load_tensor: append e, copied out of the data buffer, to ts; its name was
 * checked, so the add cannot fail; mapped: data is a file mapping */
static void load_tensor(usj_tensorset *ts, const struct entry *e, const uint8_t *data, int mapped,
                        char *err, size_t errlen)
{
	usj_tensor t = {.dtype = dtypes[e->type].dt, .rank = e->rank, .count = e->count};
	memcpy(t.shape, e->shape, sizeof t.shape);
	t.nbytes = (size_t)e->count * usj_dtype_size(t.dtype);
	t.data = xmalloc_aligned(t.nbytes);
	const uint8_t *src = data + e->begin;
	if (e->type == BF16) {
		for (int64_t i = 0; i < e->count; i++)
			((float *)t.data)[i] = usj_bf16_to_float((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
	} else if (t.nbytes) {
		memcpy(t.data, src, t.nbytes);
	}
	if (mapped)
		drop_pages(src, (size_t)(e->end - e->begin));
	usj_tensorset_add(ts, e->name, &t, err, errlen);
}

/* parse: usj_safetensors_parse; mapped: buf is a file mapping, whose pages
 * may be dropped once copied */
static int parse(const void *buf, size_t n, int mapped, usj_tensorset *ts, usj_strmap *meta, char *err,
                 size_t errlen)
{
	const uint8_t *p = buf;
	if (n < 8)
		return usj_fail(err, errlen, USJ_EDATA, "truncated: %zu bytes, too short for the header length", n);
	uint64_t hlen = 0;
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | p[i];
	if (hlen > USJ_SAFETENSORS_MAX_HEADER)
		return usj_fail(err, errlen, USJ_EDATA, "header length %llu is over the limit of %zu bytes: "
		                "not a safetensors file?", (unsigned long long)hlen, USJ_SAFETENSORS_MAX_HEADER);
	if (hlen > n - 8)
		return usj_fail(err, errlen, USJ_EDATA, "truncated: the header is %llu bytes, but %zu follow its length",
		                (unsigned long long)hlen, n - 8);
	json_error_t je;
	json_t *root = json_loadb((const char *)p + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return usj_fail(err, errlen, USJ_EDATA, "the header is not valid JSON: %s at byte %d",
		                je.text, je.position);
	int rc = 0;
	if (!json_is_object(root))
		rc = usj_fail(err, errlen, USJ_EDATA, "the header is not a JSON object");
	uint64_t data_len = n - 8 - hlen;
	struct entry *e = xcalloc(json_object_size(root) + 1, sizeof *e);
	int ne = 0;
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (rc)
			break;
		if (strcmp(key, METADATA_KEY) == 0)
			rc = check_metadata(v, err, errlen);
		else
			rc = check_entry(&e[ne++], key, v, data_len, ts, err, errlen);
	}
	if (!rc) {
		/* load in the header's order; validate the tiling on a sorted copy */
		struct entry *sorted = xmalloc((size_t)ne * sizeof *e + 1);
		memcpy(sorted, e, (size_t)ne * sizeof *e);
		rc = check_tiling(sorted, ne, data_len, err, errlen);
		free(sorted);
	}
	if (!rc) {
		for (int i = 0; i < ne; i++)
			load_tensor(ts, &e[i], p + 8 + hlen, mapped, err, errlen);
		json_t *m = json_object_get(root, METADATA_KEY);
		if (meta && m)
			json_object_foreach(m, key, v)
				usj_strmap_set(meta, key, json_string_value(v));
	}
	free(e);
	json_decref(root);
	return rc;
}

int usj_safetensors_parse(const void *buf, size_t n, usj_tensorset *ts, usj_strmap *meta, char *err,
                          size_t errlen)
{
	return parse(buf, n, 0, ts, meta, err, errlen);
}

int usj_safetensors_read(const char *path, usj_tensorset *ts, usj_strmap *meta, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return usj_fail(err, errlen, errno == ENOENT || errno == ENOTDIR ? USJ_EDATA : USJ_EFAIL,
		                "cannot open: %s", strerror(errno));
	struct stat st;
	int rc;
	if (fstat(fd, &st) != 0) {
		rc = usj_fail(err, errlen, USJ_EFAIL, "cannot stat: %s", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rc = usj_fail(err, errlen, USJ_EDATA, "not a regular file (safetensors files are mapped into memory)");
	} else if (st.st_size == 0) {
		rc = parse("", 0, 0, ts, meta, err, errlen);
	} else {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			rc = usj_fail(err, errlen, USJ_EFAIL, "cannot map into memory: %s", strerror(errno));
		} else {
			rc = parse(p, (size_t)st.st_size, 1, ts, meta, err, errlen);
			munmap(p, (size_t)st.st_size);
		}
	}
	close(fd);
	return rc;
}

/* header_json: the header for ts and meta, or NULL with err set. */
static json_t *header_json(const usj_tensorset *ts, const usj_strmap *meta, char *err, size_t errlen)
{
	json_t *root = json_object();
	if (meta && meta->n) {
		json_t *m = json_object();
		json_object_set_new(root, METADATA_KEY, m);
		for (int i = 0; i < meta->n; i++)
			if (json_object_set_new(m, meta->items[i].key, json_string(meta->items[i].val)) != 0) {
				json_decref(root);
				usj_fail(err, errlen, USJ_EDATA, METADATA_KEY " '%.40s' is not UTF-8 text", meta->items[i].key);
				return NULL;
			}
	}
	uint64_t off = 0;
	for (int i = 0; i < ts->n; i++) {
		const usj_tensor *t = &ts->items[i].t;
		int type = 0;
		while (dtypes[type].dt != t->dtype)
			type++;
		json_t *shape = json_array();
		for (int d = 0; d < t->rank; d++)
			json_array_append_new(shape, json_integer(t->shape[d]));
		json_t *e = json_pack("{s:s, s:o, s:[I,I]}", "dtype", dtypes[type].name, "shape", shape,
		                      "data_offsets", (json_int_t)off, (json_int_t)(off + t->nbytes));
		off += t->nbytes;
		if (json_object_set_new(root, ts->items[i].name, e) != 0) {
			json_decref(root);
			usj_fail(err, errlen, USJ_EDATA, "tensor name '%.40s' is not UTF-8 text", ts->items[i].name);
			return NULL;
		}
	}
	return root;
}

int usj_safetensors_write(const char *path, const usj_tensorset *ts, const usj_strmap *meta,
                          char *err, size_t errlen)
{
	json_t *root = header_json(ts, meta, err, errlen);
	if (!root)
		return USJ_EDATA;
	/* keys in insertion order: __metadata__, then the tensors as laid out */
	char *hdr = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!hdr)
		usj_die(USJ_EFAIL, "out of memory");
	size_t len = strlen(hdr), padded = (len + 7) / 8 * 8;
	usj_output *o;
	int rc = usj_output_create(path, &o, err, errlen);
	if (rc) {
		free(hdr);
		return rc;
	}
	FILE *f = usj_output_file(o);
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(padded >> (8 * i));
	fwrite(le, 1, 8, f);
	fwrite(hdr, 1, len, f);
	fprintf(f, "%*s", (int)(padded - len), "");
	free(hdr);
	for (int i = 0; i < ts->n; i++)
		if (ts->items[i].t.nbytes) /* write errors show in usj_output_finish */
			fwrite(ts->items[i].t.data, 1, ts->items[i].t.nbytes, f);
	return usj_output_finish(o, err, errlen);
}
