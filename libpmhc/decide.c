#include "decide.h"

#include <stdarg.h>
#include <stdio.h>

#include "utf8.h"

void pmhc_decide(const struct pmhc_rules *rules, const Pmhc__V1__CallEvent *call,
		 struct pmhc_decision *out)
{
	pmhc_screen(rules, call, &out->screening);
	struct pmhc_facts facts = {
		.flags = out->screening.flags,
		.source = (int)call->source,
		.nature_mapped = out->screening.nature_mapped,
	};
	out->rule = pmhc_flowchart_decide(rules, &facts);
	out->mental_health_call = (out->screening.flags & PMHC_BIT(PMHC_F_MH)) != 0;
	out->source = (int)call->source;
}

static const char *response_words(int response)
{
	switch (response) {
	case PMHC__V1__RESPONSE__RESPONSE_STANDARD: return "standard patrol response";
	case PMHC__V1__RESPONSE__RESPONSE_CIT: return "send a CIT officer";
	case PMHC__V1__RESPONSE__RESPONSE_CIT_WITH_BACKUP: return "send a CIT officer with patrol backup";
	case PMHC__V1__RESPONSE__RESPONSE_CO_RESPONDER:
		return "send a co-responder team (officer and clinician)";
	case PMHC__V1__RESPONSE__RESPONSE_MOBILE_CRISIS: return "send a mobile crisis team, not police";
	case PMHC__V1__RESPONSE__RESPONSE_EMS_AND_CIT: return "send EMS and a CIT officer";
	default: return "no response decided";
	}
}

/* Appends with snprintf semantics: *used may pass len, later appends then do nothing. */
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(*used < len ? buf + *used : NULL, *used < len ? len - *used : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n;
}

int pmhc_decision_summary(const struct pmhc_decision *d, const struct pmhc_choice *units,
			  pmhc_flagset shared, char *buf, size_t len)
{
	size_t used = 0;
	pmhc_flagset flags = d->screening.flags & shared;
	if (len > 0)
		buf[0] = '\0';

	append(buf, len, &used, "%s",
	       !d->mental_health_call ? "Not a mental-health call"
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

	append(buf, len, &used, ": %s", response_words(d->rule ? d->rule->response : 0));
	if (d->rule && d->rule->dispatch_code[0])
		append(buf, len, &used, ", code %s", d->rule->dispatch_code);

	for (size_t i = 0; units != NULL && i < units->n; i++) {
		const struct pmhc_pick *p = &units->picks[i];
		bool backup = d->rule->response == PMHC__V1__RESPONSE__RESPONSE_CIT_WITH_BACKUP && i == 1;
		if (p->unit_id == NULL)
			append(buf, len, &used, "; no %s free — request %s", pmhc_unit_kind_words(p->need),
			       p->need == PMHC__V1__UNIT_KIND__UNIT_EMS ? "EMS" : "one");
		else if (p->got != p->need)
			append(buf, len, &used, "; no %s free — %s %s instead%s", pmhc_unit_kind_words(p->need),
			       pmhc_unit_kind_words(p->got), p->unit_id, backup ? " as backup" : "");
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
