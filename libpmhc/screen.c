#include "screen.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define F(x) PMHC_BIT(PMHC_F_##x)

static const struct {
	const char *words;  /* what a YES means, in a dispatcher's words */
	const char *topic;  /* what the question is about, for "unknown: ..." */
	pmhc_flagset flags; /* what a YES raises */
} questions[PMHC_QUESTION_COUNT] = {
	[PMHC_Q_MENTAL_HEALTH_ISSUE] = { "person has mental health issues", "mental health issues", F(MH) },
	[PMHC_Q_ABOUT_MENTAL_STATE] = { "call is about the person's mental state", "mental state", F(MH) },
	[PMHC_Q_SUBSTANCE_USE] = { "substance use", "substance use", F(SUD) },
	[PMHC_Q_WEAPON_INVOLVED] = { "weapon reported", "weapon", F(WEAPON) },
	[PMHC_Q_VIOLENCE_IN_PROGRESS] = { "violence in progress", "violence in progress", F(VIOLENCE) },
	[PMHC_Q_DANGER_TO_SELF] = { "danger to self", "danger to self", F(SELF_HARM) },
	[PMHC_Q_DANGER_TO_OTHERS] = { "danger to others", "danger to others", F(VIOLENCE) },
	[PMHC_Q_HISTORY_OF_VIOLENCE] = { "history of violence", "history of violence", F(HISTORY_VIOLENCE) },
	[PMHC_Q_AT_RISK_OF_VICTIMIZATION] = { "at risk of victimization", "risk of victimization", F(VICTIM_RISK) },
	[PMHC_Q_OFF_MEDICATION] = { "off medication", "medication", F(OFF_MEDS) },
	[PMHC_Q_MEDICAL_EMERGENCY] = { "medical emergency", "medical emergency", F(MEDICAL) },
	[PMHC_Q_ATTEMPT_IN_PROGRESS] = { "already harmed themselves or taken something", "attempt in progress",
					 F(SELF_HARM) | F(MEDICAL) },
};

void pmhc_answers_text(const Pmhc__V1__CallEvent *call, char out[PMHC_QUESTION_COUNT + 1])
{
	for (int q = 0; q < PMHC_QUESTION_COUNT; q++) {
		Pmhc__V1__Answer a = pmhc_answer(call, (enum pmhc_question)q);
		out[q] = a == PMHC__V1__ANSWER__ANSWER_YES ? 'Y' : a == PMHC__V1__ANSWER__ANSWER_NO ? 'N' : '?';
	}
	out[PMHC_QUESTION_COUNT] = '\0';
}

const char *pmhc_question_text(enum pmhc_question q)
{
	return (unsigned)q < PMHC_QUESTION_COUNT ? questions[q].words : "?";
}

const char *pmhc_question_topic(enum pmhc_question q)
{
	return (unsigned)q < PMHC_QUESTION_COUNT ? questions[q].topic : "?";
}

pmhc_flagset pmhc_question_flags(enum pmhc_question q)
{
	return (unsigned)q < PMHC_QUESTION_COUNT ? questions[q].flags : 0;
}

uint32_t pmhc_flag_questions(enum pmhc_flag flag)
{
	uint32_t qs = 0;
	for (int q = 0; q < PMHC_QUESTION_COUNT; q++)
		if ((unsigned)flag < PMHC_FLAG_COUNT && (questions[q].flags & PMHC_BIT(flag)))
			qs |= 1u << q;
	return qs;
}

pmhc_flagset pmhc_questioned_flags(void)
{
	pmhc_flagset set = 0;
	for (int q = 0; q < PMHC_QUESTION_COUNT; q++)
		set |= questions[q].flags;
	return set;
}

enum pmhc_flag_state pmhc_flag_state(const struct pmhc_screening *s, enum pmhc_flag flag)
{
	if (s->flags & PMHC_BIT(flag))
		return PMHC_STATE_RAISED;
	if (s->ruled_out & PMHC_BIT(flag))
		return PMHC_STATE_RULED_OUT;
	if (s->unknown & PMHC_BIT(flag))
		return PMHC_STATE_UNKNOWN;
	return PMHC_STATE_NOT_RAISED;
}

const char *pmhc_flag_state_words(enum pmhc_flag_state state)
{
	switch (state) {
	case PMHC_STATE_RAISED: return "raised";
	case PMHC_STATE_RULED_OUT: return "ruled out";
	case PMHC_STATE_UNKNOWN: return "unknown, not ruled out";
	case PMHC_STATE_NOT_RAISED: break;
	}
	return "not raised";
}

Pmhc__V1__Answer pmhc_answer(const Pmhc__V1__CallEvent *call, enum pmhc_question q)
{
	const Pmhc__V1__Screening *s = call->screening;
	if (s == NULL)
		return PMHC__V1__ANSWER__ANSWER_UNKNOWN;
	switch (q) {
	case PMHC_Q_MENTAL_HEALTH_ISSUE: return s->mental_health_issue;
	case PMHC_Q_ABOUT_MENTAL_STATE: return s->about_mental_state;
	case PMHC_Q_SUBSTANCE_USE: return s->substance_use;
	case PMHC_Q_WEAPON_INVOLVED: return s->weapon_involved;
	case PMHC_Q_VIOLENCE_IN_PROGRESS: return s->violence_in_progress;
	case PMHC_Q_DANGER_TO_SELF: return s->danger_to_self;
	case PMHC_Q_DANGER_TO_OTHERS: return s->danger_to_others;
	case PMHC_Q_HISTORY_OF_VIOLENCE: return s->history_of_violence;
	case PMHC_Q_AT_RISK_OF_VICTIMIZATION: return s->at_risk_of_victimization;
	case PMHC_Q_OFF_MEDICATION: return s->off_medication;
	case PMHC_Q_MEDICAL_EMERGENCY: return s->medical_emergency;
	case PMHC_Q_ATTEMPT_IN_PROGRESS: return s->attempt_in_progress;
	case PMHC_QUESTION_COUNT: break;
	}
	return PMHC__V1__ANSWER__ANSWER_UNKNOWN;
}

static void add(struct pmhc_screening *out, enum pmhc_reason_kind kind, enum pmhc_flag flag, unsigned detail)
{
	if (kind != PMHC_WHY_UNANSWERED)
		out->flags |= PMHC_BIT(flag);
	if (out->n_reasons < PMHC_REASONS_MAX)
		out->reasons[out->n_reasons++] = (struct pmhc_reason){ kind, flag, detail };
}

static void add_all(struct pmhc_screening *out, enum pmhc_reason_kind kind, pmhc_flagset flags, unsigned detail)
{
	for (int f = 0; f < PMHC_FLAG_COUNT; f++)
		if (flags & PMHC_BIT(f))
			add(out, kind, (enum pmhc_flag)f, detail);
}

static const struct pmhc_code_map *find_map(const struct pmhc_code_map *map, size_t n, const char *code)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(map[i].code, code) == 0)
			return &map[i];
	return NULL;
}

/*
 * Questions whose silence a responder must hear about, and the flag whose state it
 * leaves open: unknown is not no. The medical two decide whether EMS goes and
 * whether a civilian-only response is possible at all.
 */
static const struct {
	enum pmhc_question q;
	enum pmhc_flag flag;
} safety_questions[] = {
	{ PMHC_Q_WEAPON_INVOLVED, PMHC_F_WEAPON },      { PMHC_Q_VIOLENCE_IN_PROGRESS, PMHC_F_VIOLENCE },
	{ PMHC_Q_DANGER_TO_OTHERS, PMHC_F_VIOLENCE },   { PMHC_Q_MEDICAL_EMERGENCY, PMHC_F_MEDICAL },
	{ PMHC_Q_ATTEMPT_IN_PROGRESS, PMHC_F_MEDICAL },
};

void pmhc_screen(const struct pmhc_rules *rules, const Pmhc__V1__CallEvent *call, struct pmhc_screening *out)
{
	out->flags = 0;
	out->ruled_out = 0;
	out->unknown = 0;
	out->nature_known = false;
	out->n_reasons = 0;

	pmhc_flagset answered_no_only = pmhc_questioned_flags();
	for (int q = 0; q < PMHC_QUESTION_COUNT; q++) {
		Pmhc__V1__Answer a = pmhc_answer(call, (enum pmhc_question)q);
		if (a == PMHC__V1__ANSWER__ANSWER_YES)
			add_all(out, PMHC_WHY_ANSWER_YES, questions[q].flags, (unsigned)q);
		if (a != PMHC__V1__ANSWER__ANSWER_NO)
			answered_no_only &= (pmhc_flagset)~questions[q].flags;
	}

	if (call->source == PMHC__V1__CALL_SOURCE__SOURCE_988)
		add(out, PMHC_WHY_SOURCE_988, PMHC_F_MH, 0);

	if (pmhc_code_normalize(call->nature_code ? call->nature_code : "", out->nature_mapped,
				sizeof out->nature_mapped) == 0) {
		for (size_t i = 0; i < rules->n_aliases; i++) {
			if (strcmp(rules->aliases[i].from, out->nature_mapped) == 0) {
				/* Aliases were normalized and length-checked at load. */
				strcpy(out->nature_mapped, rules->aliases[i].to);
				break;
			}
		}
		const struct pmhc_code_map *m = pmhc_nature_find(rules, out->nature_mapped);
		if (m != NULL)
			add_all(out, PMHC_WHY_NATURE_CODE, m->flags, 0);
		out->nature_known = pmhc_nature_known(rules, out->nature_mapped);
	}

	for (size_t i = 0; i < call->n_premise_flags; i++) {
		char code[PMHC_CODE_MAX];
		if (pmhc_code_normalize(call->premise_flags[i], code, sizeof code) != 0)
			continue;
		const struct pmhc_code_map *m = find_map(rules->premise_map, rules->n_premise_map, code);
		/* The loader refuses MH here; mask it anyway, a premise alone is never an MH call. */
		if (m != NULL)
			add_all(out, PMHC_WHY_PREMISE_FLAG, m->flags & (pmhc_flagset)~PMHC_BIT(PMHC_F_MH), (unsigned)i);
	}

	/* Raised wins over the answers: a nature code or premise flag says more than a NO. */
	out->ruled_out = answered_no_only & (pmhc_flagset)~out->flags;
	out->unknown = pmhc_questioned_flags() & (pmhc_flagset)~out->flags & (pmhc_flagset)~out->ruled_out;

	if (out->flags & PMHC_BIT(PMHC_F_MH)) {
		for (size_t i = 0; i < sizeof safety_questions / sizeof safety_questions[0]; i++) {
			enum pmhc_question q = safety_questions[i].q;
			/* A flag raised some other way already says more than the silence. */
			if (pmhc_answer(call, q) == PMHC__V1__ANSWER__ANSWER_UNKNOWN &&
			    !(out->flags & PMHC_BIT(safety_questions[i].flag)))
				add(out, PMHC_WHY_UNANSWERED, safety_questions[i].flag, (unsigned)q);
		}
	}
}

#undef F

int pmhc_reason_format(const struct pmhc_reason *r, const struct pmhc_screening *s, const Pmhc__V1__CallEvent *call,
		       char *buf, size_t len)
{
	switch (r->kind) {
	case PMHC_WHY_ANSWER_YES:
		return snprintf(buf, len, "Q%u answered yes: %s", r->detail + 1,
				pmhc_question_text((enum pmhc_question)r->detail));
	case PMHC_WHY_SOURCE_988: return snprintf(buf, len, "call came in on 988: mental-health call");
	case PMHC_WHY_NATURE_CODE:
		return snprintf(buf, len, "nature code %s: %s", s->nature_mapped, pmhc_flag_words(r->flag));
	case PMHC_WHY_PREMISE_FLAG:
		return snprintf(buf, len, "premise flag %s: %s",
				r->detail < call->n_premise_flags ? call->premise_flags[r->detail] : "?",
				pmhc_flag_words(r->flag));
	case PMHC_WHY_UNANSWERED:
		return snprintf(buf, len, "Q%u not answered: %s unknown, not ruled out", r->detail + 1,
				pmhc_question_topic((enum pmhc_question)r->detail));
	}
	return snprintf(buf, len, "?");
}
