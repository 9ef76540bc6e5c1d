/* Power-off. ACPI S5 is what real servers need (ACPI 6.x §7.4.2: write
 * SLP_TYPx from \_S5 with SLP_EN to PM1a/PM1b control). The emulators also
 * have exit devices that end the run with a status: QEMU's isa-debug-exit at
 * port 0xf4 and Bochs' shutdown port 0x8900. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/power.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/tsc.h"
#include "drivers/acpi.h"

#define PM1_CNT_SCI_EN	      (1u << 0)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN	      (1u << 13)

#define QEMU_DEBUG_EXIT_PORT   0xf4
#define BOCHS_SHUTDOWN_PORT    0x8900
#define ACPI_ENABLE_TIMEOUT_US 100000
#define POWER_OFF_SETTLE_US    20000

static const struct acpi_info *acpi;

void power_init(const struct acpi_info *info)
{
	acpi = info;
}

/* The firmware may still own the ACPI hardware (legacy mode): ask it to
 * hand over through SMI_CMD, and wait for SCI_EN (ACPI 6.x §16.3.1). */
static void acpi_enter_acpi_mode(void)
{
	uint64_t deadline = rdtsc() + tsc_from_us(ACPI_ENABLE_TIMEOUT_US);

	if (inw(acpi->pm1a_cnt) & PM1_CNT_SCI_EN || !acpi->smi_cmd || !acpi->acpi_enable)
		return;
	outb(acpi->smi_cmd, acpi->acpi_enable);
	while (!(inw(acpi->pm1a_cnt) & PM1_CNT_SCI_EN) && rdtsc() < deadline)
		cpu_relax();
}

static void acpi_sleep_s5(void)
{
	if (!acpi || !acpi->pm1a_cnt || !acpi->have_s5)
		return;
	acpi_enter_acpi_mode();
	outw(acpi->pm1a_cnt, (acpi->s5_slp_typa << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN);
	if (acpi->pm1b_cnt)
		outw(acpi->pm1b_cnt, (acpi->s5_slp_typb << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN);
	tsc_delay_us(POWER_OFF_SETTLE_US);
}

static void emulator_exit(uint8_t code)
{
	const char *shutdown = "Shutdown";

	outb(QEMU_DEBUG_EXIT_PORT, code); /* QEMU exits with (code << 1) | 1 */
	for (; *shutdown; shutdown++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*shutdown);
}

void power_off(uint8_t code)
{
	irq_disable();
	smp_stop_others();
	if (code)
		emulator_exit(code); /* a failure status must reach the runner */
	acpi_sleep_s5();
	emulator_exit(code);
	cpu_halt_forever();
}
