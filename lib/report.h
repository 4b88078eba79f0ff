/* report.h: linear-probe results (streams of kind "results", one record a
 * probe: a model, a task, a seed, a fraction of the training split and the
 * set it was evaluated on) gathered into the study's tables: Table 2
 * (models x tasks at 100 % on the clean test split), few-shot (fractions)
 * and robustness (drops on corrupted test sets), written as Markdown, CSV
 * and LaTeX, with a plain-language summary and gnuplot plots. */
#ifndef USJ_REPORT_H
#define USJ_REPORT_H
#include <stdint.h>
#include <stdio.h>

#include "tally.h"

#define USJ_CLEAN_EVAL "test" /* the eval name of the clean test split */

typedef struct usj_result {
	int model, task, eval;  /* indices into usj_results' tallies */
	double fraction;        /* percent of the training split */
	int64_t seed;
	double macro_f1;        /* in [0, 1] */
	int file;               /* where it came from, for messages */
	int64_t record;         /* counted from 1 */
} usj_result;

typedef struct usj_results {
	usj_tally models, tasks; /* names in first-seen order */
	usj_tally evals;         /* first USJ_CLEAN_EVAL if seen; the rest sorted by kind, then severity */
	double *fractions;       /* (nfractions) ascending */
	int nfractions;
	usj_result *r;           /* (n) */
	int n, cap;
	char **files;            /* (nfiles) the streams read */
	int nfiles;
} usj_results;

/* usj_results_load: every record of the results streams; dies with exit 3
 * naming the file and record on a missing or ill-typed field, a macro-F1
 * outside [0, 1], a fraction outside (0, 100], or a probe given twice. */
void usj_results_load(usj_results *rs, char **paths, int npaths);
void usj_results_free(usj_results *rs);
/* usj_eval_severity: the severity of a corrupted set named KIND-E (E >= 1),
 * with the length of KIND in *kind_len; 0 for other names. */
int usj_eval_severity(const char *eval, int *kind_len);

/* A cell: mean and sample standard deviation (n - 1) of n values; n = 0 is
 * a missing cell; std is NAN when it means nothing (n = 1, the mean column). */
typedef struct usj_cell {
	int n;
	double mean, std;
} usj_cell;

/* usj_results_f1: macro-F1 (%) over the seeds of (model, task, fraction, eval). */
usj_cell usj_results_f1(const usj_results *rs, int model, int task, double fraction, int eval);
/* usj_results_drop: clean minus corrupted macro-F1 (points) at 100 %, seed
 * by seed, over the seeds that have both. */
usj_cell usj_results_drop(const usj_results *rs, int model, int task, int eval);

/* A table: rows labelled by nlab columns, cols of cells, some in bold. */
typedef struct usj_table {
	const char *name;        /* file stem: DIR/NAME.csv, DIR/NAME.tex */
	int nlab, rows, cols;
	const char **lab_names;  /* (nlab) */
	const char **labels;     /* (rows, nlab) */
	char **col_names;        /* (cols) */
	usj_cell *cells;         /* (rows, cols) */
	uint8_t *bold;           /* (rows, cols) */
} usj_table;

/* The three tables: main (models x tasks and a mean column), fewshot
 * ((task, model) x fraction), robustness ((task, model) x corrupted set). */
void usj_table_main(usj_table *t, const usj_results *rs);
void usj_table_fewshot(usj_table *t, const usj_results *rs);
void usj_table_robustness(usj_table *t, const usj_results *rs);
void usj_table_free(usj_table *t);

void usj_table_markdown(FILE *f, const usj_table *t);
void usj_table_csv(FILE *f, const usj_table *t);
void usj_table_latex(FILE *f, const usj_table *t, const char *caption);
/* usj_report_summary: the plain-language findings, as Markdown paragraphs. */
void usj_report_summary(FILE *f, const usj_results *rs, const usj_table *main, const usj_table *robust);

/* usj_report_plots: gnuplot scripts into dir/plots and their PNG and SVG
 * renderings: fewshot-TASK and robustness-TASK for every task with data.
 * Writes the Markdown that shows them to md. Dies if gnuplot fails. */
void usj_report_plots(const char *dir, FILE *md, const usj_results *rs);

#endif
