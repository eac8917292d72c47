/* The numbered migrations of sql/, embedded at build time (see embed_sql.c). */
#ifndef PMHC_MIGRATIONS_H
#define PMHC_MIGRATIONS_H

#include <stddef.h>

struct pmhc_migration {
	int version;
	const char *name;
	const char *sql;
};

/* In ascending version order. */
extern const struct pmhc_migration pmhc_migrations[];
extern const size_t pmhc_n_migrations;

#endif
