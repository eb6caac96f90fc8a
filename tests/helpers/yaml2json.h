#ifndef HF_YAML2JSON_H
#define HF_YAML2JSON_H

#include <stddef.h>

#include <jansson.h>

/*
 * Test helper: YAML text to jansson values, resolving plain scalars the
 * way PyYAML does for the cases schema and object files use (null, bool,
 * int, float, else string). Returns a new JSON array holding one value
 * per YAML document, or NULL with a message in errbuf.
 */
json_t *hf_yaml2json(const char *text, size_t len, char *errbuf, size_t errlen);

/* The same for a file. */
json_t *hf_yaml2json_file(const char *path, char *errbuf, size_t errlen);

#endif
