#include "landed.h"

#include <string.h>

static bool same(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

enum pmhc_landed_sign pmhc_landed_judge(const struct pmhc_landed_want *w, const struct pmhc_landed_seen *seen)
{
	if (seen->partition != w->partition || seen->instance == NULL ||
	    !same(seen->instance, seen->instance_len, w->instance, w->instance_len))
		return PMHC_LANDED_NOTHING;
	if (same(seen->key, seen->key_len, w->key, w->key_len) && same(seen->val, seen->val_len, w->val, w->val_len))
		return PMHC_LANDED_FOUND;
	return seen->created_ms > w->failed_ms + PMHC_LANDED_MARGIN_MS ? PMHC_LANDED_PASSED : PMHC_LANDED_NOTHING;
}

bool pmhc_landed_settled(const struct pmhc_landed_watch *w, int64_t now_ms)
{
	int64_t since = w->quiet_since_ms > w->high_since_ms ? w->quiet_since_ms : w->high_since_ms;
	return w->high >= 0 && w->read_to >= w->high && now_ms - since >= PMHC_LANDED_SETTLE_MS;
}
