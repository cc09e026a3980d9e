/*
 * elf_markers.h - the markers of an ELF file, read offline (markers list FILE).
 *
 * The reader trusts nothing in the file: every offset, size, pointer and
 * string is checked against the buffer before it is read, fields are read
 * one by one for ELFCLASS32/64 and either byte order (never by casting
 * struct marker), and counts are bounded by the sizes of the sections that
 * hold them.  It reads a buffer, so that the fuzz target drives exactly the
 * code that `markers list` runs.
 */
#ifndef MARKERS_CLI_ELF_MARKERS_H
#define MARKERS_CLI_ELF_MARKERS_H

#include <stddef.h>

struct elf_marker_loc {
	const char *file; /* points into the file's buffer (checked, NUL-terminated) */
	unsigned line;
};

/* One marker name: every descriptor of that name in the file, merged. */
struct elf_marker {
	const char *name, *format, *types;
	unsigned kind;            /* MARKER_KIND_* of the first descriptor */
	unsigned kinds;           /* bit mask of the kinds of all its descriptors */
	size_t nsites;            /* as the library counts them: generic descriptors
				   * in __markers, patchable instructions, and the
				   * distinct (descriptor, address) records of C++ sites */
	int format_mismatch;      /* a descriptor has another format (stays off at run time) */
	size_t nlocs;
	struct elf_marker_loc *locs;
};

struct elf_markers {
	const char *machine; /* "x86-64", "i386", "aarch64" */
	int elfclass;        /* 32 or 64 */
	int big_endian;
	size_t n;
	struct elf_marker *v; /* sorted by name */
	size_t ndesc;         /* descriptors read */
	size_t nskipped;      /* descriptors of an unknown ABI version, skipped */
};

/* Error classes; the message says more. */
enum {
	ELF_MARKERS_NOT_ELF = 1,
	ELF_MARKERS_TRUNCATED,
	ELF_MARKERS_NO_SECTIONS,
	ELF_MARKERS_UNSUPPORTED,
	ELF_MARKERS_CORRUPT,
	ELF_MARKERS_NOMEM,
};

/*
 * elf_markers_read - parse @buf (@size bytes, the whole file; it must stay
 * alive as long as @out) into @out.  Returns 0, or -ELF_MARKERS_* with a
 * one-line reason in @err (@errlen bytes).
 */
int elf_markers_read(const void *buf, size_t size, struct elf_markers *out, char *err,
		     size_t errlen);
void elf_markers_free(struct elf_markers *m);

#endif /* MARKERS_CLI_ELF_MARKERS_H */
