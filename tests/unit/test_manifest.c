/* test_manifest.c: CSV and UltraBench sources, path safety, and grouped
 * stratified splits. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "manifest.h"
#include "mem.h"
#include "split.h"
#include "test.h"

static void write_file(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", test_scratch, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	free(p);
}

static void csv_quoting(void)
{
	write_file("m.csv", "\xef\xbb\xbfpath,label,group,note\n"
	                    "\"a b (1).png\",cat,g1,\"x, \"\"quoted\"\"\"\n"
	                    "sub/c.png,dog,,plain\r\n");
	char *csv = test_path("m.csv");
	usj_manifest m;
	usj_manifest_load(&m, csv, NULL, NULL);
	CHECK(m.n == 2 && strcmp(m.source, "csv") == 0);
	CHECK(strcmp(m.items[0].path, "a b (1).png") == 0);
	CHECK(strcmp(m.items[0].extra_vals[0], "x, \"quoted\"") == 0);
	CHECK(strcmp(m.items[0].group, "g1") == 0 && m.items[1].group == NULL);
	CHECK(m.nclasses == 2 && strcmp(m.classes[0], "cat") == 0 && m.items[1].label_index == 1);
	CHECK(strcmp(m.items[1].extra_vals[0], "plain") == 0);
	CHECK(strcmp(m.items[1].file, m.items[1].file) == 0 && strstr(m.items[1].file, "/sub/c.png"));
	usj_manifest_free(&m);
	usj_manifest_load(&m, csv, NULL, "dog,cat");
	CHECK(m.items[0].label_index == 1);
	usj_manifest_free(&m);
	free(csv);
}

static void ultrabench(void)
{
	write_file("train.json", "[{\"image\": \"images/a.png\", \"scan_mask\": \"masks/scan/a.png\", \"label\": 1,"
	                         " \"source\": \"v1\", \"pathology\": \"malignant\"},"
	                         " {\"image\": \"images/b.png\", \"label\": 0, \"source\": \"v2\", \"pathology\": \"benign\"}]");
	write_file("validation.json", "[{\"image\": \"images/c.png\", \"label\": 0, \"source\": \"v3\", \"pathology\": \"benign\"}]");
	write_file("test.json", "[]");
	usj_manifest m;
	usj_manifest_load(&m, test_scratch, NULL, NULL);
	CHECK(strcmp(m.source, "ultrabench") == 0 && m.n == 3 && m.has_splits);
	CHECK(m.nclasses == 2 && strcmp(m.classes[0], "benign") == 0 && strcmp(m.classes[1], "malignant") == 0);
	CHECK(m.items[0].label_index == 1 && strcmp(m.items[0].split, "train") == 0);
	CHECK(strcmp(m.items[2].split, "val") == 0 && strcmp(m.items[0].group, "v1") == 0);
	CHECK(m.items[0].mask && strstr(m.items[0].mask, "masks/scan/a.png") && !m.items[1].mask);
	usj_manifest_free(&m);
	const char *names[] = {"train.json", "validation.json", "test.json"};
	for (int i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", test_scratch, names[i]);
		unlink(p);
		free(p);
	}
}

/* a manifest of 60 groups of 1-9 images, three imbalanced classes */
static void make_groups(usj_manifest *m)
{
	memset(m, 0, sizeof *m);
	m->root = xstrdup(test_scratch);
	m->classes = xcalloc(3, sizeof(char *));
	m->nclasses = 3;
	for (int c = 0; c < 3; c++)
		m->classes[c] = xasprintf("c%d", c);
	for (int g = 0; g < 60; g++) {
		int label = g % 6 == 0 ? 2 : g % 3 == 0 ? 1 : 0;
		for (int k = 0; k < 1 + g % 9; k++) {
			char *path = xasprintf("g%d/%d.png", g, k), *group = xasprintf("p%d", g);
			usj_item *it = usj_manifest_add(m, path, m->classes[label], group, NULL, "test");
			it->label_index = label;
			free(path);
			free(group);
		}
	}
}

static void grouped_split(void)
{
	usj_manifest m, m2;
	make_groups(&m);
	make_groups(&m2);
	double frac[3] = {0.7, 0.1, 0.2};
	usj_assign_splits(&m, frac, 7);
	usj_assign_splits(&m2, frac, 7);
	int same = 1, count[3] = {0};
	for (int i = 0; i < m.n; i++) {
		same &= strcmp(m.items[i].split, m2.items[i].split) == 0;
		for (int j = 0; j < i; j++)
			if (strcmp(m.items[i].group, m.items[j].group) == 0)
				CHECK(strcmp(m.items[i].split, m.items[j].split) == 0);
		count[strcmp(m.items[i].split, "train") == 0 ? 0 : strcmp(m.items[i].split, "val") == 0 ? 1 : 2]++;
	}
	CHECK(same);
	for (int s = 0; s < 3; s++)
		CHECK_NEAR((double)count[s] / m.n, frac[s], 0.05);
	/* each class is spread too */
	for (int c = 0; c < 3; c++) {
		int in_test = 0, all = 0;
		for (int i = 0; i < m.n; i++)
			if (m.items[i].label_index == c) {
				all++;
				in_test += strcmp(m.items[i].split, "test") == 0;
			}
		CHECK_NEAR((double)in_test / all, 0.2, 0.1);
	}
	usj_manifest_free(&m);
	usj_manifest_free(&m2);
}

static void train_val_divided(void)
{
	usj_manifest m;
	make_groups(&m);
	for (int i = 0; i < m.n; i++)
		m.items[i].split = xstrdup(i < m.n / 2 ? "train_val" : "test");
	double frac[3] = {0.7, 0.1, 0.2};
	usj_assign_splits(&m, frac, 1);
	int train = 0, val = 0;
	for (int i = 0; i < m.n / 2; i++) {
		train += strcmp(m.items[i].split, "train") == 0;
		val += strcmp(m.items[i].split, "val") == 0;
	}
	CHECK(train + val == m.n / 2 && val > 0 && train > 4 * val);
	for (int i = m.n / 2; i < m.n; i++)
		CHECK(strcmp(m.items[i].split, "test") == 0);
	usj_manifest_free(&m);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	test_scratch_make();
	RUN(csv_quoting);
	RUN(ultrabench);
	RUN(grouped_split);
	RUN(train_val_divided);
	return TEST_DONE();
}
