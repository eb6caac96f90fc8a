/*
 * The parts of the plan store's `unchanged` table: many unchanged objects
 * to a row, one to a line of a JSON array (store_int.h says why and how).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/jsontext.h"
#include "hf/model.h"
#include "store_int.h"
#include "hf/banned.h"

/*
 * The text of a no-op as a part's line can hold it: an object on one
 * line. Texts are JSON (the diff writes them, the store checks those it
 * reads back: hf_json_valid()); compact JSON has no line breaks, but
 * JSON read back may have them between its tokens.
 */
static int one_line_object(const char *t)
{
	size_t n = strlen(t);

	return t[0] == '{' && !memchr(t, '\n', n) && !memchr(t, '\r', n);
}

int hf_part_takes(const struct hf_change *c)
{
	return c->action == HF_ACT_NOOP && !c->adopt && hf_change_is_text(c) &&
	       c->status == HF_CH_PENDING && !c->error && !c->cascade_of &&
	       !json_array_size(c->changed) && !json_array_size(c->deps) &&
	       c->started <= 0 && c->finished <= 0 && strlen(c->id) == 16 &&
	       one_line_object(c->text);
}

/* s as a JSON string, NULL as null: 0, HF_EINVAL (not UTF-8), HF_ENOMEM */
static int add_string(hf_buf *b, const char *s, char after)
{
	int rc = s ? hf_json_write_string(b, s, strlen(s))
	           : hf_buf_add(b, "null");

	if (rc < 0)
		return rc;
	hf_buf_addch(b, after);
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

int hf_part_add(hf_buf *b, size_t seq, const struct hf_change *c)
{
	size_t mark;
	int rc;

	hf_buf_addf(b, "%s[%zu,", b->len ? ",\n" : "[\n", seq);
	if ((rc = add_string(b, c->id, ',')) < 0 ||
	    (rc = add_string(b, c->kind, ',')) < 0)
		return rc;
	if (!c->hfid)
		hf_buf_add(b, "null");
	else if ((rc = hf_json_write(b, c->hfid, 0)) < 0)
		return rc;
	hf_buf_addch(b, ',');
	if ((rc = add_string(b, c->node_id, ',')) < 0)
		return rc;
	hf_buf_add(b, c->text);
	hf_buf_addch(b, ',');
	if ((rc = add_string(b, c->fingerprint, ',')) < 0)
		return rc;
	hf_buf_addf(b, "%d,", c->wave);
	mark = b->len;
	rc = hf_change_sources_write(c, b, 0);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		hf_buf_setlen(b, mark);
		hf_buf_add(b, "null");
	}
	hf_buf_addch(b, ']');
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

int hf_part_close(hf_buf *b)
{
	hf_buf_add(b, "\n]");
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

int hf_part_sources(struct hf_change *c, json_t *t)
{
	json_t *one, *file, *line;

	if (!t)
		return 0;
	if (!json_is_array(t)) {
		json_decref(t);
		return HF_EINVAL;
	}
	one = json_array_size(t) == 1 ? json_array_get(t, 0) : NULL;
	file = json_object_get(one, "file");
	line = json_object_get(one, "line");
	if (json_object_size(one) == 2 && json_is_string(file) &&
	    json_is_integer(line) && json_integer_value(line) >= INT_MIN &&
	    json_integer_value(line) <= INT_MAX &&
	    strlen(json_string_value(file)) == json_string_length(file)) {
		c->src_file = hf_name(json_string_value(file));
		c->src_line = (int)json_integer_value(line);
		json_decref(t);
		return c->src_file ? 0 : HF_ENOMEM;
	}
	c->sources = t;
	return 0;
}

/* A value of a part's line that is "null". */
static int is_null(const char *v, size_t n)
{
	return n == 4 && !memcmp(v, "null", 4);
}

/* A string of a part's line, NULL for null: 0, HF_EINVAL, HF_ENOMEM. */
static int part_string(const char *v, size_t n, char **out)
{
	json_t *j;

	*out = NULL;
	if (is_null(v, n))
		return 0;
	if (n < 2 || v[0] != '"')
		return HF_EINVAL;
	if (!memchr(v, '\\', n)) {
		*out = hf_strndup(v + 1, n - 2);
		return *out ? 0 : HF_ENOMEM;
	}
	j = json_loadb(v, n, JSON_DECODE_ANY, NULL);
	if (!json_is_string(j) ||
	    strlen(json_string_value(j)) != json_string_length(j)) {
		json_decref(j);
		return HF_EINVAL;
	}
	*out = hf_strdup(json_string_value(j));
	json_decref(j);
	return *out ? 0 : HF_ENOMEM;
}

/* A JSON value of a part's line as a tree, NULL for null. */
static int part_tree(const char *v, size_t n, json_t **out)
{
	*out = is_null(v, n) ? NULL : json_loadb(v, n, JSON_DECODE_ANY, NULL);
	return *out || is_null(v, n) ? 0 : HF_EINVAL;
}

static int part_int(const char *v, size_t n, long long max, long long *out)
{
	char t[24], *end;

	if (!n || n >= sizeof(t) || v[0] == '-')
		return HF_EINVAL;
	memcpy(t, v, n);
	t[n] = '\0';
	*out = strtoll(t, &end, 10);
	return *end || *out > max ? HF_EINVAL : 0;
}

#define PART_VALUES 9

/* One line of a part as the no-op it was (hf_part_next()). */
static int part_change(const char *line, size_t n, json_t *empty,
                       long long *seq, char id[17], struct hf_change *c)
{
	const char *v[PART_VALUES];
	size_t len[PART_VALUES], i = 1, k;
	long long num;
	char *str = NULL;
	json_t *t;
	int rc;

	memset(c, 0, sizeof(*c));
	if (n < 2 || line[0] != '[' || line[n - 1] != ']')
		return HF_EINVAL;
	for (k = 0; k < PART_VALUES; k++) {
		v[k] = line + i;
		len[k] = hf_json_value_len(v[k], n - 1 - i);
		i += len[k];
		if (!len[k] || line[i] != (k + 1 < PART_VALUES ? ',' : ']'))
			return HF_EINVAL;
		i++;
	}
	if (i != n || part_int(v[0], len[0], LLONG_MAX, &num) < 0)
		return HF_EINVAL;
	*seq = num;
	c->action = HF_ACT_NOOP;
	c->status = HF_CH_PENDING;
	c->changed = json_incref(empty);
	c->deps = json_incref(empty);
	if ((rc = part_string(v[1], len[1], &str)) < 0)
		return rc;
	if (!str || strlen(str) != 16) {
		hf_free(str);
		return HF_EINVAL;
	}
	memcpy(id, str, 17);
	hf_free(str);
	if ((rc = part_string(v[2], len[2], &c->kind)) < 0 ||
	    (rc = part_tree(v[3], len[3], &c->hfid)) < 0 ||
	    (rc = part_string(v[4], len[4], &c->node_id)) < 0 ||
	    (rc = part_string(v[6], len[6], &str)) < 0)
		return rc;
	/* the fields: a JSON object, as the view's json_each() must read */
	if (!c->kind || !str || strlen(str) >= sizeof(c->fingerprint) ||
	    v[5][0] != '{' || !hf_json_valid(v[5], len[5])) {
		hf_free(str);
		return HF_EINVAL;
	}
	memcpy(c->fingerprint, str, strlen(str) + 1);
	hf_free(str);
	if (!(c->text = hf_strndup(v[5], len[5])))
		return HF_ENOMEM;
	if (part_int(v[7], len[7], INT_MAX, &num) < 0)
		return HF_EINVAL;
	c->wave = (int)num;
	if ((rc = part_tree(v[8], len[8], &t)) < 0)
		return rc;
	return hf_part_sources(c, t);
}

int hf_part_begin(struct hf_part_reader *r, const char *t, size_t n)
{
	r->p = r->end = NULL;
	if (!t || n < 5 || memcmp(t, "[\n", 2) || memcmp(t + n - 2, "\n]", 2))
		return HF_EINVAL;
	r->p = t + 2;
	r->end = t + n - 2;
	return 0;
}

int hf_part_next(struct hf_part_reader *r, json_t *empty, long long *seq,
                 char id[17], struct hf_change *c)
{
	const char *nl;
	size_t len;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!r->p || r->p > r->end)
		return 0;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	if (!nl)
		nl = r->end;
	len = (size_t)(nl - r->p);
	if (nl < r->end && (!len || r->p[--len] != ','))
		return HF_EINVAL;
	id[0] = '\0';
	rc = part_change(r->p, len, empty, seq, id, c);
	r->p = nl + 1; /* past the end after the last line */
	return rc < 0 ? rc : 1;
}
