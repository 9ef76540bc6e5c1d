/* Choosing the virtualization backend from what the CPU offers (CPUID). */
#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/svm/svm_defs.h"
#include "arch/x86_64/virt.h"
#include "arch/x86_64/virt_regs_offsets.h"
#include "arch/x86_64/vmx/vmx_defs.h"

_Static_assert(offsetof(struct virt_regs, rax) == REG_RAX, "virt_regs_offsets.h");
_Static_assert(offsetof(struct virt_regs, rdi) == REG_RDI, "virt_regs_offsets.h");
_Static_assert(offsetof(struct virt_regs, r8) == REG_R8, "virt_regs_offsets.h");
_Static_assert(offsetof(struct virt_regs, r15) == REG_R15, "virt_regs_offsets.h");

const struct virt_ops *virt_detect(const char **why)
{
	if (cpuid(0x80000001, 0).ecx & CPUID_80000001_ECX_SVM) {
		if (!(cpuid(0x8000000a, 0).edx & CPUID_8000000A_EDX_NP)) {
			*why = "SVM without nested paging";
			return NULL;
		}
		return &svm_ops;
	}
	if (cpuid(1, 0).ecx & CPUID_1_ECX_VMX)
		return vmx_usable(why) ? &vmx_ops : NULL;
	*why = "the CPU has neither SVM nor VT-x";
	return NULL;
}
