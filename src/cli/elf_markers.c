/*
 * elf_markers.c - read the __markers sections of an ELF file offline.
 *
 * libelf finds the sections; their contents are read here, field by field,
 * through bounds-checked views of the buffer.  Pointers in the descriptors
 * are link-time virtual addresses: each is mapped back to a file offset
 * through the section that must contain it (__markers_strings for strings,
 * __markers for the site records' descriptors).
 *
 * C++ descriptors are not in __markers (markers/impl/site.h says why): ordinary statics
 * in .data, .data.rel.local..., with their strings in .rodata.  The site
 * records are their only trace.  A record whose descriptor is outside
 * __markers must point to an 8-aligned descriptor wholly inside a writable
 * allocated section, and that descriptor's strings inside an allocated
 * section; it is read with the same checks as the others.  Such a
 * descriptor has one site per distinct (descriptor, address) record, as
 * the library counts them, generic ones included.  In a position-independent
 * object the pointer fields carry RELATIVE relocations: with REL (i386) the
 * value is in place, with RELA the linker writes it in place too on x86-64,
 * but may not elsewhere (aarch64 without -z apply-dynamic-relocs), so a
 * zero field takes its RELATIVE relocation's addend.  In a shared library a
 * C++ record names its descriptor by symbol (vague linkage: the dynamic
 * linker picks the copy), an absolute relocation against the dynamic
 * symbol table: the field takes the symbol's value in this file plus the
 * addend, or none when the symbol is not defined here.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <markers/abi.h>

#include "elf_markers.h"

#define MAX_STRING 4096       /* longer "strings" are garbage, not a format */
#define MAX_DESCRIPTORS 1000000

#ifndef EM_AARCH64
#define EM_AARCH64 183
#endif

struct view {
	const unsigned char *p;
	uint64_t size;
	uint64_t addr; /* sh_addr */
};

struct reader {
	const unsigned char *buf;
	size_t size;
	int is64, be;
	unsigned machine;
	unsigned rel_type; /* RELATIVE relocation type of the machine; 0: none read */
	unsigned abs_type; /* absolute (symbol + addend) relocation type of a pointer */
	struct view markers, strings, sites;
	/* Allocated sections with bytes, sorted by address: where C++ descriptors are. */
	struct asec {
		struct view v;
		int writable;
	} *secs;
	size_t nsecs;
	/* RELATIVE addends by address (RELA only), sorted. */
	struct rel {
		uint64_t off, addend; /* sym: the whole value, symbol + addend */
		int sym;
	} *rels;
	size_t nrels, relcap;
	char *err;
	size_t errlen;
};

static int fail(struct reader *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return -code;
}

static uint64_t rd(const struct reader *r, const unsigned char *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[r->be ? n - 1 - i : i] << (8 * i);
	return v;
}

static unsigned ptrsize(const struct reader *r)
{
	return r->is64 ? 8 : 4;
}

/* sizeof(struct marker) for this class: 16 + 6 pointers, rounded up to 8. */
static uint64_t desc_size(const struct reader *r)
{
	return (16 + 6 * (uint64_t)ptrsize(r) + 7) & ~(uint64_t)7;
}

static int rel_cmp(const void *a, const void *b)
{
	const struct rel *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* The pointer at @off of view @v, relocated if the file leaves it to the loader. */
static uint64_t rd_ptr(const struct reader *r, const struct view *v, uint64_t off)
{
	uint64_t val = rd(r, v->p + off, ptrsize(r));
	struct rel key = {v->addr + off, 0, 0}, *hit;

	if (!r->nrels)
		return val;
	hit = bsearch(&key, r->rels, r->nrels, sizeof(*r->rels), rel_cmp);
	if (hit && hit->sym)
		return hit->addend;
	return val ? val : hit ? hit->addend : 0;
}

/* The allocated section that holds [addr, addr + len), or NULL. */
static const struct asec *sec_at(const struct reader *r, uint64_t addr, uint64_t len)
{
	size_t lo = 0, hi = r->nsecs;

	/* The last section that starts at or before @addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->secs[mid].v.addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	{
		const struct asec *a = &r->secs[lo - 1];

		if (addr - a->v.addr >= a->v.size || len > a->v.size - (addr - a->v.addr))
			return NULL;
		return a;
	}
}

/*
 * A NUL-terminated string at link-time address @addr inside __markers_strings,
 * or, for a descriptor found through a record (@anywhere), any allocated section.
 */
static const char *str_at(struct reader *r, uint64_t addr, const char *what, int anywhere,
			  int *err)
{
	const struct view *s = &r->strings;
	const struct asec *a;
	uint64_t off, max;

	if (anywhere && (a = sec_at(r, addr, 1)))
		s = &a->v;
	else if (anywhere) {
		*err = fail(r, ELF_MARKERS_CORRUPT,
			    "corrupt marker section: %s pointer 0x%llx is outside the file's sections",
			    what, (unsigned long long)addr);
		return NULL;
	}
	if (!s->p || addr < s->addr || addr - s->addr >= s->size) {
		*err = fail(r, ELF_MARKERS_CORRUPT,
			    "corrupt marker section: %s pointer 0x%llx is outside __markers_strings",
			    what, (unsigned long long)addr);
		return NULL;
	}
	off = addr - s->addr;
	max = s->size - off < MAX_STRING ? s->size - off : MAX_STRING;
	if (!memchr(s->p + off, 0, max)) {
		*err = fail(r, ELF_MARKERS_CORRUPT,
			    "corrupt marker section: unterminated %s string at 0x%llx", what,
			    (unsigned long long)addr);
		return NULL;
	}
	return (const char *)s->p + off;
}

/* Check that a section's bytes lie in the buffer and make a view of them. */
static int make_view(struct reader *r, const GElf_Shdr *sh, const char *name, struct view *v)
{
	if (sh->sh_type == SHT_NOBITS)
		return fail(r, ELF_MARKERS_CORRUPT, "corrupt marker section: %s has no bytes",
			    name);
	if (sh->sh_offset > r->size || sh->sh_size > r->size - sh->sh_offset)
		return fail(r, ELF_MARKERS_TRUNCATED,
			    "truncated ELF file: section %s extends past the end of the file", name);
	v->p = r->buf + sh->sh_offset;
	v->size = sh->sh_size;
	v->addr = sh->sh_addr;
	return 0;
}

static int add_rel(struct reader *r, uint64_t off, uint64_t value, int sym)
{
	if (r->nrels == r->relcap) {
		size_t cap = r->relcap ? 2 * r->relcap : 256;
		struct rel *nr = realloc(r->rels, cap * sizeof(*r->rels));

		if (!nr)
			return fail(r, ELF_MARKERS_NOMEM, "out of memory");
		r->rels = nr;
		r->relcap = cap;
	}
	r->rels[r->nrels++] = (struct rel){off, value, sym};
	return 0;
}

/* The value in this file of symbol @idx of the table @link, or 0 if undefined or unreadable. */
static uint64_t sym_value(Elf *elf, size_t link, uint64_t idx)
{
	Elf_Scn *scn = elf_getscn(elf, link);
	Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
	GElf_Sym sym;

	if (!data || idx > INT32_MAX || !gelf_getsym(data, (int)idx, &sym) ||
	    sym.st_shndx == SHN_UNDEF)
		return 0;
	return sym.st_value;
}

/*
 * Collect RELATIVE addends that land in __markers, __markers_sites or a
 * writable allocated section (a C++ descriptor's pointers) (RELA only),
 * and the values of absolute relocations there against symbols defined in
 * this file (RELA, and REL with the addend in place).
 */
static int read_relas(struct reader *r, Elf *elf, const GElf_Shdr *sh)
{
	int rela = sh->sh_type == SHT_RELA;
	uint64_t entsize = (r->is64 ? 8 : 4) * (rela ? 3 : 2), n;
	struct view v;
	int err;

	if (!r->rel_type && !r->abs_type)
		return 0;
	err = make_view(r, sh, "relocations", &v);
	if (err < 0)
		return err;
	n = v.size / entsize;
	for (uint64_t i = 0; i < n; i++) {
		const unsigned char *e = v.p + i * entsize;
		uint64_t off = rd(r, e, ptrsize(r)), info = rd(r, e + ptrsize(r), ptrsize(r));
		uint64_t add = rela ? rd(r, e + 2 * ptrsize(r), ptrsize(r)) : 0;
		unsigned type = r->is64 ? (unsigned)(info & 0xffffffff) : (unsigned)(info & 0xff);
		uint64_t symidx = r->is64 ? info >> 32 : (info >> 8) & 0xffffff;
		int in_markers = off >= r->markers.addr && off - r->markers.addr < r->markers.size;
		int in_sites = r->sites.p && off >= r->sites.addr &&
			       off - r->sites.addr < r->sites.size;
		const struct asec *a = r->sites.p ? sec_at(r, off, ptrsize(r)) : NULL;

		/* A C++ record's descriptor, or a C++ descriptor's strings (vague linkage too). */
		if (type == r->abs_type && symidx && (in_sites || (a && a->writable))) {
			uint64_t val = sym_value(elf, sh->sh_link, symidx);

			if (!rela && a) /* REL: the addend is in place */
				add = rd(r, a->v.p + (off - a->v.addr), ptrsize(r));
			if (!r->is64)
				val = (uint32_t)(val + add), add = 0;
			err = add_rel(r, off, val ? val + add : 0, 1);
			if (err < 0)
				return err;
			continue;
		}
		if (!rela || type != r->rel_type)
			continue;
		if (!(in_markers || in_sites || (a && a->writable)))
			continue;
		if (!r->is64)
			add = (uint32_t)add;
		err = add_rel(r, off, add, 0);
		if (err < 0)
			return err;
	}
	return 0;
}

static int asec_cmp(const void *a, const void *b)
{
	const struct asec *x = a, *y = b;

	return x->v.addr < y->v.addr ? -1 : x->v.addr > y->v.addr;
}

/* Remember an allocated section with bytes in the file (where a C++ descriptor may be). */
static int add_asec(struct reader *r, const GElf_Shdr *sh, size_t *cap)
{
	if (!(sh->sh_flags & SHF_ALLOC) || sh->sh_type == SHT_NOBITS || !sh->sh_size ||
	    sh->sh_offset > r->size || sh->sh_size > r->size - sh->sh_offset ||
	    sh->sh_addr + sh->sh_size < sh->sh_addr)
		return 0; /* not in memory, or not wholly in the file: holds no descriptor */
	if (r->nsecs == *cap) {
		size_t c = *cap ? 2 * *cap : 32;
		struct asec *n = realloc(r->secs, c * sizeof(*n));

		if (!n)
			return fail(r, ELF_MARKERS_NOMEM, "out of memory");
		r->secs = n;
		*cap = c;
	}
	r->secs[r->nsecs++] = (struct asec){
		{r->buf + sh->sh_offset, sh->sh_size, sh->sh_addr}, !!(sh->sh_flags & SHF_WRITE)};
	return 0;
}

static int find_sections(struct reader *r, Elf *elf)
{
	GElf_Shdr sh, relas[64];
	size_t shstrndx, nrelas = 0, seccap = 0;
	int have = 0, err;

	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		return fail(r, ELF_MARKERS_CORRUPT, "corrupt ELF file: %s", elf_errmsg(-1));
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		const char *name;
		struct view *v = NULL;

		if (!gelf_getshdr(scn, &sh))
			return fail(r, ELF_MARKERS_CORRUPT, "corrupt ELF file: %s", elf_errmsg(-1));
		if ((sh.sh_type == SHT_RELA || sh.sh_type == SHT_REL) &&
		    nrelas < sizeof(relas) / sizeof(relas[0]))
			relas[nrelas++] = sh;
		err = add_asec(r, &sh, &seccap);
		if (err < 0)
			return err;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, "__markers"))
			v = &r->markers;
		else if (!strcmp(name, "__markers_strings"))
			v = &r->strings;
		else if (!strcmp(name, "__markers_sites"))
			v = &r->sites;
		if (!v)
			continue;
		if (v->p)
			return fail(r, ELF_MARKERS_CORRUPT,
				    "corrupt ELF file: two sections named %s", name);
		err = make_view(r, &sh, name, v);
		if (err < 0)
			return err;
		have = 1;
	}
	/* An object of C++ sites only has records and no __markers. */
	if (!have || !(r->markers.p || r->sites.p))
		return fail(r, ELF_MARKERS_NO_SECTIONS,
			    "no markers: no __markers section (not instrumented, or stripped of it)");
	if (r->nsecs)
		qsort(r->secs, r->nsecs, sizeof(*r->secs), asec_cmp);
	for (size_t i = 0; i < nrelas; i++) {
		err = read_relas(r, elf, &relas[i]);
		if (err < 0)
			return err;
	}
	if (r->nrels)
		qsort(r->rels, r->nrels, sizeof(*r->rels), rel_cmp);
	return 0;
}

struct desc {
	uint64_t addr;
	const char *name, *format, *types, *file;
	unsigned kind, line;
	size_t nsites;
};

static int desc_cmp(const void *a, const void *b)
{
	const struct desc *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int addr_cmp(const void *a, const void *b)
{
	const struct desc *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * The descriptor at offset @off of view @m: in __markers, or (@anywhere) one
 * that a C++ site record points to, whose strings may be in any section.
 */
static int read_desc(struct reader *r, const struct view *m, uint64_t off, int anywhere,
		     struct desc *d)
{
	unsigned p = ptrsize(r), nargs;
	int err = 0;

	d->addr = m->addr + off;
	d->kind = m->p[off + 4];
	nargs = m->p[off + 5];
	d->name = str_at(r, rd_ptr(r, m, off + 8), "name", anywhere, &err);
	if (d->name)
		d->format = str_at(r, rd_ptr(r, m, off + 8 + p), "format", anywhere, &err);
	if (d->name && d->format)
		d->types = str_at(r, rd_ptr(r, m, off + 8 + 2 * p), "types", anywhere, &err);
	if (d->name && d->format && d->types)
		d->file = str_at(r, rd_ptr(r, m, off + 8 + 3 * p), "file", anywhere, &err);
	if (err < 0)
		return err;
	d->line = (unsigned)rd(r, m->p + off + 8 + 4 * p, 4);
	if (d->kind > MARKER_KIND_JUMP)
		return fail(r, ELF_MARKERS_CORRUPT, "corrupt marker section: %s has site kind %u",
			    d->name, d->kind);
	if (nargs > MARKER_MAX_ARGS || strlen(d->types) != nargs)
		return fail(r, ELF_MARKERS_CORRUPT,
			    "corrupt marker section: %s has %u arguments but types \"%.20s\"",
			    d->name, nargs, d->types);
	if (!*d->name)
		return fail(r, ELF_MARKERS_CORRUPT, "corrupt marker section: a marker has no name");
	d->nsites = !anywhere && d->kind == MARKER_KIND_GENERIC;
	return 0;
}

/* A C++ record: (descriptor, site address). */
struct pair {
	uint64_t desc, site;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->desc != y->desc)
		return x->desc < y->desc ? -1 : 1;
	return x->site < y->site ? -1 : x->site > y->site;
}

/*
 * The descriptors of C++ records (@pr, @np pairs), appended to @d (room
 * for @np more), one site per distinct pair.  A record with a null
 * descriptor or site is skipped, as the library does (an unresolved copy).
 */
static int read_cxx_descs(struct reader *r, struct pair *pr, size_t np, struct desc *d,
			  size_t *nd, size_t *nskipped)
{
	uint64_t dsz = desc_size(r);
	size_t i = 0;

	qsort(pr, np, sizeof(*pr), pair_cmp);
	while (i < np) {
		const struct asec *a = sec_at(r, pr[i].desc, dsz);
		size_t j = i + 1, nsites = 1;
		int err;

		for (; j < np && pr[j].desc == pr[i].desc; j++)
			nsites += pr[j].site != pr[j - 1].site;
		if (!a || !a->writable || pr[i].desc % 8)
			return fail(r, ELF_MARKERS_CORRUPT,
				    "corrupt marker section: a site record points to 0x%llx, "
				    "not to a descriptor",
				    (unsigned long long)pr[i].desc);
		if (rd(r, a->v.p + (pr[i].desc - a->v.addr), 4) != MARKER_ABI_VERSION) {
			(*nskipped)++; /* unknown version: the library skips it too */
			i = j;
			continue;
		}
		err = read_desc(r, &a->v, pr[i].desc - a->v.addr, 1, &d[*nd]);
		if (err < 0)
			return err;
		d[(*nd)++].nsites = nsites;
		i = j;
	}
	return 0;
}

/*
 * Count each __markers_sites record against the descriptor it points to:
 * in __markers (C), or elsewhere (C++: read here, appended to @d, which
 * has room for one per record).
 */
static int count_sites(struct reader *r, struct desc *d, size_t *nd, struct elf_markers *out)
{
	uint64_t recsz = 3 * (uint64_t)ptrsize(r), n = r->sites.size / recsz;
	const struct view *m = &r->markers;
	size_t nc = *nd, np = 0;
	struct pair *pr;
	int err = 0;

	if (!r->sites.p)
		return 0;
	pr = calloc(n ? n : 1, sizeof(*pr));
	if (!pr)
		return fail(r, ELF_MARKERS_NOMEM, "out of memory");
	qsort(d, nc, sizeof(*d), addr_cmp);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t a = rd_ptr(r, &r->sites, i * recsz + 2 * ptrsize(r));
		struct desc key = {.addr = a}, *hit;

		if (!a)
			continue; /* zero padding */
		if (!(m->p && a >= m->addr && a - m->addr < m->size)) {
			uint64_t site = rd_ptr(r, &r->sites, i * recsz);

			if (site)
				pr[np++] = (struct pair){a, site};
			continue;
		}
		hit = bsearch(&key, d, nc, sizeof(*d), addr_cmp);
		if (!hit) {
			err = fail(r, ELF_MARKERS_CORRUPT,
				   "corrupt marker section: site record %llu points to 0x%llx, "
				   "not to a descriptor",
				   (unsigned long long)i, (unsigned long long)a);
			goto out;
		}
		if (hit->kind == MARKER_KIND_GENERIC) {
			err = fail(r, ELF_MARKERS_CORRUPT,
				   "corrupt marker section: a site record points to generic "
				   "marker %s",
				   hit->name);
			goto out;
		}
		hit->nsites++;
	}
	err = read_cxx_descs(r, pr, np, d, nd, &out->nskipped);
out:
	free(pr);
	return err;
}

static int merge(struct reader *r, struct desc *d, size_t nd, struct elf_markers *out)
{
	qsort(d, nd, sizeof(*d), desc_cmp);
	out->v = calloc(nd ? nd : 1, sizeof(*out->v));
	if (!out->v)
		return fail(r, ELF_MARKERS_NOMEM, "out of memory");
	for (size_t i = 0; i < nd; i++) {
		struct elf_marker *m = out->n ? &out->v[out->n - 1] : NULL;
		struct elf_marker_loc *l;

		if (!m || strcmp(m->name, d[i].name)) {
			m = &out->v[out->n++];
			m->name = d[i].name;
			m->format = d[i].format;
			m->types = d[i].types;
			m->kind = d[i].kind;
		} else if (strcmp(m->format, d[i].format)) {
			m->format_mismatch = 1;
		}
		m->kinds |= 1u << d[i].kind;
		m->nsites += d[i].nsites;
		l = realloc(m->locs, (m->nlocs + 1) * sizeof(*l));
		if (!l)
			return fail(r, ELF_MARKERS_NOMEM, "out of memory");
		m->locs = l;
		m->locs[m->nlocs++] = (struct elf_marker_loc){d[i].file, d[i].line};
	}
	return 0;
}

static int read_markers(struct reader *r, struct elf_markers *out)
{
	uint64_t dsz = desc_size(r), off = 0;
	struct desc *d;
	size_t nd = 0;
	int err;

	uint64_t nrec = r->sites.size / (3 * (uint64_t)ptrsize(r));

	if (r->markers.size / 8 > MAX_DESCRIPTORS || nrec > MAX_DESCRIPTORS)
		return fail(r, ELF_MARKERS_CORRUPT,
			    "corrupt marker section: __markers or __markers_sites is implausibly "
			    "large (%llu, %llu bytes)",
			    (unsigned long long)r->markers.size, (unsigned long long)r->sites.size);
	/* Room for the descriptors of __markers and one per record (C++). */
	d = calloc(r->markers.size / dsz + nrec + 1, sizeof(*d));
	if (!d)
		return fail(r, ELF_MARKERS_NOMEM, "out of memory");
	/* As the library does: step over zero padding and records of unknown versions. */
	while (off + 8 <= r->markers.size) {
		uint32_t v = (uint32_t)rd(r, r->markers.p + off, 4);

		if (v != MARKER_ABI_VERSION || off + dsz > r->markers.size) {
			if (v)
				out->nskipped++;
			off += 8;
			continue;
		}
		err = read_desc(r, &r->markers, off, 0, &d[nd]);
		if (err < 0)
			goto out;
		nd++;
		off += dsz;
	}
	err = count_sites(r, d, &nd, out);
	out->ndesc = nd;
	if (err >= 0)
		err = merge(r, d, nd, out);
out:
	free(d);
	return err;
}

int elf_markers_read(const void *buf, size_t size, struct elf_markers *out, char *err,
		     size_t errlen)
{
	struct reader r = {.buf = buf, .size = size, .err = err, .errlen = errlen};
	GElf_Ehdr eh;
	Elf *elf;
	int ret;

	memset(out, 0, sizeof(*out));
	if (errlen)
		err[0] = 0;
	if (size < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG))
		return fail(&r, ELF_MARKERS_NOT_ELF, "not an ELF file");
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(&r, ELF_MARKERS_UNSUPPORTED, "libelf: %s", elf_errmsg(-1));
	r.is64 = ((const unsigned char *)buf)[EI_CLASS] == ELFCLASS64;
	r.be = ((const unsigned char *)buf)[EI_DATA] == ELFDATA2MSB;
	if (!r.is64 && ((const unsigned char *)buf)[EI_CLASS] != ELFCLASS32)
		return fail(&r, ELF_MARKERS_UNSUPPORTED, "unsupported ELF class %u",
			    ((const unsigned char *)buf)[EI_CLASS]);
	if (size < (r.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return fail(&r, ELF_MARKERS_TRUNCATED, "truncated ELF file (%zu bytes)", size);
	/* libelf reads from the buffer; the cast drops a const it does not write through. */
	elf = elf_memory((char *)buf, size);
	if (!elf)
		return fail(&r, ELF_MARKERS_CORRUPT, "corrupt ELF file: %s", elf_errmsg(-1));
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		ret = fail(&r, ELF_MARKERS_CORRUPT, "corrupt ELF file: %s", elf_errmsg(-1));
		goto out;
	}
	if (eh.e_shoff > size ||
	    (uint64_t)eh.e_shnum * eh.e_shentsize > size - eh.e_shoff) {
		ret = fail(&r, ELF_MARKERS_TRUNCATED,
			   "truncated ELF file: the section headers extend past its end");
		goto out;
	}
	r.machine = eh.e_machine;
	switch (eh.e_machine) {
	case EM_X86_64:
		out->machine = r.is64 ? "x86-64" : "x32";
		r.rel_type = 8; /* R_X86_64_RELATIVE */
		r.abs_type = r.is64 ? 1 : 0; /* R_X86_64_64 */
		break;
	case EM_386:
		out->machine = "i386";
		r.abs_type = 1; /* R_386_32 */
		break;
	case EM_AARCH64:
		out->machine = "aarch64";
		r.rel_type = 1027; /* R_AARCH64_RELATIVE */
		r.abs_type = 257; /* R_AARCH64_ABS64 */
		break;
	default:
		ret = fail(&r, ELF_MARKERS_UNSUPPORTED,
			   "unsupported architecture (ELF machine %u; known: x86-64, i386, aarch64)",
			   eh.e_machine);
		goto out;
	}
	if (eh.e_type == ET_REL) {
		ret = fail(&r, ELF_MARKERS_UNSUPPORTED,
			   "a relocatable object (.o): list the linked program or library");
		goto out;
	}
	out->elfclass = r.is64 ? 64 : 32;
	out->big_endian = r.be;
	ret = find_sections(&r, elf);
	if (ret >= 0)
		ret = read_markers(&r, out);
out:
	elf_end(elf);
	free(r.rels);
	free(r.secs);
	if (ret < 0)
		elf_markers_free(out);
	return ret;
}

void elf_markers_free(struct elf_markers *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].locs);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
