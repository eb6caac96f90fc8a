/*
 * YAML value tree to JSON with PyYAML's typing. Recursion is bounded by
 * the loader's nesting limit. Aliases share nodes in the tree but are
 * copied out here, so a small file of nested aliases (an "alias bomb")
 * could expand without bound: the copy is capped at HF_YJSON_MAX_NODES
 * values per conversion, far beyond any real schema or attribute value.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/yjson.h"
#include "hf/banned.h"

static json_t *float_json(const char *text)
{
	char buf[128], *end;
	size_t i, j = 0;
	double d;

	/* PyYAML allows '_' separators; strtod does not. */
	for (i = 0; text[i] && j + 1 < sizeof(buf); i++)
		if (text[i] != '_')
			buf[j++] = text[i];
	buf[j] = '\0';
	errno = 0;
	d = strtod(buf, &end);
	if (*end || errno || !isfinite(d))
		return json_string(text);
	return json_real(d);
}

static json_t *scalar_json(const hf_yval *v)
{
	size_t len;
	const char *text = hf_yval_text(v, &len);
	long long ll;
	int b;

	switch (hf_yval_resolve(v)) {
	case HF_YRES_NULL:
		return json_null();
	case HF_YRES_BOOL:
		return hf_yval_as_bool(v, &b) == 0 ? json_boolean(b)
		                                   : json_stringn(text, len);
	case HF_YRES_INT:
		return hf_yval_as_int(v, &ll) == 0 ? json_integer(ll)
		                                   : json_stringn(text, len);
	case HF_YRES_FLOAT:
		return float_json(text);
	default:
		return json_stringn(text ? text : "", text ? len : 0);
	}
}

struct conv {
	size_t left; /* values this conversion may still produce */
	const hf_yval *root;
};

static int to_json(json_t **out, const hf_yval *v, struct conv *c,
                   hf_error *err);

static int map_json(json_t *obj, const hf_yval *v, struct conv *c,
                    hf_error *err)
{
	const hf_yval *k;
	json_t *val;
	size_t i;
	int rc;

	for (i = 0; i < hf_yval_count(v); i++) {
		k = hf_yval_key(v, i);
		if (hf_yval_type(k) != HF_YVAL_SCALAR &&
		    hf_yval_type(k) != HF_YVAL_NULL)
			return hf_error_at(err, HF_EINVAL, hf_yval_file(k),
			                   hf_yval_line(k), hf_yval_col(k),
			                   "mapping keys must be scalars");
		rc = to_json(&val, hf_yval_value(v, i), c, err);
		if (rc < 0)
			return rc;
		if (json_object_set_new(obj, hf_yval_text(k, NULL), val) < 0)
			return HF_ENOMEM;
	}
	return 0;
}

static int to_json(json_t **out, const hf_yval *v, struct conv *c,
                   hf_error *err)
{
	json_t *j = NULL, *item;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (c->left == 0)
		return hf_error_at(
		        err, HF_EINVAL, hf_yval_file(c->root),
		        hf_yval_line(c->root), hf_yval_col(c->root),
		        "value expands to more than %u values (aliases "
		        "within aliases?)",
		        HF_YJSON_MAX_NODES);
	c->left--;
	switch (hf_yval_type(v)) {
	case HF_YVAL_NULL:
	case HF_YVAL_SCALAR:
		j = scalar_json(v);
		break;
	case HF_YVAL_SEQ:
		j = json_array();
		for (i = 0; j && rc == 0 && i < hf_yval_count(v); i++) {
			rc = to_json(&item, hf_yval_item(v, i), c, err);
			if (rc == 0 && json_array_append_new(j, item) < 0)
				rc = HF_ENOMEM;
		}
		break;
	case HF_YVAL_MAP:
		j = json_object();
		rc = j ? map_json(j, v, c, err) : HF_ENOMEM;
		break;
	}
	if (!j && rc == 0)
		rc = HF_ENOMEM;
	if (rc < 0) {
		json_decref(j);
		return rc == HF_ENOMEM ? hf_error_set(err, rc, "out of memory")
		                       : rc;
	}
	*out = j;
	return 0;
}

int hf_yval_json(json_t **out, const hf_yval *v, hf_error *err)
{
	struct conv c = { HF_YJSON_MAX_NODES, v };

	return to_json(out, v, &c, err);
}
