/* Building call events for tests without repeating protobuf-c boilerplate. */
#ifndef PMHC_TEST_FIXTURE_H
#define PMHC_TEST_FIXTURE_H

#include "pmhc.pb-c.h"

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

static inline void fixture_premise(struct fixture_call *f, const char *flag)
{
	f->premise[f->call.n_premise_flags++] = (char *)flag;
}

#endif
