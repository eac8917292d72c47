/*
 * pmhc-report -d CONNINFO --psap P -o FILE [--public] [--pdf [--paper a4|letter]]
 *             [--baseline FROM:TO] [--current FROM:TO]
 * pmhc-report -d CONNINFO --psap P --explain [--baseline FROM:TO] [--current FROM:TO]
 *
 * Reads the analyst views (report_db.c), writes one self-contained HTML file
 * (report_page.c), and with --pdf prints it to FILE with .pdf for .html through
 * Debian's headless chromium; with --explain prints the plans of its queries
 * instead. Exit 0 on success, 64 on a usage error, 69 when PostgreSQL or
 * chromium cannot be used, 73 when the file cannot be written, 74 when the
 * plans cannot be written to standard output.
 */
#include <getopt.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "pmhc_build.h"
#include "report.h"

extern char **environ;

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " -d CONNINFO --psap PSAP -o FILE.html [options]\n"
		   "       " PROG " -d CONNINFO --psap PSAP --explain [--baseline FROM:TO] [--current FROM:TO]\n"
		   "  -d, --dbname CONNINFO   libpq connection string; the role needs pmhc_analyst\n"
		   "  -p, --psap PSAP         the PSAP to report on\n"
		   "  -o, --output FILE       the HTML file to write (one file, nothing fetched when opened)\n"
		   "      --public            the public edition: aggregates only, small counts hidden\n"
		   "      --baseline FROM:TO  the baseline period, whole local months YYYY-MM-01, TO excluded\n"
		   "      --current FROM:TO   the current period (both default to the PSAP's definitions)\n"
		   "      --pdf               also print FILE.pdf through headless chromium\n"
		   "      --paper a4|letter   the PDF's paper (default a4)\n"
		   "      --explain           write no report: print to standard output the plan PostgreSQL\n"
		   "                          chooses for each of the report's queries, as this role would\n"
		   "                          run them (EXPLAIN: nothing is executed); not with -o or --pdf\n"
		   "  -h, --help              this text;  -V, --version  the version\n");
}

/* FROM:TO as two YYYY-MM-DD dates; PostgreSQL checks they are real dates. */
static int parse_period(const char *arg, char *from, char *to)
{
	int y1, m1, d1, y2, m2, d2, end = 0;
	if (strlen(arg) != 21 || sscanf(arg, "%4d-%2d-%2d:%4d-%2d-%2d%n", &y1, &m1, &d1, &y2, &m2, &d2, &end) != 6 ||
	    end != 21)
		return -1;
	/* Whole months: pmhc.outcomes_for_months gives analysts nothing finer (migration 012). */
	if (d1 != 1 || d2 != 1 || m1 < 1 || m1 > 12 || m2 < 1 || m2 > 12)
		return -1;
	snprintf(from, 11, "%.10s", arg);
	snprintf(to, 11, "%.10s", arg + 11);
	return strcmp(from, to) < 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct report *rp)
{
	enum { O_PUBLIC = 256, O_BASE, O_CUR, O_PDF, O_PAPER, O_EXPLAIN };
	static const struct option opts[] = {
		{ "dbname", required_argument, NULL, 'd' },
		{ "psap", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "public", no_argument, NULL, O_PUBLIC },
		{ "baseline", required_argument, NULL, O_BASE },
		{ "current", required_argument, NULL, O_CUR },
		{ "pdf", no_argument, NULL, O_PDF },
		{ "paper", required_argument, NULL, O_PAPER },
		{ "explain", no_argument, NULL, O_EXPLAIN },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "d:p:o:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd': rp->conninfo = optarg; break;
		case 'p': rp->psap = optarg; break;
		case 'o': rp->out = optarg; break;
		case O_PUBLIC: rp->public_edition = true; break;
		case O_PDF: rp->pdf = true; break;
		case O_EXPLAIN: rp->explain = true; break;
		case O_BASE:
		case O_CUR:
			if (parse_period(optarg, c == O_BASE ? rp->base0 : rp->cur0,
					 c == O_BASE ? rp->base1 : rp->cur1) < 0) {
				fprintf(stderr,
					PROG
					": --%s %s: want FROM:TO as YYYY-MM-01:YYYY-MM-01 (whole months), FROM before TO\n",
					c == O_BASE ? "baseline" : "current", optarg);
				return -1;
			}
			break;
		case O_PAPER:
			if (strcmp(optarg, "a4") != 0 && strcmp(optarg, "letter") != 0) {
				fprintf(stderr, PROG ": --paper %s: want a4 or letter\n", optarg);
				return -1;
			}
			rp->letter = strcmp(optarg, "letter") == 0;
			break;
		case 'h': usage(stdout); exit(EX_OK);
		case 'V': printf(PROG " " PMHC_VERSION "\n"); exit(EX_OK);
		default: fprintf(stderr, PROG ": see " PROG " --help\n"); return -1;
		}
	}
	if (rp->explain && (rp->out || rp->pdf)) {
		fprintf(stderr, PROG ": --explain writes no report: leave out %s\n", rp->out ? "-o" : "--pdf");
		fprintf(stderr, PROG ": see " PROG " --help\n");
		return -1;
	}
	if (optind < argc || !rp->conninfo || !rp->psap || (!rp->out && !rp->explain)) {
		fprintf(stderr, PROG ": %s\n",
			optind < argc ? "unexpected argument"
				      : "-d CONNINFO and --psap are needed, and -o FILE unless --explain");
		fprintf(stderr, PROG ": see " PROG " --help\n");
		return -1;
	}
	return 0;
}

/* Written beside the target and renamed over it, so a reader never sees half a report. */
static int write_file(const char *path, const struct pmhc_text *t)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return -1;
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		fprintf(stderr, PROG ": cannot write %s: %m\n", tmp);
		return -1;
	}
	size_t n = fwrite(t->s, 1, t->len, f);
	if (fclose(f) != 0 || n != t->len || rename(tmp, path) != 0) {
		fprintf(stderr, PROG ": cannot write %s: %m\n", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int run_chromium(const char *html, const char *pdf, const char *profile)
{
	const char *bin = getenv("PMHC_CHROMIUM") ? getenv("PMHC_CHROMIUM") : "chromium";
	char out_arg[PATH_MAX + 16], dir_arg[PATH_MAX + 16], url[PATH_MAX + 8];
	snprintf(out_arg, sizeof out_arg, "--print-to-pdf=%s", pdf);
	snprintf(dir_arg, sizeof dir_arg, "--user-data-dir=%s", profile);
	snprintf(url, sizeof url, "file://%s", html);
	/* Chromium refuses to run as root with its sandbox; the page is our own file, read offline. */
	char *argv[] = { (char *)bin,
			 "--headless",
			 "--disable-gpu",
			 "--no-pdf-header-footer",
			 "--no-first-run",
			 geteuid() == 0 ? "--no-sandbox" : "--headless",
			 dir_arg,
			 out_arg,
			 url,
			 NULL };
	pid_t pid;
	int st = posix_spawnp(&pid, bin, NULL, NULL, argv, environ);
	if (st != 0) {
		fprintf(stderr, PROG ": cannot run %s: %s\n", bin, strerror(st));
		fprintf(stderr, PROG ": hint: apt-get install chromium, or set PMHC_CHROMIUM to its path\n");
		return -1;
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || access(pdf, R_OK) != 0) {
		fprintf(stderr, PROG ": %s could not print %s to %s\n", bin, html, pdf);
		return -1;
	}
	return 0;
}

/* The PDF comes from a copy with every table open: paper has no click. */
static int write_pdf(const struct report *rp)
{
	char pdf[PATH_MAX], print[PATH_MAX], abs[PATH_MAX], profile[] = "/tmp/pmhc-report-XXXXXX";
	size_t n = strlen(rp->out);
	int cut = n > 5 && strcmp(rp->out + n - 5, ".html") == 0 ? (int)n - 5 : (int)n;
	snprintf(pdf, sizeof pdf, "%.*s.pdf", cut, rp->out);
	snprintf(print, sizeof print, "%.*s.print.html", cut, rp->out);
	struct pmhc_text t = { 0 };
	report_page(&t, rp, true);
	int rc = t.oom || write_file(print, &t) < 0 ? -1 : 0;
	pmhc_text_free(&t);
	if (rc < 0)
		return -1;
	if (realpath(print, abs) == NULL || mkdtemp(profile) == NULL) {
		fprintf(stderr, PROG ": %s: %m\n", print);
		unlink(print);
		return -1;
	}
	rc = run_chromium(abs, pdf, profile);
	unlink(print);
	char *rm[] = { "rm", "-rf", "--", profile, NULL };
	pid_t pid;
	if (posix_spawnp(&pid, "rm", NULL, NULL, rm, environ) == 0)
		waitpid(pid, NULL, 0);
	if (rc == 0)
		printf("%s\n", pdf);
	return rc;
}

int main(int argc, char **argv)
{
	struct report rp = { 0 };
	if (parse_args(argc, argv, &rp) < 0)
		return EX_USAGE;
	time_t now = time(NULL);
	struct tm tm;
	strftime(rp.generated, sizeof rp.generated, "%Y-%m-%d", gmtime_r(&now, &tm));
	if (rp.explain) {
		int rc = report_db_open(&rp) < 0 || report_db_explain(&rp, stdout) < 0 ? EX_UNAVAILABLE : EX_OK;
		report_db_close(&rp);
		if (rc == EX_OK && (fflush(stdout) != 0 || ferror(stdout))) {
			fprintf(stderr, PROG ": cannot write the plans to standard output: %m\n");
			rc = EX_IOERR;
		}
		return rc;
	}
	if (report_db_open(&rp) < 0 || report_db_fetch(&rp) < 0) {
		report_db_close(&rp);
		return EX_UNAVAILABLE;
	}
	struct pmhc_text t = { 0 };
	report_page(&t, &rp, false);
	int rc = EX_OK;
	if (t.oom) {
		fprintf(stderr, PROG ": out of memory building the page\n");
		rc = EX_SOFTWARE;
	} else if (write_file(rp.out, &t) < 0) {
		rc = EX_CANTCREAT;
	} else {
		printf("%s\n", rp.out);
		if (rp.pdf && write_pdf(&rp) < 0)
			rc = EX_UNAVAILABLE;
	}
	pmhc_text_free(&t);
	report_db_close(&rp);
	return rc;
}
