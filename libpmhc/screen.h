/*
 * Screening: one call event → the standardized flags of SPEC section 2, and
 * why each was raised. Pure: no I/O, no clock, no allocation.
 */
#ifndef PMHC_SCREEN_H
#define PMHC_SCREEN_H

#include <stddef.h>

#include "flags.h"
#include "pmhc.pb-c.h"
#include "rules.h"

enum pmhc_question {
	PMHC_Q_MENTAL_HEALTH_ISSUE,
	PMHC_Q_ABOUT_MENTAL_STATE,
	PMHC_Q_SUBSTANCE_USE,
	PMHC_Q_WEAPON_INVOLVED,
	PMHC_Q_VIOLENCE_IN_PROGRESS,
	PMHC_Q_DANGER_TO_SELF,
	PMHC_Q_DANGER_TO_OTHERS,
	PMHC_Q_HISTORY_OF_VIOLENCE,
	PMHC_Q_AT_RISK_OF_VICTIMIZATION,
	PMHC_Q_OFF_MEDICATION,
	PMHC_Q_MEDICAL_EMERGENCY,
	PMHC_QUESTION_COUNT
};

enum pmhc_reason_kind {
	PMHC_WHY_ANSWER_YES,	/* detail: the question */
	PMHC_WHY_SOURCE_988,
	PMHC_WHY_NATURE_CODE,	/* detail: unused; the mapped code is in the result */
	PMHC_WHY_PREMISE_FLAG,	/* detail: index into the call's premise_flags */
	PMHC_WHY_UNANSWERED,	/* detail: the question; a safety question nobody answered */
};

/* Why a flag holds, kept as data so that screening never formats text. */
struct pmhc_reason {
	enum pmhc_reason_kind kind;
	enum pmhc_flag flag;
	unsigned detail;
};

/* Every flag can have several causes; this bounds them without allocating. */
#define PMHC_REASONS_MAX 32

struct pmhc_screening {
	pmhc_flagset flags;
	/* The nature code after trimming, upper-casing and the alias table. */
	char nature_mapped[PMHC_CODE_MAX];
	struct pmhc_reason reasons[PMHC_REASONS_MAX];
	size_t n_reasons;
};

/* The call's answer to a question; a call without screening answers UNKNOWN. */
Pmhc__V1__Answer pmhc_answer(const Pmhc__V1__CallEvent *call, enum pmhc_question q);
/* "person has mental health issues": what a YES means. */
const char *pmhc_question_text(enum pmhc_question q);
/* "weapon": what the question is about. */
const char *pmhc_question_topic(enum pmhc_question q);

void pmhc_screen(const struct pmhc_rules *rules, const Pmhc__V1__CallEvent *call,
		 struct pmhc_screening *out);

/* One reason as a sentence for the dispatcher; returns what snprintf returns. */
int pmhc_reason_format(const struct pmhc_reason *reason, const struct pmhc_screening *s,
		       const Pmhc__V1__CallEvent *call, char *buf, size_t len);

#endif
