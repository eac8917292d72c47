/*
 * The properties the DEFAULT flowchart must hold (docs/spec.md section 3), checked
 * over many calls: every combination of the answers that route (Q2, Q4-Q8, Q11,
 * Q12) from every source, and tens of thousands of random calls from a fixed-seed
 * PRNG over all twelve answers, every source, nature codes and premise flags.
 *
 *  1. A civilian-only response (mobile crisis, call diversion) only when weapon,
 *     violence and medical are each ruled out; and any response without police
 *     (EMS and a mobile crisis team too) only when weapon and violence are.
 *  2. A 988 call with weapon, violence and medical ruled out and no history of
 *     violence from the caller: mobile crisis or call diversion.
 *  3. A 911 mental-health call with weapon, violence, medical, self-harm and
 *     history of violence all ruled out: call diversion or mobile crisis.
 *  4. Medical raised (an attempt in progress included) on a mental-health call:
 *     a response that includes EMS. (A call that is not a mental-health call is
 *     STANDARD: the CAD's own protocols, EMD among them, send EMS.)
 *  5. Weapon or violence raised on a mental-health call: a CIT officer with patrol
 *     backup (with EMS as well when medical is raised).
 *  6. A premise flag alone never changes the response.
 *  7. Unknown is never treated as no: (a) answering any unanswered question NO
 *     never gives a response with more police, more EMS or more people on scene
 *     than leaving it unanswered; (b) a response without police needs weapon and
 *     violence ruled out and medical raised or ruled out, never unknown; off 988
 *     (where property 2 takes the caller's word) the history of violence ruled out
 *     too; and call diversion, where nobody goes, self-harm ruled out as well.
 * Each property must also have been put to the test often enough to mean something.
 */
#include <stdio.h>
#include <string.h>

#include "decide.h"
#include "fixture.h"
#include "suites.h"

#define R(x) PMHC__V1__RESPONSE__RESPONSE_##x
#define SRC(x) PMHC__V1__CALL_SOURCE__SOURCE_##x
#define F(x) PMHC_BIT(PMHC_F_##x)

static struct pmhc_rules *rules;
static unsigned long tested[8];
static char violation[512];

static void setup(void)
{
	rules = pmhc_rules_default();
	ck_assert_ptr_nonnull(rules);
}

static void teardown(void)
{
	pmhc_rules_free(rules);
}

/* splitmix64: small, fast, and the same sequence on every machine. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rng() % n);
}

/* What a response sends: police (0 none, 1 officer with clinician, 2 officer, 3 with backup), EMS, anyone. */
struct level {
	int police, ems, on_scene;
};

static struct level level_of(int response)
{
	switch (response) {
	case R(CALL_DIVERSION): return (struct level){ 0, 0, 0 };
	case R(MOBILE_CRISIS): return (struct level){ 0, 0, 1 };
	case R(EMS_AND_MOBILE_CRISIS): return (struct level){ 0, 1, 1 };
	case R(CO_RESPONDER): return (struct level){ 1, 0, 1 };
	case R(CIT): return (struct level){ 2, 0, 1 };
	case R(EMS_AND_CIT): return (struct level){ 2, 1, 1 };
	case R(CIT_WITH_BACKUP): return (struct level){ 3, 0, 1 };
	case R(EMS_AND_CIT_WITH_BACKUP): return (struct level){ 3, 1, 1 };
	default: return (struct level){ -1, -1, -1 }; /* STANDARD: compared only with itself */
	}
}

static bool has_ems(int response)
{
	return response == R(EMS_AND_CIT) || response == R(EMS_AND_MOBILE_CRISIS) ||
	       response == R(EMS_AND_CIT_WITH_BACKUP);
}

static bool civilian_only(int response)
{
	return response == R(MOBILE_CRISIS) || response == R(CALL_DIVERSION);
}

/* The call in a line, for a failure message: source, nature, answers, premise flags. */
static const char *describe(const struct fixture_call *f, char *buf, size_t len)
{
	char answers[PMHC_QUESTION_COUNT + 1];
	for (int q = 0; q < PMHC_QUESTION_COUNT; q++) {
		Pmhc__V1__Answer a = pmhc_answer(&f->call, (enum pmhc_question)q);
		answers[q] = a == PMHC__V1__ANSWER__ANSWER_YES ? 'Y' : a == PMHC__V1__ANSWER__ANSWER_NO ? 'N' : '?';
	}
	answers[PMHC_QUESTION_COUNT] = '\0';
	int n = snprintf(buf, len, "source %s nature '%s' answers %s premise", pmhc_source_name((int)f->call.source),
			 f->call.nature_code, answers);
	for (size_t i = 0; i < f->call.n_premise_flags && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - (size_t)n, " %s", f->call.premise_flags[i]);
	return buf;
}

/* Checks every property on one call (and its variants); 0, or the number of the property it breaks. */
#define EXPECT(p, cond, ...)                                                                                           \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			snprintf(violation, sizeof violation, __VA_ARGS__);                                            \
			return p;                                                                                      \
		}                                                                                                      \
	} while (0)

static int check_call(const struct pmhc_rules *rules_used, struct fixture_call *f)
{
	char what[256];
	struct pmhc_decision d;
	pmhc_decide(rules_used, &f->call, &d);
	const struct pmhc_screening *s = &d.screening;
	int resp = d.rule->response;
	bool mh = s->flags & F(MH);
	pmhc_flagset wvm = F(WEAPON) | F(VIOLENCE) | F(MEDICAL);

	/* 1 */
	if (level_of(resp).police == 0) {
		tested[1]++;
		EXPECT(1, (s->ruled_out & (F(WEAPON) | F(VIOLENCE))) == (F(WEAPON) | F(VIOLENCE)),
		       "property 1: %s → %s (%s): no police without weapon and violence ruled out",
		       describe(f, what, sizeof what), pmhc_response_name(resp), d.rule->id);
	}
	if (civilian_only(resp)) {
		EXPECT(1, (s->ruled_out & wvm) == wvm,
		       "property 1: %s → %s (%s) without weapon, violence, medical ruled out",
		       describe(f, what, sizeof what), pmhc_response_name(resp), d.rule->id);
	}
	/* 2 */
	if (f->call.source == SRC(988) && (s->ruled_out & wvm) == wvm && !(s->flags & F(HISTORY_VIOLENCE))) {
		tested[2]++;
		EXPECT(2, civilian_only(resp), "property 2: %s → %s (%s)", describe(f, what, sizeof what),
		       pmhc_response_name(resp), d.rule->id);
	}
	/* 3 */
	pmhc_flagset five = wvm | F(SELF_HARM) | F(HISTORY_VIOLENCE);
	if (f->call.source == SRC(911) && mh && (s->ruled_out & five) == five) {
		tested[3]++;
		EXPECT(3, civilian_only(resp), "property 3: %s → %s (%s)", describe(f, what, sizeof what),
		       pmhc_response_name(resp), d.rule->id);
	}
	/* Not MH: STANDARD, always. */
	if (!mh)
		EXPECT(4, resp == R(STANDARD), "not MH but %s: %s", pmhc_response_name(resp),
		       describe(f, what, sizeof what));
	/* 4 */
	if (mh && (s->flags & F(MEDICAL))) {
		tested[4]++;
		EXPECT(4, has_ems(resp), "property 4: %s → %s (%s)", describe(f, what, sizeof what),
		       pmhc_response_name(resp), d.rule->id);
	}
	/* 5 */
	if (mh && (s->flags & (F(WEAPON) | F(VIOLENCE)))) {
		tested[5]++;
		int want = s->flags & F(MEDICAL) ? R(EMS_AND_CIT_WITH_BACKUP) : R(CIT_WITH_BACKUP);
		EXPECT(5, resp == want, "property 5: %s → %s (%s), want %s", describe(f, what, sizeof what),
		       pmhc_response_name(resp), d.rule->id, pmhc_response_name(want));
	}
	/* 6 */
	if (f->call.n_premise_flags > 0) {
		size_t n = f->call.n_premise_flags;
		f->call.n_premise_flags = 0;
		struct pmhc_decision bare;
		pmhc_decide(rules_used, &f->call, &bare);
		f->call.n_premise_flags = n;
		tested[6]++;
		EXPECT(6, bare.rule->response == resp, "property 6: %s → %s, without its premise flags → %s",
		       describe(f, what, sizeof what), pmhc_response_name(resp),
		       pmhc_response_name(bare.rule->response));
	}
	/* 7b */
	if (level_of(resp).police == 0) {
		pmhc_flagset need = F(WEAPON) | F(VIOLENCE);
		if (f->call.source != SRC(988))
			need |= F(HISTORY_VIOLENCE);
		if (resp == R(CALL_DIVERSION))
			need |= F(SELF_HARM);
		tested[7]++;
		EXPECT(7, (s->ruled_out & need) == need && !(s->unknown & F(MEDICAL)),
		       "property 7: %s → %s (%s) with a flag it needs unknown", describe(f, what, sizeof what),
		       pmhc_response_name(resp), d.rule->id);
	}
	/* 7a */
	struct level here = level_of(resp);
	for (int q = 0; q < PMHC_QUESTION_COUNT; q++) {
		Pmhc__V1__Answer *a = fixture_answer(f, (enum pmhc_question)q);
		if (*a != PMHC__V1__ANSWER__ANSWER_UNKNOWN)
			continue;
		*a = PMHC__V1__ANSWER__ANSWER_NO;
		struct pmhc_decision no;
		pmhc_decide(rules_used, &f->call, &no);
		*a = PMHC__V1__ANSWER__ANSWER_UNKNOWN;
		struct level there = level_of(no.rule->response);
		tested[7]++;
		EXPECT(7, (resp == R(STANDARD)) == (no.rule->response == R(STANDARD)),
		       "property 7: Q%d no changes whether %s is a mental-health call", q + 1,
		       describe(f, what, sizeof what));
		EXPECT(7, here.police >= there.police && here.ems >= there.ems && here.on_scene >= there.on_scene,
		       "property 7: %s → %s (%s), but with Q%d answered no → %s (%s): unknown sends less than no",
		       describe(f, what, sizeof what), pmhc_response_name(resp), d.rule->id, q + 1,
		       pmhc_response_name(no.rule->response), no.rule->id);
	}
	return 0;
}

static const char *const natures[] = { "",         "EDP", "MNTL",  "MTLV",    "SUICIDE",
				       "SUICTHRT", "OD",  "INTOX", "WELFARE", "BURG" };
static const char *const premises[] = { "MH_HISTORY", "VIOLENCE_HISTORY", "WEAPONS_HISTORY", "DOG_ON_PREMISES" };

static void random_call(struct fixture_call *f)
{
	fixture_call_init(f);
	f->call.source = (Pmhc__V1__CallSource)pick(PMHC_SOURCE_COUNT);
	f->call.nature_code = (char *)natures[pick(sizeof natures / sizeof natures[0])];
	/* Half the calls lean to NO, so that the civilian routes are reached often. */
	unsigned no_bias = pick(2) ? 80 : 33;
	for (int q = 0; q < PMHC_QUESTION_COUNT; q++) {
		unsigned r = pick(100);
		*fixture_answer(f, (enum pmhc_question)q) = r < no_bias ? PMHC__V1__ANSWER__ANSWER_NO
							    : r < no_bias + (100 - no_bias) / 2
								    ? PMHC__V1__ANSWER__ANSWER_UNKNOWN
								    : PMHC__V1__ANSWER__ANSWER_YES;
	}
	for (size_t i = 0; i < sizeof premises / sizeof premises[0]; i++)
		if (pick(4) == 0)
			fixture_premise(f, premises[i]);
}

START_TEST(test_random_calls)
{
	memset(tested, 0, sizeof tested);
	rng_state = 20251123;
	enum { CALLS = 50000 };
	for (int i = 0; i < CALLS; i++) {
		struct fixture_call f;
		random_call(&f);
		ck_assert_msg(check_call(rules, &f) == 0, "%s", violation);
	}
	/* Each property was really put to the test. */
	for (int p = 1; p <= 7; p++)
		ck_assert_msg(tested[p] >= 100, "property %d was tested only %lu times in %d calls", p, tested[p],
			      CALLS);
}
END_TEST

/* Every combination of the answers that route, from every source, with and without premise flags. */
START_TEST(test_every_routing_combination)
{
	memset(tested, 0, sizeof tested);
	static const enum pmhc_question routing[] = {
		PMHC_Q_ABOUT_MENTAL_STATE, PMHC_Q_WEAPON_INVOLVED,     PMHC_Q_VIOLENCE_IN_PROGRESS,
		PMHC_Q_DANGER_TO_SELF,     PMHC_Q_DANGER_TO_OTHERS,    PMHC_Q_HISTORY_OF_VIOLENCE,
		PMHC_Q_MEDICAL_EMERGENCY,  PMHC_Q_ATTEMPT_IN_PROGRESS,
	};
	enum { N = sizeof routing / sizeof routing[0] };
	static const Pmhc__V1__Answer values[3] = { PMHC__V1__ANSWER__ANSWER_UNKNOWN, PMHC__V1__ANSWER__ANSWER_NO,
						    PMHC__V1__ANSWER__ANSWER_YES };
	unsigned long calls = 0;
	for (int src = 0; src < PMHC_SOURCE_COUNT; src++) {
		for (int combo = 0; combo < 6561; combo++) { /* 3^8 */
			struct fixture_call f;
			fixture_call_init(&f);
			f.call.source = (Pmhc__V1__CallSource)src;
			f.call.nature_code = (char *)"";
			int c = combo;
			for (int i = 0; i < N; i++, c /= 3)
				*fixture_answer(&f, routing[i]) = values[c % 3];
			/* The premise flags cycle with the combination, so each meets every answer. */
			if (combo % 3 == 1)
				fixture_premise(&f, "VIOLENCE_HISTORY");
			if (combo % 5 == 2) {
				fixture_premise(&f, "WEAPONS_HISTORY");
				fixture_premise(&f, "MH_HISTORY");
			}
			ck_assert_msg(check_call(rules, &f) == 0, "%s", violation);
			calls++;
		}
	}
	ck_assert_uint_eq(calls, 6 * 6561);
	/* Exhaustive: property 3 has exactly one combination here (Q2 yes makes the call MH). */
	for (int p = 1; p <= 7; p++)
		ck_assert_msg(tested[p] >= 1, "property %d was never tested", p);
}
END_TEST

/* The first property random calls find broken under rules_used; 0 when none in 20,000 calls. */
static int first_violation(const struct pmhc_rules *rules_used)
{
	rng_state = 7;
	for (int i = 0; i < 20000; i++) {
		struct fixture_call f;
		random_call(&f);
		int p = check_call(rules_used, &f);
		if (p != 0)
			return p;
	}
	return 0;
}

static struct pmhc_rule *rule_named(struct pmhc_rules *r, const char *id)
{
	for (size_t i = 0; i < r->n_rules; i++)
		if (strcmp(r->rules[i].id, id) == 0)
			return &r->rules[i];
	ck_abort_msg("no rule %s", id);
	return NULL;
}

/* The checker itself: a flowchart that breaks a property must be caught, by that property. */
START_TEST(test_checker_catches_bad_flowcharts)
{
	ck_assert_int_eq(first_violation(rules), 0);

	/* The old mh-988: a mobile crisis team for any 988 call, asked or not. */
	struct pmhc_rule *r = rule_named(rules, "mh-988");
	r->has_ruled_out = false;
	r->ruled_out = 0;
	ck_assert_int_eq(first_violation(rules), 1);
	pmhc_rules_free(rules);

	/* The old order: medical first, EMS and one CIT officer even with a weapon. */
	rules = pmhc_rules_default();
	rule_named(rules, "mh-medical-danger")->response = R(EMS_AND_CIT);
	ck_assert_int_eq(first_violation(rules), 5);
	pmhc_rules_free(rules);

	/* The old premise mapping: a location's violence history routing the call. */
	rules = pmhc_rules_default();
	for (size_t i = 0; i < rules->n_premise_map; i++)
		if (rules->premise_map[i].flags == F(PREMISE_VIOLENCE))
			rules->premise_map[i].flags = F(HISTORY_VIOLENCE);
	ck_assert_int_eq(first_violation(rules), 6);
	pmhc_rules_free(rules);

	/* Medical unknown taken for no on 911: weapon and violence ruled out send no one. */
	rules = pmhc_rules_default();
	r = rule_named(rules, "mh-911-diversion");
	r->ruled_out &= (pmhc_flagset)~F(MEDICAL);
	ck_assert_int_eq(first_violation(rules), 1);
	pmhc_rules_free(rules);

	/* A 911 call with every safety question answered no still getting police. */
	rules = pmhc_rules_default();
	rule_named(rules, "mh-911-diversion")->response = R(CO_RESPONDER);
	rule_named(rules, "mh-911-mobile-crisis")->response = R(CO_RESPONDER);
	ck_assert_int_eq(first_violation(rules), 3);
	pmhc_rules_free(rules);

	/* A 988 caller with weapon, violence and medical ruled out still getting police. */
	rules = pmhc_rules_default();
	rule_named(rules, "mh-988")->response = R(CO_RESPONDER);
	ck_assert_int_eq(first_violation(rules), 2);
	pmhc_rules_free(rules);

	/* Unknown history on 911 treated as no: a crisis team where a NO would send one too. */
	rules = pmhc_rules_default();
	r = rule_named(rules, "mh-911-medical");
	r->ruled_out &= (pmhc_flagset)~F(HISTORY_VIOLENCE);
	rule_named(rules, "mh-medical")->response = R(EMS_AND_MOBILE_CRISIS);
	ck_assert_int_eq(first_violation(rules), 1);
	pmhc_rules_free(rules);

	/* History unknown on 911 taken for no: diversion where only a NO allows it. */
	rules = pmhc_rules_default();
	rule_named(rules, "mh-911-diversion")->ruled_out &= (pmhc_flagset)~F(HISTORY_VIOLENCE);
	rule_named(rules, "mh-911-mobile-crisis")->ruled_out &= (pmhc_flagset)~F(HISTORY_VIOLENCE);
	rule_named(rules, "mh-self-harm")->response = R(CIT);
	rule_named(rules, "mh-default")->response = R(CIT);
	ck_assert_int_eq(first_violation(rules), 7);
	/* teardown frees the last */
}
END_TEST

Suite *suite_properties(void)
{
	Suite *s = suite_create("properties");
	TCase *tc = tcase_create("default flowchart");
	tcase_set_timeout(tc, 110);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_random_calls);
	tcase_add_test(tc, test_every_routing_combination);
	tcase_add_test(tc, test_checker_catches_bad_flowcharts);
	suite_add_tcase(s, tc);
	return s;
}
