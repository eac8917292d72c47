#include "decide.h"

#include <stdarg.h>
#include <stdio.h>

#include "utf8.h"

void pmhc_decide(const struct pmhc_rules *rules, const Pmhc__V1__CallEvent *call, struct pmhc_decision *out)
{
	pmhc_screen(rules, call, &out->screening);
	struct pmhc_facts facts = {
		.flags = out->screening.flags,
		.ruled_out = out->screening.ruled_out,
		.unknown = out->screening.unknown,
		.source = (int)call->source,
		.nature_mapped = out->screening.nature_mapped,
	};
	out->rule = pmhc_flowchart_decide(rules, &facts);
	out->mental_health_call = (out->screening.flags & PMHC_BIT(PMHC_F_MH)) != 0;
	out->source = (int)call->source;
}

static const char *response_words(int response, int source)
{
	switch (response) {
	case PMHC__V1__RESPONSE__RESPONSE_STANDARD: return "standard patrol response";
	case PMHC__V1__RESPONSE__RESPONSE_CIT: return "send a CIT officer";
	case PMHC__V1__RESPONSE__RESPONSE_CIT_WITH_BACKUP: return "send a CIT officer with patrol backup";
	case PMHC__V1__RESPONSE__RESPONSE_CO_RESPONDER: return "send a co-responder team (officer and clinician)";
	case PMHC__V1__RESPONSE__RESPONSE_MOBILE_CRISIS: return "send a mobile crisis team, not police";
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT: return "send EMS and a CIT officer";
	case PMHC__V1__RESPONSE__RESPONSE_CALL_DIVERSION:
		return source == PMHC__V1__CALL_SOURCE__SOURCE_988
			       ? "keep the caller with the 988 crisis counselor on the phone, no unit"
			       : "keep the caller on the phone with a crisis counselor (911 telecounselor or warm "
				 "transfer to 988), no unit";
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_MOBILE_CRISIS: return "send EMS and a mobile crisis team, not police";
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT_WITH_BACKUP:
		return "send EMS and a CIT officer with patrol backup";
	default: return "no response decided";
	}
}

/* What a stand-in of kind got for a need of kind need means, when it is not plain. */
static const char *stand_in_note(int need, int got)
{
	if (pmhc_unit_kind_is_police(need) || !pmhc_unit_kind_is_police(got))
		return "";
	/* A civilian need filled by police must say so: the response words said "not police". */
	return got == PMHC__V1__UNIT_KIND__UNIT_CO_RESPONDER ? ", so an officer goes with the clinician"
							     : ", which is police";
}

/* Appends with snprintf semantics: *used may pass len, later appends then do nothing. */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(*used < len ? buf + *used : NULL, *used < len ? len - *used : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n;
}

int pmhc_decision_summary(const struct pmhc_decision *d, const struct pmhc_choice *units, pmhc_flagset shared,
			  char *buf, size_t len)
{
	size_t used = 0;
	pmhc_flagset flags = d->screening.flags & shared;
	if (len > 0)
		buf[0] = '\0';

	append(buf, len, &used, "%s",
	       !d->mental_health_call                           ? "Not a mental-health call"
	       : d->source == PMHC__V1__CALL_SOURCE__SOURCE_988 ? "988 mental-health call"
								: "Mental-health call");
	const char *sep = " (";
	for (int f = 0; f < PMHC_FLAG_COUNT; f++) {
		if (f == PMHC_F_MH || !(flags & PMHC_BIT(f)))
			continue;
		append(buf, len, &used, "%s%s", sep, pmhc_flag_words((enum pmhc_flag)f));
		sep = ", ";
	}
	if (*sep == ',')
		append(buf, len, &used, ")");

	append(buf, len, &used, ": %s", response_words(d->rule ? d->rule->response : 0, d->source));
	if (d->rule && d->rule->dispatch_code[0])
		append(buf, len, &used, ", code %s", d->rule->dispatch_code);

	for (size_t i = 0; units != NULL && i < units->n; i++) {
		const struct pmhc_pick *p = &units->picks[i];
		/* Patrol is needed only as a CIT officer's backup (section 4). */
		bool backup = p->need == PMHC__V1__UNIT_KIND__UNIT_PATROL;
		if (p->unit_id == NULL)
			append(buf, len, &used, "; no %s free — request %s", pmhc_unit_kind_words(p->need),
			       p->need == PMHC__V1__UNIT_KIND__UNIT_EMS ? "EMS" : "one");
		else if (p->got != p->need)
			append(buf, len, &used, "; no %s free — %s %s instead%s%s", pmhc_unit_kind_words(p->need),
			       pmhc_unit_kind_words(p->got), p->unit_id, backup ? " as backup" : "",
			       stand_in_note(p->need, p->got));
		else
			append(buf, len, &used, "; %s %s%s", pmhc_unit_kind_words(p->got), p->unit_id,
			       backup ? " as backup" : "");
	}

	/* Silence on a safety question must reach the responder as "unknown", never as "no". */
	sep = "; not asked or unknown: ";
	for (size_t i = 0; i < d->screening.n_reasons; i++) {
		const struct pmhc_reason *r = &d->screening.reasons[i];
		if (r->kind != PMHC_WHY_UNANSWERED || !(shared & PMHC_BIT(r->flag)))
			continue;
		append(buf, len, &used, "%s%s", sep, pmhc_question_topic((enum pmhc_question)r->detail));
		sep = ", ";
	}
	append(buf, len, &used, ".");
	/* Long unit ids can push it past len; the cut must not leave half a character. */
	if (used >= len && len > 0)
		pmhc_utf8_drop_cut(buf);
	return (int)used;
}
