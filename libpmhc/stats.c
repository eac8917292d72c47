#include "stats.h"

#include <math.h>
#include <string.h>

int pmhc_two_prop_test(long x1, long n1, long x2, long n2, double z_interval, struct pmhc_two_prop *out)
{
	memset(out, 0, sizeof *out);
	if (n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2)
		return -1;
	double p1 = (double)x1 / (double)n1, p2 = (double)x2 / (double)n2;
	double pooled = (double)(x1 + x2) / (double)(n1 + n2);
	double se0 = sqrt(pooled * (1.0 - pooled) * (1.0 / (double)n1 + 1.0 / (double)n2));
	double se = sqrt(p1 * (1.0 - p1) / (double)n1 + p2 * (1.0 - p2) / (double)n2);
	out->p1 = p1;
	out->p2 = p2;
	out->diff = p2 - p1;
	out->z = se0 > 0 ? out->diff / se0 : 0.0;
	out->p_value = erfc(fabs(out->z) / sqrt(2.0));
	out->lo = out->diff - z_interval * se;
	out->hi = out->diff + z_interval * se;
	/* The level the interval's z stands for, so the verdict and the drawn interval agree in wording. */
	double alpha = erfc(z_interval / sqrt(2.0));
	out->significant = se0 > 0 && out->p_value < alpha;
	return 0;
}

bool pmhc_cell_hidden(long n, long floor)
{
	return n > 0 && n < floor;
}
