#include "recommend.h"

#include <stdio.h>

#include "utf8.h"

void pmhc_recommend(const struct pmhc_rules *rules, const Pmhc__V1__CallEvent *call, const struct pmhc_decision *d,
		    const struct pmhc_choice *units, int64_t decided_at_ms, struct pmhc_rec_scratch *s)
{
	Pmhc__V1__Recommendation *rec = &s->rec;
	pmhc__v1__recommendation__init(rec);
	pmhc_flagset shared = rules->share_flags;

	/* protobuf-c wants char *; the message is only ever packed, never written through. */
	rec->call_id = call->call_id;
	rec->psap_id = call->psap_id;
	rec->revision = call->revision;
	rec->decided_at_ms = decided_at_ms;
	rec->mental_health_call = d->mental_health_call;
	rec->rule_id = d->rule->id;
	rec->response = (Pmhc__V1__Response)d->rule->response;
	rec->dispatch_code = d->rule->dispatch_code;
	rec->rules_version = (char *)rules->version;

	rec->flags = s->flags;
	for (int f = 0; f < PMHC_FLAG_COUNT; f++)
		if (d->screening.flags & shared & PMHC_BIT(f))
			s->flags[rec->n_flags++] = (char *)pmhc_flag_name((enum pmhc_flag)f);

	rec->reasons = s->reasons;
	for (size_t i = 0; i < d->screening.n_reasons; i++) {
		const struct pmhc_reason *r = &d->screening.reasons[i];
		if (!(shared & PMHC_BIT(r->flag)))
			continue;
		pmhc_reason_format(r, &d->screening, call, s->reason_text[rec->n_reasons], PMHC_REASON_LEN);
		s->reasons[rec->n_reasons] = s->reason_text[rec->n_reasons];
		rec->n_reasons++;
	}

	/* The contract has no narrative field: where the policy allows it, it travels as the last reason. */
	if (rules->share_narrative && call->narrative && call->narrative[0] && rec->n_reasons < PMHC_REASONS_MAX) {
		/* A long narrative is cut; the cut must not leave half a character. */
		if (snprintf(s->reason_text[rec->n_reasons], PMHC_REASON_LEN, "narrative: %s", call->narrative) >=
		    PMHC_REASON_LEN)
			pmhc_utf8_drop_cut(s->reason_text[rec->n_reasons]);
		s->reasons[rec->n_reasons] = s->reason_text[rec->n_reasons];
		rec->n_reasons++;
	}

	rec->unit_ids = s->units;
	for (size_t i = 0; units != NULL && i < units->n; i++)
		if (units->picks[i].unit_id != NULL)
			s->units[rec->n_unit_ids++] = (char *)units->picks[i].unit_id;

	pmhc_decision_summary(d, units, shared, s->summary, sizeof s->summary);
	rec->summary = s->summary;
}
