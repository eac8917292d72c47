/*
 * The default flowchart of SPEC section 3, end to end through screening: a table
 * of calls and the flags and rule each must get. Answers are one character per
 * question Q1..Q11: Y yes, N no, ? unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "fixture.h"
#include "suites.h"

static struct pmhc_rules *rules;

static void setup(void)
{
	rules = pmhc_rules_default();
	ck_assert_ptr_nonnull(rules);
}

static void teardown(void)
{
	pmhc_rules_free(rules);
}

static const struct scenario {
	const char *name;
	Pmhc__V1__CallSource source;
	const char *nature;
	const char *answers;	/* Q1..Q11 */
	const char *premise;	/* comma-separated, or NULL */
	const char *flags;	/* expected, comma-separated in flag order */
	const char *rule;
} scenarios[] = {
#define S911 PMHC__V1__CALL_SOURCE__SOURCE_911
#define S988 PMHC__V1__CALL_SOURCE__SOURCE_988
#define SADM PMHC__V1__CALL_SOURCE__SOURCE_ADMIN
#define STXT PMHC__V1__CALL_SOURCE__SOURCE_TEXT
#define SOFF PMHC__V1__CALL_SOURCE__SOURCE_OFFICER_INITIATED
	/* Not mental-health calls. */
	{ "burglary, nothing answered", S911, "BURG", "???????????", NULL, "", "not-mh" },
	{ "all answered no", S911, "DISTURB", "NNNNNNNNNNN", NULL, "", "not-mh" },
	{ "weapon but not MH", S911, "ASSAULT", "NN?Y???????", NULL, "WEAPON", "not-mh" },
	{ "overdose, not MH", S911, "OD", "NN?????????", NULL, "SUD,MEDICAL", "not-mh" },
	{ "intoxicated person", S911, "INTOX", "???????????", NULL, "SUD", "not-mh" },
	{ "premise MH_HISTORY alone is not MH", S911, "NOISE", "???????????", "MH_HISTORY", "PREMISE_MH", "not-mh" },
	{ "premise violence alone is not MH", S911, "NOISE", "???????????", "VIOLENCE_HISTORY", "HISTORY_VIOLENCE", "not-mh" },
	{ "Q1 unknown is not yes", S911, "WELFARE", "???????????", NULL, "", "not-mh" },
	{ "admin line, medical", SADM, "", "N?????????Y", NULL, "MEDICAL", "not-mh" },
	/* What makes a call MH. */
	{ "Q1 yes", S911, "WELFARE", "Y??????????", NULL, "MH", "mh-default" },
	{ "Q2 yes", S911, "WELFARE", "?Y?????????", NULL, "MH", "mh-default" },
	{ "Q1 no, Q2 yes", S911, "WELFARE", "NY?????????", NULL, "MH", "mh-default" },
	{ "source 988", S988, "", "???????????", NULL, "MH", "mh-988" },
	{ "nature EDP", S911, "EDP", "???????????", NULL, "MH", "mh-default" },
	{ "nature MNTL", S911, "MNTL", "???????????", NULL, "MH", "mh-default" },
	{ "nature lower-case and padded", S911, "  edp ", "???????????", NULL, "MH", "mh-default" },
	{ "nature MTLV raises VIOLENCE", S911, "MTLV", "???????????", NULL, "MH,VIOLENCE", "mh-weapon-violence" },
	{ "nature SUICIDE raises SELF_HARM", S911, "SUICIDE", "???????????", NULL, "MH,SELF_HARM", "mh-self-harm" },
	{ "nature SUICTHRT", S911, "SUICTHRT", "???????????", NULL, "MH,SELF_HARM", "mh-self-harm" },
	/* Rule order. */
	{ "medical beats weapon", S911, "EDP", "???Y??????Y", NULL, "MH,WEAPON,MEDICAL", "mh-medical" },
	{ "OD on an MH call is medical", S911, "OD", "Y??????????", NULL, "MH,SUD,MEDICAL", "mh-medical" },
	{ "weapon", S911, "EDP", "???Y???????", NULL, "MH,WEAPON", "mh-weapon-violence" },
	{ "weapon answered no", S911, "EDP", "???N???????", NULL, "MH", "mh-default" },
	{ "violence in progress", S911, "EDP", "????Y??????", NULL, "MH,VIOLENCE", "mh-weapon-violence" },
	{ "danger to others", S911, "EDP", "??????Y????", NULL, "MH,VIOLENCE", "mh-weapon-violence" },
	{ "weapon beats history", S911, "EDP", "???Y???Y???", NULL, "MH,WEAPON,HISTORY_VIOLENCE", "mh-weapon-violence" },
	{ "history of violence", S911, "EDP", "???????Y???", NULL, "MH,HISTORY_VIOLENCE", "mh-history-violence" },
	{ "premise WEAPONS_HISTORY", S911, "EDP", "???????????", "WEAPONS_HISTORY", "MH,HISTORY_VIOLENCE", "mh-history-violence" },
	{ "premise flag any case", S911, "EDP", "???????????", " violence_history", "MH,HISTORY_VIOLENCE", "mh-history-violence" },
	{ "history beats 988", S988, "", "???????Y???", NULL, "MH,HISTORY_VIOLENCE", "mh-history-violence" },
	{ "988 suicidal gets mobile crisis", S988, "", "?????Y?????", NULL, "MH,SELF_HARM", "mh-988" },
	{ "988 with weapon gets CIT backup", S988, "", "???Y???????", NULL, "MH,WEAPON", "mh-weapon-violence" },
	{ "988 medical gets EMS", S988, "", "??????????Y", NULL, "MH,MEDICAL", "mh-medical" },
	{ "988 off meds, victim risk", S988, "", "????????YY?", NULL, "MH,VICTIM_RISK,OFF_MEDS", "mh-988" },
	{ "911 self harm: co-responder", S911, "WELFARE", "Y????Y?????", NULL, "MH,SELF_HARM", "mh-self-harm" },
	{ "text line self harm", STXT, "", "?Y???Y?????", NULL, "MH,SELF_HARM", "mh-self-harm" },
	{ "officer-initiated MH", SOFF, "EDP", "???????????", NULL, "MH", "mh-default" },
	{ "substance use on MH call", S911, "EDP", "??Y????????", NULL, "MH,SUD", "mh-default" },
	{ "victim risk only", S911, "EDP", "????????Y??", NULL, "MH,VICTIM_RISK", "mh-default" },
	{ "off medication only", S911, "EDP", "?????????Y?", NULL, "MH,OFF_MEDS", "mh-default" },
	{ "premise MH on an MH call", S911, "EDP", "???????????", "MH_HISTORY", "MH,PREMISE_MH", "mh-default" },
	{ "unknown premise flag ignored", S911, "EDP", "???????????", "DOG_ON_PREMISES", "MH", "mh-default" },
	{ "everything yes", S911, "EDP", "YYYYYYYYYYY", "MH_HISTORY,VIOLENCE_HISTORY",
	  "MH,SUD,WEAPON,VIOLENCE,SELF_HARM,HISTORY_VIOLENCE,VICTIM_RISK,OFF_MEDS,MEDICAL,PREMISE_MH", "mh-medical" },
	{ "everything no but 988", S988, "", "NNNNNNNNNNN", NULL, "MH", "mh-988" },
	{ "unknown source number", (Pmhc__V1__CallSource)0, "EDP", "???????????", NULL, "MH", "mh-default" },
};

static Pmhc__V1__Answer answer_of(char c)
{
	return c == 'Y' ? PMHC__V1__ANSWER__ANSWER_YES
	     : c == 'N' ? PMHC__V1__ANSWER__ANSWER_NO
			: PMHC__V1__ANSWER__ANSWER_UNKNOWN;
}

static void flags_text(pmhc_flagset set, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int f = 0; f < PMHC_FLAG_COUNT; f++) {
		if (set & PMHC_BIT(f)) {
			if (buf[0])
				strncat(buf, ",", len - strlen(buf) - 1);
			strncat(buf, pmhc_flag_name((enum pmhc_flag)f), len - strlen(buf) - 1);
		}
	}
}

START_TEST(test_scenario)
{
	const struct scenario *sc = &scenarios[_i];
	struct fixture_call f;
	fixture_call_init(&f);
	f.call.source = sc->source;
	f.call.nature_code = (char *)sc->nature;
	Pmhc__V1__Answer *a[] = {
		&f.screening.mental_health_issue, &f.screening.about_mental_state, &f.screening.substance_use,
		&f.screening.weapon_involved, &f.screening.violence_in_progress, &f.screening.danger_to_self,
		&f.screening.danger_to_others, &f.screening.history_of_violence,
		&f.screening.at_risk_of_victimization, &f.screening.off_medication,
		&f.screening.medical_emergency,
	};
	ck_assert_uint_eq(strlen(sc->answers), 11);
	for (int q = 0; q < 11; q++)
		*a[q] = answer_of(sc->answers[q]);
	char premise_buf[128];
	if (sc->premise) {
		snprintf(premise_buf, sizeof premise_buf, "%s", sc->premise);
		for (char *tok = strtok(premise_buf, ","); tok; tok = strtok(NULL, ","))
			fixture_premise(&f, tok);
	}

	struct pmhc_decision d;
	pmhc_decide(rules, &f.call, &d);
	char got[256];
	flags_text(d.screening.flags, got, sizeof got);
	ck_assert_msg(strcmp(got, sc->flags) == 0, "%s: flags %s, want %s", sc->name, got, sc->flags);
	ck_assert_msg(strcmp(d.rule->id, sc->rule) == 0, "%s: rule %s, want %s", sc->name, d.rule->id, sc->rule);
	ck_assert_int_eq(d.mental_health_call,
			 strncmp(sc->flags, "MH", 2) == 0 && (sc->flags[2] == ',' || sc->flags[2] == '\0'));
}
END_TEST

START_TEST(test_no_screening_at_all)
{
	Pmhc__V1__CallEvent call = PMHC__V1__CALL_EVENT__INIT;
	call.call_id = (char *)"C";
	call.psap_id = (char *)"P";
	call.nature_code = (char *)"EDP";
	struct pmhc_decision d;
	pmhc_decide(rules, &call, &d);
	ck_assert_uint_eq(d.screening.flags, PMHC_BIT(PMHC_F_MH));
	ck_assert_str_eq(d.rule->id, "mh-default");
}
END_TEST

START_TEST(test_responses_and_codes)
{
	static const struct {
		const char *rule;
		int response;
		const char *code;
	} want[] = {
		{ "not-mh", PMHC__V1__RESPONSE__RESPONSE_STANDARD, "" },
		{ "mh-medical", PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT, "MH-EMS" },
		{ "mh-weapon-violence", PMHC__V1__RESPONSE__RESPONSE_CIT_WITH_BACKUP, "MH-CITB" },
		{ "mh-history-violence", PMHC__V1__RESPONSE__RESPONSE_CIT, "MH-CIT" },
		{ "mh-988", PMHC__V1__RESPONSE__RESPONSE_MOBILE_CRISIS, "MH-MCT" },
		{ "mh-self-harm", PMHC__V1__RESPONSE__RESPONSE_CO_RESPONDER, "MH-COR" },
		{ "mh-default", PMHC__V1__RESPONSE__RESPONSE_CO_RESPONDER, "MH-COR" },
	};
	ck_assert_uint_eq(rules->n_rules, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < rules->n_rules; i++) {
		ck_assert_str_eq(rules->rules[i].id, want[i].rule);
		ck_assert_int_eq(rules->rules[i].response, want[i].response);
		ck_assert_str_eq(rules->rules[i].dispatch_code, want[i].code);
	}
	ck_assert(pmhc_rule_is_catch_all(&rules->rules[rules->n_rules - 1]));
}
END_TEST

START_TEST(test_explain_says_why)
{
	struct pmhc_facts facts = { .flags = PMHC_BIT(PMHC_F_MH), .source = 1, .nature_mapped = "EDP" };
	char why[200];
	ck_assert(!pmhc_rule_matches(&rules->rules[0], &facts, why, sizeof why));
	ck_assert_str_eq(why, "none=[MH] but MH holds");
	ck_assert(!pmhc_rule_matches(&rules->rules[1], &facts, why, sizeof why));
	ck_assert_str_eq(why, "all=[MEDICAL] but MEDICAL missing");
	ck_assert(!pmhc_rule_matches(&rules->rules[2], &facts, why, sizeof why));
	ck_assert_str_eq(why, "any=[WEAPON,VIOLENCE] but none of them holds");
	ck_assert(!pmhc_rule_matches(&rules->rules[4], &facts, why, sizeof why));
	ck_assert_str_eq(why, "source is 911, not one the rule names");
	ck_assert(pmhc_rule_matches(&rules->rules[6], &facts, why, sizeof why));
	ck_assert_str_eq(why, "catch-all: always matches");
}
END_TEST

START_TEST(test_summary_and_reasons)
{
	struct fixture_call f;
	fixture_call_init(&f);
	f.call.nature_code = (char *)"EDP";
	f.screening.about_mental_state = PMHC__V1__ANSWER__ANSWER_YES;
	f.screening.weapon_involved = PMHC__V1__ANSWER__ANSWER_YES;
	struct pmhc_decision d;
	pmhc_decide(rules, &f.call, &d);
	char summary[512];
	pmhc_decision_summary(&d, NULL, PMHC_ALL_FLAGS, summary, sizeof summary);
	ck_assert_str_eq(summary,
			 "Mental-health call (weapon reported): send a CIT officer with patrol backup, code "
			 "MH-CITB; not asked or unknown: violence in progress, danger to others.");

	/* A flag the policy withholds must not leak through the summary. */
	pmhc_decision_summary(&d, NULL, PMHC_ALL_FLAGS & (pmhc_flagset)~PMHC_BIT(PMHC_F_WEAPON), summary,
			      sizeof summary);
	ck_assert_ptr_null(strstr(summary, "weapon"));

	/* A 988 caller hears it named: that is why no police are sent. */
	f.call.source = PMHC__V1__CALL_SOURCE__SOURCE_988;
	f.screening.weapon_involved = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.violence_in_progress = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.danger_to_others = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.danger_to_self = PMHC__V1__ANSWER__ANSWER_YES;
	struct pmhc_decision d988;
	pmhc_decide(rules, &f.call, &d988);
	pmhc_decision_summary(&d988, NULL, PMHC_ALL_FLAGS, summary, sizeof summary);
	ck_assert_str_eq(summary, "988 mental-health call (danger to self): send a mobile crisis team, not police, code MH-MCT.");

	char text[200];
	bool saw_q2 = false;
	for (size_t i = 0; i < d.screening.n_reasons; i++) {
		pmhc_reason_format(&d.screening.reasons[i], &d.screening, &f.call, text, sizeof text);
		if (strcmp(text, "Q2 answered yes: call is about the person's mental state") == 0)
			saw_q2 = true;
	}
	ck_assert(saw_q2);
}
END_TEST

START_TEST(test_alias_maps_center_code)
{
	rules->aliases = calloc(1, sizeof *rules->aliases);
	rules->aliases[0].from = strdup("10-96");
	rules->aliases[0].to = strdup("EDP");
	rules->n_aliases = 1;
	struct fixture_call f;
	fixture_call_init(&f);
	f.call.nature_code = (char *)" 10-96";
	struct pmhc_decision d;
	pmhc_decide(rules, &f.call, &d);
	ck_assert_str_eq(d.screening.nature_mapped, "EDP");
	ck_assert_uint_eq(d.screening.flags, PMHC_BIT(PMHC_F_MH));
}
END_TEST

Suite *suite_flowchart(void)
{
	Suite *s = suite_create("flowchart");
	TCase *tc = tcase_create("default");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_scenario, 0, (int)(sizeof scenarios / sizeof scenarios[0]));
	tcase_add_test(tc, test_no_screening_at_all);
	tcase_add_test(tc, test_responses_and_codes);
	tcase_add_test(tc, test_explain_says_why);
	tcase_add_test(tc, test_summary_and_reasons);
	tcase_add_test(tc, test_alias_maps_center_code);
	suite_add_tcase(s, tc);
	return s;
}
