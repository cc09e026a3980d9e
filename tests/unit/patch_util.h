/*
 * patch_util.h - what the patching tests share: a counting probe, the
 * sites of a marker as the library reports them, and their code bytes.
 */
#ifndef MARKERS_TESTS_PATCH_UTIL_H
#define MARKERS_TESTS_PATCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <markers.h>

#define PU_MAX_SITES 16

struct pu_sites {
	const char *name;
	int n;
	unsigned kind;
	enum marker_site_mode mode[PU_MAX_SITES];
	const unsigned char *addr[PU_MAX_SITES];
	const char *reason[PU_MAX_SITES];
};

static int pu_sites_cb(const struct marker_info *mi, void *arg)
{
	struct pu_sites *s = (struct pu_sites *)arg;

	if (strcmp(mi->name, s->name))
		return 0;
	for (size_t i = 0; i < mi->nsites && s->n < PU_MAX_SITES; i++, s->n++) {
		s->kind = mi->sites[i].marker->kind;
		s->mode[s->n] = mi->sites[i].mode;
		s->addr[s->n] = (const unsigned char *)mi->sites[i].address;
		s->reason[s->n] = mi->sites[i].reason;
	}
	return 1;
}

/* The sites of marker @name. */
static inline struct pu_sites pu_sites(const char *name)
{
	struct pu_sites s;

	memset(&s, 0, sizeof(s));
	s.name = name;
	marker_foreach(pu_sites_cb, &s);
	return s;
}

/*
 * 1 if the code at @p is the taken form of a site of @kind, 0 if the
 * not-taken form, -1 if neither.
 */
static inline int pu_form(unsigned kind, const unsigned char *p)
{
	static const unsigned char nop5[5] = {0x0f, 0x1f, 0x44, 0x00, 0x00};

	if (kind == MARKER_KIND_JUMP) {
		if (p[0] == 0xe9)
			return 1;
		return memcmp(p, nop5, 5) ? -1 : 0;
	}
	if (kind == MARKER_KIND_IMMEDIATE) {
		uint32_t imm;

#ifdef __x86_64__
		if (p[0] == 0x41)
			p++;
#endif
		if (p[0] < 0xb8 || p[0] > 0xbf)
			return -1;
		memcpy(&imm, p + 1, 4);
		return imm == 1 ? 1 : imm == 0 ? 0 : -1;
	}
	return -1;
}

/*
 * Every site of @name is patched and its code in form @on (optimized
 * kinds), or uses the flag (generic).  Returns 0, or prints why not.
 */
static inline int pu_check_sites(const char *name, int on)
{
	struct pu_sites s = pu_sites(name);

	if (!s.n) {
		printf("# %s: no sites\n", name);
		return -1;
	}
	for (int i = 0; i < s.n; i++) {
		if (s.kind == MARKER_KIND_GENERIC) {
			if (s.mode[i] != MARKER_MODE_FLAG) {
				printf("# %s: generic site in mode %s\n", name,
				       marker_mode_name(s.mode[i]));
				return -1;
			}
			continue;
		}
		if (s.mode[i] != MARKER_MODE_PATCHED) {
			printf("# %s: site %d is %s (%s)\n", name, i, marker_mode_name(s.mode[i]),
			       s.reason[i] ? s.reason[i] : "no reason");
			return -1;
		}
		if (pu_form(s.kind, s.addr[i]) != on) {
			printf("# %s: site %d at %p: bytes %02x %02x %02x %02x %02x %02x, want %s\n",
			       name, i, (const void *)s.addr[i], s.addr[i][0], s.addr[i][1],
			       s.addr[i][2], s.addr[i][3], s.addr[i][4], s.addr[i][5],
			       on ? "taken" : "not taken");
			return -1;
		}
	}
	return 0;
}

/*
 * Every optimized site of @name fell back: not patched, in its taken form
 * (which works from the flag), with a reason.  Returns 0, or prints why not.
 */
static inline int pu_check_fallback(const char *name)
{
	struct pu_sites s = pu_sites(name);

	for (int i = 0; i < s.n; i++) {
		if (s.kind == MARKER_KIND_GENERIC)
			continue;
		if (s.mode[i] != MARKER_MODE_FALLBACK || !s.reason[i] ||
		    pu_form(s.kind, s.addr[i]) != 1) {
			printf("# %s: site %d is %s (%s), form %d\n", name, i,
			       marker_mode_name(s.mode[i]), s.reason[i] ? s.reason[i] : "no reason",
			       pu_form(s.kind, s.addr[i]));
			return -1;
		}
	}
	return s.n ? 0 : -1;
}

static inline void pu_count_probe(const struct marker *m, void *priv, const char *fmt,
				  va_list *args)
{
	(void)m, (void)fmt, (void)args;
	__atomic_fetch_add((long *)priv, 1, __ATOMIC_RELAXED);
}

/* A check in a child process: on failure, say why as a TAP comment and exit 1. */
#define CHECK(cond, ...)                                \
	do {                                            \
		if (!(cond)) {                          \
			printf("# " __VA_ARGS__);       \
			printf("\n");                   \
			fflush(stdout);                 \
			_exit(1);                       \
		}                                       \
	} while (0)

#endif
