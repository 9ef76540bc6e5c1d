#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

struct boot_info;

/* Faults on purpose when the command line says `selftest=ud` or
 * `selftest=pf`, to show the exception report in the integration tests. */
void selftest_run(const struct boot_info *bi);

#endif
