/*
 * Screening: one call event → the standardized flags of SPEC section 2, and
 * why each was raised. Pure: no I/O, no clock, no allocation.
 */
#ifndef PMHC_SCREEN_H
#define PMHC_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	PMHC_Q_ATTEMPT_IN_PROGRESS,
	PMHC_QUESTION_COUNT
};

/*
 * Every flag a screening question stands behind is in one of three states: raised
 * (some source raised it), ruled out (not raised, and every question behind it was
 * answered NO) or unknown (not raised, and some question behind it was not answered).
 * A flag no question stands behind (PREMISE_MH, PREMISE_VIOLENCE) is raised or not
 * raised, never ruled out or unknown.
 */
enum pmhc_flag_state {
	PMHC_STATE_NOT_RAISED, /* no question behind the flag, and nothing raised it */
	PMHC_STATE_RAISED,
	PMHC_STATE_RULED_OUT,
	PMHC_STATE_UNKNOWN,
};

enum pmhc_reason_kind {
	PMHC_WHY_ANSWER_YES, /* detail: the question */
	PMHC_WHY_SOURCE_988,
	PMHC_WHY_NATURE_CODE,  /* detail: unused; the mapped code is in the result */
	PMHC_WHY_PREMISE_FLAG, /* detail: index into the call's premise_flags */
	PMHC_WHY_UNANSWERED,   /* detail: the question; a safety question nobody answered */
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
	pmhc_flagset flags;     /* raised */
	pmhc_flagset ruled_out; /* not raised, every question behind it answered NO */
	pmhc_flagset unknown;   /* not raised, some question behind it not answered */
	/* Whether nature_mapped is a code the rules know: mapped (possibly to no flag,
	 * as the code table does) or the target of an alias. Empty is not known. */
	bool nature_known;
	/* The nature code after trimming, upper-casing and the alias table. */
	char nature_mapped[PMHC_CODE_MAX];
	struct pmhc_reason reasons[PMHC_REASONS_MAX];
	size_t n_reasons;
};

/*
 * The call's answers as stored with each decision: one character per question in
 * enum order, Y yes, N no, ? not answered, and a NUL.
 */
void pmhc_answers_text(const Pmhc__V1__CallEvent *call, char out[PMHC_QUESTION_COUNT + 1]);

/* The call's answer to a question; a call without screening answers UNKNOWN. */
Pmhc__V1__Answer pmhc_answer(const Pmhc__V1__CallEvent *call, enum pmhc_question q);
/* "person has mental health issues": what a YES means. */
const char *pmhc_question_text(enum pmhc_question q);
/* "weapon": what the question is about. */
const char *pmhc_question_topic(enum pmhc_question q);
/* The flags a YES raises: one, or two for attempt_in_progress (SELF_HARM and MEDICAL). */
pmhc_flagset pmhc_question_flags(enum pmhc_question q);
/* The questions behind a flag, one bit per enum pmhc_question; 0 when none is. */
uint32_t pmhc_flag_questions(enum pmhc_flag flag);
/* The flags some question stands behind: the only ones that can be ruled out or unknown. */
pmhc_flagset pmhc_questioned_flags(void);

enum pmhc_flag_state pmhc_flag_state(const struct pmhc_screening *s, enum pmhc_flag flag);
/* "raised", "ruled out", "unknown, not ruled out", "not raised". */
const char *pmhc_flag_state_words(enum pmhc_flag_state state);

void pmhc_screen(const struct pmhc_rules *rules, const Pmhc__V1__CallEvent *call, struct pmhc_screening *out);

/* One reason as a sentence for the dispatcher; returns what snprintf returns. */
int pmhc_reason_format(const struct pmhc_reason *reason, const struct pmhc_screening *s,
		       const Pmhc__V1__CallEvent *call, char *buf, size_t len);

#endif
