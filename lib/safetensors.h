/* safetensors.h: reading and writing safetensors files (the format of
 * huggingface/safetensors): an 8-byte little-endian header length N, N bytes
 * of JSON {"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [begin,
 * end]}, ..., "__metadata__": {str: str}}, then the tensors' bytes, offsets
 * counting from the first byte after the header. formats/checkpoint.md
 * describes how usjepa uses them. */
#ifndef USJ_SAFETENSORS_H
#define USJ_SAFETENSORS_H
#include <stddef.h>

#include "tensorset.h"

/* The largest header accepted (the reference implementation's limit). */
#define USJ_SAFETENSORS_MAX_HEADER ((size_t)100000000)

/* usj_strmap: a small map of strings in insertion order, for __metadata__.
 * A zeroed usj_strmap is empty. */
typedef struct usj_strmap {
	struct usj_strpair { char *key, *val; } *items; /* owned */
	int n, cap;
} usj_strmap;

/* usj_strmap_set: set key to val (copies), replacing an earlier value. */
void usj_strmap_set(usj_strmap *m, const char *key, const char *val);
const char *usj_strmap_get(const usj_strmap *m, const char *key); /* NULL if absent */
void usj_strmap_free(usj_strmap *m);

/* usj_safetensors_parse: the safetensors file held in buf[0..n). Everything
 * is validated before a tensor is allocated: the header length (at most
 * USJ_SAFETENSORS_MAX_HEADER, within the file), the JSON (jansson, no
 * duplicate keys), every entry's dtype, shape (rank at most 8, element count
 * checked for overflow and equal to the bytes its offsets span) and offsets,
 * which must tile the data exactly: no overlap, no gap, nothing after. The
 * tensors are then appended to ts in the header's order (their names must not
 * be in ts already), and __metadata__, if meta is not NULL, added to meta.
 * Dtypes: F32, F16, F64, I8..I64, U8..U64 and BOOL load as the usj dtype of
 * the same layout; BF16 loads as F4 (exact: a bfloat16 is the top half of a
 * float32); anything else (F8_E4M3, ...) is refused. Returns 0, or USJ_EDATA
 * with a one-line reason in err ("truncated: ..." for a file cut short);
 * nothing is added to ts or meta on failure. */
int usj_safetensors_parse(const void *buf, size_t n, usj_tensorset *ts, usj_strmap *meta,
                          char *err, size_t errlen);
/* usj_safetensors_read: usj_safetensors_parse of the regular file path,
 * mapped into memory; each tensor's pages of the mapping are given back
 * once copied, so the file and its copy are never resident together.
 * Returns 0 or an exit code (USJ_EDATA: missing, not a regular file or bad;
 * USJ_EFAIL: an I/O error) with a one-line reason in err that does not
 * repeat the path. */
int usj_safetensors_read(const char *path, usj_tensorset *ts, usj_strmap *meta,
                         char *err, size_t errlen);
/* usj_safetensors_write: ts as a safetensors file at path, atomically
 * (lib/output.h), with meta (may be NULL) as __metadata__ when not empty.
 * Tensors are laid out in ts's order, each dtype written as itself (F4 as
 * F32, F2 as F16, ...), the header padded with spaces to a multiple of 8
 * bytes. Returns 0, or an exit code with a one-line reason in err: USJ_EDATA
 * for a name or metadata string that is not UTF-8, USJ_EFAIL for I/O. */
int usj_safetensors_write(const char *path, const usj_tensorset *ts, const usj_strmap *meta,
                          char *err, size_t errlen);

#endif
