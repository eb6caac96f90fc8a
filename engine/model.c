/*
 * Objects and object sets. The set's index is an open-addressing hash
 * table over identity keys (and node ids), grown at half load.
 */
#include <string.h>

#include "hf/alloc.h"
#include "hf/buf.h"
#include "hf/model.h"
#include "hf/banned.h"

struct slot {
	char *key; /* owned */
	size_t at;
};

struct table {
	struct slot *slots;
	size_t cap; /* power of two */
	size_t used;
};

struct hf_objset {
	struct hf_object *objs;
	size_t n;
	size_t cap;
	struct table by_key;
	struct table by_id;
};

void hf_ref_release(struct hf_ref *r)
{
	hf_free(r->kind);
	hf_free(r->id);
	hf_free(r->filter_attr);
	json_decref(r->hfid);
	json_decref(r->filter_value);
	memset(r, 0, sizeof(*r));
}

void hf_field_release(struct hf_field *f)
{
	size_t i;

	for (i = 0; i < f->nrefs; i++)
		hf_ref_release(&f->refs[i]);
	hf_free(f->refs);
	hf_free(f->name);
	json_decref(f->value);
	memset(f, 0, sizeof(*f));
}

void hf_object_release(struct hf_object *o)
{
	size_t i;

	for (i = 0; i < o->nfields; i++)
		hf_field_release(&o->fields[i]);
	hf_free(o->fields);
	hf_free(o->kind);
	hf_free(o->id);
	json_decref(o->hfid);
	memset(o, 0, sizeof(*o));
}

int hf_object_add_field(struct hf_object *o, struct hf_field *f)
{
	struct hf_field *nf;

	nf = hf_reallocarray(o->fields, o->nfields + 1, sizeof(*nf));
	if (!nf) {
		hf_field_release(f);
		return HF_ENOMEM;
	}
	o->fields = nf;
	o->fields[o->nfields++] = *f;
	memset(f, 0, sizeof(*f));
	return 0;
}

struct hf_field *hf_object_field(const struct hf_object *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->nfields; i++)
		if (!strcmp(o->fields[i].name, name))
			return &o->fields[i];
	return NULL;
}

int hf_identity_key(struct hf_buf *b, const char *kind, const json_t *hfid)
{
	size_t i;
	json_t *c;

	if (!json_is_array(hfid))
		return HF_EINVAL;
	hf_buf_add(b, kind);
	json_array_foreach(hfid, i, c)
	{
		if (!json_is_string(c))
			return HF_EINVAL;
		hf_buf_addch(b, '\x1f');
		hf_buf_add(b, json_string_value(c));
	}
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static long table_get(const struct table *t, const char *key)
{
	size_t i;

	if (!t->cap)
		return -1;
	for (i = hash(key) & (t->cap - 1); t->slots[i].key;
	     i = (i + 1) & (t->cap - 1))
		if (!strcmp(t->slots[i].key, key))
			return (long)t->slots[i].at;
	return -1;
}

static int table_put(struct table *t, char *key, size_t at);

static int table_grow(struct table *t)
{
	struct table nt = { NULL, t->cap ? t->cap * 2 : 64, 0 };
	size_t i;

	nt.slots = hf_calloc(nt.cap, sizeof(*nt.slots));
	if (!nt.slots)
		return HF_ENOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->slots[i].key)
			table_put(&nt, t->slots[i].key, t->slots[i].at);
	hf_free(t->slots);
	*t = nt;
	return 0;
}

/* Takes `key`. */
static int table_put(struct table *t, char *key, size_t at)
{
	size_t i;

	if ((t->used + 1) * 2 > t->cap && table_grow(t) < 0) {
		hf_free(key);
		return HF_ENOMEM;
	}
	for (i = hash(key) & (t->cap - 1); t->slots[i].key;
	     i = (i + 1) & (t->cap - 1))
		;
	t->slots[i].key = key;
	t->slots[i].at = at;
	t->used++;
	return 0;
}

static void table_release(struct table *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		hf_free(t->slots[i].key);
	hf_free(t->slots);
}

int hf_objset_new(hf_objset **out)
{
	*out = hf_calloc(1, sizeof(**out));
	return *out ? 0 : HF_ENOMEM;
}

void hf_objset_free(hf_objset *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		hf_object_release(&s->objs[i]);
	hf_free(s->objs);
	table_release(&s->by_key);
	table_release(&s->by_id);
	hf_free(s);
}

static int make_key(char **out, const char *kind, const json_t *hfid)
{
	hf_buf b = HF_BUF_INIT;
	int rc = hf_identity_key(&b, kind, hfid);

	*out = rc == 0 ? hf_buf_detach(&b) : NULL;
	hf_buf_release(&b);
	return rc == 0 && !*out ? HF_ENOMEM : rc;
}

static int reserve(hf_objset *s)
{
	struct hf_object *n;
	size_t ncap;

	if (s->n < s->cap)
		return 0;
	ncap = s->cap ? s->cap * 2 : 64;
	n = hf_reallocarray(s->objs, ncap, sizeof(*n));
	if (!n)
		return HF_ENOMEM;
	s->objs = n;
	s->cap = ncap;
	return 0;
}

int hf_objset_add(hf_objset *s, struct hf_object *o, hf_error *err)
{
	char *key = NULL, *id = NULL;
	int rc;

	rc = make_key(&key, o->kind, o->hfid);
	if (rc == 0 && table_get(&s->by_key, key) >= 0)
		rc = hf_error_set(err, HF_EINVAL, "%s is declared twice",
				  o->kind);
	if (rc == 0 && o->id && !(id = hf_strdup(o->id)))
		rc = HF_ENOMEM;
	if (rc == 0)
		rc = reserve(s);
	if (rc < 0)
		goto fail;
	rc = table_put(&s->by_key, key, s->n);
	key = NULL;
	if (rc == 0 && id)
		rc = table_put(&s->by_id, id, s->n);
	id = NULL;
	if (rc < 0)
		goto fail;
	s->objs[s->n++] = *o;
	memset(o, 0, sizeof(*o));
	return 0;
fail:
	hf_free(key);
	hf_free(id);
	hf_object_release(o);
	if (rc == HF_ENOMEM)
		hf_error_set(err, rc, "out of memory");
	else if (rc == HF_EINVAL && err && !err->msg[0])
		hf_error_set(err, rc, "object without a valid HFID");
	return rc;
}

size_t hf_objset_count(const hf_objset *s)
{
	return s->n;
}

struct hf_object *hf_objset_at(const hf_objset *s, size_t i)
{
	return i < s->n ? &s->objs[i] : NULL;
}

long hf_objset_find(const hf_objset *s, const char *kind, const json_t *hfid)
{
	char *key = NULL;
	long at;

	if (make_key(&key, kind, hfid) < 0)
		return -1;
	at = table_get(&s->by_key, key);
	hf_free(key);
	return at;
}

long hf_objset_find_id(const hf_objset *s, const char *id)
{
	return table_get(&s->by_id, id);
}
