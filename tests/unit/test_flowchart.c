/*
 * The default flowchart of SPEC section 3, end to end through screening: a table
 * of calls and the flags and rule each must get. Answers are one character per
 * question Q1..Q12: Y yes, N no, ? unknown. The properties the default holds over
 * every answer combination are in test_properties.c.
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
	const char *answers; /* Q1..Q12 */
	const char *premise; /* comma-separated, or NULL */
	const char *flags;   /* expected, comma-separated in flag order */
	const char *rule;
} scenarios[] = {
#define S911 PMHC__V1__CALL_SOURCE__SOURCE_911
#define S988 PMHC__V1__CALL_SOURCE__SOURCE_988
#define SADM PMHC__V1__CALL_SOURCE__SOURCE_ADMIN
#define STXT PMHC__V1__CALL_SOURCE__SOURCE_TEXT
#define SOFF PMHC__V1__CALL_SOURCE__SOURCE_OFFICER_INITIATED
	/* Not mental-health calls. */
	{ "burglary, nothing answered", S911, "BURG", "????????????", NULL, "", "not-mh" },
	{ "all answered no", S911, "DISTURB", "NNNNNNNNNNNN", NULL, "", "not-mh" },
	{ "weapon but not MH", S911, "ASSAULT", "NN?Y????????", NULL, "WEAPON", "not-mh" },
	{ "overdose, not MH", S911, "OD", "NN??????????", NULL, "SUD,MEDICAL", "not-mh" },
	{ "intoxicated person", S911, "INTOX", "????????????", NULL, "SUD", "not-mh" },
	{ "premise MH_HISTORY alone is not MH", S911, "NOISE", "????????????", "MH_HISTORY", "PREMISE_MH", "not-mh" },
	{ "premise violence alone is not MH", S911, "NOISE", "????????????", "VIOLENCE_HISTORY", "PREMISE_VIOLENCE",
	  "not-mh" },
	{ "Q1 unknown is not yes", S911, "WELFARE", "????????????", NULL, "", "not-mh" },
	{ "admin line, medical", SADM, "", "N?????????Y?", NULL, "MEDICAL", "not-mh" },
	{ "attempt alone is not MH", S911, "SICK", "???????????Y", NULL, "SELF_HARM,MEDICAL", "not-mh" },
	/* What makes a call MH. */
	{ "Q1 yes", S911, "WELFARE", "Y???????????", NULL, "MH", "mh-default" },
	{ "Q2 yes", S911, "WELFARE", "?Y??????????", NULL, "MH", "mh-default" },
	{ "Q1 no, Q2 yes", S911, "WELFARE", "NY??????????", NULL, "MH", "mh-default" },
	{ "source 988, nothing asked: co-responder", S988, "", "????????????", NULL, "MH", "mh-default" },
	{ "nature EDP", S911, "EDP", "????????????", NULL, "MH", "mh-default" },
	{ "nature MNTL", S911, "MNTL", "????????????", NULL, "MH", "mh-default" },
	{ "nature lower-case and padded", S911, "  edp ", "????????????", NULL, "MH", "mh-default" },
	{ "nature MTLV raises VIOLENCE", S911, "MTLV", "????????????", NULL, "MH,VIOLENCE", "mh-weapon-violence" },
	{ "nature SUICIDE raises SELF_HARM", S911, "SUICIDE", "????????????", NULL, "MH,SELF_HARM", "mh-self-harm" },
	{ "nature SUICTHRT", S911, "SUICTHRT", "????????????", NULL, "MH,SELF_HARM", "mh-self-harm" },
	/* Medical, weapon and violence. */
	{ "medical and weapon: EMS, CIT and backup", S911, "EDP", "???Y??????Y?", NULL, "MH,WEAPON,MEDICAL",
	  "mh-medical-danger" },
	{ "attempt with a weapon: EMS, CIT and backup", S911, "EDP", "???Y???????Y", NULL,
	  "MH,WEAPON,SELF_HARM,MEDICAL", "mh-medical-danger" },
	{ "OD on an MH call is medical", S911, "OD", "Y???????????", NULL, "MH,SUD,MEDICAL", "mh-medical" },
	{ "weapon", S911, "EDP", "???Y????????", NULL, "MH,WEAPON", "mh-weapon-violence" },
	{ "weapon answered no", S911, "EDP", "???N????????", NULL, "MH", "mh-default" },
	{ "violence in progress", S911, "EDP", "????Y???????", NULL, "MH,VIOLENCE", "mh-weapon-violence" },
	{ "danger to others", S911, "EDP", "??????Y?????", NULL, "MH,VIOLENCE", "mh-weapon-violence" },
	{ "weapon beats history", S911, "EDP", "???Y???Y????", NULL, "MH,WEAPON,HISTORY_VIOLENCE",
	  "mh-weapon-violence" },
	{ "history of violence", S911, "EDP", "???????Y????", NULL, "MH,HISTORY_VIOLENCE", "mh-history-violence" },
	{ "MTLV with every answer no: the code says violence", S911, "MTLV", "Y??NNNNN??NN", NULL, "MH,VIOLENCE",
	  "mh-weapon-violence" },
	/* Premise flags inform; they do not route. */
	{ "premise WEAPONS_HISTORY", S911, "EDP", "????????????", "WEAPONS_HISTORY", "MH,PREMISE_VIOLENCE",
	  "mh-default" },
	{ "premise flag any case", S911, "EDP", "????????????", " violence_history", "MH,PREMISE_VIOLENCE",
	  "mh-default" },
	{ "premise violence on a civilian call: still diverted", S911, "EDP", "Y??NNNNN??NN", "VIOLENCE_HISTORY",
	  "MH,PREMISE_VIOLENCE", "mh-911-diversion" },
	/* 988. */
	{ "history beats 988", S988, "", "???????Y????", NULL, "MH,HISTORY_VIOLENCE", "mh-history-violence" },
	{ "988 suicidal, safety not asked: co-responder", S988, "", "?????Y??????", NULL, "MH,SELF_HARM",
	  "mh-self-harm" },
	{ "988 suicidal, safety ruled out: mobile crisis", S988, "", "???NNYN???NN", NULL, "MH,SELF_HARM", "mh-988" },
	{ "988 self-harm unknown, rest ruled out: mobile crisis", S988, "", "???NN?N???NN", NULL, "MH", "mh-988" },
	{ "988 everything ruled out: stays with the counselor", S988, "", "???NNNN???NN", NULL, "MH",
	  "mh-988-diversion" },
	{ "988 attempt unknown: medical not ruled out", S988, "", "???NNYN???N?", NULL, "MH,SELF_HARM",
	  "mh-self-harm" },
	{ "988 attempt in progress, no weapon or violence: EMS and crisis team", S988, "", "???NN?N????Y", NULL,
	  "MH,SELF_HARM,MEDICAL", "mh-988-medical" },
	{ "988 attempt, history of violence: EMS and CIT", S988, "", "???NN?NY???Y", NULL,
	  "MH,SELF_HARM,HISTORY_VIOLENCE,MEDICAL", "mh-medical" },
	{ "988 attempt, weapon unknown: EMS and CIT", S988, "", "????N?N????Y", NULL, "MH,SELF_HARM,MEDICAL",
	  "mh-medical" },
	{ "988 overdose code, no weapon or violence", S988, "OD", "???NN?N?????", NULL, "MH,SUD,MEDICAL",
	  "mh-988-medical" },
	{ "988 with weapon gets CIT backup", S988, "", "???Y????????", NULL, "MH,WEAPON", "mh-weapon-violence" },
	{ "988 medical, weapon unknown: EMS and CIT", S988, "", "??????????Y?", NULL, "MH,MEDICAL", "mh-medical" },
	{ "988 off meds, victim risk, safety not asked", S988, "", "????????YY??", NULL, "MH,VICTIM_RISK,OFF_MEDS",
	  "mh-default" },
	{ "everything no but 988", S988, "", "NNNNNNNNNNNN", NULL, "MH", "mh-988-diversion" },
	/* 911, text-to-911 and the administrative line. */
	{ "911 all five ruled out: call diversion", S911, "EDP", "Y??NNNNN??NN", NULL, "MH", "mh-911-diversion" },
	{ "text-to-911 all five ruled out", STXT, "", "?Y?NNNNN??NN", NULL, "MH", "mh-911-diversion" },
	{ "admin line all five ruled out", SADM, "MNTL", "???NNNNN??NN", NULL, "MH", "mh-911-diversion" },
	{ "911 danger to self, rest ruled out: mobile crisis", S911, "EDP", "Y??NNYNN??NN", NULL, "MH,SELF_HARM",
	  "mh-911-mobile-crisis" },
	{ "911 history unknown: co-responder", S911, "EDP", "Y??NNNN???NN", NULL, "MH", "mh-default" },
	{ "911 medical, weapon, violence and history ruled out: EMS and crisis team", S911, "EDP", "Y??NN?NN??Y?", NULL,
	  "MH,MEDICAL", "mh-911-medical" },
	{ "911 medical, history unknown: EMS and CIT", S911, "EDP", "Y??NN?N???Y?", NULL, "MH,MEDICAL", "mh-medical" },
	{ "911 self harm: co-responder", S911, "WELFARE", "Y????Y??????", NULL, "MH,SELF_HARM", "mh-self-harm" },
	{ "text line self harm", STXT, "", "?Y???Y??????", NULL, "MH,SELF_HARM", "mh-self-harm" },
	{ "officer-initiated MH", SOFF, "EDP", "????????????", NULL, "MH", "mh-default" },
	{ "officer-initiated, all ruled out: no civilian-only route", SOFF, "EDP", "Y??NNNNN??NN", NULL, "MH",
	  "mh-default" },
	{ "substance use on MH call", S911, "EDP", "??Y?????????", NULL, "MH,SUD", "mh-default" },
	{ "victim risk only", S911, "EDP", "????????Y???", NULL, "MH,VICTIM_RISK", "mh-default" },
	{ "off medication only", S911, "EDP", "?????????Y??", NULL, "MH,OFF_MEDS", "mh-default" },
	{ "premise MH on an MH call", S911, "EDP", "????????????", "MH_HISTORY", "MH,PREMISE_MH", "mh-default" },
	{ "unknown premise flag ignored", S911, "EDP", "????????????", "DOG_ON_PREMISES", "MH", "mh-default" },
	{ "everything yes", S911, "EDP", "YYYYYYYYYYYY", "MH_HISTORY,VIOLENCE_HISTORY",
	  "MH,SUD,WEAPON,VIOLENCE,SELF_HARM,HISTORY_VIOLENCE,VICTIM_RISK,OFF_MEDS,MEDICAL,PREMISE_MH,PREMISE_VIOLENCE",
	  "mh-medical-danger" },
	{ "unknown source number", (Pmhc__V1__CallSource)0, "EDP", "????????????", NULL, "MH", "mh-default" },
	{ "unknown source, all ruled out: no civilian-only route", (Pmhc__V1__CallSource)0, "EDP", "Y??NNNNN??NN", NULL,
	  "MH", "mh-default" },
};

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
	ck_assert_uint_eq(strlen(sc->answers), PMHC_QUESTION_COUNT);
	fixture_answers(&f, sc->answers);
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
		{ "mh-medical-danger", PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT_WITH_BACKUP, "MH-EMSB" },
		{ "mh-weapon-violence", PMHC__V1__RESPONSE__RESPONSE_CIT_WITH_BACKUP, "MH-CITB" },
		{ "mh-988-medical", PMHC__V1__RESPONSE__RESPONSE_EMS_AND_MOBILE_CRISIS, "MH-EMSM" },
		{ "mh-911-medical", PMHC__V1__RESPONSE__RESPONSE_EMS_AND_MOBILE_CRISIS, "MH-EMSM" },
		{ "mh-medical", PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT, "MH-EMS" },
		{ "mh-history-violence", PMHC__V1__RESPONSE__RESPONSE_CIT, "MH-CIT" },
		{ "mh-988-diversion", PMHC__V1__RESPONSE__RESPONSE_CALL_DIVERSION, "MH-DIV" },
		{ "mh-988", PMHC__V1__RESPONSE__RESPONSE_MOBILE_CRISIS, "MH-MCT" },
		{ "mh-911-diversion", PMHC__V1__RESPONSE__RESPONSE_CALL_DIVERSION, "MH-DIV" },
		{ "mh-911-mobile-crisis", PMHC__V1__RESPONSE__RESPONSE_MOBILE_CRISIS, "MH-MCT" },
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
	ck_assert(!pmhc_rule_matches(&rules->rules[7], &facts, why, sizeof why));
	ck_assert_str_eq(why,
			 "ruled_out=[WEAPON,VIOLENCE,SELF_HARM,MEDICAL] but WEAPON,VIOLENCE,SELF_HARM,MEDICAL unknown, "
			 "not ruled out");
	ck_assert(pmhc_rule_matches(&rules->rules[12], &facts, why, sizeof why));
	ck_assert_str_eq(why, "catch-all: always matches");

	/* The answers a dispatcher could still get are said first: unknown, not ruled out. */
	pmhc_flagset w = PMHC_BIT(PMHC_F_WEAPON), v = PMHC_BIT(PMHC_F_VIOLENCE), m = PMHC_BIT(PMHC_F_MEDICAL),
		     sh = PMHC_BIT(PMHC_F_SELF_HARM);
	facts.ruled_out = w | v;
	facts.unknown = m | sh;
	ck_assert(!pmhc_rule_matches(&rules->rules[8], &facts, why, sizeof why));
	ck_assert_str_eq(why, "ruled_out=[WEAPON,VIOLENCE,MEDICAL] but MEDICAL unknown, not ruled out");
	facts.ruled_out = w | v | m | sh;
	facts.unknown = 0;
	ck_assert(!pmhc_rule_matches(&rules->rules[7], &facts, why, sizeof why));
	ck_assert_str_eq(why, "source is 911, not one the rule names");
	facts.flags |= sh;
	facts.ruled_out = w | v | m;
	ck_assert(!pmhc_rule_matches(&rules->rules[7], &facts, why, sizeof why));
	ck_assert_str_eq(why, "ruled_out=[WEAPON,VIOLENCE,SELF_HARM,MEDICAL] but SELF_HARM raised");

	/* A rule that asks for unknown says so when it matches. */
	struct pmhc_rule r = { .id = (char *)"x", .has_unknown = true, .unknown = w };
	facts.unknown = w;
	ck_assert(pmhc_rule_matches(&r, &facts, why, sizeof why));
	ck_assert_str_eq(why, "all parts hold: WEAPON unknown, not ruled out");
	facts.unknown = 0;
	facts.ruled_out = w;
	ck_assert(!pmhc_rule_matches(&r, &facts, why, sizeof why));
	ck_assert_str_eq(why, "unknown=[WEAPON] but WEAPON ruled out");
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
			 "MH-CITB; not asked or unknown: violence in progress, danger to others, medical emergency, "
			 "attempt in progress.");

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
	/* Medical not asked: a civilian-only response is not possible yet, and the summary says what is missing. */
	ck_assert_str_eq(summary,
			 "988 mental-health call (danger to self): send a co-responder team (officer and "
			 "clinician), code MH-COR; not asked or unknown: medical emergency, attempt in progress.");
	f.screening.medical_emergency = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.attempt_in_progress = PMHC__V1__ANSWER__ANSWER_NO;
	pmhc_decide(rules, &f.call, &d988);
	pmhc_decision_summary(&d988, NULL, PMHC_ALL_FLAGS, summary, sizeof summary);
	ck_assert_str_eq(
		summary,
		"988 mental-health call (danger to self): send a mobile crisis team, not police, code MH-MCT.");
	f.screening.danger_to_self = PMHC__V1__ANSWER__ANSWER_NO;
	pmhc_decide(rules, &f.call, &d988);
	pmhc_decision_summary(&d988, NULL, PMHC_ALL_FLAGS, summary, sizeof summary);
	ck_assert_str_eq(summary, "988 mental-health call: keep the caller with the 988 crisis counselor on the phone, "
				  "no unit, code MH-DIV.");

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

/* The summary says plainly what stands in for a civilian unit, and what is missing. */
START_TEST(test_summary_of_units)
{
	struct fixture_call f;
	fixture_call_init(&f);
	f.call.source = PMHC__V1__CALL_SOURCE__SOURCE_988;
	fixture_answers(&f, "???NNYN???NN");
	struct pmhc_decision d;
	pmhc_decide(rules, &f.call, &d);
	ck_assert_str_eq(d.rule->id, "mh-988");
	char summary[512];
	struct pmhc_choice none = { .n = 1, .picks = { { PMHC__V1__UNIT_KIND__UNIT_MOBILE_CRISIS, 0, NULL } } };
	pmhc_decision_summary(&d, &none, PMHC_ALL_FLAGS, summary, sizeof summary);
	ck_assert_str_eq(summary,
			 "988 mental-health call (danger to self): send a mobile crisis team, not police, code "
			 "MH-MCT; no mobile crisis team free — request one.");
	struct pmhc_choice cor = { .n = 1,
				   .picks = { { PMHC__V1__UNIT_KIND__UNIT_MOBILE_CRISIS,
						PMHC__V1__UNIT_KIND__UNIT_CO_RESPONDER, "COR-2" } } };
	pmhc_decision_summary(&d, &cor, PMHC_ALL_FLAGS, summary, sizeof summary);
	ck_assert_str_eq(summary,
			 "988 mental-health call (danger to self): send a mobile crisis team, not police, code "
			 "MH-MCT; no mobile crisis team free — co-responder team COR-2 instead, so an officer "
			 "goes with the clinician.");
	/* A center that chains a crisis team to patrol hears that it is police. */
	struct pmhc_choice patrol = { .n = 1,
				      .picks = { { PMHC__V1__UNIT_KIND__UNIT_MOBILE_CRISIS,
						   PMHC__V1__UNIT_KIND__UNIT_PATROL, "P-40" } } };
	pmhc_decision_summary(&d, &patrol, PMHC_ALL_FLAGS, summary, sizeof summary);
	ck_assert_ptr_nonnull(
		strstr(summary, "no mobile crisis team free — patrol unit P-40 instead, which is police."));

	/* Medical with a weapon: EMS, a CIT officer and patrol as backup. */
	fixture_call_init(&f);
	f.call.nature_code = (char *)"EDP";
	fixture_answers(&f, "???Y???????Y");
	pmhc_decide(rules, &f.call, &d);
	ck_assert_str_eq(d.rule->id, "mh-medical-danger");
	struct pmhc_choice three = {
		.n = 3,
		.picks = { { PMHC__V1__UNIT_KIND__UNIT_EMS, 0, NULL },
			   { PMHC__V1__UNIT_KIND__UNIT_CIT_OFFICER, PMHC__V1__UNIT_KIND__UNIT_CIT_OFFICER, "CIT-3" },
			   { PMHC__V1__UNIT_KIND__UNIT_PATROL, PMHC__V1__UNIT_KIND__UNIT_PATROL, "P-21" } }
	};
	pmhc_decision_summary(&d, &three, PMHC_ALL_FLAGS, summary, sizeof summary);
	ck_assert_str_eq(summary,
			 "Mental-health call (weapon reported, danger to self, medical emergency): send EMS and a "
			 "CIT officer with patrol backup, code MH-EMSB; no EMS unit free — request EMS; CIT "
			 "officer CIT-3; patrol unit P-21 as backup; not asked or unknown: violence in progress, "
			 "danger to others.");

	/* A 911 call that stays on the phone. */
	fixture_call_init(&f);
	f.call.nature_code = (char *)"EDP";
	fixture_answers(&f, "Y??NNNNN??NN");
	pmhc_decide(rules, &f.call, &d);
	struct pmhc_choice empty = { .n = 0 };
	pmhc_decision_summary(&d, &empty, PMHC_ALL_FLAGS, summary, sizeof summary);
	ck_assert_str_eq(summary, "Mental-health call: keep the caller on the phone with a crisis counselor (911 "
				  "telecounselor or warm transfer to 988), no unit, code MH-DIV.");
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
	tcase_add_test(tc, test_summary_of_units);
	tcase_add_test(tc, test_alias_maps_center_code);
	suite_add_tcase(s, tc);
	return s;
}
