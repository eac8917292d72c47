/* Building call events for tests without repeating protobuf-c boilerplate. */
#ifndef PMHC_TEST_FIXTURE_H
#define PMHC_TEST_FIXTURE_H

#include "pmhc.pb-c.h"
#include "screen.h"

/* A call on the stack: a 911 call with every answer UNKNOWN and no location. */
struct fixture_call {
	Pmhc__V1__CallEvent call;
	Pmhc__V1__Screening screening;
	Pmhc__V1__Location location;
	char *premise[8];
};

static inline void fixture_call_init(struct fixture_call *f)
{
	pmhc__v1__call_event__init(&f->call);
	pmhc__v1__screening__init(&f->screening);
	pmhc__v1__location__init(&f->location);
	f->call.call_id = (char *)"C-1";
	f->call.psap_id = (char *)"PSAP-A";
	f->call.revision = 1;
	f->call.received_at_ms = 1763870400000LL;
	f->call.source = PMHC__V1__CALL_SOURCE__SOURCE_911;
	f->call.screening = &f->screening;
	f->call.location = &f->location;
	f->call.premise_flags = f->premise;
}

/* Where the answer to question q lives in f. */
static inline Pmhc__V1__Answer *fixture_answer(struct fixture_call *f, enum pmhc_question q)
{
	Pmhc__V1__Screening *s = &f->screening;
	Pmhc__V1__Answer *a[PMHC_QUESTION_COUNT] = {
		&s->mental_health_issue,      &s->about_mental_state, &s->substance_use,     &s->weapon_involved,
		&s->violence_in_progress,     &s->danger_to_self,     &s->danger_to_others,  &s->history_of_violence,
		&s->at_risk_of_victimization, &s->off_medication,     &s->medical_emergency, &s->attempt_in_progress,
	};
	return a[q];
}

/* Sets the answers to Q1..Q12 from one character each: Y yes, N no, anything else unknown. */
static inline void fixture_answers(struct fixture_call *f, const char *answers)
{
	for (int q = 0; q < PMHC_QUESTION_COUNT && answers[q]; q++)
		*fixture_answer(f, (enum pmhc_question)q) = answers[q] == 'Y'   ? PMHC__V1__ANSWER__ANSWER_YES
							    : answers[q] == 'N' ? PMHC__V1__ANSWER__ANSWER_NO
										: PMHC__V1__ANSWER__ANSWER_UNKNOWN;
}

static inline void fixture_premise(struct fixture_call *f, const char *flag)
{
	f->premise[f->call.n_premise_flags++] = (char *)flag;
}

#endif
