/* pmhcd: arguments, signals and wiring; the work is in pipeline.c. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "config.h"
#include "draw.h"
#include "explain.h"
#include "log.h"
#include "pipeline.h"
#include "pmhc_build.h"
#include "store.h"
#include "transport_check.h"

static struct pmhc_signals signals_seen;

/* Handlers only set flags; the loop acts on them. */
static void on_stop(int sig)
{
	(void)sig;
	signals_seen.stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	signals_seen.reload = 1;
}

/* The text as it prints: the formatter leaves it be. */
/* clang-format off */
static const char usage_text[] =
	"Usage: pmhcd --config FILE        run the daemon in the foreground\n"
	"       pmhcd --check-config FILE  validate FILE, report every problem, exit\n"
	"       pmhcd --backfill --config FILE load history, exit when caught up\n"
	"       pmhcd --migrate --config FILE [--conninfo DBA_CONNINFO]\n"
	"       pmhcd --explain [--config FILE] [CALLS.jsonl...]\n"
	"       pmhcd --draw-flowchart [--config FILE] > flowchart.dot\n"
	"       pmhcd --version | --help\n"
	"\n"
	"pmhcd screens every CAD call event on Kafka for mental-health indicators,\n"
	"walks the center's dispatch flowchart, publishes a recommendation (CIT,\n"
	"co-responder, mobile crisis, EMS, call diversion to a crisis counselor, or\n"
	"standard patrol) for the dispatcher's screen, and records every call and its\n"
	"decision in PostgreSQL. Each flag is raised, ruled out (its questions answered\n"
	"no) or unknown, and unknown is never no: the default flowchart keeps police\n"
	"away only where the answers rule out a weapon, violence and a medical\n"
	"emergency, with a crisis counselor on the phone or a mobile crisis team.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE        configuration file (libconfig); see config/pmhcd.conf,\n"
	"                           where every setting is explained\n"
	"      --check-config FILE  load and validate FILE as a reload would, print each\n"
	"                           problem as FILE:LINE: reason, exit 0 if valid, else 78\n"
	"      --backfill           load history (SPEC section 9): read topics.history\n"
	"                           (calls and dispositions, told apart by a pmhc-type\n"
	"                           header) from the beginning in group kafka.group_id\n"
	"                           plus \"-backfill\", decide and store every call and\n"
	"                           disposition as backfilled through COPY, publish no\n"
	"                           recommendation, choose no units, and exit 0 once\n"
	"                           every partition is read and stored\n"
	"      --explain            read calls as JSON lines (the pmhc-produce format; files\n"
	"                           or stdin) and show for each the flags and why, every\n"
	"                           flowchart rule tried and why it matched or not, and\n"
	"                           the recommendation that would be published; uses the\n"
	"                           rules of --config FILE, or the built-in SPEC defaults.\n"
	"                           Touches neither Kafka nor PostgreSQL\n"
	"      --draw-flowchart     write the flowchart of --config FILE (or the\n"
	"                           built-in defaults) to stdout as a Graphviz DOT\n"
	"                           graph: each rule in order with its condition in\n"
	"                           plain words, the response and the units it sends,\n"
	"                           and the fallback chains. Render it for staff with\n"
	"                           dot -Tsvg -o flowchart.svg (Debian package\n"
	"                           graphviz). Touches neither Kafka nor PostgreSQL\n"
	"      --migrate            run by a DBA's role, never by the daemon's: create\n"
	"                           the NOLOGIN roles pmhc_owner, pmhc_writer,\n"
	"                           pmhc_analyst, pmhc_admin and pmhc_case_reviewer\n"
	"                           (the role needs CREATEROLE), then create or upgrade\n"
	"                           schema pmhc, owned by pmhc_owner, and exit. The\n"
	"                           daemon itself only checks the schema's version\n"
	"      --conninfo CONNINFO  with --migrate: connect with CONNINFO (the DBA's)\n"
	"                           instead of postgres.conninfo; --config may then be\n"
	"                           left out\n"
	"  -l, --log-level LEVEL    debug, info, warn or error (overrides log.level)\n"
	"  -V, --version            print the version and exit\n"
	"  -h, --help               print this help and exit\n"
	"\n"
	"Signals:\n"
	"  SIGTERM, SIGINT  stop cleanly: finish and store the batch in flight, commit\n"
	"                   Kafka offsets, close (bounded by limits.shutdown_timeout)\n"
	"  SIGHUP           reload the configuration; a file with any problem is refused\n"
	"                   and the running configuration stays in force (logged)\n"
	"\n"
	"Logging: one line per event on stderr, as key=value fields with a level.\n"
	"With http.listen set: GET /metrics (Prometheus), /healthz and /readyz.\n"
	"\n"
	"Exit status (sysexits.h):\n"
	"  0   clean stop           64  usage error\n"
	"  69  Kafka or PostgreSQL unreachable at start (after postgres.start_timeout);\n"
	"      --migrate: a migration failed\n"
	"  76  the schema is not this pmhcd's: missing or behind (run pmhcd --migrate)\n"
	"      or ahead (a newer pmhcd migrated it)\n"
	"  77  the daemon's role may not read pmhc.schema_migrations (not in pmhc_writer)\n"
	"  70  internal error       78  configuration problem (also an unreadable\n"
	"                               privacy.subject_key_file)\n"
	"  65  --explain: a line is not a call    66  --explain: a file cannot be opened\n"
	"  74  --draw-flowchart: the graph could not be written\n"
	"  75  stalled: PostgreSQL refused every write with an error that does not\n"
	"      clear (a privilege revoked, a table dropped) for limits.stall_exit\n"
	"\n"
	"Delivery: an input's Kafka offset is committed only after its rows are\n"
	"committed in PostgreSQL (or, for rejected input, its DLQ copy is delivered\n"
	"and recorded); a restart replays the rest, and replays change nothing.\n";
/* clang-format on */

static void usage(FILE *to)
{
	fputs(usage_text, to);
}

/*
 * pmhcd --migrate: the schema up to date on the DBA's connection, which is
 * --conninfo or else the config's postgres.conninfo. The subject key is not
 * needed and not read: a DBA need not see it.
 */
static int run_migrate(const char *config_path, const char *conninfo)
{
	struct pmhc_config *cfg = NULL;
	if (config_path != NULL) {
		struct pmhc_errlist errs = { 0 };
		cfg = pmhc_config_load(config_path, PMHC_CONFIG_NO_SECRETS, &errs);
		for (size_t i = 0; cfg == NULL && i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.lines[i]);
		pmhc_errlist_clear(&errs);
		if (cfg == NULL)
			return EX_CONFIG;
	}
	pmhc_info("msg=\"pmhcd --migrate\" version=%s", PMHC_VERSION);
	struct pmhc_store *s = pmhc_store_open(conninfo ? conninfo : cfg->pg_conninfo,
					       cfg ? cfg->pg_start_timeout_s : 60, &signals_seen.stop);
	int rc = s ? pmhc_store_migrate(s) : EX_UNAVAILABLE;
	pmhc_store_close(s);
	pmhc_config_free(cfg);
	return rc;
}

static int check_config(const char *path)
{
	struct pmhc_errlist errs = { 0 };
	struct pmhc_config *cfg = pmhc_config_load(path, 0, &errs);
	if (cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.lines[i]);
		fprintf(stderr, "pmhcd: %s: %zu problem%s; configuration refused\n", path, pmhc_errlist_count(&errs),
			errs.n == 1 ? "" : "s");
		pmhc_errlist_clear(&errs);
		return EX_CONFIG;
	}
	printf("%s: OK (%zu rules, rules_version %s)\n", path, cfg->rules->n_rules, cfg->rules->version);
	pmhc_config_free(cfg);
	return EX_OK;
}

/* The rules of --config FILE, or the built-in defaults; NULL (after saying why) when the file is bad. */
static const struct pmhc_rules *tool_rules(const char *config_path, struct pmhc_config **cfg,
					   struct pmhc_rules **defaults)
{
	*cfg = NULL;
	*defaults = NULL;
	if (config_path == NULL)
		return *defaults = pmhc_rules_default();
	struct pmhc_errlist errs = { 0 };
	/* The rules are what is shown: no need for the subject key. */
	*cfg = pmhc_config_load(config_path, PMHC_CONFIG_NO_SECRETS, &errs);
	for (size_t i = 0; *cfg == NULL && i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.lines[i]);
	pmhc_errlist_clear(&errs);
	return *cfg ? (*cfg)->rules : NULL;
}

static int run_draw(const char *config_path)
{
	struct pmhc_config *cfg;
	struct pmhc_rules *defaults;
	const struct pmhc_rules *rules = tool_rules(config_path, &cfg, &defaults);
	if (rules == NULL)
		return config_path ? EX_CONFIG : EX_SOFTWARE;
	int rc = pmhc_draw_flowchart(rules, stdout) == 0 && fflush(stdout) == 0 ? EX_OK : EX_IOERR;
	if (rc != EX_OK)
		fprintf(stderr, "pmhcd: writing the flowchart: %s\n", strerror(errno));
	pmhc_config_free(cfg);
	pmhc_rules_free(defaults);
	return rc;
}

static int run_explain(const char *config_path, int nfiles, char **files)
{
	struct pmhc_config *cfg;
	struct pmhc_rules *defaults;
	const struct pmhc_rules *rules = tool_rules(config_path, &cfg, &defaults);
	if (rules == NULL)
		return config_path ? EX_CONFIG : EX_SOFTWARE;
	int rc = EX_OK;
	if (nfiles == 0)
		rc = pmhc_explain_stream(rules, stdin, "stdin", stdout);
	for (int i = 0; i < nfiles; i++) {
		FILE *f = fopen(files[i], "r");
		if (f == NULL) {
			fprintf(stderr, "pmhcd: %s: %s\n", files[i], strerror(errno));
			rc = EX_NOINPUT;
			continue;
		}
		int r = pmhc_explain_stream(rules, f, files[i], stdout);
		if (r != EX_OK && rc == EX_OK)
			rc = r;
		fclose(f);
	}
	pmhc_config_free(cfg);
	pmhc_rules_free(defaults);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "explain", no_argument, NULL, 'E' },
		{ "draw-flowchart", no_argument, NULL, 'D' },
		{ "backfill", no_argument, NULL, 'B' },
		{ "migrate", no_argument, NULL, 'M' },
		{ "conninfo", required_argument, NULL, 'P' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *check_path = NULL, *level = NULL, *conninfo = NULL;
	bool explain = false, backfill = false, draw = false, migrate = false;
	int c;
	while ((c = getopt_long(argc, argv, "c:l:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'C': check_path = optarg; break;
		case 'E': explain = true; break;
		case 'D': draw = true; break;
		case 'B': backfill = true; break;
		case 'M': migrate = true; break;
		case 'P': conninfo = optarg; break;
		case 'l': level = optarg; break;
		case 'V': printf("pmhcd %s\n", PMHC_VERSION); return EX_OK;
		case 'h': usage(stdout); return EX_OK;
		default: fprintf(stderr, "Try 'pmhcd --help'.\n"); return EX_USAGE;
		}
	}
	if (explain)
		return run_explain(config_path, argc - optind, argv + optind);
	if (draw && optind == argc)
		return run_draw(config_path);
	if (optind < argc) {
		fprintf(stderr, "pmhcd: unexpected argument '%s'\nTry 'pmhcd --help'.\n", argv[optind]);
		return EX_USAGE;
	}
	if (check_path != NULL)
		return check_config(check_path);
	if (conninfo != NULL && !migrate) {
		fprintf(stderr, "pmhcd: --conninfo is for --migrate only\nTry 'pmhcd --help'.\n");
		return EX_USAGE;
	}
	if (migrate && (config_path != NULL || conninfo != NULL))
		return run_migrate(config_path, conninfo);
	if (config_path == NULL) {
		fprintf(stderr, "pmhcd: --config FILE is required\nTry 'pmhcd --help'.\n");
		return EX_USAGE;
	}

	struct pmhc_errlist errs = { 0 };
	struct pmhc_config *cfg = pmhc_config_load(config_path, 0, &errs);
	if (cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			pmhc_error("msg=\"configuration problem\" problem=\"%s\"", pmhc_q(errs.lines[i]));
		pmhc_error("msg=\"not starting: fix the configuration (pmhcd --check-config %s lists every problem)\"",
			   config_path);
		pmhc_errlist_clear(&errs);
		return EX_CONFIG;
	}
	enum pmhc_log_level lvl;
	if (pmhc_log_level_parse(level ? level : cfg->log_level, &lvl) != 0) {
		fprintf(stderr, "pmhcd: --log-level must be debug, info, warn or error\n");
		pmhc_config_free(cfg);
		return EX_USAGE;
	}
	pmhc_log_set_level(lvl);

	struct sigaction sa = { 0 };
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	pmhc_info("msg=\"pmhcd starting\" version=%s config=%s", PMHC_VERSION, config_path);
	pmhc_transport_check(cfg);
	return pmhc_pipeline_run(cfg, &signals_seen, backfill ? PMHC_MODE_BACKFILL : PMHC_MODE_LIVE);
}
