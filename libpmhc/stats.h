/*
 * The statistics of the coordinator's report, pure: is the change between a
 * baseline and a current proportion more than chance, and is a count small
 * enough that publishing it could point to a person.
 */
#ifndef PMHC_STATS_H
#define PMHC_STATS_H

#include <stdbool.h>

/* The two-sided z for a 95 % interval. */
#define PMHC_Z95 1.959963984540054

struct pmhc_two_prop {
	double p1, p2;    /* x1 / n1 (baseline), x2 / n2 (current) */
	double diff;      /* p2 - p1 */
	double z;         /* (p2 - p1) / pooled standard error */
	double p_value;   /* two-sided, from the normal distribution */
	double lo, hi;    /* interval for p2 - p1 at the z given (unpooled, Wald) */
	bool significant; /* p_value < the level that matches z (the interval excludes 0) */
};

/*
 * The two-proportion z-test of x2/n2 (current) against x1/n1 (baseline), as
 * R's prop.test(c(x2, x1), c(n2, n1), correct = FALSE): z squared is its
 * X-squared. Returns -1 (and leaves *out zeroed) when a count is negative,
 * x > n, or n is 0; when both proportions are 0 or both 1 there is no variance:
 * z is 0 and p_value 1.
 */
int pmhc_two_prop_test(long x1, long n1, long x2, long n2, double z_interval, struct pmhc_two_prop *out);

/* Whether a published count must be hidden: 0 < n < floor (0 itself says nothing about a person). */
bool pmhc_cell_hidden(long n, long floor);

#endif
