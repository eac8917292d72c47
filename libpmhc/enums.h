/*
 * The one way pmhcd names the values of the contract's enums, from the protobuf
 * descriptors themselves, so a value added to pmhc.proto is named everywhere at once:
 * the protobuf name less the prefix all the enum's values share ("RESPONSE_CIT" is
 * "CIT", "DISP_ARREST" is "ARREST", "SOURCE_911" is "911"). Value 0 and any number the
 * enum does not have are "UNSPECIFIED".
 */
#ifndef PMHC_ENUMS_H
#define PMHC_ENUMS_H

#include <protobuf-c/protobuf-c.h>

const char *pmhc_enum_name(const ProtobufCEnumDescriptor *d, int value);

/* The value whose short name is NAME, other than 0, into *out: 0, or -1 if none is. */
int pmhc_enum_parse(const ProtobufCEnumDescriptor *d, const char *name, int *out);

#endif
