/* The machine as the firmware describes it (ACPI), and what follows from it:
 * the CPUs, the local APIC, power-off. */
#ifndef KERNEL_PLATFORM_H
#define KERNEL_PLATFORM_H

#include <stdint.h>

struct boot_info;
struct acpi_info;

/* Parses ACPI, sets up the boot CPU's local APIC and registers the CPUs;
 * stops with a clear message when the firmware tables are unusable. */
void platform_init(const struct boot_info *bi);
const struct acpi_info *platform_acpi(void);
/* A page below 1 MiB for the APs' real-mode start-up code. */
uint64_t platform_trampoline_page(void);
/* Stops every CPU after saying why on the console (a clean stop, not a panic). */
__attribute__((noreturn)) void platform_halt(const char *reason);

#endif
