/* Choosing the virtualization backend from what the CPU offers (CPUID). */
#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/svm/svm_defs.h"
#include "arch/x86_64/virt.h"

#define CPUID_1_ECX_VMX (1u << 5)

const struct virt_ops *virt_detect(const char **why)
{
	if (cpuid(0x80000001, 0).ecx & CPUID_80000001_ECX_SVM) {
		if (!(cpuid(0x8000000a, 0).edx & CPUID_8000000A_EDX_NP)) {
			*why = "SVM without nested paging";
			return NULL;
		}
		return &svm_ops;
	}
	if (cpuid(1, 0).ecx & CPUID_1_ECX_VMX) {
		*why = "VT-x is not supported yet (SVM only)";
		return NULL;
	}
	*why = "the CPU has neither SVM nor VT-x";
	return NULL;
}
