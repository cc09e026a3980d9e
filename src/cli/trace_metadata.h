/*
 * trace_metadata.h - the CTF 1.8 metadata (TSDL) of a trace, parsed into
 * types that trace_reader.c decodes stream files with.
 *
 * A subset of TSDL large enough for every trace a CTF 1.8 writer of our kind
 * produces: typealias, typedef, named struct/enum/variant, integer,
 * floating_point, string, struct, enum, variant, arrays and sequences; the
 * trace, env, clock, stream and event blocks.  Text or packetized metadata.
 * Anything else is a clear error, never a guess.
 */
#ifndef MARKERS_CLI_TRACE_METADATA_H
#define MARKERS_CLI_TRACE_METADATA_H

#include <stddef.h>
#include <stdint.h>

enum tm_kind { TM_INT, TM_FLOAT, TM_STRING, TM_STRUCT, TM_VARIANT, TM_ARRAY, TM_SEQUENCE, TM_ENUM };
enum tm_byte_order { TM_NATIVE, TM_LE, TM_BE };

struct tm_type;

struct tm_field {
	const char *name;
	const struct tm_type *type;
};

struct tm_enum_map {
	const char *label;
	int64_t lo, hi; /* as unsigned when the container is */
};

struct tm_type {
	enum tm_kind kind;
	unsigned align; /* bits, >= 1 */
	/* TM_INT, TM_FLOAT (size = exp_dig + mant_dig) */
	unsigned size;
	unsigned exp_dig, mant_dig;
	int is_signed;
	enum tm_byte_order byte_order;
	int base;      /* 2, 8, 10, 16 */
	int encoded;   /* encoding = UTF8/ASCII: 8-bit arrays of it are text */
	int clock_map; /* map = clock.X.value */
	/* TM_ENUM */
	const struct tm_type *container;
	struct tm_enum_map *maps;
	size_t nmaps;
	/* TM_STRUCT, TM_VARIANT */
	struct tm_field *fields;
	size_t nfields;
	const char *tag; /* TM_VARIANT: path of the enum that selects the option */
	/* TM_ARRAY, TM_SEQUENCE */
	const struct tm_type *elem;
	uint64_t length;        /* TM_ARRAY */
	const char *length_ref; /* TM_SEQUENCE: path of the integer holding the length */
};

struct tm_event {
	size_t index; /* in tm_trace.events */
	const char *name;
	uint64_t id, stream_id;
	const struct tm_type *context; /* may be NULL */
	const struct tm_type *fields;  /* may be NULL */
};

struct tm_stream {
	uint64_t id;
	const struct tm_type *packet_context, *event_header, *event_context; /* may be NULL */
	struct tm_event **events; /* sorted by id */
	size_t nevents;
};

struct tm_clock {
	const char *name;
	uint64_t freq; /* Hz, default 1e9 */
	int64_t offset_s;
	int64_t offset; /* cycles */
};

struct tm_env {
	const char *key;
	const char *str; /* NULL: an integer */
	int64_t num;
};

struct tm_trace {
	unsigned major, minor;
	enum tm_byte_order byte_order; /* TM_LE or TM_BE */
	uint8_t uuid[16];
	int has_uuid;
	const struct tm_type *packet_header; /* may be NULL */
	struct tm_clock clock;              /* the first clock; a default one if none */
	struct tm_stream *streams;
	size_t nstreams;
	struct tm_event **events;
	size_t nevents;
	struct tm_env *env;
	size_t nenv;
	void *arena; /* every allocation above; freed by tm_free() */
};

/*
 * tm_parse - parse the metadata in @text (@len bytes, packetized or not).
 *
 * Returns 0 and fills @t, or -1 with a one-line reason in @err (the
 * metadata's line number where it helps).  Free with tm_free() either way.
 */
int tm_parse(const char *text, size_t len, struct tm_trace *t, char *err, size_t errlen);
void tm_free(struct tm_trace *t);

/* The stream class @id, or NULL. */
const struct tm_stream *tm_stream_find(const struct tm_trace *t, uint64_t id);

/* The event class @id of stream class @s, or NULL. */
const struct tm_event *tm_event_find(const struct tm_stream *s, uint64_t id);

/* A value of the trace's env block, or NULL. */
const struct tm_env *tm_env_find(const struct tm_trace *t, const char *key);

#endif /* MARKERS_CLI_TRACE_METADATA_H */
