#include "rules.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "enums.h"
#include "pmhc.pb-c.h"

const char *pmhc_response_name(int response)
{
	return pmhc_enum_name(&pmhc__v1__response__descriptor, response);
}

/* The configuration may not ask for UNSPECIFIED: a rule must decide something. */
int pmhc_response_parse(const char *name, int *out)
{
	return pmhc_enum_parse(&pmhc__v1__response__descriptor, name, out);
}

const char *pmhc_source_name(int source)
{
	return pmhc_enum_name(&pmhc__v1__call_source__descriptor, source);
}

int pmhc_source_parse(const char *name, int *out)
{
	if (strcmp(name, "UNSPECIFIED") == 0) {
		*out = 0;
		return 0;
	}
	return pmhc_enum_parse(&pmhc__v1__call_source__descriptor, name, out);
}

int pmhc_code_normalize(const char *s, char *out, size_t outlen)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[n] = '\0';
	return 0;
}

bool pmhc_rule_is_catch_all(const struct pmhc_rule *rule)
{
	return !rule->has_all && !rule->has_any && !rule->has_none && !rule->has_ruled_out && !rule->has_unknown &&
	       rule->sources == 0 && rule->nature_codes == NULL;
}

void pmhc_rules_free(struct pmhc_rules *rules)
{
	if (rules == NULL)
		return;
	for (size_t i = 0; i < rules->n_nature_map; i++)
		free(rules->nature_map[i].code);
	for (size_t i = 0; i < rules->n_premise_map; i++)
		free(rules->premise_map[i].code);
	for (size_t i = 0; i < rules->n_aliases; i++) {
		free(rules->aliases[i].from);
		free(rules->aliases[i].to);
	}
	for (size_t i = 0; i < rules->n_rules; i++) {
		struct pmhc_rule *r = &rules->rules[i];
		free(r->id);
		free(r->dispatch_code);
		for (size_t j = 0; j < r->n_nature_codes; j++)
			free(r->nature_codes[j]);
		free(r->nature_codes);
	}
	free(rules->nature_map);
	free(rules->premise_map);
	free(rules->aliases);
	free(rules->rules);
	free(rules);
}

#define F(x) PMHC_BIT(PMHC_F_##x)
#define SRC(x) (1u << PMHC__V1__CALL_SOURCE__SOURCE_##x)
#define R(x) PMHC__V1__RESPONSE__RESPONSE_##x

static const struct {
	const char *code;
	pmhc_flagset flags;
} default_nature[] = {
	{ "EDP", F(MH) },
	{ "MNTL", F(MH) },
	{ "MTLV", F(MH) | F(VIOLENCE) },
	{ "SUICIDE", F(MH) | F(SELF_HARM) },
	{ "SUICTHRT", F(MH) | F(SELF_HARM) },
	{ "OD", F(SUD) | F(MEDICAL) },
	{ "INTOX", F(SUD) },
}, default_premise[] = {
	{ "MH_HISTORY", F(PREMISE_MH) },
	/* A location's history informs responders; only the caller's answer routes. */
	{ "VIOLENCE_HISTORY", F(PREMISE_VIOLENCE) },
	{ "WEAPONS_HISTORY", F(PREMISE_VIOLENCE) },
};

/* Calls a 911 call-taker (voice or text) or the administrative line answered. */
#define SRC_911 (SRC(911) | SRC(TEXT) | SRC(ADMIN))

/*
 * The default flowchart of SPEC section 3; config/pmhcd.conf writes it out with
 * the source of each rule. Properties it holds (tests/unit/test_properties.c):
 * a civilian-only response only when weapon, violence and medical are each ruled
 * out; MEDICAL raised means EMS goes; WEAPON or VIOLENCE raised means a CIT
 * officer with backup; premise flags never change the response; unknown is never
 * treated as no.
 */
static const struct {
	const char *id;
	pmhc_flagset all, any, none, ruled_out;
	uint32_t sources;
	int response;
	const char *code;
} default_rules[] = {
	{ "not-mh", 0, 0, F(MH), 0, 0, R(STANDARD), "" },
	{ "mh-medical-danger", F(MEDICAL), F(WEAPON) | F(VIOLENCE), 0, 0, 0, R(EMS_AND_CIT_WITH_BACKUP), "MH-EMSB" },
	{ "mh-weapon-violence", 0, F(WEAPON) | F(VIOLENCE), 0, 0, 0, R(CIT_WITH_BACKUP), "MH-CITB" },
	{ "mh-988-medical", F(MEDICAL), 0, F(HISTORY_VIOLENCE), F(WEAPON) | F(VIOLENCE), SRC(988),
	  R(EMS_AND_MOBILE_CRISIS), "MH-EMSM" },
	{ "mh-911-medical", F(MEDICAL), 0, 0, F(WEAPON) | F(VIOLENCE) | F(HISTORY_VIOLENCE), SRC_911,
	  R(EMS_AND_MOBILE_CRISIS), "MH-EMSM" },
	{ "mh-medical", F(MEDICAL), 0, 0, 0, 0, R(EMS_AND_CIT), "MH-EMS" },
	{ "mh-history-violence", F(HISTORY_VIOLENCE), 0, 0, 0, 0, R(CIT), "MH-CIT" },
	{ "mh-988-diversion", 0, 0, 0, F(WEAPON) | F(VIOLENCE) | F(MEDICAL) | F(SELF_HARM), SRC(988), R(CALL_DIVERSION),
	  "MH-DIV" },
	{ "mh-988", 0, 0, 0, F(WEAPON) | F(VIOLENCE) | F(MEDICAL), SRC(988), R(MOBILE_CRISIS), "MH-MCT" },
	{ "mh-911-diversion", 0, 0, 0, F(WEAPON) | F(VIOLENCE) | F(MEDICAL) | F(SELF_HARM) | F(HISTORY_VIOLENCE),
	  SRC_911, R(CALL_DIVERSION), "MH-DIV" },
	{ "mh-911-mobile-crisis", 0, 0, 0, F(WEAPON) | F(VIOLENCE) | F(MEDICAL) | F(HISTORY_VIOLENCE), SRC_911,
	  R(MOBILE_CRISIS), "MH-MCT" },
	{ "mh-self-harm", F(SELF_HARM), 0, 0, 0, 0, R(CO_RESPONDER), "MH-COR" },
	{ "mh-default", 0, 0, 0, 0, 0, R(CO_RESPONDER), "MH-COR" },
};

#undef SRC_911
#undef R
#undef SRC
#undef F

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct pmhc_rules *pmhc_rules_default(void)
{
	struct pmhc_rules *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->nature_map = calloc(COUNT(default_nature), sizeof *r->nature_map);
	r->premise_map = calloc(COUNT(default_premise), sizeof *r->premise_map);
	r->rules = calloc(COUNT(default_rules), sizeof *r->rules);
	if (r->nature_map == NULL || r->premise_map == NULL || r->rules == NULL)
		goto fail;

	for (size_t i = 0; i < COUNT(default_nature); i++, r->n_nature_map++) {
		r->nature_map[i].flags = default_nature[i].flags;
		if ((r->nature_map[i].code = strdup(default_nature[i].code)) == NULL)
			goto fail;
	}
	for (size_t i = 0; i < COUNT(default_premise); i++, r->n_premise_map++) {
		r->premise_map[i].flags = default_premise[i].flags;
		if ((r->premise_map[i].code = strdup(default_premise[i].code)) == NULL)
			goto fail;
	}
	for (size_t i = 0; i < COUNT(default_rules); i++, r->n_rules++) {
		struct pmhc_rule *rule = &r->rules[i];
		rule->all = default_rules[i].all;
		rule->any = default_rules[i].any;
		rule->none = default_rules[i].none;
		rule->ruled_out = default_rules[i].ruled_out;
		rule->has_all = rule->all != 0;
		rule->has_any = rule->any != 0;
		rule->has_none = rule->none != 0;
		rule->has_ruled_out = rule->ruled_out != 0;
		rule->sources = default_rules[i].sources;
		rule->response = default_rules[i].response;
		rule->id = strdup(default_rules[i].id);
		rule->dispatch_code = strdup(default_rules[i].code);
		if (rule->id == NULL || rule->dispatch_code == NULL)
			goto fail;
	}
	r->share_flags = PMHC_ALL_FLAGS;
	pmhc_unit_policy_default(&r->units);
	r->share_narrative = false;
	if (pmhc_rules_seal(r) != 0)
		goto fail;
	return r;
fail:
	pmhc_rules_free(r);
	return NULL;
}

/* A growable string for the canonical text; out of memory sticks. */
struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(struct text *t, const char *fmt, ...)
{
	if (t->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		/* NULL + 0 is undefined in C (clang's UBSan says so) before the first realloc. */
		int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = (t->cap + (size_t)n + 1) * 2;
		char *nb = realloc(t->buf, cap);
		if (nb == NULL) {
			t->oom = true;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
}

static void text_flags(struct text *t, pmhc_flagset set)
{
	const char *sep = "";
	for (int f = 0; f < PMHC_FLAG_COUNT; f++) {
		if (set & PMHC_BIT(f)) {
			text_printf(t, "%s%s", sep, pmhc_flag_name((enum pmhc_flag)f));
			sep = ",";
		}
	}
}

static int cmp_map(const void *a, const void *b)
{
	return strcmp((*(const struct pmhc_code_map *const *)a)->code, (*(const struct pmhc_code_map *const *)b)->code);
}

static int cmp_alias(const void *a, const void *b)
{
	return strcmp((*(const struct pmhc_alias *const *)a)->from, (*(const struct pmhc_alias *const *)b)->from);
}

/* Mappings are sets: sort them so that moving a line in the file changes nothing. */
static void text_maps(struct text *t, const char *kind, const struct pmhc_code_map *map, size_t n)
{
	const struct pmhc_code_map **sorted = malloc((n ? n : 1) * sizeof *sorted);
	if (sorted == NULL) {
		t->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &map[i];
	qsort(sorted, n, sizeof *sorted, cmp_map);
	for (size_t i = 0; i < n; i++) {
		/* A code that raises nothing decides nothing: the code table's plain entries. */
		if (sorted[i]->flags == 0)
			continue;
		text_printf(t, "%s %s ", kind, sorted[i]->code);
		text_flags(t, sorted[i]->flags);
		text_printf(t, "\n");
	}
	free(sorted);
}

char *pmhc_rules_canonical(const struct pmhc_rules *r)
{
	struct text t = { 0 };
	text_printf(&t, "pmhc-rules 1\n");
	text_maps(&t, "nature", r->nature_map, r->n_nature_map);
	text_maps(&t, "premise", r->premise_map, r->n_premise_map);

	const struct pmhc_alias **aliases = malloc((r->n_aliases ? r->n_aliases : 1) * sizeof *aliases);
	if (aliases == NULL) {
		free(t.buf);
		return NULL;
	}
	for (size_t i = 0; i < r->n_aliases; i++)
		aliases[i] = &r->aliases[i];
	qsort(aliases, r->n_aliases, sizeof *aliases, cmp_alias);
	for (size_t i = 0; i < r->n_aliases; i++)
		text_printf(&t, "alias %s %s\n", aliases[i]->from, aliases[i]->to);
	free(aliases);

	/* Rules keep their order: first match wins, so order is meaning. */
	for (size_t i = 0; i < r->n_rules; i++) {
		const struct pmhc_rule *rule = &r->rules[i];
		text_printf(&t, "rule %s", rule->id);
		if (rule->has_all) {
			text_printf(&t, " all=");
			text_flags(&t, rule->all);
		}
		if (rule->has_any) {
			text_printf(&t, " any=");
			text_flags(&t, rule->any);
		}
		if (rule->has_none) {
			text_printf(&t, " none=");
			text_flags(&t, rule->none);
		}
		/* Written only when present, so a rule set without them keeps its version. */
		if (rule->has_ruled_out) {
			text_printf(&t, " ruled_out=");
			text_flags(&t, rule->ruled_out);
		}
		if (rule->has_unknown) {
			text_printf(&t, " unknown=");
			text_flags(&t, rule->unknown);
		}
		if (rule->sources) {
			const char *sep = " source=";
			for (int s = 0; s < PMHC_SOURCE_COUNT; s++) {
				if (rule->sources & (1u << s)) {
					text_printf(&t, "%s%s", sep, pmhc_source_name(s));
					sep = ",";
				}
			}
		}
		for (size_t j = 0; j < rule->n_nature_codes; j++)
			text_printf(&t, "%s%s", j ? "," : " nature=", rule->nature_codes[j]);
		text_printf(&t, " -> %s \"%s\"\n", pmhc_response_name(rule->response), rule->dispatch_code);
	}
	for (int k = 0; k < PMHC_UNIT_KINDS; k++) {
		if (r->units.fallback[k][0] == 0)
			continue;
		text_printf(&t, "fallback %s", pmhc_unit_kind_name(k));
		for (int f = 0; f < PMHC_UNIT_KINDS && r->units.fallback[k][f]; f++)
			text_printf(&t, "%s%s", f ? "," : " ", pmhc_unit_kind_name(r->units.fallback[k][f]));
		text_printf(&t, "\n");
	}
	for (int src = 0; src < PMHC_SOURCE_COUNT; src++) {
		for (int k = 0; k < PMHC_UNIT_KINDS; k++) {
			if (!r->units.by_source_set[src][k])
				continue;
			const int *chain = r->units.by_source[src][k];
			text_printf(&t, "fallback %s source=%s", pmhc_unit_kind_name(k), pmhc_source_name(src));
			for (int f = 0; f < PMHC_UNIT_KINDS && chain[f]; f++)
				text_printf(&t, "%s%s", f ? "," : " ", pmhc_unit_kind_name(chain[f]));
			text_printf(&t, "%s\n", chain[0] ? "" : " -");
		}
	}
	text_printf(&t, "units max_status_age_ms=%lld hold_ms=%lld\n", (long long)r->units.max_status_age_ms,
		    (long long)r->units.hold_ms);
	text_printf(&t, "share flags=");
	text_flags(&t, r->share_flags);
	text_printf(&t, " narrative=%s\n", r->share_narrative ? "yes" : "no");

	if (t.oom) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}

static int cmp_map_entry(const void *a, const void *b)
{
	return strcmp(((const struct pmhc_code_map *)a)->code, ((const struct pmhc_code_map *)b)->code);
}

const struct pmhc_code_map *pmhc_nature_find(const struct pmhc_rules *r, const char *mapped)
{
	if (r->n_nature_map == 0)
		return NULL;
	struct pmhc_code_map key = { (char *)mapped, 0 };
	return bsearch(&key, r->nature_map, r->n_nature_map, sizeof *r->nature_map, cmp_map_entry);
}

bool pmhc_nature_known(const struct pmhc_rules *r, const char *mapped)
{
	if (mapped[0] == '\0')
		return false;
	if (pmhc_nature_find(r, mapped) != NULL)
		return true;
	for (size_t i = 0; i < r->n_aliases; i++)
		if (strcmp(r->aliases[i].to, mapped) == 0)
			return true;
	return false;
}

int pmhc_rules_seal(struct pmhc_rules *r)
{
	/* Codes are unique (the loader refuses a code mapped twice), so the order is total. */
	if (r->n_nature_map > 1)
		qsort(r->nature_map, r->n_nature_map, sizeof *r->nature_map, cmp_map_entry);
	char *text = pmhc_rules_canonical(r);
	if (text == NULL)
		return -1;
	int rc = pmhc_sha256_hex(text, strlen(text), r->version);
	free(text);
	return rc;
}
