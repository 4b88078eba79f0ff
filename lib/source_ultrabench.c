/* source_ultrabench.c: an UltraBench dataset folder (PAPER.md section 6):
 * split files train.json, validation.json, test.json (v1.0) or
 * train_val.json and test.json, each a JSON array of objects with image,
 * scan_mask, label (an integer) and metadata such as source (the grouping
 * key). Read with jansson. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "manifest.h"
#include "mem.h"

static const char *const split_files[][2] = {
	{"train.json", "train"}, {"validation.json", "val"}, {"val.json", "val"},
	{"train_val.json", "train_val"}, {"test.json", "test"},
};

static int is_known_key(const char *k)
{
	return !strcmp(k, "image") || !strcmp(k, "scan_mask") || !strcmp(k, "label") || !strcmp(k, "source");
}

/* value_text: a JSON scalar as the text a record carries. */
static char *value_text(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		usj_die(USJ_EFAIL, "out of memory");
	return s;
}

/* name_classes: find a string field that names each integer label
 * consistently (e.g. "pathology"); else the classes are "0", "1", ... */
static void name_classes(usj_manifest *m, json_t **entries, int n, int maxlabel)
{
	int k = maxlabel + 1;
	char **names = xcalloc((size_t)k, sizeof(char *));
	const char *key;
	json_t *v;
	json_object_foreach(entries[0], key, v) {
		if (is_known_key(key) || !json_is_string(v))
			continue;
		int ok = 1;
		for (int i = 0; i < n && ok; i++) {
			json_t *s = json_object_get(entries[i], key);
			int label = (int)json_integer_value(json_object_get(entries[i], "label"));
			if (!json_is_string(s))
				ok = 0;
			else if (!names[label])
				names[label] = (char *)json_string_value(s);
			else if (strcmp(names[label], json_string_value(s)) != 0)
				ok = 0;
		}
		for (int a = 0; a < k && ok; a++)
			for (int b = 0; b < a && ok; b++)
				if (names[a] && names[b] && strcmp(names[a], names[b]) == 0)
					ok = 0;
		if (ok)
			break;
		memset(names, 0, (size_t)k * sizeof(char *));
	}
	m->classes = xcalloc((size_t)k, sizeof(char *));
	m->nclasses = k;
	for (int i = 0; i < k; i++)
		m->classes[i] = names[i] ? xstrdup(names[i]) : xasprintf("%d", i);
	free(names);
	for (int i = 0; i < m->n; i++) {
		int label = atoi(m->items[i].label);
		free(m->items[i].label);
		m->items[i].label = xstrdup(m->classes[label]);
	}
}

void usj_source_ultrabench(usj_manifest *m, const char *dir)
{
	json_t **entries = NULL;
	json_t **docs = NULL;
	int n = 0, ndocs = 0, maxlabel = -1;
	for (size_t f = 0; f < sizeof split_files / sizeof split_files[0]; f++) {
		char *file = xasprintf("%s/%s", dir, split_files[f][0]);
		FILE *fp = fopen(file, "rb");
		if (!fp) {
			free(file);
			continue;
		}
		json_error_t e;
		json_t *doc = json_loadf(fp, 0, &e);
		fclose(fp);
		if (!doc)
			usj_die(USJ_EDATA, "%s: line %d: %s: fix the JSON", file, e.line, e.text);
		if (!json_is_array(doc))
			usj_die(USJ_EDATA, "%s: not a JSON array of entries, as UltraBench writes", file);
		docs = xrealloc(docs, (size_t)(ndocs + 1) * sizeof *docs);
		docs[ndocs++] = doc;
		size_t i;
		json_t *e1;
		json_array_foreach(doc, i, e1) {
			json_t *image = json_object_get(e1, "image");
			json_t *label = json_object_get(e1, "label");
			json_t *mask = json_object_get(e1, "scan_mask");
			json_t *source = json_object_get(e1, "source");
			if (!json_is_object(e1) || !json_is_string(image))
				usj_die(USJ_EDATA, "%s: entry %zu has no 'image' path", file, i);
			if (label && !json_is_null(label) &&
			    (!json_is_integer(label) || json_integer_value(label) < 0 || json_integer_value(label) > 100000))
				usj_die(USJ_EDATA, "%s: entry %zu: 'label' must be a class index (0, 1, ...)", file, i);
			if (mask && !json_is_string(mask))
				usj_die(USJ_EDATA, "%s: entry %zu: 'scan_mask' must be a path", file, i);
			char *where = xasprintf("%s: entry %zu", file, i);
			char *label_text = label && !json_is_null(label) ? value_text(label) : NULL;
			char *group = source && !json_is_null(source) ? value_text(source) : NULL;
			usj_item *it = usj_manifest_add(m, json_string_value(image), label_text, group,
			                                split_files[f][1], where);
			if (mask)
				it->mask = usj_manifest_file(m, json_string_value(mask), where);
			if (label_text && atoi(label_text) > maxlabel)
				maxlabel = atoi(label_text);
			const char *key;
			json_t *v;
			json_object_foreach(e1, key, v)
				if (!key[0] || strlen(key) > 200)
					usj_die(USJ_EDATA, "%s has a key of %zu bytes: keys must have 1 to 200", where, strlen(key));
				else if (!is_known_key(key) && !json_is_null(v)) {
					char *text = value_text(v);
					usj_item_set_extra(it, key, text);
					free(text);
				}
			if (group)
				usj_item_set_extra(it, "source", group);
			entries = xrealloc(entries, (size_t)(n + 1) * sizeof *entries);
			entries[n++] = e1;
			free(where);
			free(label_text);
			free(group);
		}
		free(file);
	}
	if (ndocs == 0)
		usj_die(USJ_EDATA, "%s has no UltraBench split files (train.json, validation.json, test.json or train_val.json)", dir);
	if (maxlabel >= 0 && n > 0) {
		for (int i = 0; i < n; i++)
			if (!m->items[i].label)
				usj_die(USJ_EDATA, "%s: %s has no label while others do", dir, m->items[i].path);
		name_classes(m, entries, n, maxlabel);
	}
	free(entries);
	for (int i = 0; i < ndocs; i++)
		json_decref(docs[i]);
	free(docs);
}
