/*
 * none.c - the patcher where no code patching exists: optimized sites
 * (which only x86 has) stay in their taken form and work from the flag.
 */
#include "patch.h"

void marker__patch_init(void)
{
}

void marker__patch_adopt_locked(struct marker__site **sites, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sites[i]->mode = MARKER_MODE_FALLBACK;
		sites[i]->reason = "no code patching on this architecture";
	}
}

void marker__patch_adopt_deferred(void)
{
}

void marker__patch_adopt_deferred_locked(void)
{
}

void marker__patch_defer_adoption(void)
{
}

size_t marker__patch_apply_locked(struct marker__site **sites, size_t n)
{
	(void)sites;
	(void)n;
	return 0;
}

void marker__patch_after_fork_child(void)
{
}

void marker__patch_forget_locked(struct marker__site *sites, size_t n)
{
	(void)sites;
	(void)n;
}
