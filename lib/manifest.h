/* manifest.h: the list of images a dataset holds, from one of three sources
 * (formats/manifest.md): a folder with one subfolder per class, a CSV
 * manifest, or an UltraBench dataset folder. Bad input dies with exit 3. */
#ifndef USJ_MANIFEST_H
#define USJ_MANIFEST_H

typedef struct usj_item {
	char *path;   /* as the source names it, relative to the dataset folder */
	char *file;   /* what to open */
	char *mask;   /* the source's scan-region mask to open, or NULL */
	char *label;  /* class name, or NULL when unlabelled */
	char *group;  /* grouping key (patient, video), or NULL */
	char *split;  /* "train", "val", "test", or NULL until assigned */
	int label_index; /* into the manifest's classes; -1 when unlabelled */
	char **extra_keys, **extra_vals; /* further source fields, passed through */
	int nextra;
} usj_item;

typedef struct usj_manifest {
	const char *source; /* "folder", "csv", "ultrabench" */
	char *root;         /* the dataset folder */
	char *where;        /* the file or folder named, for messages */
	usj_item *items;
	int n, cap;
	char **classes;     /* sorted, or as --classes gave them */
	int nclasses;
	int has_splits;     /* every item's split came from the source */
	int has_train_val;  /* some items are train_val: train and val are divided by group */
} usj_manifest;

/* usj_manifest_load: read a dataset. source is NULL (detect), "folder",
 * "csv" or "ultrabench"; classes is NULL or a comma-separated list fixing
 * the class order. */
void usj_manifest_load(usj_manifest *m, const char *path, const char *source, const char *classes);
void usj_manifest_free(usj_manifest *m);

/* Used by the source readers. */
usj_item *usj_manifest_add(usj_manifest *m, const char *path, const char *label,
                           const char *group, const char *split, const char *where);
/* usj_manifest_file: the file to open for a path the source names; dies if
 * the path leaves the dataset folder. */
char *usj_manifest_file(const usj_manifest *m, const char *path, const char *where);
void usj_item_set_extra(usj_item *it, const char *key, const char *val);
/* usj_split_name: canonical split name ("validation" -> "val"), or NULL. */
const char *usj_split_name(const char *s);

void usj_source_folder(usj_manifest *m, const char *dir);
void usj_source_csv(usj_manifest *m, const char *csv);
void usj_source_ultrabench(usj_manifest *m, const char *dir);

#endif
