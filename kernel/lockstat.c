/* `@lock_stats`: the counters of the instrumented locks (kernel/lockstat.h). */
#include "kernel/lockstat.h"
#include "kernel/log.h"

static struct stat_lock *registered; /* set up on the boot CPU before the cores run */

static const char *const slot_names[LOCKSTAT_SLOTS] = {"regular", "turbo", "other"};

void lockstat_register(struct stat_lock *l)
{
	for (const struct stat_lock *r = registered; r; r = r->next)
		if (r == l)
			return;
	l->next = registered;
	registered = l;
}

static uint64_t get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void lockstat_report(bool final)
{
	for (struct stat_lock *l = registered; l; l = l->next)
		for (unsigned s = 0; s < LOCKSTAT_SLOTS; s++) {
			const struct lockstat_counts *c = &l->by[s];
			struct record r;

			if (!get(&c->acquisitions))
				continue;
			record_begin(&r, "lock_stats");
			record_str(&r, "lock", l->name);
			record_str(&r, "by", slot_names[s]);
			record_uint(&r, "acquisitions", get(&c->acquisitions));
			record_uint(&r, "contended", get(&c->contended));
			for (unsigned b = 0; b < LOCKSTAT_SLOTS; b++) {
				char key[24] = "behind_";

				for (unsigned k = 0; slot_names[b][k]; k++)
					key[7 + k] = slot_names[b][k];
				record_uint(&r, key, get(&c->behind[b]));
			}
			record_uint(&r, "wait_cycles", get(&c->wait_cycles));
			record_uint(&r, "wait_max_cycles", get(&c->wait_max));
			record_uint(&r, "hold_cycles", get(&c->hold_cycles));
			record_uint(&r, "hold_max_cycles", get(&c->hold_max));
			record_uint(&r, "tsc", rdtsc());
			record_bool(&r, "final", final);
			record_emit(&r);
		}
}
