/*
 * The rules from the config file: the shipped file is SPEC section 3 exactly,
 * each validation of SPEC section 3 refuses with the line and the reason, and
 * layout never changes rules_version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decide.h"
#include "fixture.h"
#include "recommend.h"
#include "rules_load.h"
#include "suites.h"

/* Loads rules from text; errs collects problems. */
static struct pmhc_rules *load_text(const char *text, struct pmhc_errlist *errs)
{
	config_t cf;
	config_init(&cf);
	ck_assert_msg(config_read_string(&cf, text), "test text does not parse: line %d: %s", config_error_line(&cf),
		      config_error_text(&cf));
	struct pmhc_rules *r = pmhc_rules_load(&cf, "t.conf", errs);
	config_destroy(&cf);
	return r;
}

/* The default flowchart of SPEC section 3, written as a center would. */
static const char *const default_flowchart =
	"flowchart = (\n"
	"  { id = \"not-mh\"; none = [ \"MH\" ]; response = \"STANDARD\"; dispatch_code = \"\"; },\n"
	"  { id = \"mh-medical-danger\"; all = [ \"MEDICAL\" ]; any = [ \"WEAPON\", \"VIOLENCE\" ];\n"
	"    response = \"EMS_AND_CIT_WITH_BACKUP\"; dispatch_code = \"MH-EMSB\"; },\n"
	"  { id = \"mh-weapon-violence\"; any = [ \"WEAPON\", \"VIOLENCE\" ]; response = \"CIT_WITH_BACKUP\"; dispatch_code = \"MH-CITB\"; },\n"
	"  { id = \"mh-988-medical\"; all = [ \"MEDICAL\" ]; none = [ \"HISTORY_VIOLENCE\" ]; ruled_out = [ \"WEAPON\", \"VIOLENCE\" ];\n"
	"    source = [ \"988\" ]; response = \"EMS_AND_MOBILE_CRISIS\"; dispatch_code = \"MH-EMSM\"; },\n"
	"  { id = \"mh-911-medical\"; all = [ \"MEDICAL\" ]; ruled_out = [ \"WEAPON\", \"VIOLENCE\", \"HISTORY_VIOLENCE\" ];\n"
	"    source = [ \"911\", \"TEXT\", \"ADMIN\" ]; response = \"EMS_AND_MOBILE_CRISIS\"; dispatch_code = \"MH-EMSM\"; },\n"
	"  { id = \"mh-medical\"; all = [ \"MEDICAL\" ]; response = \"EMS_AND_CIT\"; dispatch_code = \"MH-EMS\"; },\n"
	"  { id = \"mh-history-violence\"; all = [ \"HISTORY_VIOLENCE\" ]; response = \"CIT\"; dispatch_code = \"MH-CIT\"; },\n"
	"  { id = \"mh-988-diversion\"; ruled_out = [ \"WEAPON\", \"VIOLENCE\", \"MEDICAL\", \"SELF_HARM\" ]; source = [ \"988\" ];\n"
	"    response = \"CALL_DIVERSION\"; dispatch_code = \"MH-DIV\"; },\n"
	"  { id = \"mh-988\"; ruled_out = [ \"WEAPON\", \"VIOLENCE\", \"MEDICAL\" ]; source = [ \"988\" ];\n"
	"    response = \"MOBILE_CRISIS\"; dispatch_code = \"MH-MCT\"; },\n"
	"  { id = \"mh-911-diversion\"; ruled_out = [ \"WEAPON\", \"VIOLENCE\", \"MEDICAL\", \"SELF_HARM\", \"HISTORY_VIOLENCE\" ];\n"
	"    source = [ \"911\", \"TEXT\", \"ADMIN\" ]; response = \"CALL_DIVERSION\"; dispatch_code = \"MH-DIV\"; },\n"
	"  { id = \"mh-911-mobile-crisis\"; ruled_out = [ \"WEAPON\", \"VIOLENCE\", \"MEDICAL\", \"HISTORY_VIOLENCE\" ];\n"
	"    source = [ \"911\", \"TEXT\", \"ADMIN\" ]; response = \"MOBILE_CRISIS\"; dispatch_code = \"MH-MCT\"; },\n"
	"  { id = \"mh-self-harm\"; all = [ \"SELF_HARM\" ]; response = \"CO_RESPONDER\"; dispatch_code = \"MH-COR\"; },\n"
	"  { id = \"mh-default\"; response = \"CO_RESPONDER\"; dispatch_code = \"MH-COR\"; }\n"
	");\n";

START_TEST(test_shipped_config_is_the_spec_default)
{
	const char *root = getenv("PMHC_SOURCE_ROOT");
	ck_assert_msg(root != NULL, "PMHC_SOURCE_ROOT not set");
	char path[512];
	snprintf(path, sizeof path, "%s/config/pmhcd.conf", root);
	config_t cf;
	config_init(&cf);
	/* The shipped file @includes the APCO code table from its own directory. */
	ck_assert_msg(pmhc_config_read_file(&cf, path), "%s:%d: %s",
		      config_error_file(&cf) ? config_error_file(&cf) : path, config_error_line(&cf),
		      config_error_text(&cf));
	struct pmhc_errlist e = { 0 };
	struct pmhc_rules *from_file = pmhc_rules_load(&cf, path, &e);
	config_destroy(&cf);
	ck_assert_msg(from_file != NULL, "%s", e.n ? e.lines[0] : "");
	struct pmhc_rules *builtin = pmhc_rules_default();
	char *a = pmhc_rules_canonical(from_file), *b = pmhc_rules_canonical(builtin);
	/* The table's codes with flags map them as the defaults do, and the rest decide
	 * nothing: the shipped file decides exactly as the built-in defaults. */
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(from_file->version, builtin->version);
	/* What the table adds: every APCO code is known. */
	ck_assert_uint_eq(from_file->n_nature_map, 244);
	ck_assert(pmhc_nature_known(from_file, "BURGLARY"));
	ck_assert(!pmhc_nature_known(from_file, "BURG"));
	ck_assert(pmhc_nature_known(from_file, "WELFARE"));
	ck_assert(!pmhc_nature_known(builtin, "BURGLARY"));
	ck_assert(!pmhc_nature_known(from_file, "10-96"));
	ck_assert_uint_eq(pmhc_nature_find(from_file, "WELFARE")->flags, 0);
	ck_assert_uint_eq(pmhc_nature_find(from_file, "MTLV")->flags, PMHC_BIT(PMHC_F_MH) | PMHC_BIT(PMHC_F_VIOLENCE));
	free(a);
	free(b);
	pmhc_rules_free(from_file);
	pmhc_rules_free(builtin);
}
END_TEST

START_TEST(test_layout_and_comments_do_not_change_the_version)
{
	struct pmhc_errlist e = { 0 };
	struct pmhc_rules *a = load_text(default_flowchart, &e);
	struct pmhc_rules *b = load_text(
		"# a comment\nflowchart = ( { id = \"not-mh\"; none = [\"MH\"]; response = \"STANDARD\"; dispatch_code = \"\"; },\n"
		"{ any = [\"VIOLENCE\", \"WEAPON\"]; all = [\"MEDICAL\"]; id = \"mh-medical-danger\"; dispatch_code = \"MH-EMSB\"; response = \"EMS_AND_CIT_WITH_BACKUP\"; },\n"
		"{ id = \"mh-weapon-violence\"; any = [\"VIOLENCE\", \"WEAPON\"]; /* order within a list */ response = \"CIT_WITH_BACKUP\"; dispatch_code = \"MH-CITB\"; },\n"
		"{ id = \"mh-988-medical\"; source = [\"988\"]; ruled_out = [\"VIOLENCE\", \"WEAPON\"]; none = [\"HISTORY_VIOLENCE\"]; all = [\"MEDICAL\"];\n"
		"  response = \"EMS_AND_MOBILE_CRISIS\"; dispatch_code = \"MH-EMSM\"; },\n"
		"{ id = \"mh-911-medical\"; all = [\"MEDICAL\"]; ruled_out = [\"HISTORY_VIOLENCE\", \"WEAPON\", \"VIOLENCE\"];\n"
		"  source = [\"ADMIN\", \"TEXT\", \"911\"]; response = \"EMS_AND_MOBILE_CRISIS\"; dispatch_code = \"MH-EMSM\"; },\n"
		"{ id = \"mh-medical\"; all = [\"MEDICAL\"]; response = \"EMS_AND_CIT\"; dispatch_code = \"MH-EMS\"; },\n"
		"{ id = \"mh-history-violence\"; all = [\"HISTORY_VIOLENCE\"]; response = \"CIT\"; dispatch_code = \"MH-CIT\"; },\n"
		"{ id = \"mh-988-diversion\"; ruled_out = [\"SELF_HARM\", \"MEDICAL\", \"VIOLENCE\", \"WEAPON\"]; source = [\"988\"];\n"
		"  response = \"CALL_DIVERSION\"; dispatch_code = \"MH-DIV\"; },\n"
		"{ id = \"mh-988\"; ruled_out = [\"WEAPON\", \"VIOLENCE\", \"MEDICAL\"]; source = [\"988\"]; response = \"MOBILE_CRISIS\"; dispatch_code = \"MH-MCT\"; },\n"
		"{ id = \"mh-911-diversion\"; ruled_out = [\"WEAPON\", \"VIOLENCE\", \"MEDICAL\", \"SELF_HARM\", \"HISTORY_VIOLENCE\"];\n"
		"  source = [\"911\", \"TEXT\", \"ADMIN\"]; response = \"CALL_DIVERSION\"; dispatch_code = \"MH-DIV\"; },\n"
		"{ id = \"mh-911-mobile-crisis\"; ruled_out = [\"WEAPON\", \"VIOLENCE\", \"MEDICAL\", \"HISTORY_VIOLENCE\"];\n"
		"  source = [\"911\", \"TEXT\", \"ADMIN\"]; response = \"MOBILE_CRISIS\"; dispatch_code = \"MH-MCT\"; },\n"
		"{ id = \"mh-self-harm\"; all = [\"SELF_HARM\"]; response = \"CO_RESPONDER\"; dispatch_code = \"MH-COR\"; },\n"
		"{ id = \"mh-default\"; response = \"CO_RESPONDER\"; dispatch_code = \"MH-COR\"; } );\n",
		&e);
	struct pmhc_rules *d = pmhc_rules_default();
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a->version, d->version);
	ck_assert_str_eq(b->version, d->version);
	pmhc_rules_free(a);
	pmhc_rules_free(b);
	pmhc_rules_free(d);
}
END_TEST

/* Each validation: a config text and the one problem it must produce. */
static const struct invalid {
	const char *name;
	const char *text;
	const char *error;
} invalid[] = {
	{ "unknown flag in a rule",
	  "flowchart = ( { id = \"a\"; all = [ \"WEAPONS\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule 'a': unknown flag 'WEAPONS' (known: MH, SUD, WEAPON," },
	{ "unknown response", "flowchart = (\n{ id = \"z\"; response = \"SWAT\"; dispatch_code = \"\"; } );",
	  "t.conf:2: flowchart rule 'z': unknown response 'SWAT'" },
	{ "unknown source",
	  "flowchart = ( { id = \"a\"; source = [ \"999\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule 'a': unknown source '999'" },
	{ "duplicate rule id",
	  "flowchart = ( { id = \"a\"; all = [ \"MH\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"a\"; all = [ \"SUD\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:2: flowchart: duplicate rule id 'a' (first at line 1)" },
	{ "rule after the catch-all",
	  "flowchart = ( { id = \"a\"; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:2: flowchart rule 'z' can never match: rule 'a' at line 1 before it has no condition" },
	{ "condition identical to an earlier one",
	  "flowchart = ( { id = \"a\"; any = [ \"MH\", \"SUD\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"b\"; any = [ \"SUD\", \"MH\" ]; response = \"CO_RESPONDER\"; dispatch_code = \"Y\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:2: flowchart rule 'b' can never match: its condition is the same as rule 'a' at line 1" },
	{ "same nature set in another order",
	  "flowchart = ( { id = \"a\"; nature = [ \"edp\", \"MNTL\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"b\"; nature = [ \"MNTL\", \"EDP\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:2: flowchart rule 'b' can never match: its condition is the same as rule 'a' at line 1" },
	{ "last rule has a condition",
	  "flowchart = ( { id = \"a\"; all = [ \"MH\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"b\"; none = [ \"MH\" ]; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:2: flowchart: the last rule 'b' has a condition; the last rule must be the unconditional catch-all" },
	{ "empty flag list",
	  "flowchart = ( { id = \"a\"; all = [ ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule 'a' is an empty list; leave it out instead" },
	{ "empty source list",
	  "flowchart = ( { id = \"a\"; source = [ ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule 'a': 'source' must be a non-empty list" },
	{ "empty nature list",
	  "flowchart = ( { id = \"a\"; nature = [ ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule 'a': 'nature' must be a non-empty list of nature codes" },
	{ "typo in a condition name",
	  "flowchart = ( { id = \"a\"; non = [ \"MH\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule: unknown setting 'non'" },
	{ "missing response", "flowchart = ( { id = \"z\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule 'z': 'response' must be given as a string" },
	{ "missing dispatch code", "flowchart = ( { id = \"z\"; response = \"STANDARD\"; } );",
	  "t.conf:1: flowchart rule 'z': 'dispatch_code' must be given as a string" },
	{ "bad rule id", "flowchart = ( { id = \"has space\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule: id 'has space' must be 1-63 letters" },
	{ "empty flowchart", "flowchart = ( );", "t.conf:1: flowchart must be a non-empty list of rules" },
	{ "premise flag may not raise MH",
	  "screening = { premise_flags = ( { flag = \"MH_HISTORY\"; flags = [ \"MH\" ]; } ); };",
	  "t.conf:1: screening.premise_flags: premise flag MH_HISTORY may not raise MH" },
	{ "nature code mapped twice",
	  "screening = { nature_codes = ( { code = \"EDP\"; flags = [ \"MH\" ]; },\n{ code = \" edp\"; flags = [ \"SUD\" ]; } ); };",
	  "t.conf:2: screening.nature_codes: EDP is mapped twice" },
	{ "unknown flag in a mapping",
	  "screening = { nature_codes = ( { code = \"EDP\"; flags = [ \"MENTAL\" ]; } ); };",
	  "t.conf:1: screening.nature_codes: unknown flag 'MENTAL'" },
	{ "alias chain",
	  "screening = { aliases = ( { from = \"A\"; to = \"B\"; }, { from = \"B\"; to = \"EDP\"; } ); };",
	  "screening.aliases: A → B → EDP is a chain; alias A straight to EDP" },
	{ "unknown screening member", "screening = { natures = ( ); };",
	  "t.conf:1: screening: unknown setting 'natures'" },
	{ "unknown unit kind", "units = { fallbacks = ( { kind = \"SWAT\"; then = [ \"PATROL\" ]; } ); };",
	  "t.conf:1: units.fallbacks: unknown unit kind 'SWAT'" },
	{ "unit kind standing in for itself",
	  "units = { fallbacks = ( { kind = \"CIT_OFFICER\"; then = [ \"PATROL\", \"CIT_OFFICER\" ]; } ); };",
	  "t.conf:1: units.fallbacks: CIT_OFFICER: CIT_OFFICER appears twice or stands in for itself" },
	{ "two chains for a kind",
	  "units = { fallbacks = ( { kind = \"EMS\"; then = [ \"PATROL\" ]; },\n{ kind = \"EMS\"; then = [ \"CIT_OFFICER\" ]; } ); };",
	  "t.conf:2: units.fallbacks: EMS has two chains" },
	{ "empty chain", "units = { fallbacks = ( { kind = \"EMS\"; then = [ ]; } ); };",
	  "units.fallbacks: EMS: 'then' must be a non-empty list" },
	{ "hold out of range", "units = { hold = 7200; };", "t.conf:1: units.hold is 7200, outside 0..3600 seconds" },
	{ "typo in units", "units = { hold_seconds = 10; };", "t.conf:1: units: unknown setting 'hold_seconds'" },
	{ "ruled_out names a flag no question stands behind",
	  "flowchart = ( { id = \"a\"; all = [ \"MH\" ];\n  ruled_out = [ \"WEAPON\", \"PREMISE_MH\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:2: flowchart rule 'a': ruled_out: no screening question stands behind PREMISE_MH, so it is raised or "
	  "not, never ruled out or unknown" },
	{ "unknown names a flag no question stands behind",
	  "flowchart = ( { id = \"a\";\n unknown = [ \"PREMISE_VIOLENCE\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:2: flowchart rule 'a': unknown: no screening question stands behind PREMISE_VIOLENCE" },
	{ "empty ruled_out list",
	  "flowchart = ( { id = \"a\"; ruled_out = [ ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule 'a' is an empty list; leave it out instead" },
	{ "unknown flag in ruled_out",
	  "flowchart = ( { id = \"a\"; ruled_out = [ \"GUN\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule 'a': unknown flag 'GUN'" },
	{ "a flag both raised and ruled out",
	  "flowchart = ( { id = \"a\"; all = [ \"WEAPON\" ]; ruled_out = [ \"WEAPON\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule 'a' can never match: WEAPON is in both 'all' and 'ruled_out'" },
	{ "a flag both ruled out and unknown",
	  "flowchart = ( { id = \"a\"; unknown = [ \"MEDICAL\" ]; ruled_out = [ \"MEDICAL\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule 'a' can never match: MEDICAL is in both 'ruled_out' and 'unknown'" },
	{ "any that can never hold",
	  "flowchart = ( { id = \"a\"; any = [ \"WEAPON\", \"VIOLENCE\" ]; unknown = [ \"WEAPON\" ]; none = [ \"VIOLENCE\" ];\n"
	  "  response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:1: flowchart rule 'a' can never match: every flag in 'any' is also in 'none', 'ruled_out' or 'unknown'" },
	{ "same condition with ruled_out",
	  "flowchart = ( { id = \"a\"; ruled_out = [ \"WEAPON\", \"MEDICAL\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
	  "{ id = \"b\"; ruled_out = [ \"MEDICAL\", \"WEAPON\" ]; response = \"MOBILE_CRISIS\"; dispatch_code = \"Y\"; },\n"
	  "{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
	  "t.conf:2: flowchart rule 'b' can never match: its condition is the same as rule 'a' at line 1" },
	{ "unknown response names the new ones",
	  "flowchart = (\n{ id = \"z\"; response = \"DIVERSION\"; dispatch_code = \"\"; } );",
	  "t.conf:2: flowchart rule 'z': unknown response 'DIVERSION' (known: STANDARD, CIT, CIT_WITH_BACKUP, "
	  "CO_RESPONDER, MOBILE_CRISIS, EMS_AND_CIT, CALL_DIVERSION, EMS_AND_MOBILE_CRISIS, EMS_AND_CIT_WITH_BACKUP)" },
	{ "unknown source in a fallback",
	  "units = { fallbacks = ( { kind = \"MOBILE_CRISIS\"; source = [ \"989\" ]; then = [ ]; } ); };",
	  "t.conf:1: units.fallbacks: unknown source '989'" },
	{ "two chains for a kind and source",
	  "units = { fallbacks = ( { kind = \"MOBILE_CRISIS\"; source = [ \"988\", \"TEXT\" ]; then = [ ]; },\n"
	  "{ kind = \"MOBILE_CRISIS\"; source = [ \"TEXT\" ]; then = [ \"CO_RESPONDER\" ]; } ); };",
	  "t.conf:2: units.fallbacks: MOBILE_CRISIS has two chains for one source" },
	{ "a per-source chain standing in for itself",
	  "units = { fallbacks = ( { kind = \"CIT_OFFICER\"; source = [ \"988\" ]; then = [ \"CIT_OFFICER\" ]; } ); };",
	  "t.conf:1: units.fallbacks: CIT_OFFICER: CIT_OFFICER appears twice or stands in for itself" },
	{ "code table with an unknown flag",
	  "screening = { code_table = ( { code = \"BURG\"; flags = [ ]; },\n{ code = \"EDP\"; flags = [ \"EMOTIONAL\" ]; } ); };",
	  "t.conf:2: screening.code_table: unknown flag 'EMOTIONAL'" },
	{ "code table with a code twice",
	  "screening = { code_table = ( { code = \"FALL\"; flags = [ ]; },\n{ code = \"fall\"; flags = [ ]; } ); };",
	  "t.conf:2: screening.code_table: FALL is mapped twice" },
	{ "premise flag without flags", "screening = { premise_flags = ( { flag = \"DOG\"; flags = [ ]; } ); };",
	  "t.conf:1: screening.premise_flags is an empty list; leave it out instead" },
	{ "unknown flag in sharing", "sharing = { flags = [ \"NARRATIVE\" ]; };",
	  "t.conf:1: sharing.flags: unknown flag 'NARRATIVE'" },
};

START_TEST(test_invalid_is_refused_with_line_and_reason)
{
	const struct invalid *iv = &invalid[_i];
	struct pmhc_errlist e = { 0 };
	struct pmhc_rules *r = load_text(iv->text, &e);
	ck_assert_msg(r == NULL, "%s: accepted", iv->name);
	bool found = false;
	for (size_t i = 0; i < e.n && !found; i++)
		found = strstr(e.lines[i], iv->error) != NULL;
	ck_assert_msg(found, "%s: want '%s', got %zu problems, first '%s'", iv->name, iv->error, e.n,
		      e.n ? e.lines[0] : "");
	pmhc_errlist_clear(&e);
}
END_TEST

START_TEST(test_every_problem_is_reported_at_once)
{
	struct pmhc_errlist e = { 0 };
	ck_assert_ptr_null(
		load_text("flowchart = ( { id = \"a\"; all = [ \"X\" ]; response = \"Y\"; dispatch_code = \"\"; },\n"
			  "{ id = \"a\"; none = [ \"MH\" ]; response = \"CIT\"; dispatch_code = \"\"; } );\n"
			  "sharing = { narrative = 1; };\n",
			  &e));
	/* unknown flag, unknown response, duplicate id, last rule conditioned, narrative not a bool */
	ck_assert_uint_eq(e.n, 5);
	pmhc_errlist_clear(&e);
}
END_TEST

START_TEST(test_a_broken_rule_does_not_bury_the_real_error)
{
	/* Its only condition is misspelled: one error, not "the rules after it can never match". */
	struct pmhc_errlist e = { 0 };
	ck_assert_ptr_null(load_text(
		"flowchart = ( { id = \"a\"; source = [ \"999\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
		"{ id = \"b\"; all = [ \"MH\" ]; response = \"CIT\"; dispatch_code = \"X\"; },\n"
		"{ id = \"z\"; response = \"STANDARD\"; dispatch_code = \"\"; } );",
		&e));
	ck_assert_uint_eq(e.n, 1);
	ck_assert_ptr_nonnull(strstr(e.lines[0], "unknown source '999'"));
	pmhc_errlist_clear(&e);
}
END_TEST

START_TEST(test_configured_flowchart_decides)
{
	/* A center that sends every 911 suicide call to mobile crisis, by nature code. */
	struct pmhc_errlist e = { 0 };
	struct pmhc_rules *r = load_text(
		"screening = { aliases = ( { from = \"10-96\"; to = \"SUICIDE\"; } ); };\n"
		"flowchart = ( { id = \"not-mh\"; none = [ \"MH\" ]; response = \"STANDARD\"; dispatch_code = \"\"; },\n"
		"{ id = \"suicide-mct\"; nature = [ \"SUICIDE\" ]; source = [ \"911\", \"TEXT\" ]; none = [ \"WEAPON\" ];\n"
		"  response = \"MOBILE_CRISIS\"; dispatch_code = \"MCT-S\"; },\n"
		"{ id = \"rest\"; response = \"CO_RESPONDER\"; dispatch_code = \"MH-COR\"; } );\n",
		&e);
	ck_assert_msg(r != NULL, "%s", e.n ? e.lines[0] : "");
	Pmhc__V1__CallEvent call = PMHC__V1__CALL_EVENT__INIT;
	Pmhc__V1__Screening sc = PMHC__V1__SCREENING__INIT;
	call.call_id = (char *)"C";
	call.psap_id = (char *)"P";
	call.screening = &sc;
	call.nature_code = (char *)"10-96";
	call.source = PMHC__V1__CALL_SOURCE__SOURCE_911;
	struct pmhc_decision d;
	pmhc_decide(r, &call, &d);
	ck_assert_str_eq(d.rule->id, "suicide-mct");
	ck_assert_str_eq(d.screening.nature_mapped, "SUICIDE");
	sc.weapon_involved = PMHC__V1__ANSWER__ANSWER_YES;
	pmhc_decide(r, &call, &d);
	ck_assert_str_eq(d.rule->id, "rest");
	call.source = PMHC__V1__CALL_SOURCE__SOURCE_ADMIN;
	sc.weapon_involved = PMHC__V1__ANSWER__ANSWER_NO;
	pmhc_decide(r, &call, &d);
	ck_assert_str_eq(d.rule->id, "rest");
	pmhc_rules_free(r);
}
END_TEST

/* ruled_out and unknown in a center's own rules, and a premise flag mapped to route after all. */
START_TEST(test_rule_states_from_the_file)
{
	struct pmhc_errlist e = { 0 };
	struct pmhc_rules *r = load_text(
		"screening = { premise_flags = ( { flag = \"VIOLENCE_HISTORY\"; flags = [ \"HISTORY_VIOLENCE\" ]; } ); };\n"
		"flowchart = ( { id = \"not-mh\"; none = [ \"MH\" ]; response = \"STANDARD\"; dispatch_code = \"\"; },\n"
		"{ id = \"ask-weapon\"; unknown = [ \"WEAPON\" ]; response = \"CO_RESPONDER\"; dispatch_code = \"ASK\"; },\n"
		"{ id = \"safe\"; ruled_out = [ \"WEAPON\", \"VIOLENCE\", \"MEDICAL\" ]; none = [ \"HISTORY_VIOLENCE\" ];\n"
		"  response = \"CALL_DIVERSION\"; dispatch_code = \"DIV\"; },\n"
		"{ id = \"rest\"; response = \"CIT\"; dispatch_code = \"MH-CIT\"; } );\n",
		&e);
	ck_assert_msg(r != NULL, "%s", e.n ? e.lines[0] : "");
	ck_assert(r->rules[1].has_unknown && r->rules[1].unknown == PMHC_BIT(PMHC_F_WEAPON));
	ck_assert(r->rules[2].has_ruled_out);
	struct fixture_call f;
	fixture_call_init(&f);
	f.call.nature_code = (char *)"EDP";
	struct pmhc_decision d;
	pmhc_decide(r, &f.call, &d);
	ck_assert_str_eq(d.rule->id, "ask-weapon");
	fixture_answers(&f, "???N?????N??");
	pmhc_decide(r, &f.call, &d);
	ck_assert_str_eq(d.rule->id, "rest"); /* violence and medical still unknown */
	fixture_answers(&f, "???NN?N???NN");
	pmhc_decide(r, &f.call, &d);
	ck_assert_str_eq(d.rule->id, "safe");
	ck_assert_int_eq(d.rule->response, PMHC__V1__RESPONSE__RESPONSE_CALL_DIVERSION);
	/* This center lets the location's history route: its own choice, and it shows. */
	fixture_premise(&f, "VIOLENCE_HISTORY");
	pmhc_decide(r, &f.call, &d);
	ck_assert_str_eq(d.rule->id, "rest");
	pmhc_rules_free(r);
}
END_TEST

/* The code table: every code known, its flags unless nature_codes maps the code itself. */
START_TEST(test_code_table_and_nature_codes)
{
	struct pmhc_errlist e = { 0 };
	struct pmhc_rules *r = load_text(
		"screening = {\n"
		"  code_table = ( { code = \"BURG\"; flags = [ ]; }, { code = \"WELFARE\"; flags = [ ]; },\n"
		"                 { code = \"MTLV\"; flags = [ \"MH\", \"VIOLENCE\" ]; }, { code = \"edp\"; flags = [ \"MH\" ]; } );\n"
		"  nature_codes = ( { code = \"MTLV\"; flags = [ \"MH\" ]; }, { code = \"10-96X\"; flags = [ ]; } );\n"
		"  aliases = ( { from = \"PSYCH\"; to = \"MNTL\"; } );\n"
		"};\n",
		&e);
	ck_assert_msg(r != NULL, "%s", e.n ? e.lines[0] : "");
	ck_assert_uint_eq(r->n_nature_map, 5); /* MTLV, 10-96X, BURG, WELFARE, EDP */
	ck_assert_uint_eq(pmhc_nature_find(r, "MTLV")->flags, PMHC_BIT(PMHC_F_MH)); /* the center's mapping wins */
	ck_assert_uint_eq(pmhc_nature_find(r, "EDP")->flags, PMHC_BIT(PMHC_F_MH));
	ck_assert(pmhc_nature_known(r, "BURG"));
	ck_assert(pmhc_nature_known(r, "10-96X"));
	ck_assert(pmhc_nature_known(r, "MNTL"));     /* an alias says what it means */
	ck_assert(!pmhc_nature_known(r, "SUICIDE")); /* nature_codes replaced the defaults */
	char *text = pmhc_rules_canonical(r);
	ck_assert_ptr_null(strstr(text, "BURG")); /* known, deciding nothing */
	ck_assert_ptr_nonnull(strstr(text, "nature MTLV MH\n"));
	free(text);
	pmhc_rules_free(r);
}
END_TEST

/* Per-source fallback chains: only for those sources, an empty one means none. */
START_TEST(test_fallbacks_per_source)
{
	struct pmhc_errlist e = { 0 };
	struct pmhc_rules *r = load_text(
		"units = { fallbacks = (\n"
		"  { kind = \"MOBILE_CRISIS\"; then = [ \"CO_RESPONDER\" ]; },\n"
		"  { kind = \"MOBILE_CRISIS\"; source = [ \"988\", \"TEXT\" ]; then = [ ]; },\n"
		"  { kind = \"CIT_OFFICER\"; source = [ \"OFFICER_INITIATED\" ]; then = [ \"PATROL\" ]; } ); };\n",
		&e);
	ck_assert_msg(r != NULL, "%s", e.n ? e.lines[0] : "");
	const int *c = pmhc_fallback_chain(&r->units, PMHC__V1__CALL_SOURCE__SOURCE_911,
					   PMHC__V1__UNIT_KIND__UNIT_MOBILE_CRISIS);
	ck_assert_int_eq(c[0], PMHC__V1__UNIT_KIND__UNIT_CO_RESPONDER);
	c = pmhc_fallback_chain(&r->units, PMHC__V1__CALL_SOURCE__SOURCE_988, PMHC__V1__UNIT_KIND__UNIT_MOBILE_CRISIS);
	ck_assert_int_eq(c[0], 0);
	c = pmhc_fallback_chain(&r->units, PMHC__V1__CALL_SOURCE__SOURCE_TEXT, PMHC__V1__UNIT_KIND__UNIT_MOBILE_CRISIS);
	ck_assert_int_eq(c[0], 0);
	/* A list given replaces every default chain: CIT has none but for officer-initiated calls. */
	c = pmhc_fallback_chain(&r->units, PMHC__V1__CALL_SOURCE__SOURCE_911, PMHC__V1__UNIT_KIND__UNIT_CIT_OFFICER);
	ck_assert_int_eq(c[0], 0);
	c = pmhc_fallback_chain(&r->units, PMHC__V1__CALL_SOURCE__SOURCE_OFFICER_INITIATED,
				PMHC__V1__UNIT_KIND__UNIT_CIT_OFFICER);
	ck_assert_int_eq(c[0], PMHC__V1__UNIT_KIND__UNIT_PATROL);
	char *text = pmhc_rules_canonical(r);
	ck_assert_ptr_nonnull(strstr(text, "fallback MOBILE_CRISIS CO_RESPONDER\n"));
	ck_assert_ptr_nonnull(strstr(text, "fallback MOBILE_CRISIS source=988 -\n"));
	ck_assert_ptr_nonnull(strstr(text, "fallback MOBILE_CRISIS source=TEXT -\n"));
	ck_assert_ptr_nonnull(strstr(text, "fallback CIT_OFFICER source=OFFICER_INITIATED PATROL\n"));
	free(text);
	pmhc_rules_free(r);
}
END_TEST

START_TEST(test_sharing_policy_withholds_everywhere)
{
	struct pmhc_errlist e = { 0 };
	struct pmhc_rules *r = load_text("sharing = { flags = [ \"MH\", \"WEAPON\" ]; narrative = true; };", &e);
	ck_assert_ptr_nonnull(r);
	Pmhc__V1__CallEvent call = PMHC__V1__CALL_EVENT__INIT;
	Pmhc__V1__Screening sc = PMHC__V1__SCREENING__INIT;
	call.call_id = (char *)"C";
	call.psap_id = (char *)"P";
	call.subject_key = (char *)"RMS-1";
	call.narrative = (char *)"caller is the mother";
	call.screening = &sc;
	sc.mental_health_issue = PMHC__V1__ANSWER__ANSWER_YES;
	sc.substance_use = PMHC__V1__ANSWER__ANSWER_YES;
	sc.weapon_involved = PMHC__V1__ANSWER__ANSWER_YES;
	struct pmhc_decision d;
	pmhc_decide(r, &call, &d);
	struct pmhc_rec_scratch s;
	pmhc_recommend(r, &call, &d, NULL, 1, &s);
	ck_assert_uint_eq(s.rec.n_flags, 2);
	ck_assert_str_eq(s.rec.flags[0], "MH");
	ck_assert_str_eq(s.rec.flags[1], "WEAPON");
	for (size_t i = 0; i < s.rec.n_reasons; i++)
		ck_assert_ptr_null(strstr(s.rec.reasons[i], "substance"));
	ck_assert_str_eq(s.rec.reasons[s.rec.n_reasons - 1], "narrative: caller is the mother");
	ck_assert_ptr_null(strstr(s.rec.summary, "substance"));
	/* The subject key has no field in a Recommendation: check the bytes too. */
	uint8_t buf[4096];
	size_t len = pmhc__v1__recommendation__pack(&s.rec, buf);
	ck_assert_ptr_null(memmem(buf, len, "RMS-1", 5));
	/* The decision itself keeps every flag, for the database. */
	ck_assert(d.screening.flags & PMHC_BIT(PMHC_F_SUD));
	pmhc_rules_free(r);
}
END_TEST

Suite *suite_rules_load(void)
{
	Suite *s = suite_create("rules_load");
	TCase *tc = tcase_create("rules_load");
	tcase_add_test(tc, test_shipped_config_is_the_spec_default);
	tcase_add_test(tc, test_layout_and_comments_do_not_change_the_version);
	tcase_add_loop_test(tc, test_invalid_is_refused_with_line_and_reason, 0,
			    (int)(sizeof invalid / sizeof invalid[0]));
	tcase_add_test(tc, test_every_problem_is_reported_at_once);
	tcase_add_test(tc, test_a_broken_rule_does_not_bury_the_real_error);
	tcase_add_test(tc, test_configured_flowchart_decides);
	tcase_add_test(tc, test_rule_states_from_the_file);
	tcase_add_test(tc, test_code_table_and_nature_codes);
	tcase_add_test(tc, test_fallbacks_per_source);
	tcase_add_test(tc, test_sharing_policy_withholds_everywhere);
	suite_add_tcase(s, tc);
	return s;
}
