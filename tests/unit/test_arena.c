#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "suites.h"

START_TEST(test_alignment_and_growth)
{
	struct pmhc_arena a;
	pmhc_arena_init(&a, 1024);
	for (int i = 0; i < 1000; i++) {
		void *p = pmhc_arena_alloc(&a, (size_t)(i % 37) + 1);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % alignof(max_align_t), 0);
		memset(p, 0xAB, (size_t)(i % 37) + 1);
	}
	/* Bigger than a chunk: gets its own. */
	char *big = pmhc_arena_alloc(&a, 10000);
	ck_assert_ptr_nonnull(big);
	memset(big, 1, 10000);
	char *after = pmhc_arena_strdup(&a, "still works");
	ck_assert_str_eq(after, "still works");
	pmhc_arena_reset(&a);
	ck_assert_uint_eq(a.bytes, 0);
	ck_assert_ptr_nonnull(pmhc_arena_alloc(&a, 16));
	pmhc_arena_destroy(&a);
}
END_TEST

START_TEST(test_as_protobuf_allocator)
{
	struct pmhc_arena a;
	pmhc_arena_init(&a, 4096);
	void *p = a.pb.alloc(a.pb.allocator_data, 100);
	ck_assert_ptr_nonnull(p);
	a.pb.free(a.pb.allocator_data, p); /* a no-op, must not crash */
	pmhc_arena_destroy(&a);
}
END_TEST

Suite *suite_arena(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("arena");
	tcase_add_test(tc, test_alignment_and_growth);
	tcase_add_test(tc, test_as_protobuf_allocator);
	suite_add_tcase(s, tc);
	return s;
}
