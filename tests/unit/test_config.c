/* Loading the config file: every problem with file and line, defaults, the key file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"

static char dir[] = "/tmp/pmhc-config-test.XXXXXX";
static char key_path[256], conf_path[256], table_path[256];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(key_path, sizeof key_path, "%s/subject.key", dir);
	snprintf(conf_path, sizeof conf_path, "%s/pmhcd.conf", dir);
	snprintf(table_path, sizeof table_path, "%s/table.conf", dir);
	FILE *f = fopen(key_path, "w");
	fputs("0123456789abcdef0123456789abcdef\n", f);
	fclose(f);
	chmod(key_path, 0600);
}

static void teardown(void)
{
	unlink(key_path);
	unlink(conf_path);
	unlink(table_path);
	rmdir(dir);
	strcpy(dir, "/tmp/pmhc-config-test.XXXXXX");
}

/* Writes body to the config file; %KEY% becomes the key file's path. */
static void write_conf(const char *body)
{
	FILE *f = fopen(conf_path, "w");
	for (const char *p = body; *p; p++) {
		if (strncmp(p, "%KEY%", 5) == 0) {
			fputs(key_path, f);
			p += 4;
		} else {
			fputc(*p, f);
		}
	}
	fclose(f);
}

static bool has_error(const struct pmhc_errlist *e, const char *needle)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->lines[i], needle))
			return true;
	return false;
}

START_TEST(test_minimal_config_gets_defaults)
{
	write_conf("postgres = { conninfo = \"dbname=pmhc\"; };\n"
		   "privacy = { subject_key_file = \"%KEY%\"; };\n");
	struct pmhc_errlist e = { 0 };
	struct pmhc_config *c = pmhc_config_load(conf_path, 0, &e);
	ck_assert_msg(c != NULL, "%s", e.n ? e.lines[0] : "");
	ck_assert_str_eq(c->kafka_brokers, "localhost:9092");
	ck_assert_str_eq(c->topic_calls, "cad.calls");
	ck_assert_str_eq(c->topic_recommendations, "pmhc.recommendations");
	ck_assert_str_eq(c->topic_history, "cad.history");
	ck_assert_int_eq(c->pg_start_timeout_s, 60);
	ck_assert_uint_eq(c->subject_key_len, 32); /* trailing newline removed */
	ck_assert(!c->store_narrative);
	pmhc_config_free(c);
}
END_TEST

START_TEST(test_every_problem_reported_with_line)
{
	write_conf("kafka = {\n"
		   "  broker = \"x:1\";\n" /* line 2: typo */
		   "  properties = ( \"enable.auto.offset.store=true\", \"linger.ms=5\", \"bad\" );\n"
		   "};\n"
		   "limits = { batch_max_events = 0; };\n" /* line 5 */
		   "privacy = { subject_key_file = \"/nonexistent/key\"; };\n");
	struct pmhc_errlist e = { 0 };
	ck_assert_ptr_null(pmhc_config_load(conf_path, 0, &e));
	ck_assert(has_error(&e, ":2: unknown setting 'kafka.broker'"));
	ck_assert(has_error(&e, ":3: kafka.properties[0]: 'enable.auto.offset.store' is set by pmhcd itself"));
	ck_assert(has_error(&e, ":3: kafka.properties[2] must be a \"name=value\" string"));
	ck_assert(has_error(&e, ":5: 'limits.batch_max_events' is 0, outside 1..100000"));
	ck_assert(has_error(&e, "required setting 'postgres.conninfo' is missing"));
	ck_assert(has_error(&e, "privacy.subject_key_file '/nonexistent/key' cannot be read"));
	ck_assert_uint_eq(e.n, 6);
	pmhc_errlist_clear(&e);
}
END_TEST

START_TEST(test_syntax_error_has_line)
{
	write_conf("postgres = { conninfo = \"x\"; };\n\nkafka = { brokers = ; };\n");
	struct pmhc_errlist e = { 0 };
	ck_assert_ptr_null(pmhc_config_load(conf_path, 0, &e));
	ck_assert_uint_eq(e.n, 1);
	ck_assert_msg(strstr(e.lines[0], "pmhcd.conf:3: syntax error") != NULL, "%s", e.lines[0]);
	pmhc_errlist_clear(&e);
}
END_TEST

START_TEST(test_short_key_refused)
{
	FILE *f = fopen(key_path, "w");
	fputs("short\n", f);
	fclose(f);
	write_conf("postgres = { conninfo = \"x\"; };\nprivacy = { subject_key_file = \"%KEY%\"; };\n");
	struct pmhc_errlist e = { 0 };
	ck_assert_ptr_null(pmhc_config_load(conf_path, 0, &e));
	ck_assert(has_error(&e, "holds 5 bytes; use at least 16 random bytes"));
	pmhc_errlist_clear(&e);
}
END_TEST

/* A key others may read, the group may change, or a link stands for, is refused. */
START_TEST(test_key_file_must_be_private)
{
	write_conf("postgres = { conninfo = \"x\"; };\nprivacy = { subject_key_file = \"%KEY%\"; };\n");
	struct pmhc_errlist e = { 0 };
	const mode_t bad[] = { 0644, 0604, 0620, 0601 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		chmod(key_path, bad[i]);
		ck_assert_ptr_null(pmhc_config_load(conf_path, 0, &e));
		ck_assert_msg(has_error(&e, "chmod 600 FILE"), "mode %o accepted", (unsigned)bad[i]);
		pmhc_errlist_clear(&e);
	}
	chmod(key_path, 0640); /* the group may read it: a LoadCredential= copy is 0440 */
	struct pmhc_config *c = pmhc_config_load(conf_path, 0, &e);
	ck_assert_ptr_nonnull(c);
	pmhc_config_free(c);

	char link_path[300];
	snprintf(link_path, sizeof link_path, "%s/link.key", dir);
	ck_assert_int_eq(symlink(key_path, link_path), 0);
	char text[512];
	snprintf(text, sizeof text, "postgres = { conninfo = \"x\"; };\nprivacy = { subject_key_file = \"%s\"; };\n",
		 link_path);
	FILE *f = fopen(conf_path, "w");
	fputs(text, f);
	fclose(f);
	ck_assert_ptr_null(pmhc_config_load(conf_path, 0, &e));
	ck_assert(has_error(&e, "cannot be read"));
	pmhc_errlist_clear(&e);
	unlink(link_path);
}
END_TEST

/* Under systemd's LoadCredential=, a relative key path is read from $CREDENTIALS_DIRECTORY. */
START_TEST(test_key_file_from_credentials_directory)
{
	write_conf("postgres = { conninfo = \"x\"; };\nprivacy = { subject_key_file = \"subject.key\"; };\n");
	struct pmhc_errlist e = { 0 };
	ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
	struct pmhc_config *c = pmhc_config_load(conf_path, 0, &e);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->subject_key_len, 32);
	pmhc_config_free(c);

	/* The path tried is the one named, so a missing credential is plain to see. */
	ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", "/nonexistent-creds", 1), 0);
	ck_assert_ptr_null(pmhc_config_load(conf_path, 0, &e));
	ck_assert(has_error(&e, "'/nonexistent-creds/subject.key' cannot be read"));
	pmhc_errlist_clear(&e);

	/* The same rules hold for the credential as for any key file. */
	ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
	chmod(key_path, 0604);
	ck_assert_ptr_null(pmhc_config_load(conf_path, 0, &e));
	ck_assert(has_error(&e, "chmod 600 FILE"));
	pmhc_errlist_clear(&e);
	chmod(key_path, 0600);
	unsetenv("CREDENTIALS_DIRECTORY");
}
END_TEST

/* A refused property is named, and its value masked, even a value inside the mask. */
START_TEST(test_refused_kafka_property_value_not_shown)
{
	write_conf("kafka = { properties = ( \"security.protocol=*\", \"security.protocol=secret-x\" ); };\n"
		   "postgres = { conninfo = \"x\"; };\nprivacy = { subject_key_file = \"%KEY%\"; };\n");
	struct pmhc_errlist e = { 0 };
	ck_assert_ptr_null(pmhc_config_load(conf_path, 0, &e));
	ck_assert(has_error(&e, "kafka.properties[0]: 'security.protocol' refused (its value is not shown)"));
	ck_assert(has_error(&e, "kafka.properties[1]: 'security.protocol' refused (its value is not shown)"));
	for (size_t i = 0; i < e.n; i++)
		ck_assert_msg(strstr(e.lines[i], "secret-x") == NULL, "value shown: %s", e.lines[i]);
	pmhc_errlist_clear(&e);
}
END_TEST

START_TEST(test_restart_needed_lists_connection_settings)
{
	write_conf("postgres = { conninfo = \"dbname=a\"; };\nprivacy = { subject_key_file = \"%KEY%\"; };\n"
		   "log = { level = \"info\"; };\n");
	struct pmhc_errlist e = { 0 };
	struct pmhc_config *a = pmhc_config_load(conf_path, 0, &e);
	write_conf("postgres = { conninfo = \"dbname=b\"; };\nprivacy = { subject_key_file = \"%KEY%\"; };\n"
		   "log = { level = \"debug\"; };\n");
	struct pmhc_config *b = pmhc_config_load(conf_path, 0, &e);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	char buf[256];
	ck_assert_uint_eq(pmhc_config_restart_needed(a, b, buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "postgres.conninfo");
	pmhc_config_free(a);
	pmhc_config_free(b);
}
END_TEST

/* http.listen is off unless set, checked when set, and needs a restart; limits.stall_exit defaults to 10 min. */
START_TEST(test_http_listen_and_stall_exit)
{
	write_conf("postgres = { conninfo = \"x\"; };\nprivacy = { subject_key_file = \"%KEY%\"; };\n");
	struct pmhc_errlist e = { 0 };
	struct pmhc_config *a = pmhc_config_load(conf_path, 0, &e);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_null(a->http_listen);
	ck_assert_int_eq(a->stall_exit_s, 600);
	write_conf("postgres = { conninfo = \"x\"; };\nprivacy = { subject_key_file = \"%KEY%\"; };\n"
		   "http = { listen = \"127.0.0.1:9464\"; };\nlimits = { stall_exit = 1; };\n");
	struct pmhc_config *b = pmhc_config_load(conf_path, 0, &e);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->http_listen, "127.0.0.1:9464");
	ck_assert_int_eq(b->stall_exit_s, 1);
	char buf[256];
	ck_assert_uint_eq(pmhc_config_restart_needed(a, b, buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "http.listen");
	pmhc_config_free(a);
	pmhc_config_free(b);
	write_conf("postgres = { conninfo = \"x\"; };\nprivacy = { subject_key_file = \"%KEY%\"; };\n"
		   "http = { listen = \"9464\"; };\nlimits = { stall_exit = 0; };\n");
	ck_assert_ptr_null(pmhc_config_load(conf_path, 0, &e));
	ck_assert(has_error(&e, "http.listen '9464' must be HOST:PORT"));
	ck_assert(has_error(&e, "'limits.stall_exit' is 0, outside 1..86400"));
	pmhc_errlist_clear(&e);
}
END_TEST

/* --check-config refuses a state test of a flag no question stands behind, at its line. */
START_TEST(test_ruled_out_premise_flag_refused_with_file_and_line)
{
	write_conf("postgres = { conninfo = \"x\"; };\nprivacy = { subject_key_file = \"%KEY%\"; };\n"
		   "flowchart = (\n"
		   "  { id = \"not-mh\"; none = [ \"MH\" ]; response = \"STANDARD\"; dispatch_code = \"\"; },\n"
		   "  { id = \"quiet-premise\";\n"
		   "    ruled_out = [ \"PREMISE_MH\" ];\n" /* line 6 */
		   "    response = \"MOBILE_CRISIS\"; dispatch_code = \"MH-MCT\"; },\n"
		   "  { id = \"rest\"; response = \"CO_RESPONDER\"; dispatch_code = \"MH-COR\"; } );\n");
	struct pmhc_errlist e = { 0 };
	ck_assert_ptr_null(pmhc_config_load(conf_path, 0, &e));
	char want[512];
	snprintf(want, sizeof want,
		 "%s:6: flowchart rule 'quiet-premise': ruled_out: no screening question stands "
		 "behind PREMISE_MH",
		 conf_path);
	ck_assert_msg(has_error(&e, want), "%s", e.n ? e.lines[0] : "");
	ck_assert_uint_eq(e.n, 1);
	pmhc_errlist_clear(&e);
}
END_TEST

/* @include is read beside the config file, whatever the working directory, and a
 * problem in the included file is reported with that file's name and line. */
START_TEST(test_include_beside_the_config)
{
	FILE *f = fopen(table_path, "w");
	fputs("code_table = ( { code = \"BURGLARY\"; flags = [ ]; },\n"
	      "  { code = \"EDP\"; flags = [ \"MH\" ]; } );\n",
	      f);
	fclose(f);
	write_conf("postgres = { conninfo = \"x\"; };\nprivacy = { subject_key_file = \"%KEY%\"; };\n"
		   "screening = {\n  @include \"table.conf\"\n};\n");
	struct pmhc_errlist e = { 0 };
	struct pmhc_config *c = pmhc_config_load(conf_path, 0, &e); /* the working directory is not dir */
	ck_assert_msg(c != NULL, "%s", e.n ? e.lines[0] : "");
	ck_assert(pmhc_nature_known(c->rules, "BURGLARY"));
	pmhc_config_free(c);

	f = fopen(table_path, "w");
	fputs("code_table = ( { code = \"BURGLARY\"; flags = [ ]; },\n"
	      "  { code = \"EDP\"; flags = [ \"MHX\" ]; } );\n",
	      f);
	fclose(f);
	ck_assert_ptr_null(pmhc_config_load(conf_path, 0, &e));
	char want[512];
	snprintf(want, sizeof want, "%s:2: screening.code_table: unknown flag 'MHX'", table_path);
	ck_assert_msg(has_error(&e, want), "%s", e.n ? e.lines[0] : "");
	pmhc_errlist_clear(&e);
}
END_TEST

Suite *suite_config(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_minimal_config_gets_defaults);
	tcase_add_test(tc, test_every_problem_reported_with_line);
	tcase_add_test(tc, test_syntax_error_has_line);
	tcase_add_test(tc, test_refused_kafka_property_value_not_shown);
	tcase_add_test(tc, test_key_file_must_be_private);
	tcase_add_test(tc, test_key_file_from_credentials_directory);
	tcase_add_test(tc, test_short_key_refused);
	tcase_add_test(tc, test_restart_needed_lists_connection_settings);
	tcase_add_test(tc, test_ruled_out_premise_flag_refused_with_file_and_line);
	tcase_add_test(tc, test_include_beside_the_config);
	tcase_add_test(tc, test_http_listen_and_stall_exit);
	suite_add_tcase(s, tc);
	return s;
}
