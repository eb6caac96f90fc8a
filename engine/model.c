/*
 * Objects and object sets. The set's indexes are string maps over
 * identity keys and node ids.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "hf/alloc.h"
#include "hf/arena.h"
#include "hf/array.h"
#include "hf/buf.h"
#include "hf/map.h"
#include "hf/model.h"
#include "hf/banned.h"

/*
 * A large set holds a hundred thousand objects and more: its keys are
 * not each a malloc'd copy. Identity keys live in the set's arena, and
 * the id index borrows the object's own id (never changed or freed
 * while the object is in the set).
 */
struct hf_objset {
	struct hf_object *objs;
	size_t n;
	size_t cap;
	hf_map by_key; /* identity key (in keys) -> 1 + index */
	hf_map by_id; /* node id (the object's) -> 1 + index */
	hf_arena keys;
	hf_buf key; /* the key being made */
};

static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static hf_map names = HF_MAP_INIT_COPY; /* name -> nothing: the key is it */

/*
 * The names a thread asked for last, by where they were: a resolver asks
 * for the same schema's few names a million times, and the lock and the
 * table are most of hf_name(). A slot answers only when its pointer is
 * asked for again and the text there is still the name it gave: a
 * pointer freed and reused for another name misses.
 */
#define NAME_SLOTS 256

static _Thread_local struct name_slot {
	const char *at;
	const char *name;
} name_slots[NAME_SLOTS];

const char *hf_name(const char *name)
{
	struct name_slot *slot;
	struct hf_map_entry *e;
	const char *out;
	size_t len;

	if (!name)
		return NULL;
	slot = &name_slots[((uintptr_t)name >> 3) % NAME_SLOTS];
	if (slot->at == name && !strcmp(name, slot->name))
		return slot->name;
	len = strlen(name);
	pthread_mutex_lock(&names_lock);
	e = hf_map_find(&names, name, len);
	if (!e && hf_map_add(&names, name, len, NULL) == 0)
		e = hf_map_find(&names, name, len);
	out = e ? e->key : NULL;
	pthread_mutex_unlock(&names_lock);
	if (out)
		*slot = (struct name_slot){ name, out };
	return out;
}

void hf_ref_release(struct hf_ref *r)
{
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
	json_decref(f->value);
	memset(f, 0, sizeof(*f));
}

void hf_object_drop_fields(struct hf_object *o)
{
	size_t i;

	for (i = 0; i < o->nfields; i++)
		hf_field_release(&o->fields[i]);
	hf_free(o->fields);
	o->fields = NULL;
	o->nfields = 0;
}

void hf_object_release(struct hf_object *o)
{
	hf_object_drop_fields(o);
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

/* Bytes of a key, its separator and escape bytes and NUL escaped. */
static void add_escaped(hf_buf *b, const char *s, size_t len)
{
	size_t i, from = 0;

	for (i = 0; i < len; i++) {
		if (s[i] != '\x1f' && s[i] != '\x1e' && s[i] != '\0')
			continue;
		hf_buf_addn(b, s + from, i - from);
		hf_buf_addch(b, '\x1e');
		hf_buf_addch(b, s[i] ? s[i] : '0');
		from = i + 1;
	}
	hf_buf_addn(b, s + from, len - from);
}

void hf_identity_key_kind(hf_buf *b, const char *kind)
{
	add_escaped(b, kind, strlen(kind));
}

void hf_identity_key_part(hf_buf *b, const char *s, size_t len)
{
	hf_buf_addch(b, '\x1f');
	add_escaped(b, s, len);
}

int hf_identity_key(struct hf_buf *b, const char *kind, const json_t *hfid)
{
	size_t i;
	json_t *c;

	if (!json_is_array(hfid))
		return HF_EINVAL;
	hf_identity_key_kind(b, kind);
	json_array_foreach(hfid, i, c)
	{
		if (!json_is_string(c))
			return HF_EINVAL;
		hf_identity_key_part(b, json_string_value(c),
		                     json_string_length(c));
	}
	return hf_buf_failed(b) ? HF_ENOMEM : 0;
}

struct hf_hfid_pool {
	hf_map by_text; /* pool_key() -> json_t * */
	hf_buf key;
};

hf_hfid_pool *hf_hfid_pool_new(void)
{
	hf_hfid_pool *p = hf_calloc(1, sizeof(*p));

	if (p) {
		p->by_text = (hf_map)HF_MAP_INIT_COPY;
		p->key = (hf_buf)HF_BUF_INIT;
	}
	return p;
}

void hf_hfid_pool_free(hf_hfid_pool *p)
{
	struct hf_map_entry *e;
	size_t i = 0;

	if (!p)
		return;
	while ((e = hf_map_each(&p->by_text, &i)))
		json_decref(e->val);
	hf_map_release(&p->by_text);
	hf_buf_release(&p->key);
	hf_free(p);
}

/* The pool's key of `h` into p->key: its identity key with no kind. */
static int pool_key(hf_hfid_pool *p, const json_t *h)
{
	hf_buf_reset(&p->key);
	return hf_identity_key(&p->key, "", h) == 0 && p->key.len ? 0 : -1;
}

/* `h` (taken) joins the pool under p->key: a new reference, or h alone. */
static json_t *join(hf_hfid_pool *p, json_t *h)
{
	if (hf_map_put(&p->by_text, p->key.ptr, p->key.len, h) < 0)
		return h;
	return json_incref(h);
}

json_t *hf_hfid_pool_take(hf_hfid_pool *p, json_t *h)
{
	json_t *have;

	if (!p || !h || pool_key(p, h) < 0)
		return h;
	have = hf_map_get(&p->by_text, p->key.ptr, p->key.len);
	if (!have)
		return join(p, h);
	json_decref(h);
	return json_incref(have);
}

json_t *hf_hfid_pool_find(hf_hfid_pool *p, const char *key, size_t len)
{
	json_t *have = p && len ? hf_map_get(&p->by_text, key, len) : NULL;

	return have ? json_incref(have) : NULL;
}

json_t *hf_hfid_pool_copy(hf_hfid_pool *p, const json_t *h)
{
	json_t *have, *copy;

	if (!h)
		return NULL;
	if (!p || pool_key(p, h) < 0)
		return json_deep_copy(h);
	have = hf_map_get(&p->by_text, p->key.ptr, p->key.len);
	if (have)
		return json_incref(have);
	copy = json_deep_copy(h);
	return copy ? join(p, copy) : NULL;
}

static long table_getn(const hf_map *t, const char *key, size_t len)
{
	uintptr_t at = (uintptr_t)hf_map_get(t, key, len);

	return at ? (long)at - 1 : -1;
}

static long table_get(const hf_map *t, const char *key)
{
	return table_getn(t, key, strlen(key));
}

static int table_put(hf_map *t, const char *key, size_t at)
{
	return hf_map_add(t, key, strlen(key), (void *)(uintptr_t)(at + 1));
}

int hf_objset_new(hf_objset **out)
{
	*out = hf_calloc(1, sizeof(**out));
	if (!*out)
		return HF_ENOMEM;
	(*out)->by_key = (hf_map)HF_MAP_INIT;
	(*out)->by_id = (hf_map)HF_MAP_INIT;
	(*out)->key = (hf_buf)HF_BUF_INIT;
	return 0;
}

void hf_objset_free(hf_objset *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		hf_object_release(&s->objs[i]);
	hf_free(s->objs);
	hf_map_release(&s->by_key);
	hf_map_release(&s->by_id);
	hf_arena_release(&s->keys);
	hf_buf_release(&s->key);
	hf_free(s);
}

int hf_objset_reserve(hf_objset *s, size_t n, int ids)
{
	int rc = HF_ARRAY_GROW(s->objs, s->cap, n);

	if (rc == 0)
		rc = hf_map_reserve(&s->by_key, n);
	if (rc == 0 && ids)
		rc = hf_map_reserve(&s->by_id, n);
	return rc;
}

int hf_objset_add(hf_objset *s, struct hf_object *o, hf_error *err)
{
	char *key = NULL;
	int rc;

	hf_buf_reset(&s->key);
	rc = hf_identity_key(&s->key, o->kind, o->hfid);
	if (rc == 0 && table_getn(&s->by_key, s->key.ptr, s->key.len) >= 0)
		rc = hf_error_set(err, HF_EINVAL, "%s is declared twice",
		                  o->kind);
	if (rc == 0)
		rc = HF_ARRAY_GROW(s->objs, s->cap, s->n + 1);
	if (rc == 0 &&
	    !(key = hf_arena_strndup(&s->keys, s->key.ptr, s->key.len)))
		rc = HF_ENOMEM;
	if (rc == 0)
		rc = table_put(&s->by_key, key, s->n);
	if (rc == 0 && o->id && (rc = table_put(&s->by_id, o->id, s->n)) < 0)
		hf_map_del(&s->by_key, key, strlen(key), NULL);
	if (rc < 0)
		goto fail;
	s->objs[s->n++] = *o;
	memset(o, 0, sizeof(*o));
	return 0;
fail:
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

long hf_objset_find_buf(const hf_objset *s, const char *kind,
                        const json_t *hfid, hf_buf *scratch)
{
	hf_buf_reset(scratch);
	if (hf_identity_key(scratch, kind, hfid) < 0 || hf_buf_failed(scratch))
		return -1;
	return table_getn(&s->by_key, scratch->ptr, scratch->len);
}

long hf_objset_find(const hf_objset *s, const char *kind, const json_t *hfid)
{
	hf_buf b = HF_BUF_INIT;
	long at = hf_objset_find_buf(s, kind, hfid, &b);

	hf_buf_release(&b);
	return at;
}

long hf_objset_find_key(const hf_objset *s, const char *key, size_t len)
{
	return table_getn(&s->by_key, key, len);
}

long hf_objset_find_id(const hf_objset *s, const char *id)
{
	return table_get(&s->by_id, id);
}
