#include "flags.h"

#include <string.h>

static const struct {
	const char *name;
	const char *words;
} flag_table[PMHC_FLAG_COUNT] = {
	[PMHC_F_MH] = { "MH", "mental-health call" },
	[PMHC_F_SUD] = { "SUD", "substance use" },
	[PMHC_F_WEAPON] = { "WEAPON", "weapon reported" },
	[PMHC_F_VIOLENCE] = { "VIOLENCE", "violence or danger to others" },
	[PMHC_F_SELF_HARM] = { "SELF_HARM", "danger to self" },
	[PMHC_F_HISTORY_VIOLENCE] = { "HISTORY_VIOLENCE", "history of violence" },
	[PMHC_F_VICTIM_RISK] = { "VICTIM_RISK", "at risk of victimization" },
	[PMHC_F_OFF_MEDS] = { "OFF_MEDS", "off medication" },
	[PMHC_F_MEDICAL] = { "MEDICAL", "medical emergency" },
	[PMHC_F_PREMISE_MH] = { "PREMISE_MH", "mental-health history at this location" },
	[PMHC_F_PREMISE_VIOLENCE] = { "PREMISE_VIOLENCE", "violence or weapons history at this location" },
};

const char *pmhc_flag_name(enum pmhc_flag flag)
{
	return (unsigned)flag < PMHC_FLAG_COUNT ? flag_table[flag].name : "?";
}

const char *pmhc_flag_words(enum pmhc_flag flag)
{
	return (unsigned)flag < PMHC_FLAG_COUNT ? flag_table[flag].words : "?";
}

int pmhc_flag_parse(const char *name, enum pmhc_flag *out)
{
	for (int f = 0; f < PMHC_FLAG_COUNT; f++) {
		if (strcmp(name, flag_table[f].name) == 0) {
			*out = (enum pmhc_flag)f;
			return 0;
		}
	}
	return -1;
}
