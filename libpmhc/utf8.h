/*
 * UTF-8 as RFC 3629 defines it: no overlongs, no surrogates, nothing past U+10FFFF.
 * One decoder for the whole tree, so that what pmhcd accepts as text and what
 * pmhc-watch prints as text cannot drift apart. Pure.
 */
#ifndef PMHC_UTF8_H
#define PMHC_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes the sequence at s (len > 0 bytes left) into *cp (cp may be NULL). Returns
 * its length, or 0 when it is not valid UTF-8; *cp is then left alone.
 */
size_t pmhc_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);

/* Whether all len bytes of s are UTF-8; the empty string is. */
int pmhc_utf8_valid(const uint8_t *s, size_t len);

/*
 * snprintf counts bytes, not characters: when it truncates UTF-8 text it can cut the
 * last character in two. This drops such a cut character from the end of s, a
 * NUL-terminated string that is otherwise UTF-8, so the text stays UTF-8.
 */
void pmhc_utf8_drop_cut(char *s);

#endif
