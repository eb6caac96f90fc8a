/*
 * YAML to JSON for tests (libyaml's document API). Only the test
 * programs use it; the server itself speaks JSON only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "hf/alloc.h"
#include "yaml2json.h"

static int is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

static json_t *plain_scalar(const char *s)
{
	static const char *const nulls[] = { "",     "~",    "null",
		                             "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", "yes",
		                             "Yes",  "YES",  "on",   "On",
		                             "ON",   NULL };
	static const char *const falses[] = { "false", "False", "FALSE", "no",
		                              "No",    "NO",    "off",   "Off",
		                              "OFF",   NULL };
	char *end;
	long long i;
	double d;

	if (is_one_of(s, nulls))
		return json_null();
	if (is_one_of(s, trues))
		return json_true();
	if (is_one_of(s, falses))
		return json_false();
	if ((*s >= '0' && *s <= '9') ||
	    ((*s == '-' || *s == '+') && s[1] >= '0' && s[1] <= '9')) {
		i = strtoll(s, &end, 10);
		if (*end == '\0' && (s[0] != '0' || s[1] == '\0'))
			return json_integer(i);
		d = strtod(s, &end);
		if (*end == '\0' && strchr(s, '.'))
			return json_real(d);
	}
	return json_string(s);
}

static json_t *convert(yaml_document_t *doc, yaml_node_t *node, int depth)
{
	json_t *out = NULL;
	yaml_node_item_t *it;
	yaml_node_pair_t *p;

	if (!node || depth > 64)
		return NULL;
	switch (node->type) {
	case YAML_SCALAR_NODE:
		if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return plain_scalar(
			        (const char *)node->data.scalar.value);
		return json_stringn((const char *)node->data.scalar.value,
		                    node->data.scalar.length);
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (it = node->data.sequence.items.start;
		     out && it < node->data.sequence.items.top; it++) {
			json_t *v =
			        convert(doc, yaml_document_get_node(doc, *it),
			                depth + 1);

			if (!v || json_array_append_new(out, v) < 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (p = node->data.mapping.pairs.start;
		     out && p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			json_t *v = convert(
			        doc, yaml_document_get_node(doc, p->value),
			        depth + 1);

			if (!k || k->type != YAML_SCALAR_NODE || !v ||
			    json_object_set_new(
			            out, (const char *)k->data.scalar.value,
			            v) < 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	default:
		return NULL;
	}
}

json_t *hf_yaml2json(const char *text, size_t len, char *errbuf, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	json_t *docs = json_array();
	int done = 0;

	if (!docs || !yaml_parser_initialize(&parser)) {
		json_decref(docs);
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &doc)) {
			snprintf(errbuf, errlen, "yaml: %s at line %zu",
			         parser.problem ? parser.problem : "error",
			         parser.problem_mark.line + 1);
			json_decref(docs);
			docs = NULL;
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root) {
			done = 1;
		} else if (json_array_append_new(docs, convert(&doc, root, 0)) <
		           0) {
			snprintf(errbuf, errlen, "cannot convert document");
			json_decref(docs);
			docs = NULL;
			done = 1;
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	return docs;
}

json_t *hf_yaml2json_file(const char *path, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	json_t *out;

	if (!f) {
		snprintf(errbuf, errlen, "cannot open '%s'", path);
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			char *t = hf_realloc(text, cap + 65536);

			if (!t) {
				hf_free(text);
				fclose(f);
				snprintf(errbuf, errlen, "out of memory");
				return NULL;
			}
			text = t;
			cap += 65536;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	out = hf_yaml2json(text, len, errbuf, errlen);
	hf_free(text);
	return out;
}
