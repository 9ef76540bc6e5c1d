/* Deliberate faults, so the tests can see what a hypervisor bug looks like. */
#include <string.h>

#include "kernel/bootinfo.h"
#include "kernel/log.h"
#include "kernel/selftest.h"

#define UNMAPPED_ADDRESS 0x0000100000000000ull /* no mapping covers it */

void selftest_run(const struct boot_info *bi)
{
	char what[16];

	if (!boot_cmdline_value(bi, "selftest", what, sizeof(what)))
		return;
	log_printf("selftest: raising %s on purpose\n", what);
	if (!strcmp(what, "ud"))
		__asm__ volatile("ud2");
	if (!strcmp(what, "pf"))
		(void)*(volatile uint64_t *)UNMAPPED_ADDRESS;
	log_printf("selftest: unknown fault '%s' (known: ud, pf)\n", what);
}
