#include "explain.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <json-c/json.h>

#include "decide.h"
#include "pbjson.h"
#include "recommend.h"
#include "wire.h"

static void explain_call(const struct pmhc_rules *rules, const Pmhc__V1__CallEvent *call,
			 const struct pmhc_wire_report *rep, FILE *out)
{
	struct pmhc_decision d;
	pmhc_decide(rules, call, &d);
	const struct pmhc_screening *s = &d.screening;

	fprintf(out, "call %s/%s revision %u: source %s, nature code \"%s\" → %s\n", call->psap_id, call->call_id,
		call->revision, pmhc_source_name((int)call->source), call->nature_code,
		s->nature_mapped[0] ? s->nature_mapped : "(none)");
	if (rep->status == PMHC_WIRE_DEGRADED)
		fprintf(out, "  degraded on arrival: %s\n", rep->reason);

	fprintf(out, "  flags:");
	for (int f = 0; f < PMHC_FLAG_COUNT; f++)
		if (s->flags & PMHC_BIT(f))
			fprintf(out, " %s", pmhc_flag_name((enum pmhc_flag)f));
	fprintf(out, "%s\n", s->flags ? "" : " (none)");
	for (size_t i = 0; i < s->n_reasons; i++) {
		char text[PMHC_REASON_LEN];
		pmhc_reason_format(&s->reasons[i], s, call, text, sizeof text);
		fprintf(out, "    %-17s %s\n",
			s->reasons[i].kind == PMHC_WHY_UNANSWERED ? "unknown" : pmhc_flag_name(s->reasons[i].flag),
			text);
	}

	/* Every flag's state: a rule can test ruled out and unknown as well as raised. */
	fprintf(out, "  flag states:\n");
	for (int f = 0; f < PMHC_FLAG_COUNT; f++) {
		enum pmhc_flag_state st = pmhc_flag_state(s, (enum pmhc_flag)f);
		fprintf(out, "    %-17s %s", pmhc_flag_name((enum pmhc_flag)f), pmhc_flag_state_words(st));
		uint32_t qs = pmhc_flag_questions((enum pmhc_flag)f);
		if (qs == 0) {
			fprintf(out, " (no question behind it)\n");
			continue;
		}
		/* Which answers left it open, or which NOs ruled it out. */
		const char *sep = st == PMHC_STATE_UNKNOWN     ? " (not answered: "
				  : st == PMHC_STATE_RULED_OUT ? " (answered no: "
							       : NULL;
		for (int q = 0; sep != NULL && q < PMHC_QUESTION_COUNT; q++) {
			if (!(qs & (1u << q)))
				continue;
			Pmhc__V1__Answer a = pmhc_answer(call, (enum pmhc_question)q);
			if ((st == PMHC_STATE_UNKNOWN) != (a == PMHC__V1__ANSWER__ANSWER_UNKNOWN))
				continue;
			fprintf(out, "%sQ%d %s", sep, q + 1, pmhc_question_topic((enum pmhc_question)q));
			sep = ", ";
		}
		fprintf(out, "%s\n", sep != NULL ? ")" : "");
	}
	fprintf(out, "  rules, first match wins (rules_version %.12s…):\n", rules->version);
	struct pmhc_facts facts = { s->flags, s->ruled_out, s->unknown, (int)call->source, s->nature_mapped };
	for (size_t i = 0; i < rules->n_rules; i++) {
		const struct pmhc_rule *r = &rules->rules[i];
		char why[256];
		bool m = pmhc_rule_matches(r, &facts, why, sizeof why);
		const char *verdict;
		if (r == d.rule)
			verdict = "MATCH";
		else if (&rules->rules[i] < d.rule)
			verdict = "no";
		else
			verdict = m ? "(would match, not reached)" : "(not reached)";
		bool reached = &rules->rules[i] <= d.rule;
		fprintf(out, "  %s %2zu %-22s %-5s%s%s\n", r == d.rule ? "→" : " ", i + 1, r->id, verdict,
			reached ? " " : "", reached ? why : "");
	}
	fprintf(out, "  decision: %s, dispatch code %s\n", pmhc_response_name(d.rule->response),
		d.rule->dispatch_code[0] ? d.rule->dispatch_code : "(none)");

	struct pmhc_rec_scratch sc;
	pmhc_recommend(rules, call, &d, NULL, (int64_t)time(NULL) * 1000, &sc);
	fprintf(out, "  summary: %s\n", sc.summary);
	json_object *j = pmhc_message_to_json(&sc.rec.base);
	fprintf(out, "  published: %s\n\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
}

/* One line → a call as the daemon would see it: through the wire checks. */
static int explain_line(const struct pmhc_rules *rules, const char *line, const char *name, unsigned long lineno,
			FILE *out)
{
	enum json_tokener_error jerr;
	json_object *obj = json_tokener_parse_verbose(line, &jerr);
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		fprintf(stderr, "pmhcd: %s:%lu: not a JSON object%s%s\n", name, lineno, obj ? "" : ": ",
			obj ? "" : json_tokener_error_desc(jerr));
		json_object_put(obj);
		return -1;
	}
	/* pmhc-produce lines carry a "type"; only calls can be explained. */
	json_object *type;
	if (json_object_object_get_ex(obj, "type", &type)) {
		if (strcmp(json_object_get_string(type), "call") != 0) {
			json_object_put(obj);
			return 0;
		}
		json_object_object_del(obj, "type");
	}
	char err[512];
	ProtobufCMessage *msg = pmhc_json_to_message(&pmhc__v1__call_event__descriptor, obj, err, sizeof err);
	json_object_put(obj);
	if (msg == NULL) {
		fprintf(stderr, "pmhcd: %s:%lu: %s\n", name, lineno, err);
		return -1;
	}
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	protobuf_c_message_pack(msg, buf);
	protobuf_c_message_free_unpacked(msg, NULL);

	struct pmhc_wire_report rep;
	Pmhc__V1__CallEvent *call = pmhc_wire_call(buf, len, (size_t)-1, (int64_t)time(NULL) * 1000, NULL, &rep);
	free(buf);
	if (call == NULL) {
		fprintf(out, "%s:%lu: the daemon would reject this call to the DLQ: %s\n\n", name, lineno, rep.reason);
		return 0;
	}
	explain_call(rules, call, &rep, out);
	pmhc__v1__call_event__free_unpacked(call, NULL);
	return 0;
}

int pmhc_explain_stream(const struct pmhc_rules *rules, FILE *in, const char *name, FILE *out)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	int rc = 0;
	while (getline(&line, &cap, in) != -1) {
		lineno++;
		const char *p = line + strspn(line, " \t\r\n");
		if (*p == '\0' || *p == '#')
			continue;
		if (explain_line(rules, p, name, lineno, out) != 0)
			rc = EX_DATAERR;
	}
	free(line);
	return rc;
}
