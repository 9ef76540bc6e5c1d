/* Offsets of struct virt_regs (arch/x86_64/virt.h) for the world-switch assembly (svm_entry.S,
 * vmx_entry.S); the static asserts in virt.c keep the two in step. */
#ifndef ARCH_X86_64_VIRT_REGS_OFFSETS_H
#define ARCH_X86_64_VIRT_REGS_OFFSETS_H

#define REG_RAX 0
#define REG_RBX 8
#define REG_RCX 16
#define REG_RDX 24
#define REG_RSI 32
#define REG_RDI 40
#define REG_RBP 48
#define REG_R8	56
#define REG_R9	64
#define REG_R10 72
#define REG_R11 80
#define REG_R12 88
#define REG_R13 96
#define REG_R14 104
#define REG_R15 112

#endif
