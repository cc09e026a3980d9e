/*
 * fuzz_elf.c - libFuzzer target: the offline ELF reader of `markers list`.
 * Any input must give 0 or a negative class with a message, never a crash,
 * a leak or an out-of-bounds read (built with ASan+UBSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf_markers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_markers m;
	char err[256];
	/* An exact-size copy, so that ASan sees any read past the end. */
	void *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (elf_markers_read(buf, size, &m, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < m.n; i++) /* touch every string the reader vouched for */
			if (strlen(m.v[i].name) + strlen(m.v[i].format) + strlen(m.v[i].types) == 0)
				abort();
		elf_markers_free(&m);
	} else if (!err[0]) {
		abort(); /* every failure says why */
	}
	free(buf);
	return 0;
}
