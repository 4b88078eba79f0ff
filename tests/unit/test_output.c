/* test_output.c: atomic output files: renamed into place when finished,
 * gone when discarded or failed, devices written directly, and the table of
 * temporary names shared safely by threads. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "mem.h"
#include "output.h"
#include "test.h"

/* has_content: path holds exactly text. */
static int has_content(const char *path, const char *text)
{
	size_t n;
	char *got = test_read_file(path, &n);
	int ok = n == strlen(text) && memcmp(got, text, n) == 0;
	free(got);
	return ok;
}

static void written_then_renamed(void)
{
	char *dir = test_path("renamed"), *path = test_path("renamed/a.bin");
	mkdir(dir, 0777);
	mode_t mask = umask(027);
	usj_output *o;
	char err[256] = "";
	CHECK(usj_output_create(path, &o, err, sizeof err) == 0);
	CHECK(strcmp(usj_output_name(o), path) == 0);
	fputs("hello", usj_output_file(o));
	CHECK(access(path, F_OK) != 0 && test_count_files(dir) == 1); /* only the temporary file */
	CHECK(usj_output_finish(o, err, sizeof err) == 0);
	umask(mask);
	CHECK(has_content(path, "hello") && test_count_files(dir) == 1);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640); /* 0666 less the umask */
	free(dir);
	free(path);
}

static void discarded_leaves_the_target(void)
{
	char *dir = test_path("discard"), *path = test_path("discard/a.txt");
	mkdir(dir, 0777);
	usj_output *o;
	char err[256];
	CHECK(usj_output_create(path, &o, err, sizeof err) == 0);
	fputs("partial", usj_output_file(o));
	usj_output_discard(o);
	CHECK(test_count_files(dir) == 0);
	o = usj_output_open(path);
	fputs("old", usj_output_file(o));
	usj_output_commit(o);
	CHECK(usj_output_create(path, &o, err, sizeof err) == 0);
	fputs("new", usj_output_file(o));
	usj_output_discard(o);
	CHECK(has_content(path, "old") && test_count_files(dir) == 1);
	free(dir);
	free(path);
}

static void missing_folder_fails(void)
{
	char *path = test_path("none/a.txt");
	usj_output *o = (usj_output *)1;
	char err[256] = "";
	CHECK(usj_output_create(path, &o, err, sizeof err) == USJ_EFAIL && o == NULL);
	CHECK(strcmp(err, "cannot create: No such file or directory") == 0);
	free(path);
}

/* A write that fails (here: beyond RLIMIT_FSIZE) keeps the old target and
 * leaves no temporary file. */
static void failed_write_keeps_the_old_file(void)
{
	char *dir = test_path("limit"), *path = test_path("limit/a.txt");
	mkdir(dir, 0777);
	usj_output *o = usj_output_open(path);
	fputs("old", usj_output_file(o));
	usj_output_commit(o);
	struct rlimit saved, small = {4096, 4096};
	getrlimit(RLIMIT_FSIZE, &saved);
	small.rlim_max = saved.rlim_max;
	signal(SIGXFSZ, SIG_IGN); /* EFBIG instead */
	CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
	char err[256] = "";
	CHECK(usj_output_create(path, &o, err, sizeof err) == 0);
	for (int i = 0; i < 10000; i++)
		fputs("0123456789", usj_output_file(o));
	CHECK(usj_output_finish(o, err, sizeof err) == USJ_EFAIL);
	setrlimit(RLIMIT_FSIZE, &saved);
	CHECK(strcmp(err, "write error: File too large") == 0);
	CHECK(has_content(path, "old") && test_count_files(dir) == 1);
	free(dir);
	free(path);
}

static void device_written_directly(void)
{
	usj_output *o;
	char err[256];
	CHECK(usj_output_create("/dev/null", &o, err, sizeof err) == 0);
	fputs("nothing", usj_output_file(o));
	CHECK(usj_output_finish(o, err, sizeof err) == 0);
	CHECK(usj_output_create("/dev/null", &o, err, sizeof err) == 0);
	usj_output_discard(o);
	struct stat st;
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
}

/* The table of temporary names is finite; a discarded output frees its slot. */
static void slots_run_out_and_come_back(void)
{
	char *dir = test_path("slots");
	mkdir(dir, 0777);
	usj_output *o[4096];
	char err[256] = "";
	int n = 0;
	for (; n < 4096; n++) {
		char *path = xasprintf("%s/%d", dir, n);
		int rc = usj_output_create(path, &o[n], err, sizeof err);
		free(path);
		if (rc)
			break;
	}
	CHECK(n > 0 && n < 4096 && strstr(err, "too many files being written at once") != NULL);
	CHECK(test_count_files(dir) == n);
	usj_output_discard(o[0]);
	char *again = xasprintf("%s/again", dir);
	CHECK(usj_output_create(again, &o[0], err, sizeof err) == 0);
	CHECK(usj_output_finish(o[0], err, sizeof err) == 0);
	for (int i = 1; i < n; i++)
		usj_output_discard(o[i]);
	CHECK(test_count_files(dir) == 1 && access(again, F_OK) == 0);
	free(again);
	free(dir);
}

#define THREADS 8
#define FILES 100

/* write_loop: every third file is discarded, the others finished. */
static void *write_loop(void *arg)
{
	struct test_worker *w = arg;
	for (int i = 0; i < FILES; i++) {
		char *path = xasprintf("%s/threads/%d-%d", test_scratch, w->id, i);
		usj_output *o;
		char err[256];
		if (usj_output_create(path, &o, err, sizeof err) != 0) {
			w->failures++;
		} else {
			fprintf(usj_output_file(o), "%d %d", w->id, i);
			if (i % 3 == 0)
				usj_output_discard(o);
			else
				w->failures += usj_output_finish(o, err, sizeof err) != 0;
		}
		free(path);
	}
	return NULL;
}

static void threads_share_the_table(void)
{
	char *dir = test_path("threads");
	mkdir(dir, 0777);
	CHECK(test_run_workers(write_loop, THREADS) == 0);
	int kept = FILES - (FILES + 2) / 3;
	CHECK(test_count_files(dir) == THREADS * kept);
	for (int i = 0; i < THREADS; i++)
		for (int k = 1; k < FILES; k += 3) {
			char *path = xasprintf("%s/%d-%d", dir, i, k), *text = xasprintf("%d %d", i, k);
			CHECK(has_content(path, text));
			free(path);
			free(text);
		}
	free(dir);
}

/* After usj_output_remove_unfinished (a fatal error in another thread) the
 * unfinished file is gone and no new one may start. In a child, since the
 * process is meant to end. */
static void removed_when_ending(void)
{
	char *dir = test_path("ending"), *path = test_path("ending/a");
	mkdir(dir, 0777);
	pid_t pid = fork();
	if (pid == 0) {
		usj_output *o;
		char err[256] = "";
		if (usj_output_create(path, &o, err, sizeof err) != 0 || test_count_files(dir) != 1)
			_exit(1);
		usj_output_remove_unfinished();
		if (test_count_files(dir) != 0)
			_exit(2);
		usj_output *late = (usj_output *)1;
		if (usj_output_create(path, &late, err, sizeof err) != USJ_EFAIL || late != NULL ||
		    strcmp(err, "the program is ending") != 0)
			_exit(3);
		usj_output_discard(o);
		_exit(test_count_files(dir) == 0 ? 0 : 4);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(test_count_files(dir) == 0);
	free(dir);
	free(path);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	test_scratch_make();
	RUN(written_then_renamed);
	RUN(discarded_leaves_the_target);
	RUN(missing_folder_fails);
	RUN(failed_write_keeps_the_old_file);
	RUN(device_written_directly);
	RUN(slots_run_out_and_come_back);
	RUN(threads_share_the_table);
	RUN(removed_when_ending);
	return TEST_DONE();
}
