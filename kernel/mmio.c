/* MMIO emulation: fetch the instruction through the guest's page tables,
 * decode it (arch/x86_64/insn_decode.c), call the device, write back the
 * register, step over the instruction. */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/guest_walk.h"
#include "arch/x86_64/insn_decode.h"
#include "arch/x86_64/layout.h"
#include "kernel/mmio.h"
#include "kernel/vm.h"

int pio_register(struct vm *vm, const struct pio_range *r)
{
	if (vm->npio == VM_MAX_PIO_RANGES || pio_find(vm, r->base) ||
	    pio_find(vm, (uint16_t)(r->base + r->count - 1)))
		return -1;
	vm->pio[vm->npio++] = *r;
	return 0;
}

const struct pio_range *pio_find(const struct vm *vm, uint16_t port)
{
	for (unsigned i = 0; i < vm->npio; i++)
		if (port >= vm->pio[i].base && port - vm->pio[i].base < vm->pio[i].count)
			return &vm->pio[i];
	return NULL;
}

int mmio_register(struct vm *vm, const struct mmio_region *r)
{
	if (vm->nmmio == VM_MAX_MMIO_REGIONS || mmio_find(vm, r->base) ||
	    mmio_find(vm, r->base + r->size - 1))
		return -1;
	vm->mmio[vm->nmmio++] = *r;
	return 0;
}

const struct mmio_region *mmio_find(const struct vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < vm->nmmio; i++)
		if (gpa >= vm->mmio[i].base && gpa - vm->mmio[i].base < vm->mmio[i].size)
			return &vm->mmio[i];
	return NULL;
}

bool mmio_guest_read64(void *ctx, uint64_t gpa, uint64_t *value)
{
	const struct vm *vm = ctx;

	if (gpa >= vm->ram_bytes || gpa + 8 > vm->ram_bytes)
		return false;
	memcpy(value, (const uint8_t *)phys_to_virt(vm->ram_hpa) + gpa, 8);
	return true;
}

bool vcpu_access_ram(struct vcpu *v, uint64_t gva, unsigned size, bool write, uint64_t *value)
{
	const struct vm *vm = v->vm;
	uint64_t gpa;
	uint8_t *ram;

	if (guest_walk(vm_virt()->vcpu_cr3(v->hw), gva, mmio_guest_read64, v->vm, &gpa) ||
	    gpa >= vm->ram_bytes || size > vm->ram_bytes - gpa)
		return false;
	ram = (uint8_t *)phys_to_virt(vm->ram_hpa) + gpa;
	if (write)
		memcpy(ram, value, size);
	else
		memcpy(value, ram, size);
	return true;
}

/* Up to INSN_MAX_LENGTH bytes at guest-linear `rip`, page by page (an
 * instruction may cross into the next page). Returns how many were read. */
static size_t fetch_instruction(struct vcpu *v, uint64_t rip, uint8_t *bytes)
{
	const struct vm *vm = v->vm;
	uint64_t cr3 = vm_virt()->vcpu_cr3(v->hw);
	size_t got = 0;

	while (got < INSN_MAX_LENGTH) {
		uint64_t gpa, in_page;

		if (guest_walk(cr3, rip + got, mmio_guest_read64, (void *)vm, &gpa) ||
		    gpa >= vm->ram_bytes)
			break;
		in_page = 4096 - (gpa & 4095);
		if (in_page > INSN_MAX_LENGTH - got)
			in_page = INSN_MAX_LENGTH - got;
		if (in_page > vm->ram_bytes - gpa)
			in_page = vm->ram_bytes - gpa;
		memcpy(bytes + got, (const uint8_t *)phys_to_virt(vm->ram_hpa) + gpa, in_page);
		got += in_page;
	}
	return got;
}

static bool stop_with(struct vm *vm, const struct virt_exit *x, const char *what, const char *why)
{
	char reason[128];

	snprintf(reason, sizeof(reason), "MMIO at 0x%llx: %s%s", (unsigned long long)x->npf.gpa,
		 what, why ? why : "");
	vm_stop(vm, reason, x->rip);
	return false;
}

bool mmio_emulate(struct vcpu *v, const struct virt_exit *x, const struct mmio_region *r)
{
	struct vm *vm = v->vm;
	uint8_t bytes[INSN_MAX_LENGTH];
	size_t n = fetch_instruction(v, x->rip, bytes);
	uint64_t offset = x->npf.gpa - r->base;
	struct virt_exit done = *x;
	struct insn_mmio i;
	const char *why;

	if (!n)
		return stop_with(vm, x, "the instruction cannot be fetched", NULL);
	if (insn_decode_mmio(bytes, n, &i, &why))
		return stop_with(vm, x, "", why);
	if (i.kind == INSN_MMIO_MOVS || i.kind == INSN_MMIO_STOS) {
		int more = mmio_emulate_string(v, r, &i);

		if (more < 0)
			return stop_with(vm, x, "a string operand is neither the device nor RAM",
					 NULL);
		if (more)
			return true; /* RIP stays: the REP goes on at the next entry */
	} else if (i.kind == INSN_MMIO_READ) {
		insn_mmio_complete_read(&i, &v->regs, r->read(r->dev, v, offset, i.size));
	} else {
		r->write(r->dev, v, offset, i.size, insn_mmio_write_value(&i, &v->regs));
	}
	done.insn_len = i.length; /* NPF and EPT-violation exits give no length */
	vm_virt()->vcpu_skip_instruction(v->hw, &done);
	return true;
}
