/*
 * filter.c - filter expressions: parser, binder, evaluator (filter.h).
 *
 * The parser is a recursive descent over the grammar of filter.h that
 * builds a small tree in a fixed array of nodes.  Field names and string
 * literals are kept in the filter's own text buffer (strings decoded, with
 * "\*" and "\\" left escaped for the matcher), referred to by offset, so
 * that a bound program is a plain copy of the nodes with the fields
 * resolved: no pointer to fix, no allocation, safe in the probe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field_names.h"
#include "filter.h"
#include "markers/abi.h"

enum {
	MF_FIELD = 1,
	MF_INT,   /* a signed value in .s */
	MF_UINT,  /* an unsigned value above INT64_MAX in .u */
	MF_FLOAT, /* .d */
	MF_STR,
};

enum {
	MF_AND = 1,
	MF_OR,
	MF_NOT,
	MF_TRUTH,
	MF_EQ,
	MF_NE,
	MF_LT,
	MF_LE,
	MF_GT,
	MF_GE,
};

#define MAX_DEPTH 16

struct marker__filter {
	char *src;  /* as given */
	char *text; /* field names and decoded strings */
	size_t text_len;
	struct marker__filter_prog prog; /* unbound: fields by name */
};

struct parser {
	const char *s; /* the source */
	size_t at;
	struct marker__filter *f;
	struct marker__filter_err *err;
	int depth;
};

static int fail(struct parser *p, size_t col, const char *fmt, const char *what)
{
	if (p->err) {
		p->err->column = (unsigned)col + 1;
		snprintf(p->err->msg, sizeof(p->err->msg), fmt, what);
	}
	return -EINVAL;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(char c)
{
	return is_ident_start(c) || is_digit(c);
}

static void skip_space(struct parser *p)
{
	while (p->s[p->at] == ' ' || p->s[p->at] == '\t' || p->s[p->at] == '\n')
		p->at++;
}

/* The token at the cursor, for messages: up to 20 characters. */
static const char *token_here(struct parser *p, char *buf, size_t cap)
{
	size_t n = 0;
	const char *t = p->s + p->at;

	if (!*t)
		return "the end";
	while (t[n] && t[n] != ' ' && n < 20 && n + 3 < cap)
		n++;
	snprintf(buf, cap, "'%.*s'", (int)(n ? n : 1), t);
	return buf;
}

static int new_node(struct parser *p, unsigned char op, size_t col)
{
	struct marker__filter_prog *g = &p->f->prog;

	if (g->n >= MARKER__FILTER_NODES)
		return fail(p, col, "the filter is too long (at most %s comparisons and operators)",
			    "40");
	memset(&g->nodes[g->n], 0, sizeof(g->nodes[0]));
	g->nodes[g->n].op = op;
	g->nodes[g->n].column = (uint16_t)(col + 1);
	return g->n++;
}

/* Append @len bytes to the text buffer; returns the offset. */
static size_t put_text(struct parser *p, const char *s, size_t len)
{
	size_t off = p->f->text_len;

	memcpy(p->f->text + off, s, len);
	p->f->text[off + len] = 0;
	p->f->text_len += len + 1;
	return off;
}

static int parse_number(struct parser *p, struct marker__filter_opnd *o, int neg, size_t col)
{
	const char *start = p->s + p->at, *q = start;
	int is_float = 0;
	char *end;
	char tok[64];

	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
		q += 2;
		if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F')))
			return fail(p, col, "%s: a hexadecimal number needs digits after 0x",
				    "number");
		while ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F'))
			q++;
	} else {
		while (is_digit(*q))
			q++;
		if (*q == '.') {
			is_float = 1;
			q++;
			while (is_digit(*q))
				q++;
		}
		if ((*q == 'e' || *q == 'E') &&
		    (is_digit(q[1]) || ((q[1] == '+' || q[1] == '-') && is_digit(q[2])))) {
			is_float = 1;
			q += 2;
			while (is_digit(*q))
				q++;
		}
	}
	if (is_ident(*q) || *q == '.')
		return fail(p, (size_t)(q - p->s), "unexpected %s in a number",
			    token_here(&(struct parser){.s = p->s, .at = (size_t)(q - p->s)}, tok,
				       sizeof(tok)));
	if (q - start >= (long)sizeof(tok))
		return fail(p, col, "%s is too long", "a number");
	memcpy(tok, start, (size_t)(q - start));
	tok[q - start] = 0;
	errno = 0;
	if (is_float) {
		o->kind = MF_FLOAT;
		o->d = strtod(tok, &end);
		if (neg)
			o->d = -o->d;
	} else {
		unsigned long long v = strtoull(tok, &end, 0);

		if (errno)
			return fail(p, col, "%s does not fit in 64 bits", "the number");
		if (neg) {
			if (v > (1ull << 63))
				return fail(p, col, "%s does not fit in 64 bits", "the number");
			o->kind = MF_INT;
			o->s = v == (1ull << 63) ? INT64_MIN : -(int64_t)v;
		} else if (v > INT64_MAX) {
			o->kind = MF_UINT;
			o->u = v;
		} else {
			o->kind = MF_INT;
			o->s = (int64_t)v;
		}
	}
	p->at = (size_t)(q - p->s);
	return 0;
}

static int parse_string(struct parser *p, struct marker__filter_opnd *o)
{
	size_t col = p->at, n = 0;
	char buf[MARKER__FILTER_SRC_MAX];

	p->at++; /* the quote */
	for (;;) {
		char c = p->s[p->at];

		if (!c)
			return fail(p, col, "%s: no closing '\"'", "string");
		p->at++;
		if (c == '"')
			break;
		if (c == '\\') {
			char e = p->s[p->at++];

			switch (e) {
			case '*':
			case '\\':
				buf[n++] = '\\'; /* kept escaped for the matcher */
				buf[n++] = e;
				continue;
			case '"':
				c = '"';
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			default:
				return fail(p, p->at - 2, "unknown escape %s in a string (\\\" \\\\ \\* \\n \\t)",
					    e == 'x' ? "\\x" : "after '\\'");
			}
		} else if (c == '*') {
			o->wild = 1;
		}
		buf[n++] = c;
	}
	o->kind = MF_STR;
	o->off = (uint16_t)put_text(p, buf, n);
	o->len = (uint16_t)n;
	return 0;
}

static int parse_operand(struct parser *p, struct marker__filter_opnd *o)
{
	size_t col;
	char tok[32];
	int neg = 0;

	skip_space(p);
	col = p->at;
	if (p->s[p->at] == '-') {
		neg = 1;
		p->at++;
		skip_space(p);
		if (!is_digit(p->s[p->at]) && p->s[p->at] != '.')
			return fail(p, col, "%s: '-' goes only before a number", "operand");
	}
	if (is_digit(p->s[p->at]) || (p->s[p->at] == '.' && is_digit(p->s[p->at + 1])))
		return parse_number(p, o, neg, col);
	if (p->s[p->at] == '"')
		return parse_string(p, o);
	if (is_ident_start(p->s[p->at])) {
		size_t start = p->at;

		while (is_ident(p->s[p->at]))
			p->at++;
		if (p->at - start >= MARKER__FIELD_NAME_MAX)
			return fail(p, start, "%s: field name too long", "operand");
		o->kind = MF_FIELD;
		o->off = (uint16_t)put_text(p, p->s + start, p->at - start);
		o->len = (uint16_t)(p->at - start);
		return 0;
	}
	if (p->s[p->at] == '$')
		return fail(p, col, "%s: context fields ($ctx...) are not supported", "operand");
	return fail(p, col, "expected a field, a number or a string, found %s",
		    token_here(p, tok, sizeof(tok)));
}

static int comparison_op(struct parser *p)
{
	const char *t = p->s + p->at;

	if (t[0] == '=' && t[1] == '=')
		return p->at += 2, MF_EQ;
	if (t[0] == '!' && t[1] == '=')
		return p->at += 2, MF_NE;
	if (t[0] == '<' && t[1] == '=')
		return p->at += 2, MF_LE;
	if (t[0] == '>' && t[1] == '=')
		return p->at += 2, MF_GE;
	if (t[0] == '<')
		return p->at += 1, MF_LT;
	if (t[0] == '>')
		return p->at += 1, MF_GT;
	return 0;
}

static int parse_or(struct parser *p);

static int parse_unary(struct parser *p)
{
	struct marker__filter_opnd l = {0}, r = {0};
	size_t col, opcol;
	int n, op, err;

	skip_space(p);
	col = p->at;
	if (p->s[p->at] == '!' && p->s[p->at + 1] != '=') {
		p->at++;
		int a = parse_unary(p);

		if (a < 0)
			return a;
		n = new_node(p, MF_NOT, col);
		if (n >= 0)
			p->f->prog.nodes[n].a = (uint8_t)a;
		return n;
	}
	if (p->s[p->at] == '(') {
		if (++p->depth > MAX_DEPTH)
			return fail(p, col, "%s: too many nested parentheses (16 at most)", "'('");
		p->at++;
		n = parse_or(p);
		if (n < 0)
			return n;
		skip_space(p);
		if (p->s[p->at] != ')') {
			char tok[32];

			return fail(p, p->at, "expected ')', found %s", token_here(p, tok, sizeof(tok)));
		}
		p->at++;
		p->depth--;
		return n;
	}
	err = parse_operand(p, &l);
	if (err)
		return err;
	skip_space(p);
	opcol = p->at;
	op = comparison_op(p);
	if (!op) {
		if (p->s[p->at] == '=' )
			return fail(p, opcol, "%s: compare with '=='", "'='");
		if (l.kind == MF_STR)
			return fail(p, col, "%s alone is not a condition: compare it with == or !=",
				    "a string");
		n = new_node(p, MF_TRUTH, col);
		if (n >= 0)
			p->f->prog.nodes[n].l = l;
		return n;
	}
	err = parse_operand(p, &r);
	if (err)
		return err;
	if ((l.kind == MF_STR || r.kind == MF_STR) && op != MF_EQ && op != MF_NE)
		return fail(p, opcol, "%s: strings compare only with == and !=",
			    op == MF_LT ? "'<'" : op == MF_LE ? "'<='" : op == MF_GT ? "'>'" : "'>='");
	if (l.kind != MF_FIELD && r.kind != MF_FIELD && (l.kind == MF_STR) != (r.kind == MF_STR))
		return fail(p, opcol, "%s: a string compared with a number", "operator");
	if (l.kind == MF_STR && r.kind == MF_FIELD) {
		/* Keep the pattern on the right: "a*" == name is name == "a*". */
		struct marker__filter_opnd t = l;

		l = r;
		r = t;
	}
	n = new_node(p, (unsigned char)op, opcol);
	if (n >= 0) {
		p->f->prog.nodes[n].l = l;
		p->f->prog.nodes[n].r = r;
	}
	return n;
}

/*
 * A left-associative chain of the doubled operator @ch ("&&" or "||"),
 * node @op, over operands parsed by @operand.
 */
static int parse_chain(struct parser *p, char ch, int op, int (*operand)(struct parser *))
{
	int a = operand(p);

	while (a >= 0) {
		size_t col;
		int b, n;

		skip_space(p);
		col = p->at;
		if (p->s[p->at] != ch || p->s[p->at + 1] != ch) {
			if (p->s[p->at] == ch)
				return fail(p, col,
					    ch == '&' ? "%s: the operator is '&&'"
						      : "%s: the operator is '||'",
					    ch == '&' ? "'&'" : "'|'");
			break;
		}
		p->at += 2;
		b = operand(p);
		if (b < 0)
			return b;
		n = new_node(p, op, col);
		if (n < 0)
			return n;
		p->f->prog.nodes[n].a = (uint8_t)a;
		p->f->prog.nodes[n].b = (uint8_t)b;
		a = n;
	}
	return a;
}

static int parse_and(struct parser *p)
{
	return parse_chain(p, '&', MF_AND, parse_unary);
}

static int parse_or(struct parser *p)
{
	return parse_chain(p, '|', MF_OR, parse_and);
}

int marker__filter_parse(const char *src, struct marker__filter **out,
			 struct marker__filter_err *err)
{
	struct marker__filter *f;
	struct parser p = {.s = src, .err = err};
	size_t len;
	int root;

	if (err) {
		err->column = 0;
		err->msg[0] = 0;
	}
	*out = NULL;
	if (!src)
		return -EINVAL;
	len = strlen(src);
	if (len > MARKER__FILTER_SRC_MAX) {
		if (err)
			snprintf(err->msg, sizeof(err->msg),
				 "the filter is longer than %d characters", MARKER__FILTER_SRC_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)src[i] < 0x20 && src[i] != '\t' && src[i] != '\n')
			return fail(&p, i, "%s: a control character", "filter");
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->src = strdup(src);
	/* Names and strings are never longer than the source, plus a NUL each. */
	f->text = malloc(2 * len + 2);
	if (!f->src || !f->text) {
		marker__filter_free(f);
		return -ENOMEM;
	}
	p.f = f;
	skip_space(&p);
	if (!src[p.at]) {
		marker__filter_free(f);
		return fail(&p, 0, "%s is empty", "the filter");
	}
	root = parse_or(&p);
	if (root >= 0) {
		skip_space(&p);
		if (src[p.at]) {
			char tok[32];

			root = fail(&p, p.at, "expected '&&', '||' or the end, found %s",
				    token_here(&p, tok, sizeof(tok)));
		}
	}
	if (root < 0) {
		marker__filter_free(f);
		return root;
	}
	f->prog.root = (uint8_t)root;
	f->prog.text = f->text;
	*out = f;
	return 0;
}

void marker__filter_free(struct marker__filter *f)
{
	if (!f)
		return;
	free(f->src);
	free(f->text);
	free(f);
}

const char *marker__filter_source(const struct marker__filter *f)
{
	return f->src;
}

/* ---- binding ---- */

static int is_numeric(char t)
{
	return t != MARKER_TYPE_STRING;
}

/* "a, b, c" into @out, or "none". */
static void list_fields(char names[][MARKER__FIELD_NAME_MAX], unsigned n, char *out, size_t cap)
{
	size_t at = 0;

	out[0] = 0;
	if (!n)
		snprintf(out, cap, "none");
	for (unsigned i = 0; i < n && at < cap; i++)
		at += (size_t)snprintf(out + at, cap - at, "%s%s", i ? ", " : "", names[i]);
}

static int bind_opnd(const struct marker__filter *f, struct marker__filter_opnd *o,
		     const char *name, const char *types, char names[][MARKER__FIELD_NAME_MAX],
		     unsigned nargs, unsigned column, struct marker__filter_err *err)
{
	const char *field = f->text + o->off;

	if (o->kind != MF_FIELD)
		return 0;
	for (unsigned i = 0; i < nargs; i++) {
		if (strcmp(names[i], field))
			continue;
		o->arg = (uint8_t)i;
		o->type = types[i];
		return 0;
	}
	if (err) {
		char list[160];

		list_fields(names, nargs, list, sizeof(list));
		err->column = column;
		snprintf(err->msg, sizeof(err->msg), "marker '%.64s' has no field '%s' (its fields: %s)",
			 name, field, list);
	}
	return -ENOENT;
}

int marker__filter_bind(const struct marker__filter *f, const char *name, const char *format,
			const char *types, struct marker__filter_prog *prog,
			struct marker__filter_err *err)
{
	char names[MARKER_MAX_ARGS][MARKER__FIELD_NAME_MAX];
	unsigned nargs = 0;
	int rc;

	while (types && types[nargs] && types[nargs] != MARKER_TYPE_UNKNOWN &&
	       nargs < MARKER_MAX_ARGS)
		nargs++;
	marker__field_names(format, nargs, names);
	memcpy(prog, &f->prog, sizeof(*prog));
	for (unsigned i = 0; i < prog->n; i++) {
		struct marker__filter_node *n = &prog->nodes[i];
		struct marker__filter_opnd *l = &n->l, *r = &n->r;

		if (n->op < MF_TRUTH)
			continue;
		rc = bind_opnd(f, l, name, types, names, nargs, n->column, err);
		if (!rc && n->op != MF_TRUTH)
			rc = bind_opnd(f, r, name, types, names, nargs, n->column, err);
		if (rc)
			return rc;
		int lstr = l->kind == MF_STR || (l->kind == MF_FIELD && !is_numeric(l->type));
		int rstr = n->op != MF_TRUTH &&
			   (r->kind == MF_STR || (r->kind == MF_FIELD && !is_numeric(r->type)));

		/* The common case gets a path of its own in eval_cmp(). */
		n->fast = n->op >= MF_EQ && l->kind == MF_FIELD && r->kind == MF_INT &&
			  l->type && strchr("bBhHiIl", l->type);
		if ((n->op == MF_TRUTH && lstr) || (n->op != MF_TRUTH && lstr != rstr) ||
		    (lstr && n->op != MF_EQ && n->op != MF_NE)) {
			if (err) {
				const struct marker__filter_opnd *fo = l->kind == MF_FIELD ? l : r;

				err->column = n->column;
				snprintf(err->msg, sizeof(err->msg),
					 "field '%s' of marker '%.64s' is %s: %s",
					 f->text + fo->off, name,
					 lstr == (fo == l) ? "a string" : "a number",
					 lstr == (fo == l)
						 ? "compare it with == or != and a \"string\""
						 : "compare it with a number");
			}
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- evaluation ---- */

int marker__filter_strmatch(const char *pat, size_t plen, const char *s, size_t len)
{
	size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;

	/* Greedy with one backtrack point: the classic linear-space wildcard match. */
	while (si < len) {
		if (pi < plen && pat[pi] == '*') {
			star_p = ++pi;
			star_s = si;
			continue;
		}
		if (pi < plen) {
			char c = pat[pi];
			size_t step = 1;

			if (c == '\\' && pi + 1 < plen) {
				c = pat[pi + 1];
				step = 2;
			}
			if (c == s[si]) {
				pi += step;
				si++;
				continue;
			}
		}
		if (star_p == (size_t)-1)
			return 0;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

/* A numeric value, typed: what comparisons work on. */
struct num {
	int kind; /* MF_INT, MF_UINT, MF_FLOAT */
	union {
		int64_t s;
		uint64_t u;
		double d;
	};
};

static struct num field_num(char type, uint64_t v)
{
	struct num n = {.kind = MF_INT};

	switch (type) {
	case MARKER_TYPE_S8:
		n.s = (int8_t)v;
		break;
	case MARKER_TYPE_S16:
		n.s = (int16_t)v;
		break;
	case MARKER_TYPE_S32:
		n.s = (int32_t)v;
		break;
	case MARKER_TYPE_S64:
		n.s = (int64_t)v;
		break;
	case MARKER_TYPE_U8:
		n.s = (uint8_t)v;
		break;
	case MARKER_TYPE_U16:
		n.s = (uint16_t)v;
		break;
	case MARKER_TYPE_U32:
		n.s = (uint32_t)v;
		break;
	case MARKER_TYPE_FLOAT: {
		uint32_t u = (uint32_t)v;
		float fl;

		memcpy(&fl, &u, 4);
		n.kind = MF_FLOAT;
		n.d = fl;
		break;
	}
	case MARKER_TYPE_DOUBLE:
	case MARKER_TYPE_LDOUBLE:
		n.kind = MF_FLOAT;
		memcpy(&n.d, &v, 8);
		break;
	default: /* U64, pointers */
		if (v > INT64_MAX) {
			n.kind = MF_UINT;
			n.u = v;
		} else {
			n.s = (int64_t)v;
		}
	}
	return n;
}

static double as_double(struct num a)
{
	return a.kind == MF_FLOAT ? a.d : a.kind == MF_UINT ? (double)a.u : (double)a.s;
}

/* -1, 0, 1; 2 when unordered (a NaN). */
static int num_cmp(struct num a, struct num b)
{
	if (a.kind == MF_FLOAT || b.kind == MF_FLOAT) {
		double x = as_double(a), y = as_double(b);

		return x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
	}
	/* MF_UINT values are all above INT64_MAX: above every MF_INT. */
	if (a.kind != b.kind)
		return a.kind == MF_UINT ? 1 : -1;
	if (a.kind == MF_UINT)
		return a.u < b.u ? -1 : a.u > b.u;
	return a.s < b.s ? -1 : a.s > b.s;
}

static struct num opnd_num(const struct marker__filter_opnd *o, const uint64_t *val)
{
	struct num n;

	if (o->kind == MF_FIELD)
		return field_num(o->type, val[o->arg]);
	n.kind = o->kind;
	n.u = o->u;
	return n;
}

/* An integer field that fits int64_t (not U64, not a pointer), as int64_t. */
static int64_t small_int(char type, uint64_t v)
{
	switch (type) {
	case MARKER_TYPE_S8:
		return (int8_t)v;
	case MARKER_TYPE_U8:
		return (uint8_t)v;
	case MARKER_TYPE_S16:
		return (int16_t)v;
	case MARKER_TYPE_U16:
		return (uint16_t)v;
	case MARKER_TYPE_S32:
		return (int32_t)v;
	case MARKER_TYPE_U32:
		return (uint32_t)v;
	default: /* S64 */
		return (int64_t)v;
	}
}

static int eval_cmp(const struct marker__filter_prog *p, const struct marker__filter_node *n,
		    const uint64_t *val, const unsigned *slen)
{
	const struct marker__filter_opnd *l = &n->l, *r = &n->r;
	int c;

	if (n->fast) {
		int64_t x = small_int(l->type, val[l->arg]), y = r->s;

		c = x < y ? -1 : x > y;
		goto compare;
	}

	if (l->kind == MF_FIELD && l->type == MARKER_TYPE_STRING) {
		const char *s = (const char *)(uintptr_t)val[l->arg];
		size_t len = slen[l->arg];
		int eq;

		if (r->kind == MF_STR) {
			eq = marker__filter_strmatch(p->text + r->off, r->len, s, len);
		} else {
			eq = slen[r->arg] == len &&
			     !memcmp((const char *)(uintptr_t)val[r->arg], s, len);
		}
		return n->op == MF_EQ ? eq : !eq;
	}
	c = num_cmp(opnd_num(l, val), opnd_num(r, val));
compare:
	switch (n->op) {
	case MF_EQ:
		return c == 0;
	case MF_NE:
		return c != 0;
	case MF_LT:
		return c == -1;
	case MF_LE:
		return c == -1 || c == 0;
	case MF_GT:
		return c == 1;
	default: /* MF_GE */
		return c == 1 || c == 0;
	}
}

static int eval(const struct marker__filter_prog *p, unsigned i, const uint64_t *val,
		const unsigned *slen)
{
	const struct marker__filter_node *n = &p->nodes[i];

	switch (n->op) {
	case MF_AND:
		return eval(p, n->a, val, slen) && eval(p, n->b, val, slen);
	case MF_OR:
		return eval(p, n->a, val, slen) || eval(p, n->b, val, slen);
	case MF_NOT:
		return !eval(p, n->a, val, slen);
	case MF_TRUTH: {
		struct num v = opnd_num(&n->l, val);

		return v.kind == MF_FLOAT ? v.d != 0 : v.u != 0;
	}
	default:
		return eval_cmp(p, n, val, slen);
	}
}

int marker__filter_eval(const struct marker__filter_prog *p, const uint64_t *val,
			const unsigned *slen)
{
	return eval(p, p->root, val, slen);
}
