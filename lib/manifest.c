/* manifest.c: items, classes, source detection and path safety. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "manifest.h"
#include "mem.h"

const char *usj_split_name(const char *s)
{
	static const char *names[][2] = {
		{"train", "train"}, {"training", "train"}, {"val", "val"}, {"valid", "val"},
		{"validation", "val"}, {"test", "test"}, {"testing", "test"},
		{"train_val", "train_val"}, /* train or val: divided by group at ingestion */
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(s, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}

/* inside: does a relative path stay inside its folder once "." and ".."
 * are resolved lexically? (Symbolic links are trusted: datasets often link
 * to scratch storage.) */
static int inside(const char *path)
{
	if (path[0] == '/')
		return 0;
	int depth = 0;
	for (const char *p = path; *p;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return 0;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n + (slash != NULL);
	}
	return depth > 0;
}

char *usj_manifest_file(const usj_manifest *m, const char *path, const char *where)
{
	if (!inside(path))
		usj_die(USJ_EDATA, "%s: path '%s' leaves the dataset folder %s: datasets must name files inside it",
		        where, path, m->root);
	return xasprintf("%s/%s", m->root, path);
}

usj_item *usj_manifest_add(usj_manifest *m, const char *path, const char *label,
                           const char *group, const char *split, const char *where)
{
	char *file = usj_manifest_file(m, path, where);
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 256;
		m->items = xrealloc(m->items, (size_t)m->cap * sizeof *m->items);
	}
	usj_item *it = &m->items[m->n++];
	memset(it, 0, sizeof *it);
	it->path = xstrdup(path);
	it->file = file;
	it->label = label && *label ? xstrdup(label) : NULL;
	it->group = group && *group ? xstrdup(group) : NULL;
	if (split && *split) {
		const char *s = usj_split_name(split);
		if (!s)
			usj_die(USJ_EDATA, "%s: unknown split '%s': use train, val (validation, valid), test or train_val", where, split);
		it->split = xstrdup(s);
	}
	it->label_index = -1;
	return it;
}

void usj_item_set_extra(usj_item *it, const char *key, const char *val)
{
	it->extra_keys = xrealloc(it->extra_keys, (size_t)(it->nextra + 1) * sizeof(char *));
	it->extra_vals = xrealloc(it->extra_vals, (size_t)(it->nextra + 1) * sizeof(char *));
	it->extra_keys[it->nextra] = xstrdup(key);
	it->extra_vals[it->nextra] = xstrdup(val);
	it->nextra++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int class_index(const usj_manifest *m, const char *name)
{
	for (int i = 0; i < m->nclasses; i++)
		if (strcmp(m->classes[i], name) == 0)
			return i;
	return -1;
}

/* assign_classes: the class list (given, or the sorted distinct labels) and
 * every item's index into it. */
static void assign_classes(usj_manifest *m, const char *given)
{
	if (given) {
		/* --classes replaces any order the source gave */
		for (int i = 0; i < m->nclasses; i++)
			free(m->classes[i]);
		m->nclasses = 0;
		char *list = xstrdup(given), *save = NULL;
		for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
			if (class_index(m, c) >= 0)
				usj_die(USJ_EUSAGE, "--classes names '%s' twice", c);
			m->classes = xrealloc(m->classes, (size_t)(m->nclasses + 1) * sizeof(char *));
			m->classes[m->nclasses++] = xstrdup(c);
		}
		free(list);
	} else if (!m->nclasses) { /* UltraBench sources name their classes themselves */
		for (int i = 0; i < m->n; i++)
			if (m->items[i].label && class_index(m, m->items[i].label) < 0) {
				m->classes = xrealloc(m->classes, (size_t)(m->nclasses + 1) * sizeof(char *));
				m->classes[m->nclasses++] = xstrdup(m->items[i].label);
			}
		qsort(m->classes, (size_t)m->nclasses, sizeof(char *), cmp_str);
	}
	for (int i = 0; i < m->n; i++) {
		usj_item *it = &m->items[i];
		if (!it->label)
			continue;
		it->label_index = class_index(m, it->label);
		if (it->label_index < 0)
			usj_die(USJ_EDATA, "%s: %s has the label '%s', which --classes does not name: add it or fix the label",
			        m->where, it->path, it->label);
	}
}

static int exists(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	int ok = stat(p, &st) == 0;
	free(p);
	return ok;
}

void usj_manifest_load(usj_manifest *m, const char *path, const char *source, const char *classes)
{
	memset(m, 0, sizeof *m);
	struct stat st;
	if (stat(path, &st) != 0)
		usj_die(USJ_EDATA, "cannot read the dataset %s:", path);
	int dir = S_ISDIR(st.st_mode);
	if (!source) {
		if (!dir)
			source = "csv";
		else if (exists(path, "train.json") || exists(path, "train_val.json"))
			source = "ultrabench";
		else if (exists(path, "labels.csv"))
			source = "csv";
		else
			source = "folder";
	}
	m->where = xstrdup(path);
	if (strcmp(source, "csv") == 0) {
		char *csv = dir ? xasprintf("%s/labels.csv", path) : xstrdup(path);
		char *slash = strrchr(csv, '/');
		m->root = slash ? xasprintf("%.*s", (int)(slash - csv), csv) : xstrdup(".");
		m->source = "csv";
		free(m->where);
		m->where = csv;
		usj_source_csv(m, csv);
	} else if (strcmp(source, "folder") == 0 || strcmp(source, "ultrabench") == 0) {
		if (!dir)
			usj_die(USJ_EDATA, "%s is not a folder, as a %s dataset must be", path, source);
		m->root = xstrdup(path);
		if (source[0] == 'f') {
			m->source = "folder";
			usj_source_folder(m, path);
		} else {
			m->source = "ultrabench";
			usj_source_ultrabench(m, path);
		}
	} else {
		usj_die(USJ_EUSAGE, "unknown --source '%s': use folder, csv or ultrabench", source);
	}
	if (m->n == 0)
		usj_die(USJ_EDATA, "%s: the dataset has no images: check the path and its layout (see us-ingest(1))", path);
	assign_classes(m, classes);
	int with_split = 0;
	for (int i = 0; i < m->n; i++) {
		with_split += m->items[i].split != NULL;
		m->has_train_val |= m->items[i].split && strcmp(m->items[i].split, "train_val") == 0;
	}
	if (with_split && with_split != m->n)
		usj_die(USJ_EDATA, "%s: %d of %d images have a split: give every image one, or none", m->where,
		        with_split, m->n);
	m->has_splits = with_split == m->n;
}

void usj_manifest_free(usj_manifest *m)
{
	for (int i = 0; i < m->n; i++) {
		usj_item *it = &m->items[i];
		free(it->path);
		free(it->file);
		free(it->mask);
		free(it->label);
		free(it->group);
		free(it->split);
		for (int k = 0; k < it->nextra; k++) {
			free(it->extra_keys[k]);
			free(it->extra_vals[k]);
		}
		free(it->extra_keys);
		free(it->extra_vals);
	}
	for (int i = 0; i < m->nclasses; i++)
		free(m->classes[i]);
	free(m->classes);
	free(m->items);
	free(m->root);
	free(m->where);
	memset(m, 0, sizeof *m);
}
