#include "screen.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *words;	/* what a YES means, in a dispatcher's words */
	const char *topic;	/* what the question is about, for "unknown: ..." */
	enum pmhc_flag flag;
} questions[PMHC_QUESTION_COUNT] = {
	[PMHC_Q_MENTAL_HEALTH_ISSUE] = { "person has mental health issues", "mental health issues", PMHC_F_MH },
	[PMHC_Q_ABOUT_MENTAL_STATE] = { "call is about the person's mental state", "mental state", PMHC_F_MH },
	[PMHC_Q_SUBSTANCE_USE] = { "substance use", "substance use", PMHC_F_SUD },
	[PMHC_Q_WEAPON_INVOLVED] = { "weapon reported", "weapon", PMHC_F_WEAPON },
	[PMHC_Q_VIOLENCE_IN_PROGRESS] = { "violence in progress", "violence in progress", PMHC_F_VIOLENCE },
	[PMHC_Q_DANGER_TO_SELF] = { "danger to self", "danger to self", PMHC_F_SELF_HARM },
	[PMHC_Q_DANGER_TO_OTHERS] = { "danger to others", "danger to others", PMHC_F_VIOLENCE },
	[PMHC_Q_HISTORY_OF_VIOLENCE] = { "history of violence", "history of violence", PMHC_F_HISTORY_VIOLENCE },
	[PMHC_Q_AT_RISK_OF_VICTIMIZATION] = { "at risk of victimization", "risk of victimization", PMHC_F_VICTIM_RISK },
	[PMHC_Q_OFF_MEDICATION] = { "off medication", "medication", PMHC_F_OFF_MEDS },
	[PMHC_Q_MEDICAL_EMERGENCY] = { "medical emergency", "medical emergency", PMHC_F_MEDICAL },
};

const char *pmhc_question_text(enum pmhc_question q)
{
	return (unsigned)q < PMHC_QUESTION_COUNT ? questions[q].words : "?";
}

const char *pmhc_question_topic(enum pmhc_question q)
{
	return (unsigned)q < PMHC_QUESTION_COUNT ? questions[q].topic : "?";
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
	case PMHC_QUESTION_COUNT: break;
	}
	return PMHC__V1__ANSWER__ANSWER_UNKNOWN;
}

static void add(struct pmhc_screening *out, enum pmhc_reason_kind kind, enum pmhc_flag flag,
		unsigned detail)
{
	if (kind != PMHC_WHY_UNANSWERED)
		out->flags |= PMHC_BIT(flag);
	if (out->n_reasons < PMHC_REASONS_MAX)
		out->reasons[out->n_reasons++] = (struct pmhc_reason){ kind, flag, detail };
}

static void add_all(struct pmhc_screening *out, enum pmhc_reason_kind kind, pmhc_flagset flags,
		    unsigned detail)
{
	for (int f = 0; f < PMHC_FLAG_COUNT; f++)
		if (flags & PMHC_BIT(f))
			add(out, kind, (enum pmhc_flag)f, detail);
}

static const struct pmhc_code_map *find_map(const struct pmhc_code_map *map, size_t n,
					    const char *code)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(map[i].code, code) == 0)
			return &map[i];
	return NULL;
}

/* Questions whose silence a responder must hear about: unknown is not no. */
static const enum pmhc_question safety_questions[] = {
	PMHC_Q_WEAPON_INVOLVED,
	PMHC_Q_VIOLENCE_IN_PROGRESS,
	PMHC_Q_DANGER_TO_OTHERS,
};

void pmhc_screen(const struct pmhc_rules *rules, const Pmhc__V1__CallEvent *call,
		 struct pmhc_screening *out)
{
	out->flags = 0;
	out->n_reasons = 0;

	for (int q = 0; q < PMHC_QUESTION_COUNT; q++)
		if (pmhc_answer(call, (enum pmhc_question)q) == PMHC__V1__ANSWER__ANSWER_YES)
			add(out, PMHC_WHY_ANSWER_YES, questions[q].flag, (unsigned)q);

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
		const struct pmhc_code_map *m =
			find_map(rules->nature_map, rules->n_nature_map, out->nature_mapped);
		if (m != NULL)
			add_all(out, PMHC_WHY_NATURE_CODE, m->flags, 0);
	}

	for (size_t i = 0; i < call->n_premise_flags; i++) {
		char code[PMHC_CODE_MAX];
		if (pmhc_code_normalize(call->premise_flags[i], code, sizeof code) != 0)
			continue;
		const struct pmhc_code_map *m = find_map(rules->premise_map, rules->n_premise_map, code);
		/* The loader refuses MH here; mask it anyway, a premise alone is never an MH call. */
		if (m != NULL)
			add_all(out, PMHC_WHY_PREMISE_FLAG, m->flags & (pmhc_flagset)~PMHC_BIT(PMHC_F_MH),
				(unsigned)i);
	}

	if (out->flags & PMHC_BIT(PMHC_F_MH)) {
		for (size_t i = 0; i < sizeof safety_questions / sizeof safety_questions[0]; i++) {
			enum pmhc_question q = safety_questions[i];
			/* A flag raised some other way already says more than the silence. */
			if (pmhc_answer(call, q) == PMHC__V1__ANSWER__ANSWER_UNKNOWN &&
			    !(out->flags & PMHC_BIT(questions[q].flag)))
				add(out, PMHC_WHY_UNANSWERED, questions[q].flag, (unsigned)q);
		}
	}
}

int pmhc_reason_format(const struct pmhc_reason *r, const struct pmhc_screening *s,
		       const Pmhc__V1__CallEvent *call, char *buf, size_t len)
{
	switch (r->kind) {
	case PMHC_WHY_ANSWER_YES:
		return snprintf(buf, len, "Q%u answered yes: %s", r->detail + 1,
				pmhc_question_text((enum pmhc_question)r->detail));
	case PMHC_WHY_SOURCE_988:
		return snprintf(buf, len, "call came in on 988: mental-health call");
	case PMHC_WHY_NATURE_CODE:
		return snprintf(buf, len, "nature code %s: %s", s->nature_mapped,
				pmhc_flag_words(r->flag));
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
