/* Build-time limits that several layers must agree on. Included by pure-logic
 * code too (drivers/, sched/, kernel/manifest*), so it holds only constants. */
#ifndef LIB_CONFIG_H
#define LIB_CONFIG_H

/* Logical CPUs the hypervisor uses: the MADT entries it records
 * (ACPI_MAX_CPUS), the per-CPU structures (MAX_CPUS), the scheduler's cores
 * (SCHED_MAX_CPUS) and the CPU ids a manifest may name (MANIFEST_MAX_CPUS).
 * Each costs a static struct cpu (its GDT, TSS and three 4 KiB IST stacks,
 * about 12.5 KiB) whether present or not; an AP's 16 KiB stack comes from the
 * page allocator only when the CPU exists. CPUs the firmware lists beyond this
 * are counted and left off (@cpus_ignored). */
#define CONFIG_MAX_CPUS 256

#endif
