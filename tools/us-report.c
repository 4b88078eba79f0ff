/* us-report: results streams (us-probe) -> a folder of tables, a summary
 * and plots: the study's Table 2, few-shot and robustness results. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "mem.h"
#include "output.h"
#include "report.h"

static const char *synopsis = "us-report -o DIR RESULTS...";

static void help(void)
{
	printf("usage: %s\n\n"
	       "Gather linear-probe results streams (us-probe) into the folder DIR, which must not\n"
	       "exist and appears only when complete: report.md (Table 2: macro-F1 %% at 100 %% of\n"
	       "the training data on the clean test split, mean +- std over seeds, best per task in\n"
	       "bold; few-shot; robustness drops; a plain-language summary), each table as CSV\n"
	       "and LaTeX, and plots as PNG and SVG drawn by gnuplot. Missing results show as -.\n\n"
	       "  -o DIR          the report folder (required)\n"
	       "  -h, --help      this help\n"
	       "      --version   the version\n\n"
	       "Exit status: 0 success, 1 runtime failure, 2 usage, 3 bad input data.\n", synopsis);
}

/* write_table: DIR/NAME.csv and DIR/NAME.tex, and the Markdown into md */
static void write_table(const char *dir, FILE *md, const usj_table *t, const char *caption)
{
	const char *ext[2] = {"csv", "tex"};
	for (int k = 0; k < 2; k++) {
		char *path = xasprintf("%s/%s.%s", dir, t->name, ext[k]);
		usj_output *o = usj_output_open(path);
		if (k)
			usj_table_latex(usj_output_file(o), t, caption);
		else
			usj_table_csv(usj_output_file(o), t);
		usj_output_commit(o);
		free(path);
	}
	fprintf(md, "%s\n\n", caption);
	usj_table_markdown(md, t);
	fprintf(md, "\n(%s.csv, %s.tex)\n", t->name, t->name);
}

static void write_report(const char *dir, const usj_results *rs)
{
	usj_table main, fewshot, robust;
	usj_table_main(&main, rs);
	usj_table_fewshot(&fewshot, rs);
	usj_table_robustness(&robust, rs);
	char *path = xasprintf("%s/report.md", dir);
	usj_output *o = usj_output_open(path);
	FILE *md = usj_output_file(o);
	fprintf(md, "# Linear-probe results\n\n%d results of %d models on %d tasks, from:", rs->n, rs->models.n,
	        rs->tasks.n);
	for (int f = 0; f < rs->nfiles; f++)
		fprintf(md, " %s", rs->files[f]);
	fputs(".\n\nMacro-F1 in %, mean ± sample standard deviation over seeds (one seed: the mean alone); "
	      "– marks a missing result.\n\n## Summary\n\n", md);
	usj_report_summary(md, rs, &main, &robust);
	fputs("\n## Table 2: macro-F1 (%), clean test split\n\n", md);
	write_table(dir, md, &main,
	            "Macro-F1 (%) on the clean test split with 100 % of the training data: mean ± std over seeds; "
	            "best per task in bold; the mean is over the tasks, for a model with every task.");
	fputs("\n## Few-shot: macro-F1 (%) by fraction of the training split\n\n", md);
	write_table(dir, md, &fewshot,
	            "Macro-F1 (%) on the clean test split by percentage of the training split: mean ± std over "
	            "seeds; best per task and fraction in bold.");
	fputs("\n## Robustness: drop in macro-F1 (points) on corrupted test sets\n\n", md);
	write_table(dir, md, &robust,
	            "Drop in macro-F1 (points) from the clean to the corrupted test set, probes trained on clean "
	            "data with 100 % of the training split: clean minus corrupted seed by seed, mean ± std over the "
	            "seeds with both; positive is worse; least drop per task and set in bold.");
	usj_report_plots(dir, md, rs);
	usj_output_commit(o);
	free(path);
	usj_table_free(&main);
	usj_table_free(&fewshot);
	usj_table_free(&robust);
}

int main(int argc, char **argv)
{
	usj_init(argv[0]);
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {0},
	};
	const char *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'h': help(); usj_close_stdout(); return 0;
		case 'V': printf("us-report %s\n", USJ_VERSION); usj_close_stdout(); return 0;
		default: usj_usage_error(synopsis, "unknown option");
		}
	}
	if (!out)
		usj_usage_error(synopsis, "no output folder: give -o DIR");
	if (optind == argc)
		usj_usage_error(synopsis, "no RESULTS streams given");
	char *tmp = usj_outdir_open(out);
	usj_results rs;
	usj_results_load(&rs, argv + optind, argc - optind);
	write_report(tmp, &rs);
	usj_outdir_commit(tmp, out);
	usj_results_free(&rs);
	usj_close_stdout();
	return 0;
}
