/*
 * trace_metadata.c - a recursive-descent parser for CTF 1.8 TSDL.
 *
 * Everything it allocates lives in one arena that tm_free() releases, so a
 * parse error can longjmp out from any depth without leaking.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_metadata.h"

#define MAX_DEPTH 32 /* nesting of types: bounds the decoder's recursion too */

struct arena {
	struct arena *next;
	size_t used, cap;
	max_align_t data[];
};

enum tok_kind { TK_EOF, TK_IDENT, TK_NUM, TK_STR, TK_PUNCT };

struct tok {
	enum tok_kind kind;
	const char *p; /* in the text (TK_IDENT, TK_PUNCT, TK_STR without quotes) */
	size_t len;
	uint64_t num;
	int line;
};

struct alias {
	const char *name;
	const struct tm_type *type;
};

struct parser {
	const char *pos, *end;
	int line;
	struct tok tok; /* the current token */
	struct tm_trace *t;
	jmp_buf fail;
	char *err;
	size_t errlen;
	int depth;
	struct alias *aliases;
	size_t naliases, aliases_cap;
	size_t env_cap, events_cap, streams_cap;
	int seen_trace;
};

static void *amalloc(struct tm_trace *t, size_t n)
{
	struct arena *a = t->arena;

	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!a || a->cap - a->used < n) {
		size_t cap = n > 65536 ? n : 65536;

		a = calloc(1, sizeof(*a) + cap);
		if (!a)
			return NULL;
		a->cap = cap;
		a->next = t->arena;
		t->arena = a;
	}
	a->used += n;
	return (char *)a->data + a->used - n;
}

static __attribute__((noreturn, format(printf, 2, 3))) void fail(struct parser *p,
								  const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "metadata line %d: ", p->tok.line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	longjmp(p->fail, 1);
}

static void *palloc(struct parser *p, size_t n)
{
	void *m = amalloc(p->t, n);

	if (!m)
		fail(p, "out of memory");
	memset(m, 0, n);
	return m;
}

static char *pstrndup(struct parser *p, const char *s, size_t n)
{
	char *d = palloc(p, n + 1);

	memcpy(d, s, n);
	return d;
}

/* Grow an arena array: the old copy stays in the arena until tm_free(). */
static void *pgrow(struct parser *p, void *old, size_t n, size_t *cap, size_t elem)
{
	void *m;

	if (n < *cap)
		return old;
	*cap = *cap ? *cap * 2 : 8;
	m = palloc(p, *cap * elem);
	if (old)
		memcpy(m, old, n * elem);
	return m;
}

/* ---- lexer ---- */

static void next(struct parser *p)
{
	const char *s = p->pos, *e = p->end;
	struct tok *t = &p->tok;

	for (;;) {
		while (s < e && isspace((unsigned char)*s)) {
			if (*s == '\n')
				p->line++;
			s++;
		}
		if (e - s >= 2 && s[0] == '/' && s[1] == '*') {
			const char *c = s + 2;

			while (e - c >= 2 && !(c[0] == '*' && c[1] == '/')) {
				if (*c == '\n')
					p->line++;
				c++;
			}
			if (e - c < 2) {
				t->line = p->line;
				fail(p, "unterminated comment");
			}
			s = c + 2;
		} else if (e - s >= 2 && s[0] == '/' && s[1] == '/') {
			while (s < e && *s != '\n')
				s++;
		} else {
			break;
		}
	}
	t->line = p->line;
	t->p = s;
	t->len = 0;
	if (s >= e) {
		t->kind = TK_EOF;
	} else if (isalpha((unsigned char)*s) || *s == '_') {
		t->kind = TK_IDENT;
		while (s < e && (isalnum((unsigned char)*s) || *s == '_'))
			s++;
		t->len = s - t->p;
	} else if (isdigit((unsigned char)*s)) {
		char buf[32], *endp;
		size_t n = 0;

		while (s + n < e && isalnum((unsigned char)s[n]))
			n++;
		if (n >= sizeof(buf))
			fail(p, "number too long");
		memcpy(buf, s, n);
		buf[n] = 0;
		errno = 0;
		t->num = strtoull(buf, &endp, 0);
		while (*endp == 'u' || *endp == 'U' || *endp == 'l' || *endp == 'L')
			endp++;
		if (errno || *endp)
			fail(p, "bad number '%s'", buf);
		t->kind = TK_NUM;
		s += n;
	} else if (*s == '"') {
		t->kind = TK_STR;
		t->p = ++s;
		while (s < e && *s != '"') {
			if (*s == '\\' && s + 1 < e)
				s++;
			if (*s == '\n')
				p->line++;
			s++;
		}
		if (s >= e)
			fail(p, "unterminated string");
		t->len = s - t->p;
		s++;
	} else {
		t->kind = TK_PUNCT;
		if (e - s >= 2 && s[0] == ':' && s[1] == '=')
			t->len = 2;
		else if (e - s >= 3 && !memcmp(s, "...", 3))
			t->len = 3;
		else
			t->len = 1;
		s += t->len;
	}
	p->pos = s;
}

static int is(const struct parser *p, const char *word)
{
	return (p->tok.kind == TK_IDENT || p->tok.kind == TK_PUNCT) &&
	       p->tok.len == strlen(word) && !memcmp(p->tok.p, word, p->tok.len);
}

static int accept(struct parser *p, const char *word)
{
	if (!is(p, word))
		return 0;
	next(p);
	return 1;
}

static void expect(struct parser *p, const char *word)
{
	if (accept(p, word))
		return;
	if (p->tok.kind == TK_EOF)
		fail(p, "expected '%s' before the end", word);
	fail(p, "expected '%s', found '%.*s'", word, (int)(p->tok.len < 40 ? p->tok.len : 40),
	     p->tok.p);
}

static char *ident(struct parser *p)
{
	char *s;

	if (p->tok.kind != TK_IDENT)
		fail(p, "expected a name");
	s = pstrndup(p, p->tok.p, p->tok.len);
	next(p);
	return s;
}

/* A dotted path (clock.monotonic.value, stream.event.header.id), as one string. */
static char *path(struct parser *p)
{
	const char *start = p->tok.p, *endp;

	if (p->tok.kind != TK_IDENT)
		fail(p, "expected a name");
	do {
		if (p->tok.kind != TK_IDENT)
			fail(p, "expected a name after '.'");
		endp = p->tok.p + p->tok.len;
		next(p);
	} while (accept(p, "."));
	return pstrndup(p, start, endp - start);
}

/* ---- values: key = value; ---- */

struct value {
	int is_num;
	int64_t num; /* also the bit pattern of a uint64_t */
	const char *str;
};

static struct value value(struct parser *p)
{
	struct value v = {0};

	if (p->tok.kind == TK_STR) {
		v.str = pstrndup(p, p->tok.p, p->tok.len);
		next(p);
	} else if (p->tok.kind == TK_NUM) {
		v.is_num = 1;
		v.num = (int64_t)p->tok.num;
		next(p);
	} else if (accept(p, "-")) {
		if (p->tok.kind != TK_NUM)
			fail(p, "expected a number after '-'");
		v.is_num = 1;
		v.num = -(int64_t)p->tok.num;
		next(p);
	} else if (p->tok.kind == TK_IDENT) {
		v.str = path(p);
	} else {
		fail(p, "expected a value");
	}
	return v;
}

static uint64_t num_value(struct parser *p, struct value v, const char *key)
{
	if (!v.is_num)
		fail(p, "'%s' wants a number", key);
	return (uint64_t)v.num;
}

static int bool_value(struct parser *p, struct value v, const char *key)
{
	if (v.is_num)
		return v.num != 0;
	if (!strcasecmp(v.str, "true"))
		return 1;
	if (!strcasecmp(v.str, "false"))
		return 0;
	fail(p, "'%s' wants true or false", key);
}

static enum tm_byte_order byte_order_value(struct parser *p, struct value v)
{
	if (v.str && !strcmp(v.str, "native"))
		return TM_NATIVE;
	if (v.str && (!strcmp(v.str, "le") || !strcmp(v.str, "little_endian")))
		return TM_LE;
	if (v.str && (!strcmp(v.str, "be") || !strcmp(v.str, "network") ||
		      !strcmp(v.str, "big_endian")))
		return TM_BE;
	fail(p, "bad byte_order");
}

/* ---- types ---- */

static const struct tm_type *type_spec(struct parser *p, int field_ctx);

static void add_alias(struct parser *p, const char *name, const struct tm_type *type)
{
	p->aliases = pgrow(p, p->aliases, p->naliases, &p->aliases_cap, sizeof(*p->aliases));
	p->aliases[p->naliases].name = name;
	p->aliases[p->naliases++].type = type;
}

static const struct tm_type *find_alias(struct parser *p, const char *name)
{
	for (size_t i = p->naliases; i-- > 0;) /* the newest wins */
		if (!strcmp(p->aliases[i].name, name))
			return p->aliases[i].type;
	return NULL;
}

static const struct tm_type *lookup(struct parser *p, const char *name)
{
	const struct tm_type *t = find_alias(p, name);

	if (!t)
		fail(p, "unknown type '%s'", name);
	return t;
}

/* Named struct, variant and enum types live in the aliases as "TAG NAME". */
static const struct tm_type *tag_lookup(struct parser *p, const char *tag, const char *name)
{
	char key[300];

	snprintf(key, sizeof(key), "%s %s", tag, name);
	return lookup(p, key);
}

static void tag_alias(struct parser *p, const char *tag, const char *name,
		      const struct tm_type *type)
{
	size_t n = strlen(tag) + strlen(name) + 2;
	char *key = palloc(p, n);

	snprintf(key, n, "%s %s", tag, name);
	add_alias(p, key, type);
}

static void attrs_begin(struct parser *p)
{
	expect(p, "{");
}

/* Reads `key = value;` until '}'; returns 0 at the end. */
static int attr(struct parser *p, char **key, struct value *v)
{
	if (accept(p, "}"))
		return 0;
	*key = path(p);
	expect(p, "=");
	*v = value(p);
	expect(p, ";");
	return 1;
}

static unsigned align_value(struct parser *p, uint64_t a)
{
	if (a == 0 || a > 4096 || (a & (a - 1)))
		fail(p, "bad alignment %llu", (unsigned long long)a);
	return (unsigned)a;
}

static const struct tm_type *integer(struct parser *p)
{
	struct tm_type *t = palloc(p, sizeof(*t));
	int has_align = 0;
	char *key;
	struct value v;

	t->kind = TM_INT;
	t->base = 10;
	attrs_begin(p);
	while (attr(p, &key, &v)) {
		if (!strcmp(key, "size")) {
			t->size = num_value(p, v, key);
		} else if (!strcmp(key, "align")) {
			t->align = align_value(p, num_value(p, v, key));
			has_align = 1;
		} else if (!strcmp(key, "signed")) {
			t->is_signed = bool_value(p, v, key);
		} else if (!strcmp(key, "byte_order")) {
			t->byte_order = byte_order_value(p, v);
		} else if (!strcmp(key, "encoding")) {
			t->encoded = v.str && strcasecmp(v.str, "none");
		} else if (!strcmp(key, "map")) {
			t->clock_map = v.str && !strncmp(v.str, "clock.", 6);
		} else if (!strcmp(key, "base")) {
			if (v.is_num)
				t->base = (int)v.num;
			else if (strchr("xXp", v.str[0]) || !strcmp(v.str, "hex") ||
				 !strcmp(v.str, "hexadecimal"))
				t->base = 16;
			else if (v.str[0] == 'o')
				t->base = 8;
			else if (v.str[0] == 'b')
				t->base = 2;
			else
				t->base = 10;
			if (t->base != 2 && t->base != 8 && t->base != 10 && t->base != 16)
				fail(p, "bad base");
		}
	}
	if (t->size < 1 || t->size > 64)
		fail(p, "integer size %u not in 1..64", t->size);
	if (!has_align)
		t->align = t->size % 8 ? 1 : 8;
	return t;
}

static const struct tm_type *floating_point(struct parser *p)
{
	struct tm_type *t = palloc(p, sizeof(*t));
	char *key;
	struct value v;

	t->kind = TM_FLOAT;
	t->align = 8;
	attrs_begin(p);
	while (attr(p, &key, &v)) {
		if (!strcmp(key, "exp_dig"))
			t->exp_dig = num_value(p, v, key);
		else if (!strcmp(key, "mant_dig"))
			t->mant_dig = num_value(p, v, key);
		else if (!strcmp(key, "align"))
			t->align = align_value(p, num_value(p, v, key));
		else if (!strcmp(key, "byte_order"))
			t->byte_order = byte_order_value(p, v);
	}
	t->size = t->exp_dig + t->mant_dig;
	if (!(t->exp_dig == 8 && t->mant_dig == 24) && !(t->exp_dig == 11 && t->mant_dig == 53))
		fail(p, "only 32- and 64-bit IEEE 754 floating_point is supported");
	return t;
}

static const struct tm_type *string_type(struct parser *p)
{
	static const struct tm_type str = {.kind = TM_STRING, .align = 8};
	char *key;
	struct value v;

	if (is(p, "{")) {
		attrs_begin(p);
		while (attr(p, &key, &v))
			;
	}
	return &str;
}

static const struct tm_type *array_of(struct parser *p, const struct tm_type *elem,
				      const struct tm_type *outer);

/*
 * One declarator: NAME ([LEN])*.  `int a[2][3]` is an array of 2 arrays of
 * 3, so the innermost dimension is the last one written.
 */
static const struct tm_type *declarator(struct parser *p, const struct tm_type *type,
					const char **name)
{
	struct tm_type *dims[8];
	int ndims = 0;

	*name = ident(p);
	while (accept(p, "[")) {
		struct tm_type *a = palloc(p, sizeof(*a));

		if (ndims == 8)
			fail(p, "too many dimensions");
		if (p->tok.kind == TK_NUM) {
			a->kind = TM_ARRAY;
			a->length = p->tok.num;
			next(p);
		} else {
			a->kind = TM_SEQUENCE;
			a->length_ref = path(p);
		}
		expect(p, "]");
		dims[ndims++] = a;
	}
	while (ndims-- > 0)
		type = array_of(p, type, dims[ndims]);
	return type;
}

static const struct tm_type *array_of(struct parser *p, const struct tm_type *elem,
				      const struct tm_type *outer)
{
	struct tm_type *a = (struct tm_type *)outer;

	a->elem = elem;
	a->align = elem->align;
	return a;
}

/* Fields of a struct or variant body, after '{', through '}'. */
static void fields(struct parser *p, struct tm_type *t)
{
	size_t cap = 0;

	while (!accept(p, "}")) {
		const struct tm_type *base;

		if (p->tok.kind == TK_EOF)
			fail(p, "unterminated struct");
		if (is(p, "typealias") || is(p, "typedef"))
			fail(p, "typealias inside a struct is not supported");
		base = type_spec(p, 1);
		do {
			const char *name;
			const struct tm_type *ft = declarator(p, base, &name);

			t->fields = pgrow(p, t->fields, t->nfields, &cap, sizeof(*t->fields));
			t->fields[t->nfields].name = name;
			t->fields[t->nfields++].type = ft;
			if (t->kind == TM_STRUCT && ft->align > t->align)
				t->align = ft->align;
		} while (accept(p, ","));
		expect(p, ";");
	}
}

static const struct tm_type *struct_type(struct parser *p)
{
	struct tm_type *t;
	char *name = NULL;

	if (p->tok.kind == TK_IDENT && !is(p, "align"))
		name = ident(p);
	if (!is(p, "{")) {
		if (!name)
			fail(p, "struct without a name or a body");
		return tag_lookup(p, "struct", name);
	}
	next(p);
	t = palloc(p, sizeof(*t));
	t->kind = TM_STRUCT;
	t->align = 1;
	fields(p, t);
	if (accept(p, "align")) {
		unsigned a;

		expect(p, "(");
		if (p->tok.kind != TK_NUM)
			fail(p, "expected a number");
		a = align_value(p, p->tok.num);
		next(p);
		expect(p, ")");
		if (a > t->align)
			t->align = a;
	}
	if (name)
		tag_alias(p, "struct", name, t);
	return t;
}

static const struct tm_type *variant_type(struct parser *p)
{
	struct tm_type *t;
	char *name = NULL, *tag = NULL;

	if (p->tok.kind == TK_IDENT)
		name = ident(p);
	if (accept(p, "<")) {
		tag = path(p);
		expect(p, ">");
	}
	if (!accept(p, "{")) {
		const struct tm_type *named;

		if (!name)
			fail(p, "variant without a name or a body");
		named = tag_lookup(p, "variant", name);
		t = palloc(p, sizeof(*t));
		*t = *named;
		if (tag)
			t->tag = tag;
		return t;
	}
	t = palloc(p, sizeof(*t));
	t->kind = TM_VARIANT;
	t->align = 1;
	t->tag = tag;
	fields(p, t);
	if (name)
		tag_alias(p, "variant", name, t);
	return t;
}

static const struct tm_type *enum_type(struct parser *p)
{
	struct tm_type *t;
	char *name = NULL;
	const struct tm_type *container = NULL;
	size_t cap = 0;
	int64_t nextv = 0;

	if (p->tok.kind == TK_IDENT)
		name = ident(p);
	if (accept(p, ":"))
		container = type_spec(p, 0);
	if (!accept(p, "{")) {
		if (!name)
			fail(p, "enum without a name or a body");
		return tag_lookup(p, "enum", name);
	}
	if (!container)
		container = lookup(p, "int");
	if (container->kind != TM_INT)
		fail(p, "an enum's container must be an integer");
	t = palloc(p, sizeof(*t));
	t->kind = TM_ENUM;
	t->container = container;
	t->align = container->align;
	while (!accept(p, "}")) {
		struct tm_enum_map *m;

		t->maps = pgrow(p, t->maps, t->nmaps, &cap, sizeof(*t->maps));
		m = &t->maps[t->nmaps++];
		if (p->tok.kind == TK_STR) {
			m->label = pstrndup(p, p->tok.p, p->tok.len);
			next(p);
		} else {
			m->label = ident(p);
		}
		if (accept(p, "=")) {
			struct value v = value(p);

			m->lo = (int64_t)num_value(p, v, m->label);
			m->hi = m->lo;
			if (accept(p, "...")) {
				v = value(p);
				m->hi = (int64_t)num_value(p, v, m->label);
			}
		} else {
			m->lo = m->hi = nextv;
		}
		nextv = m->hi + 1;
		if (!accept(p, ",")) {
			expect(p, "}"); /* the last entry has no comma */
			break;
		}
	}
	if (name)
		tag_alias(p, "enum", name, t);
	return t;
}

/*
 * A type specifier.  In a field declaration (@field_ctx) a run of names
 * ends with the declarator, which is left for the caller: `unsigned long x`.
 */
static const struct tm_type *type_spec(struct parser *p, int field_ctx)
{
	const struct tm_type *t;

	if (++p->depth > MAX_DEPTH)
		fail(p, "types nested too deeply");
	if (accept(p, "integer")) {
		t = integer(p);
	} else if (accept(p, "floating_point")) {
		t = floating_point(p);
	} else if (accept(p, "string")) {
		t = string_type(p);
	} else if (accept(p, "struct")) {
		t = struct_type(p);
	} else if (accept(p, "variant")) {
		t = variant_type(p);
	} else if (accept(p, "enum")) {
		t = enum_type(p);
	} else if (p->tok.kind == TK_IDENT) {
		char name[256];
		size_t n = 0;
		const char *save_pos = p->pos;
		struct tok save_tok = p->tok;
		int save_line = p->line;

		name[0] = 0;
		for (;;) {
			if (n + p->tok.len + 2 > sizeof(name))
				fail(p, "type name too long");
			if (n)
				name[n++] = ' ';
			memcpy(name + n, p->tok.p, p->tok.len);
			n += p->tok.len;
			name[n] = 0;
			save_pos = p->pos;
			save_tok = p->tok;
			save_line = p->line;
			next(p);
			if (p->tok.kind != TK_IDENT)
				break;
		}
		if (field_ctx) {
			/* Give the last name back: it is the declarator. */
			char *sp = strrchr(name, ' ');

			if (!sp)
				fail(p, "expected a type and a field name");
			*sp = 0;
			p->pos = save_pos;
			p->tok = save_tok;
			p->line = save_line;
		}
		t = lookup(p, name);
	} else {
		fail(p, "expected a type");
	}
	p->depth--;
	return t;
}

static void typealias(struct parser *p)
{
	const struct tm_type *t = type_spec(p, 0);
	char name[256];
	size_t n = 0;

	expect(p, ":=");
	while (p->tok.kind == TK_IDENT || is(p, "*")) {
		if (n + p->tok.len + 2 > sizeof(name))
			fail(p, "type name too long");
		if (n)
			name[n++] = ' ';
		memcpy(name + n, p->tok.p, p->tok.len);
		n += p->tok.len;
		next(p);
	}
	if (!n)
		fail(p, "typealias without a name");
	name[n] = 0;
	expect(p, ";");
	add_alias(p, pstrndup(p, name, n), t);
}

static void typedef_(struct parser *p)
{
	const struct tm_type *t = type_spec(p, 1);

	do {
		const char *name;
		const struct tm_type *dt = declarator(p, t, &name);

		add_alias(p, name, dt);
	} while (accept(p, ","));
	expect(p, ";");
}

/* ---- blocks ---- */

enum block { B_TRACE, B_ENV, B_CLOCK, B_STREAM, B_EVENT, B_OTHER };

static int parse_uuid(const char *s, uint8_t out[16])
{
	int n = 0;

	for (; *s && n < 32; s++) {
		int d;

		if (*s == '-')
			continue;
		if (!isxdigit((unsigned char)*s))
			return -1;
		d = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
		if (n % 2)
			out[n / 2] |= d;
		else
			out[n / 2] = d << 4;
		n++;
	}
	return n == 32 && !*s ? 0 : -1;
}

static void block(struct parser *p, enum block kind)
{
	struct tm_trace *t = p->t;
	struct tm_stream st = {0};
	struct tm_event *ev = NULL;
	struct tm_clock ck = {.freq = 1000000000};
	int has_stream_id = 0, has_id = 0;

	if (kind == B_EVENT)
		ev = palloc(p, sizeof(*ev));
	expect(p, "{");
	while (!accept(p, "}")) {
		char *key;

		if (p->tok.kind == TK_EOF)
			fail(p, "unterminated block");
		if (accept(p, "typealias")) {
			typealias(p);
			continue;
		}
		if (accept(p, "typedef")) {
			typedef_(p);
			continue;
		}
		key = path(p);
		if (accept(p, ":=")) {
			const struct tm_type *ty = type_spec(p, 0);

			expect(p, ";");
			if (kind == B_TRACE && !strcmp(key, "packet.header"))
				t->packet_header = ty;
			else if (kind == B_STREAM && !strcmp(key, "packet.context"))
				st.packet_context = ty;
			else if (kind == B_STREAM && !strcmp(key, "event.header"))
				st.event_header = ty;
			else if (kind == B_STREAM && !strcmp(key, "event.context"))
				st.event_context = ty;
			else if (kind == B_EVENT && !strcmp(key, "fields"))
				ev->fields = ty;
			else if (kind == B_EVENT && !strcmp(key, "context"))
				ev->context = ty;
			else
				fail(p, "unexpected type '%s'", key);
			if (ty->kind != TM_STRUCT)
				fail(p, "'%s' must be a struct", key);
			continue;
		}
		expect(p, "=");
		struct value v = value(p);
		expect(p, ";");
		switch (kind) {
		case B_TRACE:
			if (!strcmp(key, "major"))
				t->major = num_value(p, v, key);
			else if (!strcmp(key, "minor"))
				t->minor = num_value(p, v, key);
			else if (!strcmp(key, "byte_order"))
				t->byte_order = byte_order_value(p, v);
			else if (!strcmp(key, "uuid")) {
				if (!v.str || parse_uuid(v.str, t->uuid))
					fail(p, "bad uuid");
				t->has_uuid = 1;
			}
			break;
		case B_ENV:
			t->env = pgrow(p, t->env, t->nenv, &p->env_cap, sizeof(*t->env));
			t->env[t->nenv].key = key;
			t->env[t->nenv].str = v.str;
			t->env[t->nenv++].num = v.num;
			break;
		case B_CLOCK:
			if (!strcmp(key, "name"))
				ck.name = v.str ? v.str : "?";
			else if (!strcmp(key, "freq"))
				ck.freq = num_value(p, v, key);
			else if (!strcmp(key, "offset_s"))
				ck.offset_s = (int64_t)num_value(p, v, key);
			else if (!strcmp(key, "offset"))
				ck.offset = (int64_t)num_value(p, v, key);
			break;
		case B_STREAM:
			if (!strcmp(key, "id"))
				st.id = num_value(p, v, key);
			break;
		case B_EVENT:
			if (!strcmp(key, "name")) {
				if (!v.str)
					fail(p, "an event name must be a string");
				ev->name = v.str;
			} else if (!strcmp(key, "id")) {
				ev->id = num_value(p, v, key);
				has_id = 1;
			} else if (!strcmp(key, "stream_id")) {
				ev->stream_id = num_value(p, v, key);
				has_stream_id = 1;
			}
			break;
		default:
			break;
		}
	}
	expect(p, ";");
	if (kind == B_TRACE)
		p->seen_trace = 1;
	if (kind == B_CLOCK && !t->clock.name) {
		if (!ck.freq || ck.freq > 1000000000000000ull)
			fail(p, "bad clock frequency %llu", (unsigned long long)ck.freq);
		t->clock = ck;
		if (!t->clock.name)
			t->clock.name = "clock";
	}
	if (kind == B_STREAM) {
		if (tm_stream_find(t, st.id))
			fail(p, "stream id %llu declared twice", (unsigned long long)st.id);
		t->streams = pgrow(p, t->streams, t->nstreams, &p->streams_cap, sizeof(*t->streams));
		t->streams[t->nstreams++] = st;
	}
	if (kind == B_EVENT) {
		if (!ev->name)
			fail(p, "event without a name");
		/* Marks for the checks after the parse: no id, no stream_id. */
		if (!has_id)
			ev->id = UINT64_MAX;
		if (!has_stream_id)
			ev->stream_id = UINT64_MAX;
		t->events = pgrow(p, t->events, t->nevents, &p->events_cap, sizeof(*t->events));
		ev->index = t->nevents;
		t->events[t->nevents++] = ev;
	}
}

static int cmp_event(const void *a, const void *b)
{
	const struct tm_event *x = *(const struct tm_event *const *)a;
	const struct tm_event *y = *(const struct tm_event *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Every event to its stream class, sorted by id; ids unique within a stream. */
static void link_events(struct parser *p)
{
	struct tm_trace *t = p->t;

	if (!t->nstreams) {
		t->streams = palloc(p, sizeof(*t->streams));
		t->nstreams = 1;
	}
	for (size_t i = 0; i < t->nevents; i++) {
		struct tm_event *ev = t->events[i];

		if (ev->stream_id == UINT64_MAX) {
			if (t->nstreams > 1)
				fail(p, "event '%s' without stream_id", ev->name);
			ev->stream_id = t->streams[0].id;
		}
		if (!tm_stream_find(t, ev->stream_id))
			fail(p, "event '%s' in unknown stream %llu", ev->name,
			     (unsigned long long)ev->stream_id);
	}
	for (size_t s = 0; s < t->nstreams; s++) {
		struct tm_stream *st = &t->streams[s];
		size_t n = 0;

		st->events = palloc(p, (t->nevents + 1) * sizeof(*st->events));
		for (size_t i = 0; i < t->nevents; i++)
			if (t->events[i]->stream_id == st->id)
				st->events[n++] = t->events[i];
		for (size_t i = 0; i < n; i++)
			if (st->events[i]->id == UINT64_MAX) {
				if (n > 1)
					fail(p, "event '%s' without id", st->events[i]->name);
				st->events[i]->id = 0;
			}
		qsort(st->events, n, sizeof(*st->events), cmp_event);
		for (size_t i = 1; i < n; i++)
			if (st->events[i]->id == st->events[i - 1]->id)
				fail(p, "event id %llu used twice",
				     (unsigned long long)st->events[i]->id);
		st->nevents = n;
	}
}

/*
 * Packetized metadata: packets of a 37-byte header (magic 0x75D11D57, uuid,
 * checksum, content_size, packet_size in bits, 5 one-byte fields) and text.
 */
static char *depacketize(const char *in, size_t len, size_t *outlen, char *err, size_t errlen)
{
	const unsigned char *u = (const unsigned char *)in;
	int be = u[0] == 0x75;
	char *out = malloc(len + 1);
	size_t off = 0, n = 0;

	if (!out) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while (off < len) {
		const unsigned char *h = u + off;
		uint32_t f[3];

		if (len - off < 37)
			goto bad;
		for (int i = 0; i < 3; i++) {
			const unsigned char *b = h + 20 + 4 * i;

			f[i] = be ? (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]
				  : (uint32_t)b[3] << 24 | b[2] << 16 | b[1] << 8 | b[0];
		}
		/* f[0] checksum, f[1] content_size, f[2] packet_size */
		if ((be ? h[0] != 0x75 : h[0] != 0x57) || f[1] % 8 || f[2] % 8 ||
		    f[1] / 8 < 37 || f[1] > f[2] || f[2] / 8 > len - off)
			goto bad;
		memcpy(out + n, h + 37, f[1] / 8 - 37);
		n += f[1] / 8 - 37;
		off += f[2] / 8;
	}
	out[n] = 0;
	*outlen = n;
	return out;
bad:
	snprintf(err, errlen, "corrupted metadata packet at byte %zu", off);
	free(out);
	return NULL;
}

int tm_parse(const char *text, size_t len, struct tm_trace *t, char *err, size_t errlen)
{
	static const struct tm_type int32 = {
		.kind = TM_INT, .align = 8, .size = 32, .is_signed = 1, .base = 10};
	struct parser *p;
	char *volatile plain = NULL; /* volatile: read after longjmp */
	int rc = -1;

	memset(t, 0, sizeof(*t));
	t->byte_order = TM_LE;
	t->clock.name = "default";
	t->clock.freq = 1000000000;
	if (len >= 4 && (!memcmp(text, "\x57\x1d\xd1\x75", 4) || !memcmp(text, "\x75\xd1\x1d\x57", 4))) {
		char *d = depacketize(text, len, &len, err, errlen);

		if (!d)
			return -1;
		plain = d;
		text = d;
	}
	if (len < 6 || memcmp(text, "/* CTF", 6)) {
		snprintf(err, errlen, "metadata does not begin with '/* CTF 1.8'");
		free(plain);
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		free(plain);
		return -1;
	}
	p->pos = text;
	p->end = text + len;
	p->line = 1;
	p->t = t;
	p->err = err;
	p->errlen = errlen;
	t->clock.name = NULL;
	if (setjmp(p->fail))
		goto out;
	add_alias(p, "int", &int32);
	next(p);
	while (p->tok.kind != TK_EOF) {
		p->depth = 0;
		if (accept(p, "trace"))
			block(p, B_TRACE);
		else if (accept(p, "env"))
			block(p, B_ENV);
		else if (accept(p, "clock"))
			block(p, B_CLOCK);
		else if (accept(p, "stream"))
			block(p, B_STREAM);
		else if (accept(p, "event"))
			block(p, B_EVENT);
		else if (accept(p, "callsite"))
			block(p, B_OTHER);
		else if (accept(p, "typealias"))
			typealias(p);
		else if (accept(p, "typedef"))
			typedef_(p);
		else if (is(p, "struct") || is(p, "enum") || is(p, "variant")) {
			type_spec(p, 0);
			expect(p, ";");
		} else {
			fail(p, "unexpected '%.*s'", (int)p->tok.len, p->tok.p);
		}
	}
	if (!p->seen_trace)
		fail(p, "no trace block");
	if (p->t->major != 1 || p->t->minor != 8)
		fail(p, "CTF %u.%u, not 1.8", p->t->major, p->t->minor);
	link_events(p);
	if (!t->clock.name) {
		t->clock.name = "default";
		t->clock.freq = 1000000000;
	}
	rc = 0;
out:
	free(p);
	free(plain);
	return rc;
}

void tm_free(struct tm_trace *t)
{
	struct arena *a = t->arena;

	while (a) {
		struct arena *n = a->next;

		free(a);
		a = n;
	}
	t->arena = NULL;
}

const struct tm_stream *tm_stream_find(const struct tm_trace *t, uint64_t id)
{
	for (size_t i = 0; i < t->nstreams; i++)
		if (t->streams[i].id == id)
			return &t->streams[i];
	return NULL;
}

const struct tm_event *tm_event_find(const struct tm_stream *s, uint64_t id)
{
	size_t lo = 0, hi = s->nevents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->events[mid]->id == id)
			return s->events[mid];
		if (s->events[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct tm_env *tm_env_find(const struct tm_trace *t, const char *key)
{
	for (size_t i = 0; i < t->nenv; i++)
		if (!strcmp(t->env[i].key, key))
			return &t->env[i];
	return NULL;
}
