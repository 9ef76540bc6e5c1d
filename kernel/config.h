/* The boot manifest as the rest of the hypervisor sees it: loaded from the
 * GRUB module named "manifest", parsed, and checked against this machine. */
#ifndef KERNEL_CONFIG_H
#define KERNEL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

struct boot_info;
struct manifest;

/* Reports the outcome on the console (`@manifest`, one `@vm_skipped` per VM
 * left out); false when the manifest is rejected and the machine must halt. */
bool config_load(const struct boot_info *bi);
const struct manifest *config_manifest(void);
const char *config_cpu_role(uint32_t cpu);
bool config_poweroff_after_boot(void);

#endif
