#include "enums.h"

#include <string.h>

/*
 * The length of the prefix every value's name shares, up to and including its last
 * '_'. values_by_name is sorted, so the first and the last name bound all the others.
 */
static size_t shared_prefix(const ProtobufCEnumDescriptor *d)
{
	if (d->n_value_names < 2)
		return 0;
	const char *a = d->values_by_name[0].name, *b = d->values_by_name[d->n_value_names - 1].name;
	size_t n = 0, cut = 0;
	while (a[n] != '\0' && a[n] == b[n]) {
		if (a[n] == '_')
			cut = n + 1;
		n++;
	}
	return cut;
}

const char *pmhc_enum_name(const ProtobufCEnumDescriptor *d, int value)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
	if (value == 0 || v == NULL)
		return "UNSPECIFIED";
	return v->name + shared_prefix(d);
}

int pmhc_enum_parse(const ProtobufCEnumDescriptor *d, const char *name, int *out)
{
	size_t cut = shared_prefix(d);
	for (unsigned i = 0; i < d->n_values; i++) {
		const ProtobufCEnumValue *v = &d->values[i];
		if (v->value != 0 && strcmp(v->name + cut, name) == 0) {
			*out = v->value;
			return 0;
		}
	}
	return -1;
}
