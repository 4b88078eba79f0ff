/* source_folder.c: a dataset folder with one subfolder per class; images
 * anywhere below a class folder belong to it. Names are sorted so the
 * order never depends on the file system. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "err.h"
#include "manifest.h"
#include "mem.h"

static int is_image_name(const char *name)
{
	static const char *exts[] = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pgm", ".ppm", ".pnm"};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof exts / sizeof exts[0]; i++)
		if (strcasecmp(dot, exts[i]) == 0)
			return 1;
	return 0;
}

static int visible(const struct dirent *e) { return e->d_name[0] != '.'; }

/* The folders from the class folder down to the one being read, to refuse
 * a symbolic link back to one of them (a loop). */
typedef struct ancestors {
	dev_t dev[64];
	ino_t ino[64];
	int n;
} ancestors;

/* walk: add the images below root/rel (a class folder or deeper) to m. */
static void walk(usj_manifest *m, const char *rel, const char *label, ancestors *up)
{
	char *dir = xasprintf("%s/%s", m->root, rel);
	struct dirent **names;
	int n = scandir(dir, &names, visible, alphasort);
	if (n < 0)
		usj_die(USJ_EDATA, "cannot read the folder %s:", dir);
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", rel, names[i]->d_name);
		char *full = xasprintf("%s/%s", m->root, path);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			for (int k = 0; k < up->n; k++)
				if (up->dev[k] == st.st_dev && up->ino[k] == st.st_ino)
					usj_die(USJ_EDATA, "%s links back to a folder above it: remove the loop", full);
			if (up->n == 64)
				usj_die(USJ_EDATA, "%s is nested more than 64 folders deep", full);
			up->dev[up->n] = st.st_dev;
			up->ino[up->n++] = st.st_ino;
			walk(m, path, label, up);
			up->n--;
		}
		else if (is_image_name(names[i]->d_name))
			usj_manifest_add(m, path, label, NULL, NULL, dir);
		free(full);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
}

void usj_source_folder(usj_manifest *m, const char *root)
{
	struct dirent **names;
	int n = scandir(root, &names, visible, alphasort);
	if (n < 0)
		usj_die(USJ_EDATA, "cannot read the folder %s:", root);
	int classes = 0;
	for (int i = 0; i < n; i++) {
		char *full = xasprintf("%s/%s", root, names[i]->d_name);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			ancestors up = {.dev = {st.st_dev}, .ino = {st.st_ino}, .n = 1};
			walk(m, names[i]->d_name, names[i]->d_name, &up);
			classes++;
		}
		free(full);
		free(names[i]);
	}
	free(names);
	if (classes == 0)
		usj_die(USJ_EDATA, "%s has no class subfolders: put each class's images in a folder named after it,"
		        " or give a CSV manifest", root);
}
