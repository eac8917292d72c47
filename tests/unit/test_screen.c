/* Screening details the flowchart table does not show: reasons and unknowns. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "screen.h"
#include "suites.h"

static struct pmhc_rules *rules;

static void setup(void)
{
	rules = pmhc_rules_default();
}

static void teardown(void)
{
	pmhc_rules_free(rules);
}

static size_t count_kind(const struct pmhc_screening *s, enum pmhc_reason_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_reasons; i++)
		n += s->reasons[i].kind == kind;
	return n;
}

START_TEST(test_unknown_safety_questions_are_reported_on_mh_calls)
{
	struct fixture_call f;
	fixture_call_init(&f);
	f.screening.mental_health_issue = PMHC__V1__ANSWER__ANSWER_YES;
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	/* Weapon, violence in progress, danger to others, medical emergency, attempt in progress. */
	ck_assert_uint_eq(count_kind(&s, PMHC_WHY_UNANSWERED), 5);
	/* An unanswered question raises no flag. */
	ck_assert_uint_eq(s.flags, PMHC_BIT(PMHC_F_MH));

	f.screening.weapon_involved = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.violence_in_progress = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.danger_to_others = PMHC__V1__ANSWER__ANSWER_NO;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(count_kind(&s, PMHC_WHY_UNANSWERED), 2);
	f.screening.medical_emergency = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.attempt_in_progress = PMHC__V1__ANSWER__ANSWER_NO;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(count_kind(&s, PMHC_WHY_UNANSWERED), 0);
}
END_TEST

START_TEST(test_unknown_not_reported_when_flag_holds_anyway)
{
	/* MTLV raises VIOLENCE: "violence unknown" beside it would only confuse. */
	struct fixture_call f;
	fixture_call_init(&f);
	f.call.nature_code = (char *)"MTLV";
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(count_kind(&s, PMHC_WHY_UNANSWERED), 3);
	for (size_t i = 0; i < s.n_reasons; i++)
		if (s.reasons[i].kind == PMHC_WHY_UNANSWERED)
			ck_assert(s.reasons[i].detail == PMHC_Q_WEAPON_INVOLVED ||
				  s.reasons[i].detail == PMHC_Q_MEDICAL_EMERGENCY ||
				  s.reasons[i].detail == PMHC_Q_ATTEMPT_IN_PROGRESS);
	/* OD raises MEDICAL: the medical questions' silence is no longer news. */
	f.call.nature_code = (char *)"OD";
	f.screening.mental_health_issue = PMHC__V1__ANSWER__ANSWER_YES;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(count_kind(&s, PMHC_WHY_UNANSWERED), 3); /* weapon, violence, danger to others */
}
END_TEST

START_TEST(test_no_unknown_noise_on_calls_that_are_not_mh)
{
	struct fixture_call f;
	fixture_call_init(&f);
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(s.n_reasons, 0);
}
END_TEST

START_TEST(test_reason_texts)
{
	struct fixture_call f;
	fixture_call_init(&f);
	f.call.source = PMHC__V1__CALL_SOURCE__SOURCE_988;
	f.call.nature_code = (char *)"suicide";
	f.screening.weapon_involved = PMHC__V1__ANSWER__ANSWER_YES;
	f.screening.violence_in_progress = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.danger_to_others = PMHC__V1__ANSWER__ANSWER_NO;
	f.screening.attempt_in_progress = PMHC__V1__ANSWER__ANSWER_YES;
	fixture_premise(&f, "weapons_history");
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);

	static const char *const want[] = {
		"Q4 answered yes: weapon reported",
		"Q12 answered yes: already harmed themselves or taken something",
		"Q12 answered yes: already harmed themselves or taken something",
		"call came in on 988: mental-health call",
		"nature code SUICIDE: mental-health call",
		"nature code SUICIDE: danger to self",
		"premise flag weapons_history: violence or weapons history at this location",
	};
	ck_assert_uint_eq(s.n_reasons, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < s.n_reasons; i++) {
		char text[200];
		pmhc_reason_format(&s.reasons[i], &s, &f.call, text, sizeof text);
		ck_assert_str_eq(text, want[i]);
	}
	/* The attempt's two reasons stand behind its two flags. */
	ck_assert_int_eq(s.reasons[1].flag, PMHC_F_SELF_HARM);
	ck_assert_int_eq(s.reasons[2].flag, PMHC_F_MEDICAL);
}
END_TEST

/* The state of each flag a question stands behind, after one set of answers. */
START_TEST(test_three_states)
{
	struct fixture_call f;
	fixture_call_init(&f);
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	/* Nothing answered: every questioned flag is unknown, the premise flags are only not raised. */
	ck_assert_uint_eq(s.unknown, pmhc_questioned_flags());
	ck_assert_uint_eq(s.ruled_out, 0);
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_PREMISE_MH), PMHC_STATE_NOT_RAISED);
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_PREMISE_VIOLENCE), PMHC_STATE_NOT_RAISED);

	/* VIOLENCE has two questions: one NO is not enough to rule it out. */
	f.screening.violence_in_progress = PMHC__V1__ANSWER__ANSWER_NO;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_VIOLENCE), PMHC_STATE_UNKNOWN);
	f.screening.danger_to_others = PMHC__V1__ANSWER__ANSWER_NO;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_VIOLENCE), PMHC_STATE_RULED_OUT);

	/* MEDICAL stands on Q11 and Q12; so does SELF_HARM on Q6 and Q12. */
	f.screening.medical_emergency = PMHC__V1__ANSWER__ANSWER_NO;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_MEDICAL), PMHC_STATE_UNKNOWN);
	f.screening.attempt_in_progress = PMHC__V1__ANSWER__ANSWER_NO;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_MEDICAL), PMHC_STATE_RULED_OUT);
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_SELF_HARM), PMHC_STATE_UNKNOWN);
	f.screening.danger_to_self = PMHC__V1__ANSWER__ANSWER_NO;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_SELF_HARM), PMHC_STATE_RULED_OUT);

	/* An attempt in progress raises both, and neither is then ruled out. */
	f.screening.attempt_in_progress = PMHC__V1__ANSWER__ANSWER_YES;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_SELF_HARM), PMHC_STATE_RAISED);
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_MEDICAL), PMHC_STATE_RAISED);

	/* Raised some other way wins over a NO: the nature code MTLV says violence. */
	f.call.nature_code = (char *)"MTLV";
	pmhc_screen(rules, &f.call, &s);
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_VIOLENCE), PMHC_STATE_RAISED);
	ck_assert_uint_eq(s.flags & (s.ruled_out | s.unknown), 0);
	ck_assert_uint_eq(s.ruled_out & s.unknown, 0);

	/* No screening message at all: everything is unknown, nothing is no. */
	f.call.screening = NULL;
	f.call.nature_code = (char *)"EDP";
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(s.ruled_out, 0);
	ck_assert_uint_eq(s.unknown, pmhc_questioned_flags() & (pmhc_flagset)~PMHC_BIT(PMHC_F_MH));
	ck_assert_str_eq(pmhc_flag_state_words(PMHC_STATE_UNKNOWN), "unknown, not ruled out");
}
END_TEST

START_TEST(test_questions_behind_flags)
{
	ck_assert_uint_eq(pmhc_flag_questions(PMHC_F_MEDICAL),
			  (1u << PMHC_Q_MEDICAL_EMERGENCY) | (1u << PMHC_Q_ATTEMPT_IN_PROGRESS));
	ck_assert_uint_eq(pmhc_flag_questions(PMHC_F_SELF_HARM),
			  (1u << PMHC_Q_DANGER_TO_SELF) | (1u << PMHC_Q_ATTEMPT_IN_PROGRESS));
	ck_assert_uint_eq(pmhc_flag_questions(PMHC_F_VIOLENCE),
			  (1u << PMHC_Q_VIOLENCE_IN_PROGRESS) | (1u << PMHC_Q_DANGER_TO_OTHERS));
	ck_assert_uint_eq(pmhc_flag_questions(PMHC_F_PREMISE_MH), 0);
	ck_assert_uint_eq(pmhc_flag_questions(PMHC_F_PREMISE_VIOLENCE), 0);
	ck_assert_uint_eq(pmhc_questioned_flags(),
			  PMHC_ALL_FLAGS &
				  (pmhc_flagset) ~(PMHC_BIT(PMHC_F_PREMISE_MH) | PMHC_BIT(PMHC_F_PREMISE_VIOLENCE)));
	ck_assert_uint_eq(pmhc_question_flags(PMHC_Q_ATTEMPT_IN_PROGRESS),
			  PMHC_BIT(PMHC_F_SELF_HARM) | PMHC_BIT(PMHC_F_MEDICAL));
	ck_assert_str_eq(pmhc_question_topic(PMHC_Q_ATTEMPT_IN_PROGRESS), "attempt in progress");
}
END_TEST

START_TEST(test_premise_history_informs_only)
{
	struct fixture_call f;
	fixture_call_init(&f);
	f.screening.history_of_violence = PMHC__V1__ANSWER__ANSWER_NO;
	fixture_premise(&f, "VIOLENCE_HISTORY");
	fixture_premise(&f, "WEAPONS_HISTORY");
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(s.flags, PMHC_BIT(PMHC_F_PREMISE_VIOLENCE));
	/* The caller said no: the location's history does not change that. */
	ck_assert_int_eq(pmhc_flag_state(&s, PMHC_F_HISTORY_VIOLENCE), PMHC_STATE_RULED_OUT);
}
END_TEST

START_TEST(test_nature_known)
{
	struct fixture_call f;
	fixture_call_init(&f);
	struct pmhc_screening s;
	f.call.nature_code = (char *)" od ";
	pmhc_screen(rules, &f.call, &s);
	ck_assert(s.nature_known);
	f.call.nature_code = (char *)"BURG"; /* not in the built-in map, and no code table */
	pmhc_screen(rules, &f.call, &s);
	ck_assert(!s.nature_known);
	f.call.nature_code = (char *)"";
	pmhc_screen(rules, &f.call, &s);
	ck_assert(!s.nature_known);
	ck_assert(!pmhc_nature_known(rules, ""));

	/* An alias target is known even when no map names it: the center said what it means. */
	rules->aliases = calloc(1, sizeof *rules->aliases);
	rules->aliases[0].from = strdup("10-31");
	rules->aliases[0].to = strdup("BURG");
	rules->n_aliases = 1;
	f.call.nature_code = (char *)"10-31";
	pmhc_screen(rules, &f.call, &s);
	ck_assert_str_eq(s.nature_mapped, "BURG");
	ck_assert(s.nature_known);
	ck_assert(pmhc_nature_known(rules, "BURG"));
	ck_assert(!pmhc_nature_known(rules, "10-31")); /* mapped codes only: the alias already applied */
}
END_TEST

START_TEST(test_overlong_nature_code_matches_nothing)
{
	struct fixture_call f;
	fixture_call_init(&f);
	char code[200];
	memset(code, 'E', sizeof code - 1);
	code[sizeof code - 1] = '\0';
	f.call.nature_code = code;
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(s.flags, 0);
	ck_assert_str_eq(s.nature_mapped, "");
}
END_TEST

START_TEST(test_premise_map_can_never_raise_mh)
{
	/* Even a rule set that slipped MH into a premise mapping must not make an MH call. */
	rules->premise_map[0].flags |= PMHC_BIT(PMHC_F_MH);
	struct fixture_call f;
	fixture_call_init(&f);
	fixture_premise(&f, rules->premise_map[0].code);
	struct pmhc_screening s;
	pmhc_screen(rules, &f.call, &s);
	ck_assert_uint_eq(s.flags & PMHC_BIT(PMHC_F_MH), 0);
}
END_TEST

Suite *suite_screen(void)
{
	Suite *s = suite_create("screen");
	TCase *tc = tcase_create("screen");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unknown_safety_questions_are_reported_on_mh_calls);
	tcase_add_test(tc, test_unknown_not_reported_when_flag_holds_anyway);
	tcase_add_test(tc, test_no_unknown_noise_on_calls_that_are_not_mh);
	tcase_add_test(tc, test_reason_texts);
	tcase_add_test(tc, test_three_states);
	tcase_add_test(tc, test_questions_behind_flags);
	tcase_add_test(tc, test_premise_history_informs_only);
	tcase_add_test(tc, test_nature_known);
	tcase_add_test(tc, test_overlong_nature_code_matches_nothing);
	tcase_add_test(tc, test_premise_map_can_never_raise_mh);
	suite_add_tcase(s, tc);
	return s;
}
