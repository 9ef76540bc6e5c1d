/* Turning the machine off. */
#ifndef ARCH_X86_64_POWER_H
#define ARCH_X86_64_POWER_H

#include <stdint.h>

struct acpi_info;

void power_init(const struct acpi_info *acpi);
/* ACPI S5 first; if the machine is still running, the emulators' exit
 * devices; then every CPU halts. `code` is the exit status QEMU reports. */
__attribute__((noreturn)) void power_off(uint8_t code);

#endif
