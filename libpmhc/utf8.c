#include "utf8.h"

#include <string.h>

size_t pmhc_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint8_t c = s[0];
	size_t n;
	uint32_t min, v;
	if (c < 0x80) {
		if (cp)
			*cp = c;
		return 1;
	}
	/* C0, C1 and F5-FF can only start overlongs or values past U+10FFFF. */
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2, min = 0x80, v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3, min = 0x800, v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4, min = 0x10000, v = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	if (cp)
		*cp = v;
	return n;
}

int pmhc_utf8_valid(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = pmhc_utf8_decode(s + i, len - i, NULL);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

void pmhc_utf8_drop_cut(char *s)
{
	size_t len = strlen(s), lead = len;
	/* Back over continuation bytes to where the last character starts (at most 4 bytes). */
	while (lead > 0 && len - lead < 3 && ((uint8_t)s[lead - 1] & 0xC0) == 0x80)
		lead--;
	if (lead > 0 && pmhc_utf8_decode((const uint8_t *)s + lead - 1, len - lead + 1, NULL) == 0)
		s[lead - 1] = '\0';
}
