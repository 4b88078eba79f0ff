/* report_write.c: tables as Markdown, CSV and LaTeX, and the summary. */
#include <math.h>
#include <string.h>

#include "report.h"

/* shown: a mean or std as printed with one decimal, without "-0.0" */
static double shown(double v) { return lround(v * 10) == 0 ? 0.0 : v; }

static void md_text(FILE *f, const char *s)
{
	for (; *s; s++)
		*s == '|' ? fputs("\\|", f) : fputc(*s, f);
}

static void tex_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (strchr("&%$#_{}", *s))
			fprintf(f, "\\%c", *s);
		else if (*s == '\\')
			fputs("\\textbackslash{}", f);
		else if (*s == '~')
			fputs("\\textasciitilde{}", f);
		else if (*s == '^')
			fputs("\\textasciicircum{}", f);
		else
			fputc(*s, f);
	}
}

static void csv_text(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++)
		*s == '"' ? fputs("\"\"", f) : fputc(*s, f);
	fputc('"', f);
}

/* repeated: label column l of row r as in the row above, shown blank (not the last column) */
static int repeated(const usj_table *t, int r, int l)
{
	return r > 0 && l < t->nlab - 1 && strcmp(t->labels[r * t->nlab + l], t->labels[(r - 1) * t->nlab + l]) == 0;
}

void usj_table_markdown(FILE *f, const usj_table *t)
{
	for (int l = 0; l < t->nlab; l++)
		fprintf(f, "| %s ", t->lab_names[l]);
	for (int c = 0; c < t->cols; c++) {
		fputs("| ", f);
		md_text(f, t->col_names[c]);
		fputc(' ', f);
	}
	fputs("|\n", f);
	for (int l = 0; l < t->nlab; l++)
		fputs("|---", f);
	for (int c = 0; c < t->cols; c++)
		fputs("|---:", f);
	fputs("|\n", f);
	for (int r = 0; r < t->rows; r++) {
		for (int l = 0; l < t->nlab; l++) {
			fputs("| ", f);
			if (!repeated(t, r, l))
				md_text(f, t->labels[r * t->nlab + l]);
			fputc(' ', f);
		}
		for (int c = 0; c < t->cols; c++) {
			const usj_cell *x = &t->cells[r * t->cols + c];
			const char *b = t->bold[r * t->cols + c] ? "**" : "";
			if (!x->n)
				fputs("| – ", f);
			else if (isnan(x->std))
				fprintf(f, "| %s%.1f%s ", b, shown(x->mean), b);
			else
				fprintf(f, "| %s%.1f ± %.1f%s ", b, shown(x->mean), x->std, b);
		}
		fputs("|\n", f);
	}
}

void usj_table_csv(FILE *f, const usj_table *t)
{
	for (int l = 0; l < t->nlab; l++)
		fprintf(f, "%s%s", l ? "," : "", t->lab_names[l]);
	for (int c = 0; c < t->cols; c++)
		for (int k = 0; k < 3; k++) {
			fputc(',', f);
			char name[300];
			snprintf(name, sizeof name, "%s %s", t->col_names[c], (const char *[]){"mean", "std", "n"}[k]);
			csv_text(f, name);
		}
	fputc('\n', f);
	for (int r = 0; r < t->rows; r++) {
		for (int l = 0; l < t->nlab; l++) {
			if (l)
				fputc(',', f);
			csv_text(f, t->labels[r * t->nlab + l]);
		}
		for (int c = 0; c < t->cols; c++) {
			const usj_cell *x = &t->cells[r * t->cols + c];
			if (!x->n)
				fputs(",,,", f);
			else if (isnan(x->std))
				fprintf(f, ",%.4f,,%d", x->mean, x->n);
			else
				fprintf(f, ",%.4f,%.4f,%d", x->mean, x->std, x->n);
		}
		fputc('\n', f);
	}
}

void usj_table_latex(FILE *f, const usj_table *t, const char *caption)
{
	fputs("% needs \\usepackage{booktabs}\n\\begin{table}\n\\centering\n\\caption{", f);
	tex_text(f, caption);
	fprintf(f, "}\n\\label{tab:%s}\n\\begin{tabular}{", t->name);
	for (int l = 0; l < t->nlab; l++)
		fputc('l', f);
	for (int c = 0; c < t->cols; c++)
		fputc('r', f);
	fputs("}\n\\toprule\n", f);
	for (int l = 0; l < t->nlab; l++)
		fprintf(f, "%s%s", l ? " & " : "", t->lab_names[l]);
	for (int c = 0; c < t->cols; c++) {
		fputs(" & ", f);
		tex_text(f, t->col_names[c]);
	}
	fputs(" \\\\\n\\midrule\n", f);
	for (int r = 0; r < t->rows; r++) {
		for (int l = 0; l < t->nlab; l++) {
			if (l)
				fputs(" & ", f);
			if (!repeated(t, r, l))
				tex_text(f, t->labels[r * t->nlab + l]);
		}
		for (int c = 0; c < t->cols; c++) {
			const usj_cell *x = &t->cells[r * t->cols + c];
			int b = t->bold[r * t->cols + c];
			fputs(" & ", f);
			if (!x->n)
				fputs("--", f);
			else if (isnan(x->std))
				fprintf(f, "%s%.1f%s", b ? "\\textbf{" : "", shown(x->mean), b ? "}" : "");
			else
				fprintf(f, "%s%.1f $\\pm$ %.1f%s", b ? "\\textbf{" : "", shown(x->mean), x->std, b ? "}" : "");
		}
		fputs(" \\\\\n", f);
	}
	fputs("\\bottomrule\n\\end{tabular}\n\\end{table}\n", f);
}

/* lead: the best and second mean among cells (n, stride apart); -1 if none */
static void lead(const usj_cell *cells, int stride, int n, int *best, int *second)
{
	*best = *second = -1;
	for (int i = 0; i < n; i++) {
		const usj_cell *x = &cells[i * stride];
		if (!x->n)
			continue;
		if (*best < 0 || x->mean > cells[*best * stride].mean) {
			*second = *best;
			*best = i;
		} else if (*second < 0 || x->mean > cells[*second * stride].mean) {
			*second = i;
		}
	}
}

static double std0(const usj_cell *x) { return isnan(x->std) ? 0 : x->std; }

/* gap: how a lead compares with the seed spread, by the rule */
static void gap(FILE *f, const usj_cell *a, const usj_cell *b)
{
	double d = a->mean - b->mean, spread = std0(a) + std0(b);
	if (a->n < 2 || b->n < 2)
		fprintf(f, "; one seed, so no spread to compare");
	else
		fprintf(f, "; %s the seed spread (%.1f %s %.1f + %.1f)", d > spread ? "beyond" : "within", d,
		        d > spread ? ">" : "≤", a->std, b->std);
}

static void task_leads(FILE *f, const usj_results *rs, const usj_table *main)
{
	int M = main->rows, T = rs->tasks.n, wins[M > 0 ? M : 1];
	memset(wins, 0, sizeof wins);
	for (int k = 0; k < T; k++) {
		int b, s;
		lead(main->cells + k, main->cols, M, &b, &s);
		fprintf(f, "- **%s**: ", rs->tasks.names[k]);
		if (b < 0) {
			fputs("no model has a result at 100 % on the clean test split.\n", f);
			continue;
		}
		const usj_cell *x = &main->cells[b * main->cols + k];
		wins[b]++;
		if (s < 0) {
			fprintf(f, "only %s has a result (%.1f).\n", rs->models.names[b], x->mean);
			continue;
		}
		const usj_cell *y = &main->cells[s * main->cols + k];
		fprintf(f, "%s leads with %.1f, %.1f points ahead of %s (%.1f)", rs->models.names[b], x->mean,
		        x->mean - y->mean, rs->models.names[s], y->mean);
		gap(f, x, y);
		fputs(".\n", f);
	}
	fputs("\nWins:", f);
	int first = 1;
	for (int m = 0; m < M; m++)
		if (wins[m]) {
			fprintf(f, "%s %s on %d of %d task%s", first ? "" : ",", rs->models.names[m], wins[m], T, T > 1 ? "s" : "");
			first = 0;
		}
	if (first)
		fputs(" none", f);
	int b, s;
	lead(main->cells + T, main->cols, M, &b, &s);
	if (b < 0)
		fputs(". No model has a result on every task, so there is no overall mean.\n", f);
	else if (s < 0)
		fprintf(f, ". Only %s has a result on every task (mean %.1f).\n", rs->models.names[b],
		        main->cells[b * main->cols + T].mean);
	else
		fprintf(f, ". Over all %d tasks, %s has the highest mean (%.1f), then %s (%.1f).\n", T,
		        rs->models.names[b], main->cells[b * main->cols + T].mean, rs->models.names[s],
		        main->cells[s * main->cols + T].mean);
}

static void fewshot_leads(FILE *f, const usj_results *rs)
{
	int clean = usj_tally_find(&rs->evals, USJ_CLEAN_EVAL), M = rs->models.n;
	if (clean < 0 || rs->nfractions < 2)
		return;
	double frac = rs->fractions[0];
	fprintf(f, "\nWith the least training data (%g %%), the leaders are:", frac);
	usj_cell cells[M > 0 ? M : 1];
	for (int k = 0, first = 1; k < rs->tasks.n; k++) {
		for (int m = 0; m < M; m++)
			cells[m] = usj_results_f1(rs, m, k, frac, clean);
		int b, s;
		lead(cells, 1, M, &b, &s);
		if (b < 0)
			continue;
		fprintf(f, "%s %s %s (%.1f)", first ? "" : ";", rs->tasks.names[k], rs->models.names[b], cells[b].mean);
		first = 0;
	}
	fputs(".\n", f);
}

static void robustness_leads(FILE *f, const usj_results *rs, const usj_table *robust)
{
	int M = rs->models.n, T = rs->tasks.n, any = 0;
	for (int e = 0; e < robust->cols; e++) {
		int len, len2, sev = usj_eval_severity(robust->col_names[e], &len);
		if (e + 1 < robust->cols && usj_eval_severity(robust->col_names[e + 1], &len2) > sev && len2 == len &&
		    strncmp(robust->col_names[e], robust->col_names[e + 1], (size_t)len) == 0)
			continue; /* the highest severity of each kind only */
		usj_cell mean[M > 0 ? M : 1];
		for (int m = 0; m < M; m++) {
			double s = 0;
			int n = 0;
			for (int k = 0; k < T; k++) {
				const usj_cell *x = &robust->cells[(k * M + m) * robust->cols + e];
				if (x->n)
					s += x->mean, n++;
			}
			mean[m] = (usj_cell){.n = n, .mean = n ? -s / n : 0};
		}
		int least, second, most = -1;
		lead(mean, 1, M, &least, &second);
		for (int m = 0; m < M; m++)
			if (mean[m].n && (most < 0 || mean[m].mean < mean[most].mean))
				most = m;
		if (least < 0)
			continue;
		if (!any++)
			fputs("\nUnder the strongest corruption of each kind (mean drop over the tasks with a result, in points):\n", f);
		/* a corruption can raise macro-F1: a negative drop is told as a gain */
		double best = -mean[least].mean, worst = -mean[most].mean;
		long b10 = lround(best * 10), w10 = lround(worst * 10);
		const char *said = b10 > 0 ? "loses least" : b10 < 0 ? (w10 < 0 ? "gains most" : "gains") : "holds level";
		fprintf(f, "- **%s**: %s %s (%.1f over %d task%s)", robust->col_names[e], rs->models.names[least], said,
		        fabs(shown(best)), mean[least].n, mean[least].n > 1 ? "s" : "");
		if (most != least) {
			said = w10 > 0 ? (b10 > 0 ? "most" : "loses most") : w10 < 0 ? "gains least" : "holds level";
			fprintf(f, ", %s %s (%.1f over %d task%s)", rs->models.names[most], said, fabs(shown(worst)),
			        mean[most].n, mean[most].n > 1 ? "s" : "");
		}
		fputs(".\n", f);
	}
}

void usj_report_summary(FILE *f, const usj_results *rs, const usj_table *main, const usj_table *robust)
{
	fputs("Rule: a lead is beyond the seed spread when the difference of the two means is larger than the sum "
	      "of their standard deviations over seeds.\n\n", f);
	task_leads(f, rs, main);
	fewshot_leads(f, rs);
	robustness_leads(f, rs, robust);
}
