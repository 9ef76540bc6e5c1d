/* The hypercall ABI between corevisor and its guests (docs/architecture.md).
 * RAX holds the number, RDI, RSI, RDX the arguments; the result comes back
 * in RAX. The instruction is VMMCALL on AMD and VMCALL on Intel: CPUID leaf
 * HV_CPUID_FEATURES, EAX bit HV_FEATURE_VMMCALL tells which. Shared with
 * guest-shim, so it holds only constants. */
#ifndef KERNEL_HYPERCALL_H
#define KERNEL_HYPERCALL_H

#define HV_CPUID_VENDOR	  0x40000000 /* EBX, ECX, EDX: "CoreVisor HV" */
#define HV_CPUID_FEATURES 0x40000001
/* HV_CPUID_FEATURES: EAX bit 0 = VMMCALL (else VMCALL); EBX = the VM's number
 * of vCPUs; ECX = the index of its turbo vCPU, which takes its device
 * interrupts (~0: none, vCPU 0 takes them). */
#define HV_FEATURE_VMMCALL (1u << 0)
#define HV_CPUID_TIMING	   0x40000010 /* EAX: TSC kHz, EBX: APIC timer kHz */

#define HC_CONSOLE_WRITE 0 /* (gpa, len): up to 200 bytes of text, one "[vm] " line per \n */
#define HC_REPORT	 1 /* (key, value): a named result for the tests */
#define HC_TIME		 2 /* (): the host TSC */
#define HC_POWEROFF	 3 /* (code): the VM ends with this exit code */

/* Keys of HC_REPORT (the names are in kernel/vmexit.c). */
#define HR_CPUID_COUNT	    0  /* CPUID instructions the guest executed */
#define HR_SPIN_DONE	    1  /* spin loop iterations */
#define HR_START_TSC	    2  /* the guest's first TSC reading */
#define HR_CPUID_CYCLES	    3  /* TSC cycles per CPUID round trip */
#define HR_HYPERCALL_CYCLES 4  /* ... per hypercall round trip */
#define HR_PIO_CYCLES	    5  /* ... per port read round trip */
#define HR_MMIO_OK	    6  /* MMIO checks that passed */
#define HR_EXCEPTION	    7  /* the vector the guest's IDT caught */
#define HR_EXCEPTION_RIP    8  /* ... and where */
#define HR_MSR_READ	    9  /* an MSR value the guest read */
#define HR_TIMER_IRQS	    10 /* APIC timer interrupts a vCPU took */
#define HR_TIMER_US	    11 /* ... and the microseconds they spanned */
#define HR_IPI_RECEIVED	    12 /* IPIs a vCPU took */
#define HR_MEM_PAGES_OK	    13 /* 4 KiB pages written and read back intact */
#define HR_IRQ_COUNT	    14 /* device interrupts a vCPU timed */
#define HR_IRQ_P50_NS	    15 /* ... their median latency, raised to handler */
#define HR_IRQ_P99_NS	    16 /* ... 99th percentile */
#define HR_IRQ_MAX_NS	    17 /* ... and maximum */
#define HR_SPIN_MARK	    18 /* a spinner passed TSC mark N (100 ms each) */
#define HR_SPIN_PROGRESS    19 /* ... with this count */
#define HR_PIO_STRING_OK    20 /* INS/OUTS checks that passed */
#define HR_CR0		    21 /* the guest's CR0 (guest-shim32) */
#define HR_MARK		    22 /* phase mark N: the exit counters are snapshot */
#define HR_BLK_REQUESTS	    23 /* virtio-blk requests completed */
#define HR_BLK_BYTES	    24 /* ... data bytes they moved */
#define HR_BLK_ERRORS	    25 /* ... bad status or data that did not verify */
#define HR_BLK_KICKS	    26 /* ... notify writes the driver made */
#define HR_BLK_IRQS	    27 /* ... device interrupts the irq vCPU took */
#define HR_BLK_IOPS	    28 /* ... per second of TSC time */
#define HR_BLK_P50_NS	    29 /* ... median latency, submit to reap */
#define HR_BLK_P99_NS	    30 /* ... 99th percentile */
#define HR_NET_SENT	    31 /* virtio-net frames sent */
#define HR_NET_RECEIVED	    32 /* ... received */
#define HR_NET_BAD	    33 /* ... received damaged or out of order */
#define HR_NET_KICKS	    34 /* ... notify writes the driver made */
#define HR_NET_RTT_P50_NS   35 /* ... median ping round trip */
#define HR_VIO_NEEDS_RESET  36 /* a malformed request set NEEDS_RESET (1) */
#define HR_VIO_RECOVERED    37 /* ... and a reset device worked again (1) */
#define HR_CHAOS_OPS	    38 /* workload=chaos: operations done */
#define HR_CHAOS_IPIS	    39 /* ... ICR writes aimed at other vCPUs or all */
#define HR_CHAOS_SELF_IPIS  40 /* ... self-IPIs (shorthand, own ID, SELF_IPI) */
#define HR_CHAOS_TIMER	    41 /* ... APIC timer storms armed */
#define HR_CHAOS_IRQS	    42 /* ... interrupts the vCPU took */
#define HR_CHAOS_MMIO	    43 /* ... MMIO accesses outside RAM */
#define HR_CHAOS_PIO	    44 /* ... port accesses */
#define HR_CHAOS_MSRS	    45 /* ... RDMSR/WRMSR executed */
#define HR_CHAOS_GP	    46 /* ... #GP faults caught and skipped */
#define HR_CHAOS_HCALLS	    47 /* ... hypercalls with wild arguments */
#define HR_CHAOS_HC_ERRORS  48 /* ... of which returned HC_ERROR */
#define HR_CHAOS_HC_BUSY    49 /* ... of which returned HC_BUSY (log budget) */
#define HR_CHAOS_US	    50 /* ... microseconds it ran */
#define HR_CHAOS_DONE	    51 /* ... its seed: the last report */
#define HR_UART_THRE_IRQS   52 /* workload=uart: THRE interrupts through the I/O APIC */
#define HR_UART_OTHER_IRQS  53 /* ... its interrupts whose IIR named no THRE */
#define HR_UART_TX_BYTES    54 /* ... bytes written from the interrupt handler */
#define HR_IOAPIC_VERSION   55 /* ... the I/O APIC's version register */
#define HR_BLK_PAST_END	    56 /* workload=blk past_end=1: a read past the disk failed (1) */
#define HR_KEYS		    57

#define HC_ERROR (~0ull)
/* HC_CONSOLE_WRITE and HC_REPORT: the VM's log budget is spent for now and
 * nothing was logged; the guest may try again later. */
#define HC_BUSY (~1ull)

#endif
