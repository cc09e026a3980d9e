/*
 * Event ids are not hashes: with the event table's hash cut to no bits at
 * all, every (name, types) pair collides, and each must still get an id of
 * its own, declared with its own name and types.  babeltrace2 reads the
 * trace; every event must come back under its own name with its values.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <markers.h>
#include <markers/tracer.h>
#include "tap.h"

extern uint64_t marker__tr_hash_mask; /* library-internal (src/lib/tracer/ring.c) */

int main(void)
{
	char dir[] = "/tmp/markers-ids-XXXXXX", cmd[1024], line[1024];
	struct marker_tracer_options o = {.size = sizeof(o), .dir = dir};
	int a = 0, b = 0, c = 0, d = 0, other = 0, ids = 0;
	FILE *f;

	plan(5);
	if (!mkdtemp(dir))
		return 1;
	marker__tr_hash_mask = 0; /* every hash is the same */
	is_int(marker_tracer_start(&o), 0, "start");
	ok(marker_tracer_enable("ids_*") >= 0, "enable ids_*");
	for (int i = 0; i < 10; i++) {
		trace_mark_generic(ids_a, "a %d", i);          /* same types as ids_b */
		trace_mark_generic(ids_b, "b %d", 100 + i);
		trace_mark_generic(ids_c, "c %s", "text");     /* another type */
		trace_mark_generic(ids_d, "d %d e %d", i, -i); /* and another */
	}
	is_int(marker_tracer_stop(), 0, "stop");

	snprintf(cmd, sizeof(cmd), "grep -c '^event {' '%s/metadata'", dir);
	f = popen(cmd, "r");
	if (f && fgets(line, sizeof(line), f))
		ids = atoi(line);
	if (f)
		pclose(f);
	is_int(ids, 4, "four event declarations, one per (name, types)");

	snprintf(cmd, sizeof(cmd), "babeltrace2 '%s' 2>&1", dir);
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		int v, w;
		char *p;

		if ((p = strstr(line, " ids_a: ")) && (p = strstr(p, "{ a = ")) &&
		    sscanf(p, "{ a = %d }", &v) == 1 && v >= 0 && v < 10)
			a++;
		else if ((p = strstr(line, " ids_b: ")) && (p = strstr(p, "{ b = ")) &&
			 sscanf(p, "{ b = %d }", &v) == 1 && v >= 100 && v < 110)
			b++;
		else if (strstr(line, " ids_c: ") && strstr(line, "{ c = \"text\" }"))
			c++;
		else if ((p = strstr(line, " ids_d: ")) && (p = strstr(p, "{ d = ")) &&
			 sscanf(p, "{ d = %d, e = %d }", &v, &w) == 2 && w == -v)
			d++;
		else
			other++;
	}
	if (f)
		pclose(f);
	ok(a == 10 && b == 10 && c == 10 && d == 10 && other == 0,
	   "every event under its own name, with its values (%d %d %d %d, %d others)", a, b, c,
	   d, other);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd)) {
	}
	return done();
}
