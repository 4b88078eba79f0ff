/* source_csv.c: a CSV manifest (RFC 4180, through libcsv) with a header
 * naming the columns path (required), label, group, split and scan_mask
 * (a scan-region mask image, as UltraBench's); any other column passes
 * through to the records. Paths are relative to the CSV.
 * Messages count rows (the header is row 1; libcsv skips blank lines), as
 * a quoted field may span lines. */
#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "manifest.h"
#include "mem.h"

enum { COL_PATH, COL_LABEL, COL_GROUP, COL_SPLIT, COL_MASK, COL_EXTRA };

typedef struct csv_state {
	usj_manifest *m;
	const char *csv;
	long row;          /* 1-based, the header is row 1 */
	char **fields;     /* this row's fields */
	int nfields, cap;
	char **names;      /* the header */
	int *role;         /* COL_* per header column */
	int ncols;
} csv_state;

static void on_field(void *data, size_t len, void *st_)
{
	csv_state *st = st_;
	if (st->nfields == st->cap) {
		st->cap = st->cap ? 2 * st->cap : 16;
		st->fields = xrealloc(st->fields, (size_t)st->cap * sizeof(char *));
	}
	char *f = xmalloc(len + 1);
	memcpy(f, data ? data : "", len);
	f[len] = 0;
	st->fields[st->nfields++] = f;
}

static int role_of(const char *name)
{
	static const char *roles[] = {"path", "label", "group", "split", "scan_mask"};
	for (int i = 0; i < COL_EXTRA; i++)
		if (strcmp(name, roles[i]) == 0)
			return i;
	return COL_EXTRA;
}

static void header_row(csv_state *st)
{
	st->ncols = st->nfields;
	st->names = st->fields;
	st->role = xcalloc((size_t)st->ncols, sizeof(int));
	int have_path = 0;
	for (int i = 0; i < st->ncols; i++) {
		char *name = st->names[i];
		if (i == 0 && strncmp(name, "\xef\xbb\xbf", 3) == 0) /* UTF-8 byte order mark */
			memmove(name, name + 3, strlen(name + 3) + 1);
		if (!name[0] || strlen(name) > 200)
			usj_die(USJ_EDATA, "%s: header column %d %s: name every column in 1 to 200 bytes", st->csv,
			        i + 1, name[0] ? "has a name longer than 200 bytes" : "has no name");
		st->role[i] = role_of(name);
		have_path |= st->role[i] == COL_PATH;
		for (int k = 0; k < i; k++)
			if (strcmp(st->names[k], name) == 0)
				usj_die(USJ_EDATA, "%s: the header names the column '%s' twice", st->csv, name);
	}
	if (!have_path)
		usj_die(USJ_EDATA, "%s: the header has no 'path' column: the first line must name the columns, e.g. path,label,group",
		        st->csv);
	st->fields = NULL;
	st->nfields = st->cap = 0;
}

static void on_row(int end, void *st_)
{
	csv_state *st = st_;
	st->row++;
	if (st->row == 1) {
		header_row(st);
		return;
	}
	{
		if (st->nfields != st->ncols)
			usj_die(USJ_EDATA, "%s: row %ld has %d fields but the header has %d: fix the row (quote fields holding commas)",
			        st->csv, st->row, st->nfields, st->ncols);
		const char *by_role[COL_EXTRA] = {0};
		for (int i = 0; i < st->ncols; i++)
			if (st->role[i] != COL_EXTRA)
				by_role[st->role[i]] = st->fields[i];
		if (!by_role[COL_PATH][0])
			usj_die(USJ_EDATA, "%s: row %ld has an empty path", st->csv, st->row);
		char *where = xasprintf("%s: row %ld", st->csv, st->row);
		usj_item *it = usj_manifest_add(st->m, by_role[COL_PATH], by_role[COL_LABEL],
		                                by_role[COL_GROUP], by_role[COL_SPLIT], where);
		if (by_role[COL_MASK] && by_role[COL_MASK][0])
			it->mask = usj_manifest_file(st->m, by_role[COL_MASK], where);
		free(where);
		for (int i = 0; i < st->ncols; i++)
			if (st->role[i] == COL_EXTRA)
				usj_item_set_extra(it, st->names[i], st->fields[i]);
	}
	for (int i = 0; i < st->nfields; i++)
		free(st->fields[i]);
	st->nfields = 0;
}

void usj_source_csv(usj_manifest *m, const char *csv)
{
	FILE *f = fopen(csv, "rb");
	if (!f)
		usj_die(USJ_EDATA, "cannot open the manifest %s:", csv);
	struct csv_parser p;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		usj_die(USJ_EFAIL, "out of memory");
	csv_state st = {.m = m, .csv = csv};
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		if (csv_parse(&p, buf, n, on_field, on_row, &st) != n)
			usj_die(USJ_EDATA, "%s: row %ld: %s: fix the quoting (RFC 4180)", csv, st.row + 1,
			        csv_strerror(csv_error(&p)));
	if (ferror(f))
		usj_die(USJ_EFAIL, "cannot read %s:", csv);
	if (csv_fini(&p, on_field, on_row, &st) != 0)
		usj_die(USJ_EDATA, "%s: the last line ends inside a quoted field: close the quote", csv);
	if (st.row == 0)
		usj_die(USJ_EDATA, "%s is empty: a manifest needs a header line and one line per image", csv);
	csv_free(&p);
	fclose(f);
	for (int i = 0; i < st.ncols; i++)
		free(st.names[i]);
	for (int i = 0; i < st.nfields; i++)
		free(st.fields[i]);
	free(st.names);
	free(st.fields);
	free(st.role);
}
